#!/usr/bin/env bash
# Sets up a fresh Debian machine (run as root) and runs the whole test suite.
# Installs only what is missing, and starts the servers the tests need: a redis-server
# on a free loopback port without persistence, shared by the cluster tests (tests that
# stop or restart Redis start their own), and docker-compose from PyPI in a virtualenv
# for the deployment-file checks; Node (with `ws`) and Chromium for the JavaScript client
# and browser suites, which run last against the `switchboard` binary the Swift build made.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/packages.sh
ensure_packages test
ensure_compose

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --loglevel warning --daemonize no >/dev/null 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
done
export SWITCHBOARD_TEST_REDIS="redis://127.0.0.1:$redis_port"

if [ $# -eq 0 ]; then
    # The arrows between our targets (Redis only in RedisBackplane and RedisClient).
    scripts/check-imports.sh
    # The container image's build stage, from exactly what ops/Dockerfile copies.
    ops/check-image-context.sh
    # What an app gets with the SwitchboardClient product: no gRPC, no server code.
    scripts/check-client-product.sh
    # The hostile-client suite floods node processes as fast as it can and measures their
    # memory: it runs after the rest, on its own, so that neither disturbs the other.
    swift test --skip HostileClientTests
    swift test --filter HostileClientTests
    # The JavaScript client against real nodes, and the demo app and dashboard in headless
    # Chromium (screenshots in .build/test-artifacts/browser/), with the binary just built.
    # A test past 5 minutes fails (its `after` hooks kill what it started) instead of hanging.
    SWITCHBOARD_BIN="$(swift build --show-bin-path)/switchboard" node --test --test-timeout=300000 Tests/JavaScript/
    # The reliability scorecard's short pass: 2,000 clients of the Swift client library and
    # 100 slow readers; a node SIGKILL, a Redis stall and a Redis SIGKILL under steady
    # pushes; fails unless no durable push was lost or duplicated, none misdelivered and
    # presence is right again after each fault (docs/reliability.md).
    # The pushes go through node 1, which stays up: in a debug build grpc-swift-nio-transport's
    # client asserts ("Can't close stream …, it wasn't open") when the server it calls is
    # killed while a call opens — the generator's, not the node's, and not in release builds.
    SWITCHBOARD_BIN="$(swift build --show-bin-path)/switchboard" SHORT=1 CLIENTS=2000 RATE=300 SLOW_READERS=100 REQUIRE_ZERO=1 \
        GATEWAY_NODES=1 OUT=.build/test-artifacts/chaos REPORT= ops/chaos.sh
elif [ "$1" = "javascript" ]; then
    swift build --product switchboard
    SWITCHBOARD_BIN="$(swift build --show-bin-path)/switchboard" node --test --test-timeout=300000 Tests/JavaScript/
else
    swift test "$@"
fi
