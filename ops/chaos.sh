#!/usr/bin/env bash
# The reliability scorecard: 3 nodes, Redis and the reference backends as separate
# processes, steady load from `switchboard bench chaos` (clients of the Swift client library,
# pushes through the Gateway API, every other one durable), and one fault at a time with a
# recovery in between. Writes the generator's second-by-second report, the faults' times,
# and then docs/reliability.md and its chart (ops/lib/chaos-report.py).
#
#   ops/chaos.sh                         # the full pass
#   CLIENTS=2000 RATE=500 SHORT=1 ops/chaos.sh   # the short pass (fewer faults, shorter holds)
#
# RUNS=3 repeats the pass on one Redis three times (each row then gives the runs' medians and
# every run's count of what was lost); the Sentinel and Redis Cluster passes run once.
#
# The full pass also cuts networks with nftables (as root, with `nft`; otherwise those faults
# are skipped and say so): node 2's link to Redis, 5 % loss on every link to Redis, and the
# network of a few isolated clients (reaching the nodes at 127.0.0.9: the nodes then listen
# on every address). Each node reaches Redis at its own loopback address (127.0.0.N), so that
# one node's link can be cut alone. Besides the clients, one connection in ten (SLOW_READERS)
# reads 256 bytes a second and gets 2 KB pushes: slow readers in the mix. After each fault's recovery the generator audits
# presence (every user's connections against its client's state).
#
# The full pass is followed by two more, each a run of its own: on Redis Sentinel (a primary,
# a replica, three sentinels; the primary is killed) and on a Redis Cluster (three primaries,
# three replicas; a primary is killed). Their rows join the same table. BACKPLANE=sentinel or
# BACKPLANE=cluster runs one of them alone.
#
# Latency to Redis: node 3 reaches Redis through `switchboard bench delay-proxy` (this kernel
# has no netem), which adds 200 ms each way while the fault lasts; connections stay open.
#
# The soak: SOAK=1800 CLIENTS=17000 SLOW_READERS=2000 ops/chaos.sh runs the same load for
# SOAK seconds with no fault, samples each node's RSS and descriptors and Redis' RSS every
# 10 s, audits presence at the end and writes docs/soak.md and its chart (OUT defaults to
# docs/chaos/soak; ops/lib/soak-report.py).
#
# GATEWAY_NODES: the nodes whose Gateway API the generator pushes through (default "1 2 3").
# REQUIRE_ZERO=1 fails the run (exit 1) unless no durable push was lost or duplicated and
# nothing was misdelivered (the short pass in scripts/test.sh).
# SWITCHBOARD_BIN: the binary to run (default: a release build). OUT: where the run's files
# go (default docs/chaos). REPORT: the Markdown to write (default docs/reliability.md; empty:
# none). PORT: the first of the ports used (default 18500).
set -euo pipefail
# The whole script is one block, read before any of it runs: bash reads a script as it goes,
# so a file changed under a running pass (a checkout, an edit) would otherwise be read from
# the wrong offset when its current command ends.
{
[ -n "${CHAOS_TRACE:-}" ] && set -x
cd "$(dirname "$0")/.."
source ops/lib/bench-env.sh
soak=${SOAK:-}
out=${OUT:-docs/chaos${soak:+/soak}}
if [ -n "$soak" ]; then report=${REPORT-docs/soak.md}; else report=${REPORT-docs/reliability.md}; fi
clients=${CLIENTS:-2000}
rate=${RATE:-500}
base=${PORT:-18500}
redis_port=$((base + 95))
delay_port=$((redis_port + 1))
backend_port=$((base + 80))
work=$(mktemp -d /tmp/switchboard-chaos.XXXXXX)
isolated_host=127.0.0.9
backplane=${BACKPLANE:-redis}
sentinel_ports=($((redis_port + 2)) $((redis_port + 3)) $((redis_port + 4)))
cluster_ports=($(seq "$redis_port" $((redis_port + 5))))
table=switchboard_chaos_$$
mkdir -p "$out"
# What ran, for the page (a page regenerated later still names it).
printf '%s %s\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources ops 2>/dev/null || echo +changes)" "$(date -u +%Y-%m-%d)" >"$out/run"
faults="$out/faults.tsv"
: >"$faults"
declare -A pids

node_port() { echo $((base + 10 * ($1 - 1))); }
gateways() { for n in ${1:-1 2 3}; do printf '127.0.0.1:%d ' $(($(node_port "$n") + 1)); done; }
urls() { for n in 1 2 3; do printf 'ws://127.0.0.1:%d/ws ' "$(node_port "$n")"; done; }
now() { date +%s.%N; }
# Whether the node on port $1 answers /readyz with 200 (Python: no curl on a bare Debian).
ready() { python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$1/readyz', timeout=1)" 2>/dev/null; }

start_redis() {
    redis-server --port "$redis_port" --bind 127.0.0.1 127.0.0.2 127.0.0.3 --save "" --appendonly "${1:-yes}" --appendfsync everysec \
        --dir "$work" --loglevel warning >>"$work/redis.log" 2>&1 3>&- &
    pids[redis]=$!
    for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return; sleep 0.1; done
    echo "redis-server did not start" >&2
    return 1
}
# start_server NAME PORT [ARGUMENT...]: one redis-server of a Sentinel group or a Redis Cluster.
start_server() {
    local name=$1 port=$2
    shift 2
    mkdir -p "$work/$name"
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync everysec --dir "$work/$name" \
        --loglevel warning "$@" >>"$work/$name.log" 2>&1 3>&- &
    pids[$name]=$!
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.1; done
    echo "redis-server $name did not start" >&2
    return 1
}
start_backplane() {
    case $backplane in
    redis) start_redis yes ;;
    sentinel)
        start_server redis-a "$redis_port"
        start_server redis-b $((redis_port + 1)) --replicaof 127.0.0.1 "$redis_port"
        local i
        for i in 0 1 2; do
            printf 'port %d\nbind 127.0.0.1\nsentinel monitor sbmain 127.0.0.1 %d 2\nsentinel down-after-milliseconds sbmain 2000\nsentinel failover-timeout sbmain 10000\n' \
                "${sentinel_ports[$i]}" "$redis_port" >"$work/sentinel-$i.conf"
            redis-sentinel "$work/sentinel-$i.conf" >>"$work/sentinel-$i.log" 2>&1 3>&- &
            pids[sentinel-$i]=$!
        done
        for _ in $(seq 100); do sentinel_primary >/dev/null && return; sleep 0.1; done
        echo "the sentinels did not answer" >&2
        return 1 ;;
    cluster)
        local i
        for i in 0 1 2 3 4 5; do
            start_server "redis-c$i" "${cluster_ports[$i]}" --cluster-enabled yes --cluster-config-file "$work/nodes-$i.conf" --cluster-node-timeout 2000
        done
        redis-cli --cluster create $(printf '127.0.0.1:%s ' "${cluster_ports[@]}") --cluster-replicas 1 --cluster-yes >>"$work/cluster.log" 2>&1
        for _ in $(seq 300); do cluster_ready && return; sleep 0.1; done
        echo "the Redis Cluster did not form" >&2
        return 1 ;;
    esac
}
# The port of the primary the sentinels name.
sentinel_primary() { redis-cli -p "${sentinel_ports[0]}" SENTINEL get-master-addr-by-name sbmain 2>/dev/null | sed -n 2p | grep .; }
# The Redis Cluster serves every slot with three primaries up (asked of a server that is up).
cluster_ready() {
    local port
    for port in "${cluster_ports[@]}"; do
        redis-cli -p "$port" ping >/dev/null 2>&1 || continue
        redis-cli -p "$port" cluster info 2>/dev/null | grep -q "cluster_state:ok" || return 1
        [ "$(redis-cli -p "$port" cluster nodes | awk '$3 ~ /master/ && $3 !~ /fail/ && NF >= 9' | wc -l)" = 3 ]
        return
    done
    return 1
}
redis_arguments() {
    case $backplane in
    redis)
        if [ -n "${latency:-}" ] && [ "$1" = 3 ]; then echo "--redis redis://127.0.0.3:$delay_port"; else echo "--redis redis://127.0.0.$1:$redis_port"; fi ;;
    sentinel) echo "--redis redis://127.0.0.1:$redis_port --redis-sentinels $(printf '127.0.0.1:%s,' "${sentinel_ports[@]}" | sed 's/,$//') --redis-master-name sbmain" ;;
    cluster) echo "--redis redis+cluster://$(printf '127.0.0.1:%s,' "${cluster_ports[@]}" | sed 's/,$//')" ;;
    esac
}
# Kills the primary the sentinels name, waits until they name another, and starts the old
# one again as its replica.
sentinel_failover() {
    local old new name
    old=$(sentinel_primary)
    name=$([ "$old" = "$redis_port" ] && echo redis-a || echo redis-b)
    kill -KILL "${pids[$name]}"
    for _ in $(seq 600); do
        new=$(sentinel_primary) && [ "$new" != "$old" ] && break
        sleep 0.1
    done
    echo "chaos: the sentinels promoted $new"
    start_server "$name" "$old" --replicaof 127.0.0.1 "$new"
}
# Kills a primary of the Redis Cluster, waits until its replica has taken over, and starts it
# again (it rejoins as a replica).
cluster_failover() {
    local i victim=""
    for i in 0 1 2 3 4 5; do
        redis-cli -p "${cluster_ports[$i]}" role 2>/dev/null | head -1 | grep -q master && { victim=$i; break; }
    done
    kill -KILL "${pids[redis-c$victim]}"
    sleep 1
    for _ in $(seq 600); do cluster_ready && break; sleep 0.1; done
    echo "chaos: the Redis Cluster serves every slot again"
    start_server "redis-c$victim" "${cluster_ports[$victim]}" --cluster-enabled yes --cluster-config-file "$work/nodes-$victim.conf" --cluster-node-timeout 2000
}

