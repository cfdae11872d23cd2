#!/usr/bin/env bash
# The standard benchmark suite (release build; Redis, nodes and generator all on this
# machine). Every number that docs/benchmarks.md quotes comes from here.
#
#   ops/bench-suite.sh [runs] [part…]     parts: spread redis send latency push broadcast fanout connect idle scale drain durable redis-cluster calls
#
# `spread` is an A/B: the same generator drives this build's cluster and a baseline
# build's, alternating run by run. The baseline is $BASELINE_BIN (a switchboard binary),
# or else it is built from $BASELINE_REF (default c8e8171, the build before event-loop
# Redis and opaque payloads) in a worktree under .build-baseline/.
#
# Results: stdout, plus JSON and SVG charts in $OUT (default docs/bench/). Runs of
# alternatives alternate within one invocation, so machine noise hits them alike; the
# generator prints medians and ratios to the first alternative (the baseline).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
shift || true
parts=${*:-spread redis send latency push broadcast connect idle scale drain calls}
out=${OUT:-docs/bench}
mkdir -p "$out"

source ops/lib/bench-env.sh
base=${PORT:-18300}
redis_port=$((base + 95))
cluster_pid=

# Starts `switchboard cluster` with $1 nodes (Redis, backends, nodes) and waits until
# ready; $2 is the binary to run it with (default: this build's).
start_cluster() {
    # shellcheck disable=SC2086
    "${2:-$bin}" cluster --nodes "$1" --base-port "$base" --redis-port "$redis_port" --backend-port $((base + 80)) ${CLUSTER_ARGS:-} >/dev/null 2>&1 &
    cluster_pid=$!
    for node in $(seq 0 $(($1 - 1))); do
        for _ in $(seq 150); do
            curl -fs "http://127.0.0.1:$((base + 10 * node))/readyz" >/dev/null 2>&1 && break
            sleep 0.2
        done
    done
}
stop_cluster() {
    [ -n "$cluster_pid" ] || return 0
    kill -TERM "$cluster_pid" 2>/dev/null || true
    wait "$cluster_pid" 2>/dev/null || true
    cluster_pid=
}
trap stop_cluster EXIT
urls() { for node in $(seq 0 $(($1 - 1))); do printf 'ws://127.0.0.1:%d/ws ' $((base + 10 * node)); done; }
gateways() { for node in $(seq 0 $(($1 - 1))); do printf '127.0.0.1:%d ' $((base + 10 * node + 1)); done; }
has() { [[ " $parts " == *" $1 "* ]]; }

if has spread; then
    baseline_bin=${BASELINE_BIN:-}
    if [ -z "$baseline_bin" ]; then
        ref=${BASELINE_REF:-c8e8171}
        tree=.build-baseline/$ref
        [ -d "$tree" ] || git worktree add --detach "$tree" "$ref" >/dev/null
        (cd "$tree" && swift build -c release --product switchboard >/dev/null)
        baseline_bin=$(cd "$tree" && swift build -c release --show-bin-path)/switchboard
    fi
    echo "== spread: 1,000 clients on 2 nodes, every one a sender with one message in flight, to random users;"
    echo "   closed loop, then 1,000 and 5,000 msg/s offered; same-node, 50 % and all cross-node; 8 s each."
    echo "   Then 5,000 and 19,000 clients (a process may open 20,000 files here), 50 % cross-node, closed loop"
    echo "   and 1,000 msg/s. A/B: baseline $baseline_bin against this build, alternating; CPU of both nodes and redis-server"
    for run in $(seq "$runs"); do
        for build in baseline current; do
            [ "$build" = baseline ] && cluster_bin=$baseline_bin || cluster_bin=$bin
            start_cluster 2 "$cluster_bin"
            # shellcheck disable=SC2046
            "$bin" bench spread --urls $(urls 2) --clients 1000 --cross-node 0 0.5 1 --loads closed 1000 5000 --duration 8 \
                --measure-ports "$redis_port" --output "$out/spread-$build-$run.json" | tr '\r' '\n' | grep -v '^\[' | grep -v '^$' |
                sed "s/^/$build, /"
            # shellcheck disable=SC2046
            "$bin" bench spread --urls $(urls 2) --clients 5000 19000 --cross-node 0.5 --loads closed 1000 --duration 8 --sources 4 \
                --measure-ports "$redis_port" --output "$out/spread-scale-$build-$run.json" | tr '\r' '\n' | grep -v '^\[' | grep -v '^$' |
                sed "s/^/$build, /"
            stop_cluster
        done
    done
    python3 ops/lib/spread-summary.py "$out"/spread-baseline-*.json "$out"/spread-scale-baseline-*.json -- \
        "$out"/spread-current-*.json "$out"/spread-scale-current-*.json | tee "$out/spread-summary.txt"
