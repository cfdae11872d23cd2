#!/usr/bin/env python3
"""Lays the faults of an ops/chaos.sh run over the load generator's second-by-second report
and writes the scorecard: a Markdown table (one row per fault) and an SVG chart of the
delivery rate with each fault marked.

    chaos-report.py CHAOS.json FAULTS.tsv --clients N --rate R [--pass CHAOS.json FAULTS.tsv]...
        [--chart OUT.svg] [--markdown OUT.md] [--require-zero]

`--pass` adds the rows of another run (the Sentinel and Redis Cluster passes) to the table;
`--repeat` is another run of the first pass: each row then gives the medians of its runs
(with their range) and every run's own count of what was lost or refused. The chart shows
the first run.

A fault's window runs from its injection to the end of the recovery that follows it.
"Normal again" is the first second from the injection on that starts three seconds in a row
with nothing lost, nothing refused and at least 90 % of the offered rate arriving."""
import argparse, json, os, statistics
from reportlib import relative, run_line, svg_start, write_svg

parser = argparse.ArgumentParser()
parser.add_argument("report")
parser.add_argument("faults")
parser.add_argument("--clients", type=int, required=True)
parser.add_argument("--rate", type=float, required=True)
parser.add_argument("--pass", dest="passes", nargs=2, action="append", default=[], metavar=("CHAOS.json", "FAULTS.tsv"))
parser.add_argument("--repeat", dest="repeats", nargs=2, action="append", default=[], metavar=("CHAOS.json", "FAULTS.tsv"))
parser.add_argument("--chart")
parser.add_argument("--markdown")
parser.add_argument("--require-zero", action="store_true", help="exit 1 unless no durable push was lost or duplicated, none misdelivered, presence right again after every fault, and slow readers (if any) read something")
args = parser.parse_args()

def load(report_path, faults_path):
    """One run: the generator's report and its faults, in seconds since the run's start."""
    report = json.load(open(report_path))
    start_epoch = report["startedAtEpoch"]
    faults = []
    for line in open(faults_path):
        name, start, end, until, before, after = line.rstrip("\n").split("\t")
        faults.append({
            "name": name,
            "start": float(start) - start_epoch, "end": float(end) - start_epoch, "until": float(until) - start_epoch,
            "before": [int(x) for x in before.split()], "after": [int(x) for x in after.split()],
        })
    return report, faults


passes = [load(r, f) for r, f in [(args.report, args.faults)] + args.repeats + args.passes]
runs = 1 + len(args.repeats)
report, faults = passes[0]
seconds = report["seconds"]


def window(lo, hi, seconds=seconds):
    return [s for s in seconds if lo <= s["t"] < hi]


def total(rows, key):
    return sum(r.get(key, 0) for r in rows)


def p99(rows):
    values = [r["p99"] for r in rows if r.get("p99") is not None]
    return max(values) if values else None


def bad(r):
    return r["durableLost"] + r["plainLost"] + r["refused"] > 0 or r["received"] < 0.9 * args.rate


def normal_again(fault, seconds):
    first = int(fault["start"])
    rows = {s["t"]: s for s in seconds}
    for t in range(first, int(fault["until"]) + 1):
        run = [rows.get(t + k) for k in range(3)]
        if all(r is not None and not bad(r) for r in run):
            return t - fault["start"]
    return None


def connected_again(fault, seconds):
    for s in seconds:
        if s["t"] >= fault["end"] and s["connected"] >= args.clients:
            return max(0.0, s["t"] - fault["end"])
    return None


