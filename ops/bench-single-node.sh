#!/usr/bin/env bash
# Single-node measurements (release build): messages/s and latency between two local
# clients, and the node's resident memory with 1,000 and 10,000 idle connections.
# Usage: ops/bench-single-node.sh [runs]   (results go to stdout; copy them to docs/benchmarks.md)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}

source ops/lib/bench-env.sh
port=${PORT:-18480}

start_node() {
    "$bin" node --port "$port" --grpc-port 0 --node-id bench-1 --log-level warning "$@" &
    node_pid=$!
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return
        sleep 0.1
    done
    echo "node did not start" >&2; exit 1
}
stop_node() { kill -TERM "$node_pid"; wait "$node_pid" || true; }
trap 'kill "$node_pid" 2>/dev/null || true' EXIT

echo "== pair: 100,000 messages alice → bob, 64-byte padding, window 256, $runs runs"
start_node
"$bin" bench pair --url "ws://127.0.0.1:$port/ws" --messages 100000 --payload 64 --window 256 --runs "$runs"
echo "== pair, protobuf sender"
"$bin" bench pair --url "ws://127.0.0.1:$port/ws" --messages 100000 --payload 64 --window 256 --runs "$runs" --format protobuf
stop_node

# Idle memory with the periodic heap trim off (0) and on (every 5 s), fresh node each time,
# read 12 s after the last connect so that at least two trims have run.
for connections in 1000 10000; do
    for trim in 0 5; do
        echo "== idle: $connections connections, memory-trim-interval $trim (fresh node)"
        start_node --memory-trim-interval "$trim"
        "$bin" bench idle --url "ws://127.0.0.1:$port/ws" --connections "$connections" --node-pid "$node_pid" --settle 12
        stop_node
    done
done

echo "== connect: 5,000 handshakes (token check included), 100 at a time, $runs runs"
start_node
"$bin" bench connect --url "ws://127.0.0.1:$port/ws" --connections 5000 --concurrency 100 --runs "$runs"
stop_node
