#!/usr/bin/env bash
# Sets up a fresh Debian machine (run as root), builds Switchboard in release mode and
# runs it: for now one gateway node on the embedded single-node default, on port 8080.
# Prints tokens for two users to try it with. Ctrl-C stops it gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/packages.sh
ensure_packages

swift build -c release --product switchboard
bin=$(swift build -c release --show-bin-path)/switchboard

# A development secret unless one is configured; never use this one in production.
export SWITCHBOARD_JWT_SECRET=${SWITCHBOARD_JWT_SECRET:-switchboard-development-secret-change-me}
port=${SWITCHBOARD_PORT:-8080}

echo "tokens (valid 12h):"
echo "  alice: $("$bin" token --user alice --ttl 12h)"
echo "  bob:   $("$bin" token --user bob --ttl 12h)"
echo "connect: ws://127.0.0.1:$port/ws?token=<token>   metrics: http://127.0.0.1:$port/metrics"
exec "$bin" node --port "$port" "$@"