def ms(value):
    return "—" if value is None else (f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms")


def secs(value):
    return "not within the window" if value is None else f"{max(value, 0):.0f} s"


# Why each fault's row reads as it does (causes found by reading the nodes' logs and code).
FINDINGS = [
    ("node SIGKILL", "a third of the pushes go to the dead node's Gateway API and are refused "
     "`unavailable` until it is back (the generator does not fail over; a backend given every node "
     "would). Its clients reconnect to the other nodes within the client library's backoff and "
     "resume their inbox: no durable push is lost. Plain pushes relayed to the dead node's "
     "connections at the moment it died are lost (at most once by design)."),
    ("node drain", "the drain closes its connections with 1012 over its window and the clients "
     "resume elsewhere; the few refusals are pushes that reached the Gateway API while it shut down."),
    ("Redis SIGKILL + restart (appendonly)", "while Redis is down, durable pushes cannot be stored "
     "and are refused `unavailable` (never reported stored); the inbox survives the restart "
     "(appendonly), and pushes stored while a node's subscriber was still away are fetched by each "
     "connection when its user's channel is acknowledged again (`switchboard_inbox_catch_ups_total`)."),
    ("Redis SIGKILL + restart (no persistence)", "the inboxes are gone with Redis: a durable push "
     "stored just before the kill and not yet delivered live cannot be recovered, by design "
     "(docs/guarantees.md: durable pushes survive a Redis restart only with persistence). Pushes "
     "stored after the restart go to a new inbox (a new epoch); a client that first hears of it past "
     "offset 1 fills the gap from the epoch's start (docs/protocol.md § Gaps), so none of those is lost."),
    ("Redis stalled", "nothing answers for 5 s: pushes wait for Redis and those past the node's Redis "
     "timeout are refused `unavailable`; what was stored is delivered once Redis answers again."),
    ("backends SIGKILL", "pushes do not pass through the backends; backend calls made while the "
     "backend is down fail fast (`unavailable`) and succeed again once it is back, without restarting "
     "the node."),
    ("backends hang", "backend calls wait until their deadline or the circuit breaker opens; pushes and "
     "the other clients are not held."),
    ("Sentinel failover", "until the sentinels agree the primary is down (2 s) and promote the replica, "
     "writes fail: durable pushes are refused `unavailable`, never reported stored. The nodes then ask "
     "the sentinels, reconnect to the new primary, subscribe again and write their presence back. "
     "Replication is asynchronous: a push stored in the instant before the kill and not yet copied "
     "could be lost; none was in this run."),
    ("Redis Cluster failover", "pushes whose slots lived on the killed primary are refused `unavailable` "
     "until its replica takes over (cluster-node-timeout 2 s); the rest of the cluster keeps serving. "
     "The nodes follow the new slot map (MOVED) and resubscribe their shard channels."),
    ("node 2 cut off from Redis", "packets between node 2 and Redis are dropped silently (nftables), so "
     "neither side sees the link fail at once: node 2's Redis commands time out (2 s) and its Gateway "
     "API refuses pushes `unavailable` meanwhile (the refusals in this row); no push owed was lost, and "
     "delivery to node 2's users resumed with the link. Its lease (5 s) lapses during the cut, so a "
     "live node sweeps node 2's users from presence; node 2's first heartbeat after the cut finds its "
     "lease gone and writes its presence back."),
    ("200 ms added each way", "node 3 reaches Redis through a proxy that holds every byte 200 ms each "
     "way while the fault lasts (the kernel here has no `netem`): its Redis round trip grows by 400 ms, "
     "well inside the node's Redis timeout (2 s), so nothing is refused or lost; pushes through node 3's "
     "Gateway API and deliveries to its clients are late by up to two round trips (p99 during), and "
     "latency is back to normal with the link."),
    ("5 % packet loss", "TCP retransmits what is lost; deliveries through Redis are late by a "
     "retransmission timeout now and then (p99 during), nothing is lost."),
    ("connection storm", "the clients of two nodes are reset at once (`ss -K`) and reconnect with the "
     "client library's backoff and jitter; pushes meanwhile wait in the inbox (durable) and are resumed. "
     "Plain pushes in flight to a reset socket are lost by design."),
    ("clients' network black-holed", "the isolated clients' packets are dropped both ways with no FIN "
     "or RST. Their client library notices within its heartbeat (5 s) but cannot reconnect until the "
     "network is back; the nodes close the dead sockets themselves after their ping interval (30 s). "
     "Plain pushes delivered to those sockets meanwhile are lost by design; durable ones are resumed "
     "on reconnect, also when the inbox began again meanwhile (a new epoch is replayed from its start; "
     "p99 during: the black hole's length)."),
]

def presence(name, report):
    a = {a["label"]: a for a in report.get("presence", [])}.get(name)
    if a is None:
        return "not audited"
    first = ", ".join(f"{a[k]} {k}" for k in ["ghosts", "missing"] if a[k]) or "nothing wrong"
    if a.get("cleanAfter") is None:
        return f"**not right** after {a['sweeps']} sweeps (first: {first})"
    return f"{a['cleanAfter']:.0f} s" + ("" if first == "nothing wrong" else f" (first sweep: {first})")


def broadcasts(lo, hi, report):
    sent = [b for b in report.get("broadcasts", []) if lo <= b["t"] < hi]
    if not sent:
        return "none sent"
    received, open_ = sum(b["received"] for b in sent), sum(b["open"] for b in sent)
    refused = sum(1 for b in sent if b["refused"])
    return f"{len(sent)}: {received:,} of {open_:,}" + (f", {refused} refused" if refused else "")


rows = []
for run, run_faults in passes:
    for f in run_faults:
        run_seconds = run["seconds"]
        w = window(int(f["start"]), int(f["until"]), run_seconds)
        during = window(int(f["start"]), int(f["end"]) + 1, run_seconds)
        after = window(int(f["end"]) + 1, int(f["until"]), run_seconds)
        rows.append({
            "name": f["name"], "sent": total(w, "sent"), "owed": total(w, "owed"), "refused": total(w, "refused"),
            "durableLost": total(w, "durableLost"), "durableDuplicated": total(w, "durableDuplicated"),
            "plainLost": total(w, "plainLost"), "plainDuplicated": total(w, "plainDuplicated"),
            "calls": total(w, "calls"), "failedCalls": total(w, "failedCalls"),
            "normal": normal_again(f, run_seconds), "connected": connected_again(f, run_seconds), "p99During": p99(during), "p99After": p99(after),
            "rss": (f["before"][0] // 1024, f["after"][0] // 1024), "fds": (f["before"][1], f["after"][1]),
            "presence": presence(f["name"], run), "broadcasts": broadcasts(int(f["start"]), int(f["until"]), run),
            "presenceRight": any(a["label"] == f["name"] and a.get("cleanAfter") is not None for a in run.get("presence", [])),
        })

warm = [s for s in seconds if faults and s["t"] < int(faults[0]["start"]) and s["sent"] > 0]
baseline_p99 = statistics.median([s["p99"] for s in warm if s.get("p99") is not None]) if warm else None
# Over every pass.
totals = {k: sum(total(run["seconds"], k) for run, _ in passes) for k in ["sent", "owed", "refused", "durableLost", "durableDuplicated", "plainLost", "plainDuplicated"]}
misdelivered = sum(run["misdelivered"] for run, _ in passes)
refusals, call_errors = {}, {}
for run, _ in passes:
    for k, v in run["refusals"].items():
        refusals[k] = refusals.get(k, 0) + v
    for k, v in run.get("callErrors", {}).items():
        call_errors[k] = call_errors.get(k, 0) + v
print(json.dumps({"faults": rows, "totals": totals, "misdelivered": misdelivered, "refusals": refusals}, indent=1))

# One line of the table per fault, its runs together, in the order first run.
groups = {}
for r in rows:
    groups.setdefault(r["name"], []).append(r)
groups = list(groups.values())


def each(rs, key, fmt=lambda v: f"{v:,}"):
    """Every run's own value: "0" for one run, "0 · 0 · 0" for three."""
    return " · ".join(fmt(r[key]) for r in rs)


def calls_failed(rs):
    return " · ".join(f"{r['failedCalls']} of {r['calls']:,}" for r in rs)


def median_of(rs, key, fmt):
    """The median over the runs, and their range when there are several."""
    values = [r[key] for r in rs if r[key] is not None]
    if not values:
        return fmt(None)
    if len(rs) == 1:
        return fmt(values[0])
    text = fmt(statistics.median(values)) + (f" ({fmt(min(values))}–{fmt(max(values))})" if fmt(min(values)) != fmt(max(values)) else "")
    return text + ("" if len(values) == len(rs) else f", {len(rs) - len(values)} runs not within the window")

if args.chart:
    width, height, left, top, bottom = 960, 320, 60, 20, 40
    last = max(s["t"] for s in seconds) if seconds else 1
    peak = max([s["received"] for s in seconds] + [args.rate]) * 1.1
    x = lambda t: left + (width - left - 20) * t / max(last, 1)
    y = lambda v: top + (height - top - bottom) * (1 - v / peak)
    parts = svg_start(width, height)
    for i, f in enumerate(faults):
        parts.append(f'<rect x="{x(f["start"]):.1f}" y="{top}" width="{max(x(f["end"]) - x(f["start"]), 2):.1f}" height="{height - top - bottom}" fill="#f4c7c3"/>')
        parts.append(f'<text x="{x(f["start"]) + 2:.1f}" y="{top + 12 + 12 * (i % 3)}" fill="#a33">{i + 1}</text>')
    parts.append(f'<line x1="{left}" x2="{width - 20}" y1="{y(args.rate):.1f}" y2="{y(args.rate):.1f}" stroke="#999" stroke-dasharray="4 3"/>')
    points = " ".join(f"{x(s['t']):.1f},{y(s['received']):.1f}" for s in seconds)
    parts.append(f'<polyline points="{points}" fill="none" stroke="#1f5fa8" stroke-width="1.5"/>')
    lost = [s for s in seconds if s["durableLost"] + s["plainLost"] > 0]
    for s in lost:
        parts.append(f'<circle cx="{x(s["t"]):.1f}" cy="{y(0) - 4:.1f}" r="3" fill="#c00"><title>{s["durableLost"]} durable, {s["plainLost"]} plain lost</title></circle>')
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{height - bottom}" stroke="#333"/>')
    parts.append(f'<line x1="{left}" x2="{width - 20}" y1="{height - bottom}" y2="{height - bottom}" stroke="#333"/>')
    parts.append(f'<text x="4" y="{y(args.rate) + 4:.1f}">{int(args.rate)}/s</text><text x="4" y="{y(0):.1f}">0</text>')
    parts.append(f'<text x="{left}" y="{height - 12}">pushes arriving per second over {last} s (blue), offered rate (dashed), faults (shaded, numbered as in the table), seconds with losses (red dots)</text>')
    write_svg(args.chart, parts)

if args.markdown:
    chart = relative(args.chart, args.markdown) if args.chart else None
    lines = [
        "# Reliability scorecard",
        "",
        "What each fault costs under steady load, measured from outside: 3 nodes, Redis and the",
        "reference backends as separate processes on one machine; clients of the Swift client library",
        "(its reconnect policy, inbox resume and dedupe) spread over the nodes; a backend pushing to",
        "random users through the Gateway API, every other push durable, a topic-less broadcast every",
        "10 s, clients calling a backend through their node, and one connection in ten reading",
        "slowly. One fault at a time, each followed by a recovery window, after which presence is",
        "checked against every client. Network faults drop packets with nftables, latency is added by",
        "a delaying proxy (`switchboard bench delay-proxy`) on node 3's link to Redis; the last rows are",
        "runs of their own on Redis Sentinel and on a Redis Cluster. Regenerated by `RUNS=3 ops/chaos.sh`",
        "as root (this page, its chart and `docs/chaos/`).",
        "",
        f"Run: {run_line(os.path.dirname(os.path.abspath(args.report)))};",
        f"{args.clients:,} clients, {int(args.rate):,} pushes/s offered; {totals['sent']:,} pushes in all, "
        f"{misdelivered} misdelivered" + (f"; the rows after {len(passes[0][1])} are separate runs, each on its own Redis setup, as named." if len(args.passes) else "."),
    ]
    if runs > 1:
        lines += [
            f"The pass on one Redis ran {runs} times: its rows give every run's own count of what was lost,",
            "duplicated, refused or failed (\"0 · 0 · 0\"), and the median of the runs for the rest, with",
            "their range in brackets when they differ.",
        ]
    lines += [
        "",
    ]
    if chart:
        lines += [f"![Pushes arriving per second, faults shaded]({chart})", ""]
    lines += [
        "| # | fault | pushes sent in its window | durable lost | durable duplicated | plain lost | plain duplicated | pushes refused (errors answered) | backend calls failed | broadcasts: received of clients open | delivery normal again after | all clients connected again after healing | presence right again after the recovery window | p99 during / after | node RSS before → after | node fds before → after |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, rs in enumerate(groups):
        r = rs[0]
        for key, part in [("rssBefore", ("rss", 0)), ("rssAfter", ("rss", 1)), ("fdsBefore", ("fds", 0)), ("fdsAfter", ("fds", 1))]:
            for x in rs:
                x[key] = x[part[0]][part[1]]
        whole = lambda v: "—" if v is None else f"{v:,.0f}"
        lines.append(
            f"| {i + 1} | {r['name']} | {median_of(rs, 'sent', whole)} | **{each(rs, 'durableLost')}** | **{each(rs, 'durableDuplicated')}** | {each(rs, 'plainLost')} | {each(rs, 'plainDuplicated')} | "
            f"{each(rs, 'refused')} | {calls_failed(rs)} | {' · '.join(x['broadcasts'] for x in rs)} | "
            f"{median_of(rs, 'normal', secs)} | {median_of(rs, 'connected', secs)} | {' · '.join(x['presence'] for x in rs)} | "
            f"{median_of(rs, 'p99During', ms)} / {median_of(rs, 'p99After', ms)} | "
            f"{median_of(rs, 'rssBefore', whole)} → {median_of(rs, 'rssAfter', whole)} MiB | {median_of(rs, 'fdsBefore', whole)} → {median_of(rs, 'fdsAfter', whole)} |"
        )
    refused_by = ", ".join(f"{k} {v}" for k, v in sorted(refusals.items())) or "none"
    failed_by = ", ".join(f"{k} {v}" for k, v in sorted(call_errors.items())) or "none"
    slow = report.get("slowReaders")
    if slow:
        lines += [
            "",
            f"Slow readers in the mix (not in the table; the pass's first run only): {slow['sent']:,} pushes of 2 KB delivered to their connections "
            f"and {slow['notDelivered']:,} not (offline or refused), {slow['read']:,} frames read by them, {slow['cutAsSlow']:,} times cut by their "
            f"node as slow consumers, {slow['closedOtherwise']:,} closed otherwise; each reads 256 bytes a second.",
        ]
    lines += [
        "",
        f"Before the first fault: p99 {ms(baseline_p99)}. Pushes refused, by gRPC code, over the whole run: {refused_by}.",
        f"Backend calls failed, by error code: {failed_by}.",
        "",
        "- **Lost**: owed to the client — a durable push the node stored, a plain push it delivered",
        "  to a connection — and never received (after a settling period at the end).",
        "  **Duplicated**: received more than once after the client library's dedupe. Durable",
        "  pushes are owed exactly once; plain pushes are at most once, so a plain push in flight",
        "  to a socket that dies is lost by design and counted here.",
        "- **Refused**: the Gateway API answered with an error (the backend knows; nothing is",
        "  owed). The generator does not retry, so this is what a backend would retry.",
        "- **Backend calls**: `location.update` from random clients through their node to the",
        "  Location backend (50 a second); failed: answered with an error code or timed out (5 s).",
        "- **Broadcasts**: a topic-less broadcast through the Gateway API every 10 s (at most once,",
        "  to every connection); received: how many clients got one, against how many were open",
        "  when it was sent (a client reconnecting at that moment may get it or not).",
        "- **Normal again**: from the injection, the first of three seconds in a row with nothing",
        "  lost, nothing refused and ≥ 90 % of the offered rate arriving.",
        "- **Presence right again**: after the recovery window, every user's connections are read",
        "  through the Gateway API and compared with its client's own state (open: exactly one;",
        "  otherwise none), sweep after sweep until one finds nothing wrong (giving up after 90 s and three sweeps). A",
        "  *ghost* is a connection still listed that its client no longer has.",
        "",
        "## What the rows show, and why",
        "",
    ]
    for i, r in enumerate(g[0] for g in groups):
        why = next((text for key, text in FINDINGS if key in r["name"]), None)
        if why:
            lines.append(f"{i + 1}. **{r['name']}**: {why}")
    lines += [
        "",
        "The same load for 30 minutes with no fault, at 19,000 connections: [the soak](soak.md).",
        *(["Each row is one run, not a median of several (`RUNS=3` repeats the pass on one Redis)."] if runs == 1 else []),
        "",
    ]
    open(args.markdown, "w").write("\n".join(lines))

if args.require_zero:
    broken = [f"{r['name']}: {r['durableLost']} durable lost, {r['durableDuplicated']} duplicated" for r in rows if r["durableLost"] or r["durableDuplicated"]]
    if totals["durableLost"] or totals["durableDuplicated"] or misdelivered:
        broken.append(f"whole run: {totals['durableLost']} durable lost, {totals['durableDuplicated']} duplicated, {misdelivered} misdelivered")
    broken += [f"{r['name']}: presence not right again ({r['presence']})" for r in rows if not r["presenceRight"]]
    slow = report.get("slowReaders")
    if slow and (slow["sent"] == 0 or slow["read"] == 0):
        broken.append(f"the slow readers got nothing through ({slow['sent']} pushes delivered to them, {slow['read']} frames read)")
    if totals["sent"] == 0 or totals["owed"] == 0:
        broken.append("no push was sent or owed: the load did not run")
    for line in broken:
        print("FAIL " + line)
    raise SystemExit(1 if broken else 0)
