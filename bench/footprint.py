#!/usr/bin/env python3
"""Footprint: the agent's memory under a world's usual load, and the
collector's CPU and report latency under a fleet of 1,000 agents.

    python3 bench/footprint.py agent [--secs 60]
    python3 bench/footprint.py collector [--agents 1000] [--secs 60]

`agent` also keeps the reports the agent sent (to a sink standing in for
the collector); `collector` uses one of them as the body every simulated
agent sends, so run `agent` first.
"""

import argparse
import json
import os
import re
import resource
import shutil
import threading
import time
from pathlib import Path

from common import (
    AGENT, COLLECTOR, DAEMON_CORE, LOAD_CORE, ROOT, TOOL, Procs, cpu_ticks, http_get,
    machine, out_dir, run_json, status_kib, wait_port,
)

SINK, AGENT_STATSD, AGENT_HTTP, COLL = 19570, 19525, 19571, 19590
TOKEN = "bench-agent-token"
HZ = os.sysconf("SC_CLK_TCK")


def sample_rss(pid, stop, out):
    while not stop.is_set():
        out.append(status_kib(pid, "VmRSS"))
        stop.wait(1)


def agent(a):
    d = out_dir("footprint-agent")
    shutil.rmtree(d / "agent-data", ignore_errors=True)
    (d / "reports.jsonl").unlink(missing_ok=True)
    (d / "agent.toml").write_text(f"""
[agent]
world = "bench"
collector = "http://127.0.0.1:{SINK}"
statsd_udp = "127.0.0.1:{AGENT_STATSD}"
http = "127.0.0.1:{AGENT_HTTP}"
data_dir = "{d}/agent-data"
""")
    procs = Procs()
    try:
        procs.start([TOOL, "sink", "--listen", f"127.0.0.1:{SINK}", "--out", d / "reports.jsonl"],
                    core=LOAD_CORE, log=d / "sink.log")
        ag = procs.start([AGENT, "--config", d / "agent.toml"], core=DAEMON_CORE, log=d / "agent.log")
        wait_port("127.0.0.1", AGENT_HTTP)
        start_rss = status_kib(ag.pid, "VmRSS")
        stop, rss = threading.Event(), []
        t = threading.Thread(target=sample_rss, args=(ag.pid, stop, rss))
        t.start()
        c0 = cpu_ticks(ag.pid)
        sent = run_json([TOOL, "statsd-load", "--to", f"127.0.0.1:{AGENT_STATSD}", "--mix", "tagged",
                         "--rate", a.lines, "--ticks-hz", a.ticks, "--secs", a.secs], core=LOAD_CORE)
        c1 = cpu_ticks(ag.pid)
        time.sleep(2)
        stop.set()
        t.join()
        # Scrape /metrics too: a Prometheus scrape is part of normal life.
        http_get(f"http://127.0.0.1:{AGENT_HTTP}/metrics")
        row = {
            "machine": machine(), "secs": a.secs, "lines_per_sec": a.lines, "ticks_hz": a.ticks,
            "offered": sent, "rss_start_kib": start_rss, "rss_max_sampled_kib": max(rss),
            "rss_end_kib": status_kib(ag.pid, "VmRSS"), "hwm_kib": status_kib(ag.pid, "VmHWM"),
            "cpu_pct_of_core": round(100 * (c1 - c0) / HZ / sent["secs"], 2),
        }
        reports = [json.loads(l) for l in (d / "reports.jsonl").read_text().splitlines()]
        reports = [r["body"] for r in reports if r["path"] == "/api/v1/reports" and r["body"].get("counters")]
        if reports:
            # A steady-state report from the middle of the run.
            template = reports[len(reports) // 2]
            (d / "report-template.json").write_text(json.dumps(template))
            row["template_bytes"] = len(json.dumps(template))
            row["template_series"] = {k: len(template.get(k, [])) for k in ("counters", "gauges", "histograms")}
        print(json.dumps(row))
        with open(d / "results.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")
    finally:
        procs.stop_all()


def server_latency(text):
    """p99 upper bound from the collector's own report latency histogram."""
    buckets = []
    for line in text.splitlines():
        m = re.match(r'liveops_collector_report_latency_seconds_bucket\{.*le="([^"]+)".*\} (\S+)', line)
        if m:
            buckets.append((float(m.group(1)), float(m.group(2))))
    if not buckets:
        return None
    total = buckets[-1][1]
    for le, n in buckets:
        if n >= 0.99 * total:
            return {"p99_le_s": le, "count": total}
    return None


def raise_nofile(agents):
    """Each simulated agent holds a connection, in the generator and in the
    collector (both inherit this limit): 10,000 agents need more than the
    usual 1,024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = agents + 1024
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            raise SystemExit(f"{agents} agents need {want} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def scrape_every(every, stop, out):
    """What Prometheus does to a collector: GET /metrics every `every` s.
    Each scrape's seconds and bytes, to show what it costs the reports."""
    while not stop.wait(every):
        t = time.time()
        try:
            n = len(http_get(f"http://127.0.0.1:{COLL}/metrics", timeout=60))
        except OSError as e:
            out.append({"error": str(e)})
            continue
        out.append({"secs": round(time.time() - t, 3), "bytes": n})


def scrape_latency():
    # On a loaded machine, right after the run, the collector is busy paging
    # AgentSilent for every world: the load figures must not be lost to it.
    try:
        return server_latency(http_get(f"http://127.0.0.1:{COLL}/metrics", timeout=30))
    except OSError as e:
        return {"error": str(e)}


def collector(a):
    raise_nofile(a.agents)
    d = out_dir("footprint-collector")
    template = ROOT / "bench/out/footprint-agent/report-template.json"
    if not template.exists():
        raise SystemExit("run `footprint.py agent` first: it captures the report template")
    if a.healthy:
        # The captured mix fails one request in five, so every world burns
        # its error budget and the run carries one firing alert per world.
        # A healthy fleet is the usual case: the same report, all requests ok.
        body = json.loads(template.read_text())
        for c in body["counters"]:
            if c["tags"].get("status") == "error":
                c["tags"]["status"] = "ok"
        template = d / "report-template-healthy.json"
        template.write_text(json.dumps(body))
    # Another build may not know today's keys: LIVEOPS_BENCH_COLLECTOR_TOML
    # names the shipped file of the build measured.
    coll = Path(os.environ.get("LIVEOPS_BENCH_COLLECTOR_TOML", ROOT / "config/collector.toml")).read_text()
    coll = re.sub(r'(?m)^listen = .*$', f'listen = "127.0.0.1:{COLL}"', coll)
    # LIVEOPS_BENCH_DATA_DIR puts the store elsewhere (e.g. on tmpfs, to
    # tell the disk's share of the latency from the collector's).
    data = Path(os.environ.get("LIVEOPS_BENCH_DATA_DIR", d / "collector-data"))
    coll = re.sub(r'(?m)^data_dir = .*$', f'data_dir = "{data}"', coll)
    # Alerts go to a file: at the end of the run 1,000 worlds fall silent.
    coll = coll.replace('[[notifier]]\nkind = "stdout"', f'[[notifier]]\nkind = "file"\npath = "{d}/alerts.jsonl"')
    (d / "collector.toml").write_text(coll)
    shutil.rmtree(data, ignore_errors=True)
    procs = Procs()
    try:
        c = procs.start([COLLECTOR, "--config", d / "collector.toml"], core=DAEMON_CORE,
                        env={"LIVEOPS_AGENT_TOKEN": TOKEN,
                             # The checkpoint says how long its cut held the lock.
                             "RUST_LOG": "info,liveops_collector::state=debug"},
                        log=d / "collector.log")
        wait_port("127.0.0.1", COLL)
        time.sleep(1)
        stop, rss = threading.Event(), []
        t = threading.Thread(target=sample_rss, args=(c.pid, stop, rss))
        t.start()
        scrapes = []
        if a.scrape:
            threading.Thread(target=scrape_every, args=(a.scrape, stop, scrapes), daemon=True).start()
        loadavg = os.getloadavg()
        c0, t0 = cpu_ticks(c.pid), time.time()
        # CPU again after the warm-up, to leave out the connection storm.
        mark = {}
        timer = threading.Timer(5.2, lambda: mark.update(c=cpu_ticks(c.pid), t=time.time()))
        timer.start()
        perf = None
        if a.perf:
            # Sampled on the wall clock: hardware counters are not exposed
            # on this VM. Affects the CPU figure a little; for finding the
            # hot spot, not for the table.
            # LIVEOPS_BENCH_CALLGRAPH=dwarf for callers in a release build
            # without frame pointers.
            graph = os.environ.get("LIVEOPS_BENCH_CALLGRAPH", "fp")
            perf = procs.start(["perf", "record", "-e", "cpu-clock", "-F", "499", "--call-graph", graph,
                                "-p", c.pid,
                                "-o", d / "perf.data", "--", "sleep", str(a.secs - 5)], log=d / "perf.log")
        load = run_json([TOOL, "collector-load", "--to", f"127.0.0.1:{COLL}", "--token", TOKEN,
                         "--agents", a.agents, "--secs", a.secs, "--ramp", a.ramp, "--warmup", a.warmup,
                         "--template", template],
                        core=LOAD_CORE)
        c1, t1 = cpu_ticks(c.pid), time.time()
        stop.set()
        t.join()
        if perf:
            perf.wait()
        row = {
            "machine": machine(), "load": load, "perf": bool(perf), "collector": str(COLLECTOR),
            "healthy": a.healthy,
            "loadavg_at_start": loadavg,
            "cpu_pct_of_core": round(100 * (c1 - c0) / HZ / (t1 - t0), 2),
            "cpu_pct_of_core_after_warmup": round(100 * (c1 - mark["c"]) / HZ / (t1 - mark["t"]), 2),
            "wall_s": round(t1 - t0, 2),
            "rss_max_sampled_kib": max(rss), "hwm_kib": status_kib(c.pid, "VmHWM"),
            # One sample a minute: whether memory stays flat over a soak.
            "rss_by_minute_kib": rss[::60],
            "scrapes": scrapes,
            "server_side": scrape_latency(),
        }
        print(json.dumps(row))
        with open(d / "results.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")
    finally:
        procs.stop_all()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    ag = sub.add_parser("agent")
    ag.add_argument("--secs", type=float, default=60)
    ag.add_argument("--lines", type=int, default=10000)
    ag.add_argument("--ticks", type=float, default=20)
    co = sub.add_parser("collector")
    co.add_argument("--secs", type=float, default=60)
    co.add_argument("--agents", type=int, default=1000)
    co.add_argument("--ramp", type=float, default=1.0, help="seconds over which agents start")
    co.add_argument("--warmup", type=int, default=5,
                    help="seconds at the start left out of the after-warm-up percentiles")
    co.add_argument("--perf", action="store_true", help="also record a perf profile (bench/out/.../perf.data)")
    co.add_argument("--scrape", type=float, default=0,
                    help="also GET /metrics every this many seconds, as Prometheus would (0: only at the end)")
    co.add_argument("--healthy", action="store_true",
                    help="send reports without failed requests (no world burns its budget)")
    a = ap.parse_args()
    {"agent": agent, "collector": collector}[a.what](a)


if __name__ == "__main__":
    main()