# Node 3's way to Redis: no delay until SIGUSR1, none again after SIGUSR2.
start_delay_proxy() {
    "$bin" bench delay-proxy --host 127.0.0.3 --port "$delay_port" --target "127.0.0.1:$redis_port" --delay-ms 200 >>"$work/delay-proxy.log" 2>&1 3>&- &
    pids[delay-proxy]=$!
    for _ in $(seq 100); do grep -q "delay proxy on" "$work/delay-proxy.log" 2>/dev/null && return; sleep 0.1; done
    echo "the delay proxy did not start (log: $work/delay-proxy.log)" >&2
    return 1
}
start_backends() {
    "$bin" backends --location-port "$backend_port" --chat-port $((backend_port + 1)) --notification-port $((backend_port + 2)) \
        --gateway "$(gateways | tr ' ' ',' | sed 's/,$//')" >>"$work/backends.log" 2>&1 3>&- &
    pids[backends]=$!
}
start_node() {
    local port
    port=$(node_port "$1")
    "$bin" node --node-id "node-$1" --host "$node_host" --port "$port" --grpc-port $((port + 1)) $(redis_arguments "$1") \
        --location-backend "127.0.0.1:$backend_port" --chat-backend "127.0.0.1:$((backend_port + 1))" \
        --notification-backend "127.0.0.1:$((backend_port + 2))" --drain-window 5 >>"$work/node-$1.log" 2>&1 3>&- &
    pids[node-$1]=$!
    for _ in $(seq 150); do ready "$port" && return; sleep 0.2; done
    echo "node-$1 did not become ready (log: $work/node-$1.log)" >&2
    return 1
}
stop_all() {
    if [ -n "${network:-}" ]; then nft delete table inet "$table" 2>/dev/null || true; fi
    # The generator waits for its stdin to close: close it, or `wait` below waits for ever.
    exec 3>&-
    if [ -n "${generator:-}" ]; then kill -KILL "$generator" 2>/dev/null || true; fi
    for name in "${!pids[@]}"; do kill -KILL "${pids[$name]}" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop_all EXIT

# Resident memory (KiB) and open descriptors of process $1 ("0 0" once it is gone).
usage() {
    local rss fds
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null) || rss=0
    fds=$(ls "/proc/$1/fd" 2>/dev/null | wc -l) || fds=0
    echo "${rss:-0} $fds"
}
# The same for the three nodes, summed.
node_usage() {
    local rss=0 fds=0 n one
    for n in 1 2 3; do
        read -r -a one <<<"$(usage "${pids[node-$n]}")"
        rss=$((rss + one[0]))
        fds=$((fds + one[1]))
    done
    echo "$rss $fds"
}

