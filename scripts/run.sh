#!/usr/bin/env bash
# Sets up a fresh Debian machine (run as root), builds Switchboard in release mode and
# runs it: the reference backends (Location, Chat, Notification) and one gateway node on
# port 8080, wired together. Prints tokens for two users to try it with.
# Ctrl-C stops everything gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/packages.sh
ensure_packages

swift build -c release --product switchboard
bin=$(swift build -c release --show-bin-path)/switchboard

# Development secrets unless configured; never use these in production.
export SWITCHBOARD_JWT_SECRET=${SWITCHBOARD_JWT_SECRET:-switchboard-development-secret-change-me}
export SWITCHBOARD_PUSH_SECRET=${SWITCHBOARD_PUSH_SECRET:-switchboard-development-push-secret}
port=${SWITCHBOARD_PORT:-8080}
grpc=${SWITCHBOARD_GRPC_PORT:-8081}

"$bin" backends --gateway "127.0.0.1:$grpc" &
backends=$!
"$bin" node --port "$port" --grpc-port "$grpc" \
    --location-backend 127.0.0.1:9101 --chat-backend 127.0.0.1:9102 --notification-backend 127.0.0.1:9103 "$@" &
node=$!
trap 'kill -TERM "$node" "$backends" 2>/dev/null; wait' INT TERM

echo "tokens (valid 12h):"
echo "  alice: $("$bin" token --user alice --ttl 12h)"
echo "  bob:   $("$bin" token --user bob --ttl 12h)"
echo "connect: ws://127.0.0.1:$port/ws?token=<token>   metrics: http://127.0.0.1:$port/metrics"
echo "try:     {\"id\":\"1\",\"call\":\"chat.send\",\"data\":{\"to\":\"bob\",\"text\":\"hi\"}}"
wait
