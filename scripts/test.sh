#!/usr/bin/env bash
# Sets up a fresh Debian machine (run as root) and runs the whole test suite.
# Installs only what is missing, and starts every server the tests need.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/packages.sh

# Debian packages the build and the tests need beyond the Swift toolchain.
ensure_packages

swift test "$@"
