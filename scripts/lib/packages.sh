# shellcheck shell=bash
# The Debian packages Switchboard needs beyond the Swift toolchain (none yet: the
# node runs on the embedded single-node default), installed if missing.
SWITCHBOARD_PACKAGES=()

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
