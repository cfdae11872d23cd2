#!/usr/bin/env bash
# The SwitchboardClient library product is what an app depends on: the client and the
# messages it speaks (SwitchboardWire), never the nodes' gRPC stubs, relay or server code.
# Fails naming what crept in. Part of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
swift package dump-package | python3 -c '
import json, sys
package = json.load(sys.stdin)
targets = {target["name"]: target for target in package["targets"]}
product = next(p for p in package["products"] if p["name"] == "SwitchboardClient")
seen, outside, queue = set(), set(), list(product["targets"])
while queue:
    name = queue.pop()
    if name in seen or name not in targets:
        continue
    seen.add(name)
    for dependency in targets[name]["dependencies"]:
        if "byName" in dependency:
            queue.append(dependency["byName"][0])
        if "target" in dependency:
            queue.append(dependency["target"][0])
        if "product" in dependency:
            outside.add(dependency["product"][0])
problems = []
if seen != {"SwitchboardClient", "SwitchboardWire"}:
    problems.append("targets " + ", ".join(sorted(seen - {"SwitchboardClient", "SwitchboardWire"})))
grpc = sorted(name for name in outside if name.startswith("GRPC"))
if grpc:
    problems.append("products " + ", ".join(grpc))
if problems:
    sys.exit("check-client-product: the SwitchboardClient product pulls in " + "; ".join(problems))
print("check-client-product: ok (" + ", ".join(sorted(seen)) + "; " + ", ".join(sorted(outside)) + ")")
'
