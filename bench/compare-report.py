#!/usr/bin/env python3
"""Markdown table of a compare.sh run: figures per target and the ratios rheo/peer.

Usage: compare-report.py RESULTS.jsonl [--title T] [--note N] [--command C]
Reads the JSON lines rheo-bench printed (one per run) and prints markdown.
"""
import argparse
import json
import sys

MIB_PER_MB = 1e6 / 2**20  # 30 MB = 28.6 MiB


def load(path):
    lines = []
    with open(path) as f:
        for raw in f:
            raw = raw.strip()
            if raw.startswith("{"):
                try:
                    lines.append(json.loads(raw))
                except json.JSONDecodeError:
                    pass
    return lines


def fmt(v, digits=None):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if digits is None:
        digits = 0 if abs(v) >= 100 else (1 if abs(v) >= 10 else 2)
    return f"{v:,.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    r = a / b
    return f"{r:,.0f}×" if r >= 100 else (f"{r:,.1f}×" if r >= 10 else f"{r:,.2f}×")


def get(d, *path):
    for p in path:
        if d is None:
            return None
        d = d.get(p) if isinstance(d, dict) else None
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jsonl")
    ap.add_argument("--title", default="Rheo vs peers")
    ap.add_argument("--note", default="")
    ap.add_argument("--command", default="bench/compare.sh")
    args = ap.parse_args()
    lines = load(args.jsonl)

    # "rheo (relaxed)" runs are extra rows of rheo's, not a target of their own.
    labels = []
    for l in lines:
        if l.get("label") and " (" not in l["label"] and l["label"] not in labels:
            labels.append(l["label"])
    ours = "rheo" if "rheo" in labels else (labels[0] if labels else "rheo")
    peers = [l for l in labels if l != ours]

    def pick(label, mode, pred=lambda l: True):
        found = [l for l in lines if l.get("label") == label and l.get("mode") == mode and pred(l)]
        return found[-1] if found else None

    put4 = {t: pick(t, "put", lambda l: get(l, "params", "shards") == 4) for t in labels}
    many = {t: pick(t, "put", lambda l: (get(l, "params", "shards") or 4) > 4) for t in labels}
    gets = {t: pick(t, "get") for t in labels}
    def median_run(label, mode):
        """The run with the median put→get/push p99 (the upper one of an even count), so
        that one stalled window of a noisy disk does not decide the figure alone."""
        runs = [l for l in lines if l.get("label") == label and l.get("mode") == mode]
        timed = sorted((r for r in runs if get(r, "e2e_latency_ms", "p99") is not None),
                       key=lambda r: get(r, "e2e_latency_ms", "p99"))
        if not timed:
            return runs[-1] if runs else None
        return timed[len(timed) // 2]

    def all_runs(label, mode):
        return [l for l in lines if l.get("label") == label and l.get("mode") == mode]

    e2e = {t: median_run(t, "e2e") for t in labels}
    sub = {t: median_run(t, "subscribe") for t in labels}
    start = {t: pick(t, "startup") for t in labels}
    disk = {t: pick(t, "disk") for t in labels}
    relaxed = {t: pick(f"{t} (relaxed)", "subscribe") for t in labels}
    rss_max = {}
    for t in labels:
        vals = [get(l, "server", "rss_max_mib") for l in lines if l.get("label") == t]
        vals = [v for v in vals if v is not None]
        rss_max[t] = max(vals) if vals else None

    def sub_ok(t, key):
        s = sub.get(t)
        if s is None:
            return None
        if s.get("supported") is False:
            return "not supported"
        return get(s, "e2e_latency_ms", key)

    many_shards = next((get(m, "params", "shards") for m in many.values() if m), None)
    # metric name, function(target) -> value, better ("hi"/"lo"), digits
    rows = [
        ("put, C=8 B=500 R=1000 S=4: records/s", lambda t: get(put4[t], "records_per_s"), "hi", 0),
        ("put: payload MB/s", lambda t: get(put4[t], "mb_per_s"), "hi", 1),
        ("put: request p50 ms", lambda t: get(put4[t], "latency_ms", "p50"), "lo", None),
        ("put: request p99 ms", lambda t: get(put4[t], "latency_ms", "p99"), "lo", None),
        ("put: request p999 ms", lambda t: get(put4[t], "latency_ms", "p999"), "lo", None),
        ("put: errors", lambda t: get(put4[t], "errors", "total"), "lo", 0),
        ("put: server CPU %", lambda t: get(put4[t], "server", "cpu_percent"), "", 0),
        ("put: records per server CPU-s", lambda t: get(put4[t], "server", "records_per_cpu_s"), "hi", 0),
        ("put: client CPU %", lambda t: get(put4[t], "client", "cpu_percent"), "", 0),
    ]
    if many_shards:
        rows += [
            (f"put, S={many_shards:,}: records/s", lambda t: get(many[t], "records_per_s"), "hi", 0),
            (f"put, S={many_shards:,}: request p99 ms", lambda t: get(many[t], "latency_ms", "p99"), "lo", None),
        ]
    rows += [
        ("get: records filled", lambda t: get(gets[t], "filled"), "", 0),
        ("get: fill records/s (C=8 B=100)", lambda t: get(gets[t], "fill", "records_per_s"), "hi", 0),
        ("get: read-back records/s", lambda t: get(gets[t], "records_per_s"), "hi", 0),
        ("get: read-back MB/s", lambda t: get(gets[t], "mb_per_s"), "hi", 1),
        ("get: GetRecords p99 ms", lambda t: get(gets[t], "latency_ms", "p99"), "lo", None),
        ("get: missing records", lambda t: get(gets[t], "missing"), "lo", 0),
        ("e2e 1000 rec/s: achieved rec/s", lambda t: get(e2e[t], "achieved_rate"), "hi", 0),
        ("e2e: put→get p50 ms", lambda t: get(e2e[t], "e2e_latency_ms", "p50"), "lo", None),
        ("e2e: put→get p99 ms (median run)", lambda t: get(e2e[t], "e2e_latency_ms", "p99"), "lo", None),
        ("e2e: put→get max ms", lambda t: get(e2e[t], "e2e_latency_ms", "max"), "lo", None),
        ("e2e: missing records", lambda t: get(e2e[t], "missing"), "lo", 0),
        ("subscribe: put→push p50 ms", lambda t: sub_ok(t, "p50"), "lo", None),
        ("subscribe: put→push p99 ms (median run)", lambda t: sub_ok(t, "p99"), "lo", None),
        ("subscribe: put request p99 ms",
         lambda t: None if (sub[t] or {}).get("supported") is False else get(sub[t], "latency_ms", "p99"), "lo", None),
        ("disk alone: fdatasync p50 ms (1 KiB appends, 100/s)", lambda t: get(disk[t], "fdatasync_ms", "p50"), "lo", None),
        ("disk alone: fdatasync p99 ms", lambda t: get(disk[t], "fdatasync_ms", "p99"), "lo", None),
        ("disk alone: fdatasync max ms", lambda t: get(disk[t], "fdatasync_ms", "max"), "lo", None),
        ("subscribe, --durability relaxed: put→push p50 ms", lambda t: get(relaxed[t], "e2e_latency_ms", "p50"), "lo", None),
        ("subscribe, --durability relaxed: put→push p99 ms", lambda t: get(relaxed[t], "e2e_latency_ms", "p99"), "lo", None),
        ("startup to first ListStreams, median ms", lambda t: get(start[t], "startup_ms", "median"), "lo", 1),
        ("idle RSS MiB (2 s after start)", lambda t: get(start[t], "idle_rss_mib"), "lo", 1),
        ("highest RSS during the matrix MiB", lambda t: rss_max[t], "lo", 0),
    ]

    out = [f"# {args.title}", ""]
    if args.note:
        out += [args.note, ""]
    head = ["metric"] + labels + [f"{ours} ÷ {p}" for p in peers]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
    for name, f, _better, digits in rows:
        vals = {t: f(t) for t in labels}
        if all(v is None for v in vals.values()):
            continue
        cells = [name] + [fmt(vals[t], digits) for t in labels]
        for p in peers:
            a, b = vals.get(ours), vals.get(p)
            cells.append(ratio(a, b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else "–")
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    out.append("Ratios are rheo ÷ peer: above 1 is better for throughput, below 1 is better for latency, time and memory.")
    out.append("")

    # Targets of issue 5.
    r = ours
    put_r = get(put4.get(r), "records_per_s")
    checks = []

    def check(name, value, ok, detail):
        status = "–" if ok is None else ("met" if ok else "**missed**")
        checks.append(f"| {name} | {value} | {status} | {detail} |")

    kl = get(put4.get("kinesalite"), "records_per_s")
    km = get(put4.get("kinesis-local"), "records_per_s")
    if put_r is not None:
        check("put ≥ 100,000 rec/s", fmt(put_r, 0), put_r >= 100_000, f"{put_r / 100_000:.2f}× the target")
    if put_r is not None and kl:
        check("put ≥ 10× kinesalite", ratio(put_r, kl), put_r >= 10 * kl, f"kinesalite {fmt(kl, 0)} rec/s")
    if put_r is not None and km:
        check("put ≥ 100× kinesis-local", ratio(put_r, km), put_r >= 100 * km, f"kinesis-local {fmt(km, 0)} rec/s")
    read_r = get(gets.get(r), "records_per_s")
    if read_r is not None and put_r:
        check("get read-back ≥ 2× own put", ratio(read_r, put_r), read_r >= 2 * put_r,
              f"read {fmt(read_r, 0)} rec/s of {fmt(get(gets.get(r), 'filled'), 0)} filled")
    def runs_detail(mode, limit_ms):
        """Each run's p99 and, where the server reports them, its slow fdatasyncs."""
        runs = [x for x in all_runs(r, mode) if get(x, "e2e_latency_ms", "p99") is not None]
        if not runs:
            return []
        p99s = [get(x, "e2e_latency_ms", "p99") for x in runs]
        met = sum(1 for v in p99s if v < limit_ms)
        parts = [f"p99 of each run: {', '.join(fmt(v) for v in p99s)} ms (under {limit_ms} ms in {met} of {len(runs)})"]
        syncs = [x.get("server_syncs") for x in runs]
        if all(syncs):
            def one(sy):
                slowest = sy.get("slowest_at_most_ms")
                return f"{sy['over_20ms']}" + (f" (slowest ≤ {fmt(slowest)} ms)" if sy["over_20ms"] and slowest else
                                               " (slowest beyond 2.5 s)" if sy["over_20ms"] else "")
            parts.append("server fdatasyncs over 20 ms in each run: " + ", ".join(one(sy) for sy in syncs))
        skipped = [get(x, "skipped_batches") or 0 for x in runs]
        if any(skipped):
            parts.append(f"batches skipped while all connections waited: {', '.join(str(k) for k in skipped)}")
        return parts

    p99 = get(e2e.get(r), "e2e_latency_ms", "p99")
    if p99 is not None:
        detail = [f"median run; achieved {fmt(get(e2e.get(r), 'achieved_rate'), 0)} rec/s; "
                  "includes up to 10 ms poll sleep"] + runs_detail("e2e", 20)
        check("e2e put→get p99 < 20 ms at 1000 rec/s", f"{fmt(p99)} ms", p99 < 20, "; ".join(detail))
    s = sub.get(r)
    if s is not None:
        if s.get("supported") is False:
            check("subscribe put→push p99 < 10 ms", "not supported", False, s.get("unsupported_reason", ""))
        else:
            sp99 = get(s, "e2e_latency_ms", "p99")
            detail = [f"median run; put request p99 {fmt(get(s, 'latency_ms', 'p99'))} ms"] + runs_detail("subscribe", 10)
            d = disk.get(r)
            if d is not None:
                detail.append(f"the disk alone: fdatasync p99 {fmt(get(d, 'fdatasync_ms', 'p99'))} ms, "
                              f"max {fmt(get(d, 'fdatasync_ms', 'max'))} ms")
            rx = relaxed.get(r)
            if rx is not None:
                detail.append(f"with --durability relaxed: put→push p99 {fmt(get(rx, 'e2e_latency_ms', 'p99'))} ms")
            check("subscribe put→push p99 < 10 ms", f"{fmt(sp99)} ms", sp99 is not None and sp99 < 10, "; ".join(detail))
    st = get(start.get(r), "startup_ms", "median")
    if st is not None:
        check("startup < 100 ms (empty data dir)", f"{fmt(st, 1)} ms", st < 100,
              f"runs {get(start.get(r), 'startup_ms', 'runs')}")
    idle = get(start.get(r), "idle_rss_mib")
    if idle is not None:
        limit = 30 * MIB_PER_MB
        check("idle RSS < 30 MB", f"{fmt(idle, 1)} MiB = {idle / MIB_PER_MB:.1f} MB", idle < limit, "VmRSS 2 s after start")
    many_r = get(many.get(r), "records_per_s")
    if many_r is not None and put_r:
        check(f"{many_shards:,} shards within 30% of 4 shards", ratio(many_r, put_r), many_r >= 0.7 * put_r,
              f"{fmt(many_r, 0)} vs {fmt(put_r, 0)} rec/s")
    if checks:
        out += ["## Targets (issue 5)", "", "| target | measured | status | detail |", "|---|---|---|---|"]
        out += checks
        out.append("")

    out += ["## Command", "", "```sh", args.command, "```", "",
            f"Raw results: `{args.jsonl.split('/bench/')[-1] if '/bench/' in args.jsonl else args.jsonl}` "
            "(one JSON line per run, see `crates/bench`).", ""]
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