# Packets matching $1 (an nftables match) are dropped silently, both ways, until `nft_heal`.
nft_drop() { nft add rule inet "$table" output "$@" drop; }
nft_heal() { nft flush chain inet "$table" output; }

# fault NAME HOLD COMMAND-TO-INJECT COMMAND-TO-END: one row of faults.tsv (name, start, end
# of the fault, end of its recovery window, node RSS and fds before and after). After the
# recovery window the generator audits presence; the next fault waits for its answer.
fault() {
    local name=$1 hold=$2 inject=$3 heal=$4 before after start end
    before=$(node_usage)
    start=$(now)
    echo "chaos: $name"
    eval "$inject"
    sleep "$hold"
    eval "$heal"
    end=$(now)
    sleep "$recovery"
    after=$(node_usage)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$start" "$end" "$(now)" "$before" "$after" >>"$faults"
    audit "$name"
}
# audit LABEL: the generator audits presence; waits (at most 10 minutes) for its answer.
audit() {
    echo "presence $1" >&3
    for _ in $(seq 1200); do grep -qF "presence $1:" "$work/generator.log" && break; sleep 0.5; done
    grep -F "presence $1:" "$work/generator.log" || echo "chaos: no presence audit for '$1' within 10 minutes"
}
# CPU time process $1 has used, in clock ticks (0 once it is gone).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# The soak's samples: every 10 s a row of soak.tsv (time; each node's RSS in KiB and open
# descriptors; Redis' RSS; CPU ticks of each node, Redis and the generator) for $soak
# seconds; then a presence audit.
soak_samples() {
    local until tick n
    printf 'epoch\tnode-1 KiB\tnode-1 fds\tnode-2 KiB\tnode-2 fds\tnode-3 KiB\tnode-3 fds\tredis KiB' >"$out/soak.tsv"
    printf '\tnode-1 ticks\tnode-2 ticks\tnode-3 ticks\tredis ticks\tgenerator ticks (%s a second)\n' "$(getconf CLK_TCK)" >>"$out/soak.tsv"
    until=$(($(date +%s) + soak))
    tick=$(date +%s)
    while [ "$tick" -lt "$until" ]; do
        printf '%s' "$(now)" >>"$out/soak.tsv"
        for n in 1 2 3; do printf '\t%s\t%s' $(usage "${pids[node-$n]}") >>"$out/soak.tsv"; done
        printf '\t%s' "$(usage "${pids[redis]}" | cut -d' ' -f1)" >>"$out/soak.tsv"
        printf '\t%s\t%s\t%s\t%s\t%s\n' "$(cpu_ticks "${pids[node-1]}")" "$(cpu_ticks "${pids[node-2]}")" "$(cpu_ticks "${pids[node-3]}")" \
            "$(cpu_ticks "${pids[redis]}")" "$(cpu_ticks "$generator")" >>"$out/soak.tsv"
        tick=$((tick + 10))
        sleep $((tick > $(date +%s) ? tick - $(date +%s) : 0))
    done
    echo "chaos: soak done after $soak s"
    audit "after the soak"
}