fi

if has durable; then
    echo "== durable: the spread workload with plain sends (kind message) against durable ones (kind note, in the"
    echo "   nodes' durable-kinds: stored in the receiver's inbox, then published), alternating in one run;"
    echo "   1,000 clients on 2 nodes, 50 % cross-node, closed loop and 1,000 msg/s, 8 s each; then Redis memory per stored push"
    export SWITCHBOARD_DURABLE_KINDS=note
    start_cluster 2
    # shellcheck disable=SC2046
    "$bin" bench spread --urls $(urls 2) --clients 1000 --cross-node 0.5 --loads closed 1000 --kinds message note --duration 8 \
        --runs "$runs" --measure-ports "$redis_port" --output "$out/durable.json" | tr '\r' '\n' | grep -v '^\[' | grep -v '^$'
    entries=0
    bytes=0
    for key in $(redis-cli -p "$redis_port" --scan --pattern 'sb:inbox:*'); do
        entries=$((entries + $(redis-cli -p "$redis_port" XLEN "$key")))
        bytes=$((bytes + $(redis-cli -p "$redis_port" MEMORY USAGE "$key" SAMPLES 0)))
    done
    echo "inboxes: $entries stored pushes in $bytes bytes (MEMORY USAGE): $((bytes / (entries > 0 ? entries : 1))) bytes per stored push"
    redis-cli -p "$redis_port" INFO memory | grep -E '^used_memory:|^used_memory_human:'
    stop_cluster
    unset SWITCHBOARD_DURABLE_KINDS
fi

if has redis-cluster; then
    echo "== redis-cluster: the spread workload (1,000 clients on 2 nodes, all cross-node, closed loop and 5,000 msg/s, 8 s)"
    echo "   on one Redis and on a Redis Cluster of 3 primaries + 3 replicas (switchboard cluster --redis-cluster 3),"
    echo "   alternating; CPU of both nodes and of every redis-server, per shard"
    cluster_ports=$(seq "$redis_port" $((redis_port + 5)) | tr '\n' ' ')
    for run in $(seq "$runs"); do
        for redis in single cluster; do
            if [ "$redis" = cluster ]; then CLUSTER_ARGS="--redis-cluster 3"; ports=$cluster_ports; else CLUSTER_ARGS=; ports=$redis_port; fi
            start_cluster 2
            # shellcheck disable=SC2046,SC2086
            "$bin" bench spread --urls $(urls 2) --clients 1000 --cross-node 1 --loads closed 5000 --duration 8 \
                --measure-ports $ports --output "$out/redis-cluster-$redis-$run.json" | tr '\r' '\n' | grep -v '^\[' | grep -v '^$' |
                sed "s/^/$redis, /"
            if [ "$redis" = cluster ]; then
                for port in $cluster_ports; do echo "$redis, :$port $(redis-cli -p "$port" ROLE | head -1)"; done
            fi
            stop_cluster
        done
    done
    unset CLUSTER_ARGS
    python3 ops/lib/redis-cluster-summary.py "$out" "$redis_port" | tee "$out/redis-cluster-summary.txt"
fi

