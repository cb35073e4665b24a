#!/usr/bin/env python3
"""Escalation timing and the cost of open pages.

A release collector with the shipped on-call schedule and paging policy,
except that SEV1's first step has a short acknowledgement deadline, and the
policy's channels delivering to the sink (`pagerduty` through the real
PagerDuty notifier, the sink answering as PagerDuty does). N simulated
worlds are reported down once each, as their agents would (an urgent
report, probe failing), so N `WorldDown` SEV1 pages open and wait; nobody
acknowledges.

    python3 bench/paging.py escalate [--pages 1000] [--deadline 20]
    python3 bench/paging.py idle [--pages 1000] [--secs 60] [--no-paging]

`escalate`: for each page, the arrival at the sink of its escalation (the
step-2 trigger, to the secondary) minus (the page's `opened_ms` + the
deadline): p50/p99/max. Also the collector's own decision time (its `sent`
record) against the deadline, which splits timer lateness from delivery.

`idle`: collector CPU (utime + stime from /proc) first with no worlds, then
over a steady window while the N pages are open with their timers running
(deadline 10 min, so none fires) and nothing else happens: no reports (the
collector's `no_data_after` is raised to an hour so a world reported down
stays down without `AgentSilent`), no deliveries (checked: the sink gets
nothing in the window). The collector still evaluates its alerts every
second over the N worlds, as it always does; that is in the figure, and
`--no-paging` measures it alone: the same N down worlds and alerts with no
paging policy (each notifier told once), so no page and no timer.
"""

import argparse
import concurrent.futures
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import statistics
import time

from common import (
    COLLECTOR, DAEMON_CORE, LOAD_CORE, PD_PATH, ROOT, TOOL, Procs, cpu_ticks, machine,
    out_dir, policy_notifiers, status_kib, wait_port,
)

SINK, COLL = 19680, 19690
AGENT_TOKEN = "bench-agent-token"
HZ = os.sysconf("SC_CLK_TCK")


def write_configs(d, deadline_s, viewer, paging=True):
    coll = (ROOT / "config/collector.toml").read_text()
    coll = re.sub(r'(?m)^listen = .*$', f'listen = "127.0.0.1:{COLL}"', coll)
    coll = re.sub(r'(?m)^data_dir = .*$', f'data_dir = "{d}/collector-data"', coll)
    # One report per world, then silence: without this the world would
    # turn AgentSilent after 5 s and change its page.
    coll = re.sub(r'(?m)^no_data_after = .*$', 'no_data_after = "1h"', coll)
    coll = coll.replace('# oncall = "oncall.toml"', f'oncall = "{ROOT}/config/oncall.toml"')
    if paging:
        coll = coll.replace('# paging = "paging.toml"', f'paging = "{d}/paging.toml"')
    coll = coll.replace('[[notifier]]\nkind = "stdout"\n', policy_notifiers(SINK))
    coll += f"""
[[token]]
name = "bench-viewer"
role = "viewer"
sha256 = "{hashlib.sha256(viewer.encode()).hexdigest()}"
"""
    (d / "collector.toml").write_text(coll)
    policy = (ROOT / "config/paging.toml").read_text()
    # The first ack_deadline in the file is SEV1's first step.
    policy, n = re.subn(r'(?m)^ack_deadline = "5m"$', f'ack_deadline = "{deadline_s}s"', policy, count=1)
    if n != 1 or 'name = "pagerduty"' not in coll:
        raise RuntimeError("the shipped config changed: no SEV1 deadline or stdout notifier to replace")
    (d / "paging.toml").write_text(policy)


def down_report(i, now_ms):
    """What an agent sends when its world stops answering its probe."""
    return {
        "agent": f"bench-agent-{i:04}", "world": f"w{i:04}", "seq": 1,
        "start_ms": now_ms - 1000, "end_ms": now_ms, "urgent": True,
        "health": {"up": False, "probe_ok": False, "stalled": False, "up_ms": 0,
                   "observed_ms": 1000, "detail": "connection refused", "probed": True,
                   "probe_failures": 3, "probe_error": "connection refused"},
        "counters": [], "gauges": [], "histograms": [],
    }


