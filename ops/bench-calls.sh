#!/usr/bin/env bash
# Backend calls and Gateway API pushes (release build), node + Location backend, no Redis:
#   calls  closed-loop location.update round trips (node → Location backend → node) with 1 and
#          100 clients, each next to ping (answered by the node alone) in the same run;
#   push   PushToUser calls from one backend process (the generator): one in flight, then 64;
#          then the same pushes over one PushStream with 512 in flight, data as a
#          google.protobuf.Value and as JSON text (dataJson).
# Every result has the CPU and context switches per call of the node (and of the backend,
# for calls). A/B: with BASELINE_BIN set (a switchboard binary), baseline and this build
# alternate run by run on the same ports, driven by this build's generator.
#   grpcio sequential PushToUser from a grpcio (C-core) client: the node against a Python
#          grpcio server answering the same call, alternating (ops/lib/grpcio-baseline.py;
#          grpcio comes from PyPI into .build/grpcio-venv).
# Usage: ops/bench-calls.sh [runs] [part…]       parts: calls push grpcio (default all)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
shift || true
parts=${*:-calls push grpcio}

source ops/lib/bench-env.sh
port=${PORT:-18480}
grpc=$((port + 1))
location=$((port + 2))
pids=()
stop() { [ ${#pids[@]} -eq 0 ] || { kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; pids=(); }; }
trap stop EXIT
has() { [[ " $parts " == *" $1 "* ]]; }

# Starts the Location backend and one node with binary $1 and waits until it is ready.
start() {
    "$1" backends --location-port "$location" --chat-port 0 --notification-port 0 --gateway "127.0.0.1:$grpc" --log-level warning &
    pids+=($!)
    "$1" node --port "$port" --grpc-port "$grpc" --location-backend "127.0.0.1:$location" --node-id bench-1 --log-level warning &
    pids+=($!)
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
}

if has grpcio && [ ! -x .build/grpcio-venv/bin/python ]; then
    python3 -m venv .build/grpcio-venv && .build/grpcio-venv/bin/pip install -q grpcio grpcio-tools ||
        { echo "grpcio could not be installed: the grpcio part is skipped"; rm -rf .build/grpcio-venv; }
fi

builds=current
[ -n "${BASELINE_BIN:-}" ] && builds="baseline current"
for run in $(seq "$runs"); do
    for build in $builds; do
        [ "$build" = baseline ] && server=$BASELINE_BIN || server=$bin
        start "$server"
        label() { sed -e "s/^/$build run $run, $1: /"; }
        if has calls; then
            for shape in "1 3000" "100 200"; do
                set -- $shape
                for operation in ping location.update; do
                    "$bin" bench calls --urls "ws://127.0.0.1:$port/ws" --clients "$1" --calls "$2" --operation "$operation" \
                        --measure-ports "$location" | grep -v '^median' | label "$operation × $1 client(s)"
                done
            done
        fi
        if has push; then
            for concurrency in 1 64; do
                "$bin" bench push --urls "ws://127.0.0.1:$port/ws" --gateways "127.0.0.1:$grpc" --clients 100 \
                    --concurrency "$concurrency" --messages $((concurrency == 1 ? 3000 : 30000)) 2>&1 |
                    tr '\r' '\n' | grep -E 'push via|latency|server|context' | label "PushToUser, $concurrency in flight"
            done
            # A build without PushStream answers UNIMPLEMENTED: reported, and the runs go on.
            for data in value json; do
                { "$bin" bench push --urls "ws://127.0.0.1:$port/ws" --gateways "127.0.0.1:$grpc" --clients 100 --stream \
                    --concurrency 512 --messages 300000 $([ "$data" = json ] && echo --data-json) 2>&1 || true; } |
                    tr '\r' '\n' | grep -E 'push via|latency|server|context|rror' | label "PushStream ($data data), 512 in flight"
            done
        fi
        if has grpcio && [ -x .build/grpcio-venv/bin/python ]; then
            .build/grpcio-venv/bin/python ops/lib/grpcio-baseline.py --node "127.0.0.1:$grpc" --calls 2000 --rounds 1 |
                label "grpcio client"
        fi
        stop
    done
done
