#!/usr/bin/env python3
"""The soak's page: lays the samples `ops/chaos.sh` took every 10 s (each node's RSS and
descriptors, Redis' RSS) over the load generator's second-by-second report and writes a
Markdown page and an SVG chart (RSS per node and p99 over time).

    soak-report.py CHAOS.json SOAK.tsv --clients N --slow-readers S --rate R
        [--warmup SECONDS] [--chart OUT.svg] [--markdown OUT.md] [--require-zero]

A node's memory is "flat" when, after the warm-up, its highest sample is within 5 % of its
lowest. p99 per 10 s is the highest of the ten per-second p99s (the generator keeps
percentiles per second)."""
import argparse, json, os, statistics
from reportlib import relative, run_line, svg_start, write_svg

parser = argparse.ArgumentParser()
parser.add_argument("report")
parser.add_argument("samples")
parser.add_argument("--clients", type=int, required=True)
parser.add_argument("--slow-readers", type=int, default=0)
parser.add_argument("--rate", type=float, required=True)
parser.add_argument("--warmup", type=float, default=300, help="seconds of the soak before memory is held to the 5 %% goal")
parser.add_argument("--chart")
parser.add_argument("--markdown")
parser.add_argument("--require-zero", action="store_true", help="exit 1 unless no durable push was lost or duplicated, none misdelivered and presence was right after the soak")
args = parser.parse_args()