def post_down(n, connections=1):
    """Reports worlds 0..n down, spread over `connections` connections
    posting at once (more connections: the pages open, and fall due,
    closer together)."""
    def post(indices):
        c = http.client.HTTPConnection("127.0.0.1", COLL, timeout=30)
        for i in indices:
            body = json.dumps(down_report(i, int(time.time() * 1000)))
            c.request("POST", "/api/v1/reports", body,
                      {"content-type": "application/json", "authorization": f"Bearer {AGENT_TOKEN}"})
            r = c.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError(f"report {i}: collector answered {r.status}")
        c.close()

    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        for f in [pool.submit(post, range(k, n, connections)) for k in range(connections)]:
            f.result()


def open_pages(viewer):
    c = http.client.HTTPConnection("127.0.0.1", COLL, timeout=30)
    c.request("GET", "/api/v1/pages?open=true", headers={"authorization": f"Bearer {viewer}"})
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        raise RuntimeError(f"/api/v1/pages answered {r.status}: {body[:200]}")
    return json.loads(body)["pages"]


def wait_pages(viewer, n, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        pages = open_pages(viewer)
        if len(pages) >= n:
            return pages
        time.sleep(0.5)
    raise RuntimeError(f"only {len(pages)} of {n} pages open after {timeout}s")


def sink_lines(path):
    return [json.loads(l) for l in path.read_text().splitlines()] if path.exists() else []


def wait_quiet(path, quiet=3.0, timeout=120):
    """Until the sink has had nothing new for `quiet` seconds."""
    last, since, deadline = -1, time.time(), time.time() + timeout
    while time.time() < deadline:
        n = len(sink_lines(path))
        if n != last:
            last, since = n, time.time()
        elif time.time() - since >= quiet:
            return n
        time.sleep(0.5)
    return last


def start(d, procs, deadline_s, paging=True):
    for sub in ("collector-data",):
        shutil.rmtree(d / sub, ignore_errors=True)
    sink = d / "deliveries.jsonl"
    sink.unlink(missing_ok=True)
    viewer = "bench-viewer-" + secrets.token_hex(16)
    write_configs(d, deadline_s, viewer, paging)
    procs.start([TOOL, "sink", "--listen", f"127.0.0.1:{SINK}", "--out", sink, "--pagerduty", PD_PATH],
                core=LOAD_CORE, log=d / "sink.log")
    coll = procs.start([COLLECTOR, "--config", d / "collector.toml"], core=DAEMON_CORE,
                       env={"LIVEOPS_AGENT_TOKEN": AGENT_TOKEN}, log=d / "collector.log")
    wait_port("127.0.0.1", COLL)
    wait_port("127.0.0.1", SINK)
    return coll, sink, viewer


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def spread(xs):
    if not xs:
        return None
    return {"n": len(xs), "min_ms": min(xs), "p50_ms": statistics.median(xs), "p99_ms": pct(xs, 0.99),
            "max_ms": max(xs)}


def escalate(a, d, procs):
    deadline_ms = a.deadline * 1000
    _, sink, viewer = start(d, procs, a.deadline)
    t0 = time.time()
    post_down(a.pages, a.connections)
    posted_s = time.time() - t0
    pages = wait_pages(viewer, a.pages)
    last_due = max(p["opened_ms"] for p in pages) + deadline_ms
    # Past the last deadline, then until every page has its escalation
    # (or `--grace` seconds past the last deadline: a late one is missing).
    time.sleep(max(0.0, last_due / 1000 - time.time()) + 1)
    step1 = {p["id"]: p["opened_ms"] for p in pages}
    while True:
        triggers = {}
        for line in sink_lines(sink):
            b = line.get("body") or {}
            if line["path"] == PD_PATH and b.get("event_action") == "trigger":
                triggers.setdefault(b.get("dedup_key"), []).append(line["at_ms"])
        done = sum(1 for pid, t in step1.items()
                   if any(x >= t + deadline_ms / 2 for x in triggers.get(pid, [])))
        if done >= len(step1) or time.time() * 1000 > last_due + a.grace * 1000:
            break
        time.sleep(1)
    waited_past_last_due_s = round(time.time() - last_due / 1000, 1)
    pages = {p["id"]: p for p in open_pages(viewer)}
    late, decided, first = [], [], []
    missing = 0
    for pid, p in pages.items():
        due = p["opened_ms"] + deadline_ms
        arrivals = sorted(triggers.get(pid, []))
        if arrivals:
            first.append(arrivals[0] - p["opened_ms"])
        # The escalation: the first trigger after half the deadline (the
        # first step's triggers arrive at once, long before it).
        esc = [t for t in arrivals if t >= p["opened_ms"] + deadline_ms / 2]
        if not esc:
            missing += 1
            continue
        late.append(esc[0] - due)
        step2 = [s["at_ms"] for s in p.get("sent", []) if s.get("step") == 1 and s.get("action") == "trigger"]
        if step2:
            decided.append(min(step2) - due)
    return {
        "pages": a.pages, "deadline_s": a.deadline, "connections": a.connections, "reports_posted_in_s": round(posted_s, 3),
        "open_pages": len(pages), "escalations_missing": missing,
        "waited_past_last_due_s": waited_past_last_due_s,
        "escalation_arrival_minus_due": spread(late),
        "escalation_decided_minus_due": spread(decided),
        "first_trigger_after_open": spread(first),
    }


def wait_settled(viewer, timeout=300):
    """Until the pager has taken in every delivery's report (no `sent`
    record still pending): the window after it is idle, not a backlog.
    Returns how long that took after the receiver went quiet."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        pending = sum(1 for p in open_pages(viewer) for s in p.get("sent", []) if s.get("outcome") == "pending")
        if pending == 0:
            return round(time.time() - t0, 1)
        time.sleep(0.5)
    raise RuntimeError(f"{pending} deliveries still pending after {timeout}s")


def cpu_pct(pid, secs):
    c0, t0 = cpu_ticks(pid), time.monotonic()
    time.sleep(secs)
    c1, t1 = cpu_ticks(pid), time.monotonic()
    return round(100 * (c1 - c0) / HZ / (t1 - t0), 2)


def idle(a, d, procs):
    coll, sink, viewer = start(d, procs, 600, paging=not a.no_paging)
    time.sleep(3)
    empty = cpu_pct(coll.pid, a.base_secs)
    t0 = time.time()
    post_down(a.pages)
    posted_s = time.time() - t0
    # The control without a policy: the same alerts, each notifier told
    # once, no page and no timer.
    pages = [] if a.no_paging else wait_pages(viewer, a.pages)
    before = wait_quiet(sink)
    settled_s = None if a.no_paging else wait_settled(viewer)
    time.sleep(2)
    with_pages = cpu_pct(coll.pid, a.secs)
    after = len(sink_lines(sink))
    still = [] if a.no_paging else open_pages(viewer)
    return {
        "paging": not a.no_paging, "reports_posted_in_s": round(posted_s, 3),
        "pages": a.pages, "window_s": a.secs, "empty_window_s": a.base_secs,
        "cpu_pct_of_core_no_worlds": empty, "cpu_pct_of_core_pages_open": with_pages,
        "open_pages": len(still), "opened": len(pages),
        "reports_settled_after_quiet_s": settled_s,
        "escalated_in_window": sum(1 for p in still if p.get("step", 0) > 0),
        "deliveries_in_window": after - before,
        "rss_kib": status_kib(coll.pid, "VmRSS"),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["escalate", "idle"])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--deadline", type=int, default=20, help="SEV1 first step's ack deadline, seconds")
    ap.add_argument("--grace", type=float, default=60,
                    help="escalate: how long past the last deadline to wait for escalations")
    ap.add_argument("--secs", type=float, default=60, help="idle: the steady window")
    ap.add_argument("--no-paging", action="store_true",
                    help="idle: the control, the same down worlds with no paging policy")
    ap.add_argument("--connections", type=int, default=1,
                    help="escalate: connections posting the down reports at once")
    ap.add_argument("--base-secs", type=float, default=30, help="idle: the window with no worlds")
    a = ap.parse_args()
    d = out_dir(f"paging-{a.what}" + ("-control" if a.no_paging else ""))
    env = machine()
    procs = Procs()
    try:
        r = escalate(a, d, procs) if a.what == "escalate" else idle(a, d, procs)
    finally:
        procs.stop_all()
    row = {"env": env, "what": a.what, "loadavg_at_start": env["loadavg"], **r}
    print(json.dumps(row))
    with open(d / "results.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
