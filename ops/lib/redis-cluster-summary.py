#!/usr/bin/env python3
"""Medians of `ops/bench-suite.sh N redis-cluster`: for each workload, delivered msg/s and
server CPU per delivered message on one Redis and on a 3-shard Redis Cluster — the two
nodes, Redis in all, and each Redis server (shard primaries and their replicas).

    redis-cluster-summary.py OUT_DIR FIRST_REDIS_PORT
"""
import glob
import json
import statistics
import sys

out, first_port = sys.argv[1], int(sys.argv[2])
redis_ports = set(range(first_port, first_port + 6))


def load(kind):
    by_label = {}
    for path in sorted(glob.glob(f"{out}/redis-cluster-{kind}-*.json")):
        with open(path) as f:
            for result in json.load(f):
                delivered = result["tally"]["delivered"]
                if not delivered:
                    continue
                usage = result["nodeUsage"]
                per = lambda rows: sum(u["cpuSeconds"] for u in rows) / delivered * 1e6
                nodes = [u for u in usage if u["port"] not in redis_ports]
                redis = [u for u in usage if u["port"] in redis_ports]
                by_label.setdefault(result["label"], []).append({
                    "rate": result["deliveredPerSecond"],
                    "nodes": per(nodes),
                    "redis": per(redis),
                    "servers": {u["port"]: u["cpuSeconds"] / delivered * 1e6 for u in redis},
                    "clean": result["tally"]["sent"] == delivered and result["tally"]["duplicated"] == 0
                    and result["tally"]["misdelivered"] == 0,
                })
    return by_label


single, cluster = load("single"), load("cluster")
print(f"{'load':12} {'redis':8} {'msg/s':>8} {'nodes µs/msg':>13} {'redis µs/msg':>13}  per server µs/msg (medians; runs)")
for label in cluster:
    for name, runs in (("single", single.get(label, [])), ("cluster", cluster[label])):
        if not runs:
            continue
        median = lambda key: statistics.median(r[key] for r in runs)
        ports = sorted({p for r in runs for p in r["servers"]})
        servers = "  ".join(f":{p} {statistics.median(r['servers'].get(p, 0) for r in runs):.2f}" for p in ports)
        clean = "" if all(r["clean"] for r in runs) else "  LOSS"
        print(f"{label.split('spread ')[-1][:12]:12} {name:8} {median('rate'):8.0f} {median('nodes'):13.2f} {median('redis'):13.2f}  {servers} ({len(runs)}){clean}")