report = json.load(open(args.report))
start_epoch = report["startedAtEpoch"]
seconds = {s["t"]: s for s in report["seconds"]}
samples = []
lines = list(open(args.samples))
# Later samplers add each process' CPU ticks: "… generator ticks (100 a second)".
ticks_per_second = int(lines[0].rsplit("(", 1)[1].split()[0]) if "ticks (" in lines[0] else None
for line in lines[1:]:
    fields = line.split()
    if len(fields) < 8:
        continue
    values = [int(v) for v in fields[1:]]
    samples.append({
        "t": float(fields[0]) - start_epoch,
        "rss": [values[0] // 1024, values[2] // 1024, values[4] // 1024], "fds": [values[1], values[3], values[5]],
        "redis": values[6] // 1024, "ticks": values[7:12] if ticks_per_second and len(values) >= 12 else None,
    })
if not samples:
    raise SystemExit("no samples in " + args.samples)
first_t, last_t = samples[0]["t"], samples[-1]["t"]
warm = [s for s in samples if s["t"] - first_t >= args.warmup] or samples[-1:]
soak_seconds = [seconds[t] for t in range(int(first_t), int(last_t) + 10) if t in seconds]


def total(key, rows=soak_seconds):
    return sum(r.get(key, 0) for r in rows)


def window_p99(t):
    values = [seconds[k]["p99"] for k in range(int(t), int(t) + 10) if k in seconds and seconds[k].get("p99") is not None]
    return max(values) if values else None


for s in samples:
    s["p99"] = window_p99(s["t"])
nodes = []
for n in range(3):
    rss = [s["rss"][n] for s in warm]
    fds = [s["fds"][n] for s in samples]
    low, high = min(rss), max(rss)
    nodes.append({
        "name": f"node-{n + 1}", "start": samples[0]["rss"][n], "warm": rss[0], "end": rss[-1], "low": low, "high": high,
        "spread": (high - low) / low * 100 if low else 0.0, "fdsStart": fds[0], "fdsEnd": fds[-1], "fdsHigh": max(fds),
    })
p99s = [s["p99"] for s in samples if s["p99"] is not None]
per_second_p99 = statistics.median([s["p99"] for s in soak_seconds if s.get("p99") is not None] or [0])
# Each process' share of one core over the soak (a process restarted midway would read low).
cpu = None
if samples[0]["ticks"] and samples[-1]["ticks"] and last_t > first_t:
    cpu = [(b - a) / ticks_per_second / (last_t - first_t) * 100 for a, b in zip(samples[0]["ticks"], samples[-1]["ticks"])]
audit = {a["label"]: a for a in report.get("presence", [])}.get("after the soak")
presence_right = audit is not None and audit.get("cleanAfter") is not None
# A second with no sample reads 0 in reports of generators that sampled once a second.
connected_low = min((s["connected"] for s in soak_seconds if s["connected"] > 0), default=0)
summary = {
    "minutes": (last_t - first_t + 10) / 60, "nodes": nodes,
    "p99": {"median": statistics.median(p99s) if p99s else None, "max": max(p99s) if p99s else None},
    "sent": total("sent"), "owed": total("owed"), "durableLost": total("durableLost"), "durableDuplicated": total("durableDuplicated"),
    "plainLost": total("plainLost"), "refused": total("refused"), "misdelivered": report["misdelivered"],
    "calls": total("calls"), "failedCalls": total("failedCalls"), "connectedLow": connected_low, "presenceRight": presence_right,
}
print(json.dumps(summary, indent=1))


def mib(v):
    return f"{v:,} MiB"


def ms(v):
    return "—" if v is None else (f"{v:.0f} ms" if v >= 10 else f"{v:.1f} ms")


if args.chart:
    width, panel, left, top, gap = 960, 200, 70, 20, 50
    height = top + 2 * panel + gap + 40
    span = max(last_t - first_t, 1)
    x = lambda t: left + (width - left - 20) * (t - first_t) / span
    colors = ["#1f5fa8", "#2a9d3f", "#c9611b"]
    rss_top = max(max(s["rss"]) for s in samples) * 1.1
    p99_top = max(p99s + [1]) * 1.1
    y1 = lambda v: top + panel * (1 - v / rss_top)
    y2 = lambda v: top + panel + gap + panel * (1 - v / p99_top)
    parts = svg_start(width, height)
    warm_x = x(first_t + args.warmup)
    parts.append(f'<rect x="{left}" y="{top}" width="{max(warm_x - left, 0):.1f}" height="{panel}" fill="#eee"/>')
    for n in range(3):
        points = " ".join(f"{x(s['t']):.1f},{y1(s['rss'][n]):.1f}" for s in samples)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colors[n]}" stroke-width="1.5"/>')
        parts.append(f'<text x="{width - 200 + 60 * n}" y="{top + 12}" fill="{colors[n]}">node-{n + 1}</text>')
    points = " ".join(f"{x(s['t']):.1f},{y2(s['p99']):.1f}" for s in samples if s["p99"] is not None)
    parts.append(f'<polyline points="{points}" fill="none" stroke="#7a3fa8" stroke-width="1.5"/>')
    for base in (top + panel, top + 2 * panel + gap):
        parts.append(f'<line x1="{left}" x2="{width - 20}" y1="{base}" y2="{base}" stroke="#333"/>')
        parts.append(f'<line x1="{left}" x2="{left}" y1="{base - panel}" y2="{base}" stroke="#333"/>')
    parts.append(f'<text x="4" y="{top + 10}">{rss_top:,.0f} MiB</text><text x="4" y="{top + panel}">0</text>')
    parts.append(f'<text x="4" y="{top + panel + gap + 10}">{p99_top:,.0f} ms</text><text x="4" y="{top + 2 * panel + gap}">0</text>')
    parts.append(f'<text x="{left}" y="{top + panel + 16}">resident memory per node every 10 s (the warm-up shaded)</text>')
    parts.append(f'<text x="{left}" y="{height - 12}">p99 push latency per 10 s over {span / 60:.0f} minutes</text>')
    write_svg(args.chart, parts)