if [ "$backplane" = sentinel ]; then
    recovery=25
    plan=(sentinel-failover)
elif [ "$backplane" = cluster ]; then
    recovery=25
    plan=(cluster-failover)
elif [ -n "$soak" ]; then
    recovery=0
    plan=()
elif [ -n "${SHORT:-}" ]; then
    recovery=15
    plan=(node-kill redis-stall redis-kill-aof)
else
    recovery=25
    plan=(node-kill node-drain redis-kill-aof redis-kill-plain redis-stall backend-kill backend-hang)
    plan+=(redis-partition redis-latency redis-loss client-blackhole storm)
fi
# PLAN: the faults to run instead, by their names below (e.g. PLAN="storm redis-partition").
[ -n "${PLAN:-}" ] && read -r -a plan <<<"$PLAN"
if [[ " ${plan[*]} " =~ \ (redis-partition|redis-loss|client-blackhole|storm)\  ]]; then
    if [ "$(id -u)" = 0 ] && command -v nft >/dev/null && command -v ss >/dev/null; then
        network=1
    else
        echo "chaos: skipping the network faults (they need root, nft and ss)"
        read -r -a plan <<<"$(printf '%s\n' "${plan[@]}" | grep -vxE 'redis-partition|redis-loss|client-blackhole|storm' | tr '\n' ' ')"
    fi
