#!/usr/bin/env bash
# Sets up a fresh Debian machine (run as root), builds Switchboard in release mode and
# runs the main job: a local cluster of three gateway nodes sharing one Redis, with the
# reference backends (Location, Chat, Notification) — `switchboard cluster --nodes 3`.
# It prints every node's URL and tokens for two users. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/packages.sh
ensure_packages

swift build -c release --product switchboard
exec "$(swift build -c release --show-bin-path)/switchboard" cluster --nodes "${NODES:-3}" "$@"