if args.markdown:
    chart = relative(args.chart, args.markdown) if args.chart else None
    connections = args.clients + args.slow_readers
    flat = all(n["spread"] <= 5 for n in nodes)
    lines = [
        "# Soak",
        "",
        f"{connections:,} WebSocket connections ({args.clients:,} clients of the Swift client library and",
        f"{args.slow_readers:,} slow readers) on 3 nodes for {summary['minutes']:.0f} minutes, under the scorecard's steady mix",
        f"({int(args.rate):,} pushes/s through the Gateway API, every other one durable, a broadcast every",
        "10 s, 50 backend calls/s) and no fault. Every 10 s `ops/chaos.sh` samples each node's",
        "resident memory and open descriptors; the generator's ledger counts every push.",
        "Regenerated by `SOAK=1800 CLIENTS=17000 SLOW_READERS=2000 RATE=500 ops/chaos.sh`",
        "(this page, its chart and `docs/chaos/soak/`, where `soak.tsv` has every sample).",
        "",
        f"Run: {run_line(os.path.dirname(os.path.abspath(args.report)))}.",
        "",
    ]
    if chart:
        lines += [f"![Resident memory per node and p99 over the soak]({chart})", ""]
    lines += [
        f"- **Durable pushes lost: {summary['durableLost']}, duplicated: {summary['durableDuplicated']}**; misdelivered: {summary['misdelivered']};",
        f"  {summary['sent']:,} pushes sent in the soak, {summary['owed']:,} owed; plain pushes lost: {summary['plainLost']};",
        f"  refused: {summary['refused']}; backend calls failed: {summary['failedCalls']} of {summary['calls']:,}.",
        f"- p99 per 10 s (the worst second of each ten): median {ms(summary['p99']['median'])}, highest {ms(summary['p99']['max'])};",
        f"  per second: median {ms(per_second_p99)}. Measured by the load generator, which holds every connection on the",
        "  same cores as the nodes: on a saturated machine this is its queueing as much as theirs.",
        *([f"- CPU over the soak, in % of one core ({os.cpu_count()} cores in all): nodes {cpu[0]:.0f} / {cpu[1]:.0f} / {cpu[2]:.0f}, "
           f"Redis {cpu[3]:.0f}, the load generator {cpu[4]:.0f}."] if cpu else []),
        f"- Clients connected: never fewer than {connected_low:,} of {args.clients:,}.",
        "- Presence after the soak (every user's connections read through the Gateway API against its client): "
        + (("right at the first sweep" if audit["cleanAfter"] < 1 else f"right {audit['cleanAfter']:.0f} s into the audit") if presence_right
           else f"**not right** after {audit['sweeps']} sweeps ({audit['ghosts']} ghosts, {audit['missing']} missing)" if audit else "not audited") + ".",
        f"- Memory after the {args.warmup / 60:.0f}-minute warm-up: " + ("**flat within 5 %** on every node." if flat else "**not flat within 5 %** on every node (below)."),
        "",
        "| node | RSS at start | after warm-up | lowest → highest after warm-up | spread | at the end | descriptors start → end (highest) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n in nodes:
        lines.append(f"| {n['name']} | {mib(n['start'])} | {mib(n['warm'])} | {mib(n['low'])} → {mib(n['high'])} | {n['spread']:.1f} % | {mib(n['end'])} | {n['fdsStart']:,} → {n['fdsEnd']:,} ({n['fdsHigh']:,}) |")
    lines += [
        f"| Redis | {mib(samples[0]['redis'])} | | | | {mib(samples[-1]['redis'])} | |",
        "",
        f"Redis grows with what it is asked to keep: every other push is durable and stays in its user's",
        f"inbox (`--inbox-length` 1,000 entries, `--inbox-ttl` 24 h, docs/configuration.md), and no inbox",
        f"reaches its cap in {summary['minutes']:.0f} minutes ({summary['owed'] / 2 / max(args.clients, 1):,.0f} durable pushes per user on average):",
        f"its resident memory grew by {mib(samples[-1]['redis'] - samples[0]['redis'])} while about {summary['owed'] // 2:,} durable pushes were kept",
        "(not in proportion: its allocator takes memory in steps).",
        "",
        "Every 5 minutes (the samples nearest):",
        "",
        "| minute | RSS node-1 / 2 / 3 | descriptors node-1 / 2 / 3 | Redis RSS | p99 (10 s) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in samples:
        minute = (s["t"] - first_t) / 60
        if abs(minute - round(minute / 5) * 5) < 10 / 120 or s is samples[-1]:
            lines.append(f"| {minute:.0f} | {' / '.join(str(v) for v in s['rss'])} MiB | {' / '.join(str(v) for v in s['fds'])} | {s['redis']} MiB | {ms(s['p99'])} |")
    lines.append("")
    open(args.markdown, "w").write("\n".join(lines))

if args.require_zero:
    broken = []
    if summary["durableLost"] or summary["durableDuplicated"] or summary["misdelivered"]:
        broken.append(f"{summary['durableLost']} durable lost, {summary['durableDuplicated']} duplicated, {summary['misdelivered']} misdelivered")
    if not presence_right:
        broken.append("presence not right after the soak")
    if summary["sent"] == 0:
        broken.append("no push was sent: the load did not run")
    for line in broken:
        print("FAIL " + line)
    raise SystemExit(1 if broken else 0)
