#!/usr/bin/env python3
"""Turns bench/out/*/results.jsonl into the Markdown tables of
docs/BENCHMARKS.md, so the doc quotes what was measured and nothing else.

    python3 bench/report.py ingest [FILE]
    python3 bench/report.py time-to-page
    python3 bench/report.py paging
    python3 bench/report.py footprint
    python3 bench/report.py flags
"""

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
# The floor first: every other column is read against it.
DAEMONS = ["floor", "liveops", "statsd-npm", "collectd"]
LOSSLESS = 1.0  # percent


def rows(path):
    return [json.loads(l) for l in Path(path).read_text().splitlines() if l.strip()]


def fmt_rate(r):
    return f"{r / 1e6:.2f} M" if r >= 995e3 else f"{r / 1e3:.0f} k"


def ingest(*paths):
    """Tables per mix. With repeats, a cell shows the median loss and the
    range; a rate counts as lossless when the median loss is under 1 %."""
    import statistics

    paths = paths or [OUT / "ingest/results.jsonl"]
    data = [r for p in paths for r in rows(p)]
    for r in data:
        if "env" in r:
            m = r["env"]["machine"]
            print(f"- run started {r['env']['started']}, load average {' / '.join(m['loadavg'])} (1/5/15 min)")
    print()
    for mix in ("plain", "tagged"):
        mrows = [r for r in data if r.get("mix") == mix]
        if not mrows:
            continue
        daemons = [d for d in DAEMONS if any(r["daemon"] == d for r in mrows)]
        cell_of = {}
        for d in daemons:
            for rate in {r["target_rate"] for r in mrows}:
                rs = [r for r in mrows if r["daemon"] == d and r["target_rate"] == rate]
                if rs:
                    cell_of[d, rate] = rs
        reps = max(len(v) for v in cell_of.values())
        what = "median loss % over {} runs [min–max]".format(reps) if reps > 1 else "loss %"
        print(f"**{mix}** mix — {what}; lines/s the daemon counted; its CPU as % of one core "
              "(median); kernel RcvbufErrors (datagrams dropped, summed)\n")
        print("| offered lines/s | " + " | ".join(daemons) + " |")
        print("|---:|" + "---:|" * len(daemons))
        lossless = {d: 0 for d in daemons}
        lossy = {d: None for d in daemons}
        cpu_at = {d: None for d in daemons}  # CPU at the highest lossless step
        for rate in sorted({r["target_rate"] for r in mrows}):
            cells = []
            for d in daemons:
                rs = cell_of.get((d, rate))
                if not rs:
                    cells.append("—")
                    continue
                losses = [r["loss_pct"] for r in rs]
                med = statistics.median(losses)
                got = statistics.median(r["counted_lines"] / (r["offered_lines"] / r["offered_rate"]) for r in rs)
                cpu = statistics.median(r.get("cpu_pct_of_core", float("nan")) for r in rs)
                drops = sum(r["rcvbuf_errors"] for r in rs)
                spread = f" [{min(losses):.2f}–{max(losses):.2f}]" if len(rs) > 1 else ""
                cells.append(f"{med:.2f} %{spread}; {fmt_rate(got)}; {cpu:.0f} %; {drops:,}")
                offered = statistics.median(r["offered_rate"] for r in rs)
                if med < LOSSLESS:
                    if offered > lossless[d]:
                        lossless[d], cpu_at[d] = offered, cpu
                elif lossy[d] is None:
                    lossy[d] = offered
            print(f"| {fmt_rate(rate)} | " + " | ".join(cells) + " |")
        print()
        best = {d: max(r["counted_lines"] / (r["offered_lines"] / r["offered_rate"])
                       for r in mrows if r["daemon"] == d) for d in daemons}
        def ratio(num, den, pct=False):
            if not num or not den:
                return "—"
            return f"{100 * num / den:.0f} %" if pct else f"{num / den:.1f}×"

        floor = "floor" in daemons
        print(f"Summary ({mix}):\n")
        head = ["daemon", "highest rate with < 1 % loss", "its CPU, % of a core", "first rate with ≥ 1 % loss"]
        if floor:
            head.append("share of the floor (lossless rate)")
        if "liveops" in daemons:
            head.append("liveops ÷ daemon (lossless rate)")
        head.append("most lines/s counted at any step")
        if floor:
            head.append("share of the floor (lines counted)")
        if "liveops" in daemons:
            head.append("liveops ÷ daemon (lines counted)")
        print("| " + " | ".join(head) + " |")
        print("|---|" + "---:|" * (len(head) - 1))
        for d in daemons:
            ok = lossless[d]
            cells = [d, fmt_rate(ok) if ok else "none",
                     f"{cpu_at[d]:.0f} %" if cpu_at[d] is not None else "—",
                     fmt_rate(lossy[d]) if lossy[d] else "none up to the highest step"]
            if floor:
                cells.append(ratio(ok, lossless["floor"], pct=True))
            if "liveops" in daemons:
                cells.append(ratio(lossless["liveops"], ok))
            cells.append(fmt_rate(best[d]))
            if floor:
                cells.append(ratio(best[d], best["floor"], pct=True))
            if "liveops" in daemons:
                cells.append(ratio(best["liveops"], best[d]))
            print("| " + " | ".join(cells) + " |")
        if floor and not lossy["floor"]:
            print("\nThe floor stayed under 1 % loss up to the highest step, so its limit is above it "
                  "and every share of the floor is an upper bound.")
        print()
    rss = [r for r in data if "final_rss_kib" in r]
    if rss:
        print("| daemon | RSS at the end (KiB) | peak RSS, VmHWM (KiB) |\n|---|---:|---:|")
        for r in rss:
            print(f"| {r['daemon']} | {r['final_rss_kib']:,} | {r['hwm_kib']:,} |")
        print()


