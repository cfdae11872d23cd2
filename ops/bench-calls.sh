#!/usr/bin/env bash
# Backend round trips (release build): closed-loop location.update calls through
# node → Location backend → node, with 1 and with 100 concurrent clients, each next to
# the node-only baseline (ping) measured in the same run.
# Usage: ops/bench-calls.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}

source ops/lib/bench-env.sh
port=${PORT:-18480}
grpc=$((port + 1))
location=$((port + 2))

"$bin" backends --location-port "$location" --chat-port 0 --notification-port 0 --gateway "127.0.0.1:$grpc" --log-level warning &
backends_pid=$!
"$bin" node --port "$port" --grpc-port "$grpc" --location-backend "127.0.0.1:$location" --node-id bench-1 --log-level warning &
node_pid=$!
trap 'kill "$node_pid" "$backends_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

for shape in "1 5000" "100 200"; do
    set -- $shape
    for operation in ping location.update; do
        echo "== $operation: $1 client(s) × $2 round trips, $runs runs"
        "$bin" bench calls --urls "ws://127.0.0.1:$port/ws" --clients "$1" --calls "$2" --runs "$runs" --operation "$operation"
    done
done
