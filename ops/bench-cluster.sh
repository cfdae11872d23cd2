#!/usr/bin/env bash
# Cross-node against same-node delivery (release build), in the same run: 1,000 clients
# in a ring, each streaming fire-and-forget sends to the next. Same-node: all clients on
# node 1. Cross-node: clients alternate between two nodes, so every message goes
# node → Redis pub/sub → node. Runs alternate so that noise hits both alike.
# Usage: ops/bench-cluster.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}

source ops/lib/bench-env.sh
base=${PORT:-18300}

"$bin" cluster --nodes 2 --base-port "$base" --redis-port $((base + 90)) --backend-port $((base + 50)) 2>/dev/null >/dev/null &
cluster=$!
trap 'kill -TERM "$cluster" 2>/dev/null; wait "$cluster" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$base/readyz" >/dev/null 2>&1 && curl -fs "http://127.0.0.1:$((base + 10))/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done

echo "== ring: 1,000 clients × 100 messages, window ${WINDOW:-16} per sender, 64-byte padding"
for run in $(seq "$runs"); do
    echo "-- run $run, same-node"
    "$bin" bench ring --url "ws://127.0.0.1:$base/ws" --clients 1000 --messages 100 --window "${WINDOW:-16}"
    echo "-- run $run, cross-node"
    "$bin" bench ring --urls "ws://127.0.0.1:$base/ws" "ws://127.0.0.1:$((base + 10))/ws" --clients 1000 --messages 100 --window "${WINDOW:-16}"
done