def time_to_page():
    for profile in ("typical", "tuned", "typical-pagerduty", "tuned-pagerduty"):
        p = OUT / f"time-to-page-{profile}/results.jsonl"
        if not p.exists():
            continue
        data = rows(p)
        runs = [r for r in data if "run" in r]
        print(f"**{profile}** — ms from the stall to the first page at the receiver\n")
        print("| run | load at start | stall at (s after start) | liveops | Prometheus + Alertmanager | false pages before the stall |")
        print("|---:|---:|---:|---:|---:|---:|")
        for r in runs:
            load = (r.get("loadavg_at_start") or ["?"])[0]
            print(f"| {r['run']} | {load} | {r['stall_after_s']} | {r['liveops_ms']} | {r['prometheus_ms']} | {len(r['false_pages'])} |")
        for r in data:
            if "summary" in r:
                s = r["summary"]
                l, p_ = s["liveops"], s["prometheus"]
                ratio = p_["median_ms"] / l["median_ms"] if l and p_ else None
                print(f"| **median (min–max)** | | | **{l['median_ms']}** ({l['min_ms']}–{l['max_ms']}) "
                      f"| **{p_['median_ms']}** ({p_['min_ms']}–{p_['max_ms']}) | {s['false_pages']} |")
                print(f"\nPrometheus ÷ liveops (median): {ratio:.1f}×\n" if ratio else "")


def paging():
    for what in ("escalate", "idle", "idle-control"):
        p = OUT / f"paging-{what}/results.jsonl"
        if p.exists():
            for r in rows(p):
                print(json.dumps({k: v for k, v in r.items() if k != "env"}), r["env"]["commit"])


def footprint():
    for name in ("footprint-agent", "footprint-collector"):
        p = OUT / name / "results.jsonl"
        if p.exists():
            for r in rows(p):
                print(json.dumps(r, indent=1))


def flags():
    """One table per flag benchmark, every run listed."""
    data = rows(OUT / "flags/results.jsonl")
    env = lambda r: f"{r['env']['started']}, load {r['env']['machine']['loadavg'][0]}, {r['env']['machine']['commit']}"
    print("| kind of save | saves | p50 | p99 | max | run |\n|---|---|---|---|---|---|")
    for r in (r for r in data if r["bench"] == "save"):
        print(f"| {r['kind']} | {r['saves']} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {r['max_ms']:.1f} ms | {env(r)} |")
    print()
    print("| fleet | agents × rounds | apply p50 / p99 / max | revert p50 / p99 / max | run |\n|---|---|---|---|---|")
    for r in (r for r in data if r["bench"] == "fleet"):
        ap, rv = r["apply"], r["revert"]
        print(f"| mitigate --fleet | {r['agents']} × {r['rounds'] // 2} + {r['rounds'] // 2} | "
              f"{ap['p50_ms']:.0f} / {ap['p99_ms']:.0f} / {ap['max_ms']:.0f} ms | "
              f"{rv['p50_ms']:.0f} / {rv['p99_ms']:.0f} / {rv['max_ms']:.0f} ms | {env(r)} |")
    print()
    print("| run | server | requests/s | p99 | non-2xx | liveops ÷ bare |\n|---|---|---|---|---|---|")
    ofrep = [r for r in data if r["bench"] == "ofrep"]
    for r in ofrep:
        bare = next((b for b in ofrep if b["server"] == "bare-hyper" and b["run"] == r["run"]
                     and b["env"]["started"][:13] == r["env"]["started"][:13]), None)
        ratio = f"{r['rps'] / bare['rps']:.0%}" if bare and r["server"] == "liveops" else ""
        print(f"| {r['run']} | {r['server']} | {r['rps']:,.0f} | {r['p99_ms']:.2f} ms | {r['non_2xx']} | {ratio} |")
    print()
    for r in (r for r in data if r["bench"] == "client"):
        print(json.dumps({k: v for k, v in r.items() if k != "env"}), env(r))


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "ingest"
    args = sys.argv[2:]
    {"ingest": ingest, "time-to-page": time_to_page, "paging": paging, "footprint": footprint,
     "flags": flags}[what](*args)