fi
[[ " ${plan[*]} " =~ \ redis-latency\  ]] && [ "$backplane" = redis ] && latency=1
# Slow readers (the full pass: one for every ten clients, SLOW_READERS to change).
if [ -z "${SHORT:-}" ] && [ "$backplane" = redis ]; then slow_readers=${SLOW_READERS:-$((clients / 10))}; else slow_readers=${SLOW_READERS:-0}; fi
# Isolated clients reach the nodes at their own address: the nodes then listen on every one.
isolated=0
node_host=127.0.0.1
if [ -n "${network:-}" ]; then
    isolated=$((clients / 100 > 10 ? clients / 100 : 10))
    node_host=0.0.0.0
    nft add table inet "$table"
    nft add chain inet "$table" output '{ type filter hook output priority 0; policy accept; }'
fi

# A port still served (an earlier run's process) would make this run measure that one.
for port in "$redis_port" "$delay_port" "${sentinel_ports[@]}" "${cluster_ports[@]}" $(seq "$backend_port" $((backend_port + 2))) \
    $(for n in 1 2 3; do echo "$(node_port "$n") $(($(node_port "$n") + 1))"; done); do
    if (exec 4<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "chaos: port $port is taken (an earlier run still going?); PORT= chooses another range" >&2
        exit 1
    fi
done
start_backplane
if [ -n "${latency:-}" ]; then start_delay_proxy; fi
start_backends
for n in 1 2 3; do start_node "$n"; done
warmup=10

# The load runs until the faults are done: the generator stops when its stdin (this
# script's end of a FIFO) closes; the duration is only a cap.
mkfifo "$work/load"
# shellcheck disable=SC2046
"$bin" bench chaos --urls $(urls) --gateways $(gateways "${GATEWAY_NODES:-1 2 3}") --clients "$clients" --rate "$rate" --duration $((3600 + ${soak:-0})) --until-input-ends \
    --isolated-clients "$isolated" --isolated-host "$isolated_host" --slow-readers "$slow_readers" \
    --settle 60 --report "$out/chaos.json" <"$work/load" >"$work/generator.log" 2>&1 &
generator=$!
# Processes started from here on (restarted nodes, Redis) must not hold the FIFO open.
exec 3>"$work/load"
for _ in $(seq 600); do grep -q "clients connected" "$work/generator.log" && break; kill -0 "$generator" 2>/dev/null || break; sleep 0.5; done
grep -q "clients connected" "$work/generator.log" || { cat "$work/generator.log"; echo "the clients did not connect" >&2; exit 1; }
cat "$work/generator.log"
sleep "$warmup"
if [ -n "$soak" ]; then soak_samples; fi

for step in ${plan[@]+"${plan[@]}"}; do
    case $step in
    node-kill)
        fault "node SIGKILL (restarted after 5 s)" 5 'kill -KILL ${pids[node-2]}' 'start_node 2' ;;
    node-drain)
        fault "node drain (SIGTERM, started again)" 0 'kill -TERM ${pids[node-3]}; wait ${pids[node-3]} || true' 'start_node 3' ;;
    redis-kill-aof)
        fault "Redis SIGKILL + restart (appendonly)" 2 'kill -KILL ${pids[redis]}' 'start_redis yes' ;;
    redis-kill-plain)
        fault "Redis SIGKILL + restart (no persistence)" 2 'kill -KILL ${pids[redis]}; rm -rf "$work"/appendonlydir' 'start_redis no' ;;
    redis-stall)
        fault "Redis stalled 5 s (SIGSTOP / SIGCONT)" 5 'kill -STOP ${pids[redis]}' 'kill -CONT ${pids[redis]}' ;;
    backend-kill)
        fault "backends SIGKILL + restart" 2 'kill -KILL ${pids[backends]}' 'start_backends' ;;
    backend-hang)
        fault "backends hang 10 s (SIGSTOP)" 10 'kill -STOP ${pids[backends]}' 'kill -CONT ${pids[backends]}' ;;
    redis-partition)
        # Silently: no RST, no FIN; what is in flight is retransmitted once the link is back.
        fault "node 2 cut off from Redis 10 s" 10 \
            'nft_drop ip daddr 127.0.0.2 tcp dport "$redis_port"; nft_drop ip saddr 127.0.0.2 tcp sport "$redis_port"' 'nft_heal' ;;
    redis-latency)
        fault "node 3 ↔ Redis: 200 ms added each way 10 s" 10 'kill -USR1 ${pids[delay-proxy]}' 'kill -USR2 ${pids[delay-proxy]}' ;;
    redis-loss)
        fault "5 % packet loss to and from Redis 10 s" 10 \
            'nft_drop tcp dport "$redis_port" numgen random mod 100 lt 5; nft_drop tcp sport "$redis_port" numgen random mod 100 lt 5' 'nft_heal' ;;
    client-blackhole)
        # Longer than the nodes' ping interval (30 s): they must find the dead sockets themselves.
        fault "$isolated clients' network black-holed 40 s" 40 \
            'nft_drop ip daddr "$isolated_host"; nft_drop ip saddr "$isolated_host"' 'nft_heal' ;;
    sentinel-failover)
        fault "Sentinel failover (the primary SIGKILLed)" 0 'sentinel_failover' ':' ;;
    cluster-failover)
        fault "Redis Cluster failover (a primary SIGKILLed)" 0 'cluster_failover' ':' ;;
    storm)
        # Every client connection of nodes 1 and 2 reset at once (ss -K): two thirds of the
        # clients reconnect together, with the client library's policy.
        fault "connection storm: nodes 1 and 2's clients reset at once" 0 \
            'ss -K -t state established "( sport = :$(node_port 1) or sport = :$(node_port 2) )" >/dev/null' ':' ;;
    esac