start_cluster 2
if has redis; then
    echo "== Redis alone: redis-benchmark, pipelined PUBLISH (16 per round trip, 50 connections, 64-byte payload)"
    for run in $(seq "$runs"); do
        redis-benchmark -p "$redis_port" -n 500000 -c 50 -P 16 -d 64 -q PUBLISH sb:bench:nobody "$(head -c 64 /dev/zero | tr '\0' x)" | tr '\r' '\n' | tail -1
    done
fi
if has send; then
    echo "== send: 1,000 clients on 2 nodes, 100,000 messages a run, window 16 per sender; same-node then cross-node"
    # shellcheck disable=SC2046
    "$bin" bench send --urls $(urls 2) --clients 1000 --cross-node 0 1 --messages 100000 --window 16 --runs "$runs" \
        --output "$out/send.json" --chart "$out/send.svg"
fi
if has latency; then
    echo "== latency at half the peak: closed-loop peak, then open loop at 0.5 × peak (same-node, cross-node)"
    # shellcheck disable=SC2046
    "$bin" bench send --urls $(urls 2) --clients 1000 --cross-node 0 1 --messages 100000 --window 16 --rate-of-peak 0.5 \
        --runs "$runs" --output "$out/latency.json" --chart "$out/latency.svg"
fi
if has push; then
    echo "== push: backends push through both nodes' Gateway API to 1,000 clients, 64 calls in flight"
    # shellcheck disable=SC2046
    "$bin" bench push --urls $(urls 2) --gateways $(gateways 2) --clients 1000 --concurrency 64 --messages 50000 --runs "$runs" \
        --output "$out/push.json" --chart "$out/push.svg"
fi
if has broadcast; then
    echo "== broadcast: 10,000 clients on 2 nodes, 30 broadcasts a run, one in flight"
    # shellcheck disable=SC2046
    "$bin" bench broadcast --urls $(urls 2) --gateways $(gateways 2) --clients 10000 --broadcasts 30 --sources 2 --runs "$runs" \
        --output "$out/broadcast.json" --chart "$out/broadcast.svg"
fi
if has fanout; then
    echo "== fanout: 10,000 clients on 2 nodes. One topic followed by all of them (closed loop, then 20 publishes/s:"
    echo "   200,000 deliveries/s offered); 10,000 topics × 3 subscribers (closed loop, then 5,000 publishes/s); and,"
    echo "   to compare, spread among the same 10,000 clients (50 % cross-node, closed loop and 15,000 msg/s)."
    echo "   Runs alternate; CPU of both nodes and redis-server"
    # Nodes with the generator's namespace (instead of the shared cluster started above).
    stop_cluster
    CLUSTER_ARGS="--topic-namespaces bench:subscribe=any,publish=any" start_cluster 2
    for run in $(seq "$runs"); do
        # shellcheck disable=SC2046
        "$bin" bench fanout --urls $(urls 2) --clients 10000 --topics 1 --loads closed 20 --duration 8 --sources 2 \
            --measure-ports "$redis_port" --output "$out/fanout-big-$run.json" | tr '\r' '\n' | grep -v '^\[' | grep -v '^$'
        # shellcheck disable=SC2046
        "$bin" bench fanout --urls $(urls 2) --clients 10000 --topics 10000 --subscribers 3 --loads closed 5000 --duration 8 --sources 2 \
            --measure-ports "$redis_port" --output "$out/fanout-many-$run.json" | tr '\r' '\n' | grep -v '^\[' | grep -v '^$'
        # shellcheck disable=SC2046
        "$bin" bench spread --urls $(urls 2) --clients 10000 --cross-node 0.5 --loads closed 15000 --duration 8 --sources 2 \
            --measure-ports "$redis_port" --output "$out/fanout-spread-$run.json" | tr '\r' '\n' | grep -v '^\[' | grep -v '^$'
        # The kernel's share of one delivery here, whatever the server: a bare sender's
        # system CPU per small write to 10,000 loopback connections at the same rate.
        python3 ops/lib/loopback-floor.py 10000 20 8
    done
    stop_cluster
    start_cluster 2
