# shellcheck shell=bash
# Shared by the ops/bench-*.sh scripts: a release build, its binary, and the secrets
# that the nodes and the load generator agree on (benchmark-only values).
swift build -c release --product switchboard >/dev/null
bin=$(swift build -c release --show-bin-path)/switchboard
export SWITCHBOARD_JWT_SECRET=benchmark-secret-benchmark-secret-0001
export SWITCHBOARD_PUSH_SECRET=benchmark-push-secret-0001
echo "== machine: $(nproc) cores, $(uname -r), $(swift --version 2>&1 | head -1)"