done

sleep "$warmup"
exec 3>&-
# The generator settles for at most 60 s, then writes its report: give it 3 minutes.
for _ in $(seq 360); do kill -0 "$generator" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$generator" 2>/dev/null; then
    kill -KILL "$generator"
    cat "$work/generator.log"
    echo "the generator did not finish within 3 minutes of the load's end (logs: $work)" >&2
    exit 1
fi
wait "$generator" || { cat "$work/generator.log"; echo "the generator failed" >&2; exit 1; }
tail -1 "$work/generator.log"
# The full pass: then the Sentinel and Redis Cluster passes, each a run of its own.
passes=()
if [ "$backplane" = redis ] && [ -z "${SHORT:-}" ] && [ -z "${PLAN:-}" ] && [ -z "$soak" ] && [ -z "${ONE_RUN:-}" ]; then
    stop_all
    pids=()
    for run in $(seq 2 "${RUNS:-1}"); do
        ONE_RUN=1 OUT="$out/run-$run" REPORT= ops/chaos.sh
        passes+=(--repeat "$out/run-$run/chaos.json" "$out/run-$run/faults.tsv")
    done
    for pass in sentinel cluster; do
        BACKPLANE=$pass OUT="$out/$pass" REPORT= ops/chaos.sh
        passes+=(--pass "$out/$pass/chaos.json" "$out/$pass/faults.tsv")
    done
fi
status=0
if [ -n "$soak" ]; then
    # shellcheck disable=SC2086
    python3 ops/lib/soak-report.py "$out/chaos.json" "$out/soak.tsv" --clients "$clients" --slow-readers "$slow_readers" --rate "$rate" \
        --chart "$out/soak.svg" ${report:+--markdown "$report"} ${REQUIRE_ZERO:+--require-zero} || status=$?
else
    # shellcheck disable=SC2086
    python3 ops/lib/chaos-report.py "$out/chaos.json" "$faults" --clients "$clients" --rate "$rate" "${passes[@]}" \
        --chart "$out/chaos.svg" ${report:+--markdown "$report"} ${REQUIRE_ZERO:+--require-zero} || status=$?
fi
# The nodes' logs explain a failed run: keep them then.
if [ "$status" = 0 ]; then rm -rf "$work"; else echo "logs kept: $work" >&2; fi
exit "$status"
}
