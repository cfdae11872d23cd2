# shellcheck shell=bash
# The Debian packages Switchboard needs beyond the Swift toolchain, installed if missing:
# hiredis (the Redis client library the build links) and redis-server (clusters, tests).
SWITCHBOARD_PACKAGES=(libhiredis-dev redis-server redis-tools)

ensure_packages() {
    local missing=()
    local package
    for package in "${SWITCHBOARD_PACKAGES[@]}"; do
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
