#!/usr/bin/env bash
# Builds what ops/Dockerfile's build stage would build, from exactly what that stage copies:
# the build context is assembled from its COPY lines (as Docker copies: links stay links,
# .dockerignore applies), and every target with resources is built in it. A file the image
# needs but the Dockerfile does not copy (a resource linked from outside Sources/) fails
# here as it would in `docker build`, without a Docker engine. Part of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT

# The build stage: from the first FROM to the next one. Its COPY lines, without --from.
copies=$(awk '/^FROM /{stage++} stage == 1 && /^COPY / && !/--from=/ { $1 = ""; print }' ops/Dockerfile)
if [ -z "$copies" ]; then
    echo "check-image-context: no COPY line in ops/Dockerfile's build stage" >&2
    exit 1
fi
while read -r -a words; do
    destination=${words[-1]}
    unset 'words[-1]'
    mkdir -p "$context/$(dirname "$destination/x")"
    for source in "${words[@]}"; do
        if [ ! -e "$source" ]; then
            echo "check-image-context: ops/Dockerfile copies '$source', which does not exist" >&2
            exit 1
        fi
        if [ -d "$source" ] && [ "${destination%/}" = "$destination" ] && [ "${#words[@]}" -eq 1 ]; then
            # `COPY dir ./name`: the directory's contents become ./name.
            mkdir -p "$context/$destination"
            cp -a "$source/." "$context/$destination/"
        else
            cp -a "$source" "$context/$destination/"
        fi
    done
done <<< "$copies"

# What .dockerignore leaves out of the context (top-level patterns).
if [ -f .dockerignore ]; then
    while read -r pattern; do
        case "$pattern" in ''|'#'*|'!'*) continue ;; esac
        (cd "$context" && shopt -s nullglob dotglob && for match in $pattern; do rm -rf -- "$match"; done)
    done < .dockerignore
fi

# Every link in the context must point inside it: Docker copies the link, not its target.
while IFS= read -r link; do
    if [ ! -e "$link" ]; then
        echo "check-image-context: ${link#"$context"/} points to $(readlink "$link"), which ops/Dockerfile does not copy" >&2
        exit 1
    fi
done < <(find "$context" -type l)

targets=$(swift package dump-package | python3 -c '
import json, sys
for target in json.load(sys.stdin)["targets"]:
    if target.get("resources"):
        print(target["name"])
')
for target in $targets; do
    echo "check-image-context: building $target from the image's build context"
    # pipefail: the build's own status, not tail's.
    (cd "$context" && swift build --force-resolved-versions --target "$target" --scratch-path "$context/.build" 2>&1 | tail -n 20)
done
echo "check-image-context: ok (${targets//$'\n'/, })"
