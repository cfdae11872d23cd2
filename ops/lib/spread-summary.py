#!/usr/bin/env python3
"""Medians of the spread A/B: baseline runs, then `--`, then this build's runs (JSON files
written by `switchboard bench spread --output`). For each workload: delivered msg/s, server
CPU per delivered message (both nodes and redis-server), latency p50/p99, and this build
against the baseline."""
import json
import re
import statistics
import sys


def load(paths):
    by_label = {}
    for path in paths:
        with open(path) as f:
            for result in json.load(f):
                delivered = result["tally"]["delivered"]
                cpu = sum(u["cpuSeconds"] for u in result["nodeUsage"])
                by_label.setdefault(result["label"], []).append({
                    "rate": result["deliveredPerSecond"],
                    "cpu_us": cpu / delivered * 1e6 if delivered else float("nan"),
                    "p50": result["latency"]["p50"] / 1000,
                    "p99": result["latency"]["p99"] / 1000,
                    "clean": result["tally"]["sent"] == delivered and result["tally"]["duplicated"] == 0
                    and result["tally"]["misdelivered"] == 0,
                })
    return by_label


def median(runs, key):
    return statistics.median(run[key] for run in runs)


split = sys.argv.index("--")
baseline, current = load(sys.argv[1:split]), load(sys.argv[split + 1:])
print(f"{'workload':58} {'build':9} {'msg/s':>8} {'CPU µs/msg':>11} {'p50 ms':>8} {'p99 ms':>8}  runs")
for label in current:
    for name, runs in (("baseline", baseline.get(label, [])), ("current", current[label])):
        if not runs:
            continue
        clean = "" if all(r["clean"] for r in runs) else "  LOSS"
        print(f"{label:58} {name:9} {median(runs, 'rate'):8.0f} {median(runs, 'cpu_us'):11.1f} "
              f"{median(runs, 'p50'):8.2f} {median(runs, 'p99'):8.2f}  {len(runs)}{clean}")
    if label in baseline:
        b, c = baseline[label], current[label]
        print(f"{'':58} {'ratio':9} {median(c, 'rate') / median(b, 'rate'):7.2f}× {median(c, 'cpu_us') / median(b, 'cpu_us'):10.2f}× "
              f"{median(c, 'p50') / median(b, 'p50'):7.2f}× {median(c, 'p99') / median(b, 'p99'):7.2f}×")

# How the peak holds up as connections grow: each closed-loop workload's median rate
# against the same workload with the fewest clients, per build.

print()
print("peak by connections (closed loop, against the fewest clients of the same workload)")
for name, runs_by_label in (("baseline", baseline), ("current", current)):
    groups = {}
    for label, runs in runs_by_label.items():
        match = re.match(r"(.*), (\d+) clients (.*closed loop.*)", label)
        if match:
            groups.setdefault((match.group(1), match.group(3)), {})[int(match.group(2))] = median(runs, "rate")
    for (share, rest), by_clients in sorted(groups.items()):
        if len(by_clients) < 2:
            continue
        first = min(by_clients)
        points = ", ".join(f"{n:,}: {rate:.0f} ({rate / by_clients[first]:.2f}×)" for n, rate in sorted(by_clients.items()))
        print(f"  {name:9} {share}: {points}")
