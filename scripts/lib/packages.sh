# shellcheck shell=bash
# The Debian packages Switchboard needs beyond the Swift toolchain, installed if missing:
# hiredis (the Redis client library the build links), redis-server (clusters, tests), and
# for checking the deployment files: haproxy (`haproxy -c`), Python with PyYAML, and what
# building docker-compose's pinned PyYAML from PyPI needs (venv, headers, a C compiler).
SWITCHBOARD_PACKAGES=(libhiredis-dev redis-server redis-tools haproxy python3-venv python3-yaml python3-dev gcc)
# Only for the tests: Node with the `ws` package (the JavaScript client's suite) and
# headless Chromium (the demo app and the dashboard in a real browser); TypeScript (`tsc`
# checks switchboard.d.ts); redis-sentinel
# (following a failover).
SWITCHBOARD_TEST_PACKAGES=(nodejs node-ws node-typescript chromium redis-sentinel)

# Installs what is missing of SWITCHBOARD_PACKAGES, and of SWITCHBOARD_TEST_PACKAGES with `test`.
ensure_packages() {
    local wanted=("${SWITCHBOARD_PACKAGES[@]}")
    [ "${1:-}" = "test" ] && wanted+=("${SWITCHBOARD_TEST_PACKAGES[@]}")
    local missing=()
    local package
    for package in "${wanted[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# A loopback TCP port nobody listens on now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# docker-compose 1.29.2 from PyPI in .build/compose-venv: it validates docker-compose.yml
# without a Docker engine. Its PyYAML pin needs Cython < 3 and no build isolation.
ensure_compose() {
    local venv=.build/compose-venv
    [ -x "$venv/bin/docker-compose" ] && return 0
    echo "installing docker-compose 1.29.2 (PyPI) into $venv"
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q "cython<3.0.0" wheel setuptools
    "$venv/bin/pip" install -q --no-build-isolation PyYAML==5.4.1
    "$venv/bin/pip" install -q docker-compose==1.29.2
}