fi
if has connect; then
    echo "== connect: 5,000 connections, 100 handshakes in flight, token check included"
    "$bin" bench connect --urls "ws://127.0.0.1:$base/ws" --connections 5000 --concurrency 100 --runs "$runs"
fi
stop_cluster
if has idle; then
    # A fresh node (in a 1-node cluster) per measurement: a node that served load keeps
    # freed heap for reuse, which would hide what new connections cost.
    for connections in 1000 19000; do
        echo "== idle: $connections connections on one fresh node (RSS 12 s after the last connect)"
        for run in $(seq "$runs"); do
            start_cluster 1
            "$bin" bench idle --urls "ws://127.0.0.1:$base/ws" --connections "$connections" --processes 2 --sources 2 --settle 12
            stop_cluster
            # Baseline of the same run: a bare SwiftNIO WebSocket server, no task per connection.
            "$bin" bench baseline-server --port $((base + 90)) >/dev/null &
            baseline=$!
            sleep 1
            "$bin" bench idle --urls "ws://127.0.0.1:$((base + 90))/ws" --connections "$connections" --processes 2 --sources 2 --settle 12 |
                sed 's/^/baseline /'
            kill "$baseline"
            wait "$baseline" 2>/dev/null || true
        done
    done
fi

if has scale; then
    echo "== scale: 100,000 idle connections over 6 nodes (6 generator processes, 4 source addresses),"
    echo "   then cross-node send between 1,000 more clients while they are held"
    start_cluster 6
    hold_log=$(mktemp)
    # shellcheck disable=SC2046
    "$bin" bench idle --urls $(urls 6) --connections 100000 --processes 6 --sources 4 --settle 12 --hold 120 >"$hold_log" &
    idle_pid=$!
    until grep -q holding "$hold_log"; do
        kill -0 "$idle_pid" 2>/dev/null || { cat "$hold_log"; exit 1; }
        sleep 1
    done
    # shellcheck disable=SC2046
    "$bin" bench send --urls $(urls 6) --clients 1000 --cross-node 1 --messages 50000 --window 16 --runs "$runs" \
        --output "$out/scale-send.json"
    kill -TERM "$idle_pid" 2>/dev/null || true  # ends the hold early; idle then reports
    wait "$idle_pid" || true
    cat "$hold_log"
    rm -f "$hold_log"
fi

if has drain; then
    echo "== drain: 5,000 clients on node 1 of 3 (node processes, not \`cluster\`: the drained one exits);"
    echo "   SIGTERM it, every client reconnects to nodes 2 and 3. Baseline: --drain-window 0.1 (all closed"
    echo "   at once, as before paced drain), then the paced --drain-window 5"
    for run in $(seq "$runs"); do
        for window in 0.1 5; do
            redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --loglevel warning >/dev/null 2>&1 &
            redis_pid=$!
            node_pids=()
            for node in 0 1 2; do
                "$bin" node --node-id "drain-$node" --port $((base + 10 * node)) --grpc-port $((base + 10 * node + 1)) \
                    --redis "redis://127.0.0.1:$redis_port" --drain-window "$window" --log-level warning &
                node_pids+=($!)
            done
            for node in 0 1 2; do
                for _ in $(seq 150); do
                    curl -fs "http://127.0.0.1:$((base + 10 * node))/readyz" >/dev/null 2>&1 && break
                    sleep 0.2
                done
            done
            # shellcheck disable=SC2046
            "$bin" bench drain --urls $(urls 3) --clients 5000 --sources 2 | sed "s/^/run $run, window $window s: /"
            kill "${node_pids[@]}" 2>/dev/null || true
            wait "${node_pids[@]}" 2>/dev/null || true
            kill "$redis_pid"
            wait "$redis_pid" 2>/dev/null || true
        done
    done
fi

if has calls; then
    echo "== calls: backend round trips against ping, and Gateway API pushes unary and streamed (ops/bench-calls.sh;"
    echo "   A/B with BASELINE_BIN set), each with the node's and the backend's CPU and context switches per call"
    SWITCHBOARD_BIN=$bin PORT=$((base + 180)) ops/bench-calls.sh "$runs"
fi
