#!/usr/bin/env bash
# The arrows between our targets, checked from their sources' imports: a target may import
# only what ALLOWED lists for it (besides the packages we depend on). It keeps Redis in
# RedisBackplane and RedisClient: Node, Routing and Presence speak to the cluster's state
# through Presence's and Routing's protocols only. scripts/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

ours=$(ls Sources)
declare -A ALLOWED=(
    [Essentials]=""
    [Identity]=""
    [CHiredis]=""
    [CMalloc]=""
    [Auth]="Essentials Identity"
    [GRPCSupport]="Essentials"
    [SwitchboardWire]=""
    [SwitchboardProtocol]="SwitchboardWire"
    [RedisClient]="CHiredis Essentials"
    [Presence]="Essentials Identity"
    [BackendCalls]="Essentials GRPCSupport SwitchboardProtocol SwitchboardWire"
    [Routing]="Essentials Identity SwitchboardProtocol SwitchboardWire"
    [RedisBackplane]="Essentials Identity Presence RedisClient Routing SwitchboardProtocol SwitchboardWire"
    [Node]="Auth BackendCalls CMalloc Essentials Identity GRPCSupport Presence RedisBackplane Routing SwitchboardProtocol SwitchboardWire WebAssets"
    [WebAssets]=""
    [Backends]="Auth Essentials Identity GRPCSupport SwitchboardProtocol SwitchboardWire"
    [SwitchboardClient]="SwitchboardWire"
    [Bench]="Auth Essentials GRPCSupport Node SwitchboardClient SwitchboardProtocol SwitchboardWire"
    [FuzzTargets]="Auth Essentials Node Presence RedisBackplane RedisClient Routing SwitchboardProtocol SwitchboardWire"
    [switchboard]="Auth Backends Bench Essentials GRPCSupport Node Presence RedisBackplane Routing SwitchboardProtocol SwitchboardWire"
    [switchboard-fuzz]="FuzzTargets"
)

status=0
for target in $ours; do
    [[ -v ALLOWED[$target] ]] || { echo "check-imports: $target is not in the list of targets and their arrows (scripts/check-imports.sh)" >&2; status=1; continue; }
    allowed=" ${ALLOWED[$target]} "
    while IFS=: read -r file _ line; do
        module=$(sed -E 's/^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*((package|public|internal)[[:space:]]+)?import[[:space:]]+(class |struct |enum |protocol |func |var |let |typealias )?([A-Za-z0-9_]+).*/\5/' <<<"$line")
        grep -qx "$module" <<<"$ours" || continue
        [[ "$module" == "$target" ]] && continue
        if [[ "$allowed" == *" $module "* ]]; then continue; fi
        echo "check-imports: $file imports $module, which $target may not use" >&2
        status=1
    done < <(grep -rnE '^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*((package|public|internal)[[:space:]]+)?import[[:space:]]' "Sources/$target" --include='*.swift' || true)
done
[[ $status -eq 0 ]] && echo "check-imports: ok"
exit $status
