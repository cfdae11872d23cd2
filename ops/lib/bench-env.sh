# shellcheck shell=bash
# Shared by the ops/bench-*.sh scripts: a release build, its binary, and the secrets
# that the nodes and the load generator agree on (benchmark-only values).
# SWITCHBOARD_BIN: a switchboard binary to use instead (a copy kept for A/B runs, so that
# editing the tree meanwhile changes nothing).
if [ -n "${SWITCHBOARD_BIN:-}" ]; then
    bin=$SWITCHBOARD_BIN
else
    swift build -c release --product switchboard >/dev/null
    bin=$(swift build -c release --show-bin-path)/switchboard
fi
export SWITCHBOARD_JWT_SECRET=benchmark-secret-benchmark-secret-0001
export SWITCHBOARD_PUSH_SECRET=benchmark-push-secret-0001
echo "== machine: $(nproc) cores, $(uname -r), $(swift --version 2>&1 | head -1)"
# The benchmarks measure the gateway, not its abuse limits: a few load-generator
# clients on a few source addresses stand for many users (the limits are still checked
# on every frame; docs/protocol.md lists them).
export SWITCHBOARD_CLIENT_RATE=1000000 SWITCHBOARD_CLIENT_BURST=1000000 SWITCHBOARD_CLIENT_BYTES_RATE=1099511627776
export SWITCHBOARD_MAX_PENDING_PER_ADDRESS=100000 SWITCHBOARD_MAX_CONNECTIONS_PER_USER=100000
