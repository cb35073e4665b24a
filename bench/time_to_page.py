#!/usr/bin/env python3
"""Time to page: one tick stall, detected by liveops and by Prometheus +
Alertmanager at once, both paging the same webhook receiver.

Each run starts everything fresh (so Alertmanager has no group already open
and Prometheus no alert already pending): the sink, a collector with a
webhook notifier, a simulated world, its agent, Prometheus scraping the
agent's /metrics and Alertmanager. The world stalls its tick loop at a
random moment after a warm-up; the sink timestamps every page. Fault and
pages are stamped with the same clock (Unix ms on this machine).

    python3 bench/time_to_page.py --profile typical --runs 5
    python3 bench/time_to_page.py --profile tuned --runs 5
    python3 bench/time_to_page.py --profile tuned --runs 5 --pager pagerduty

`--pager pagerduty` has liveops page as a team would run it: the shipped
on-call schedule and paging policy (config/oncall.toml, config/paging.toml),
whose SEV1 step pages through the `pagerduty` channel first, here a real
PagerDuty (Events API v2) notifier whose endpoint URL is the sink, which
answers as PagerDuty does (202, `dedup_key`). The policy's other channels
(`slack`, `email`, `tickets`) point at the sink too, so nothing leaves the
machine. Alertmanager's webhook goes to the same sink in the same run.

Needs: release binaries, Debian `prometheus` and `prometheus-alertmanager`.
"""

import argparse
import json
import random
import re
import shutil
import statistics
import time

from common import (
    AGENT, COLLECTOR, DAEMON_CORE, LOAD_CORE, PD_PATH, ROOT, TOOL, Procs, machine,
    out_dir, policy_notifiers, wait_port,
)

SINK, COLL, AGENT_STATSD, AGENT_HTTP, WORLD, PROM, AM = 19480, 19490, 19425, 19491, 19492, 19493, 19494
TOKEN = "bench-agent-token"

PROFILES = {
    # What the Prometheus docs and most setups use: 15 s scrape and rule
    # evaluation, Alertmanager's default 30 s group_wait.
    "typical": {"interval": "15s", "group_wait": "30s", "warmup": 35, "jitter": 15, "limit": 150},
    # Everything as fast as the tools allow without being silly.
    "tuned": {"interval": "1s", "group_wait": "0s", "warmup": 8, "jitter": 1, "limit": 40},
}

RULES = """groups:
  - name: liveops
    rules:
      # The agent's own stall verdict, exported as a gauge: the rule a user
      # would write first, and the one that gives Prometheus the agent's
      # detection for free (only the pipeline after it is compared).
      - alert: TickStalled
        expr: liveops_agent_tick_stalled == 1
        for: 0s
        labels:
          severity: page
"""


def write_configs(d, p, pager="webhook"):
    coll = (ROOT / "config/collector.toml").read_text()
    coll = re.sub(r'(?m)^listen = .*$', f'listen = "127.0.0.1:{COLL}"', coll)
    coll = re.sub(r'(?m)^data_dir = .*$', f'data_dir = "{d}/collector-data"', coll)
    if pager == "pagerduty":
        coll = coll.replace('# oncall = "oncall.toml"', f'oncall = "{ROOT}/config/oncall.toml"')
        coll = coll.replace('# paging = "paging.toml"', f'paging = "{ROOT}/config/paging.toml"')
        coll = coll.replace('[[notifier]]\nkind = "stdout"\n', policy_notifiers(SINK))
    else:
        coll = coll.replace('[[notifier]]\nkind = "stdout"',
                            f'[[notifier]]\nkind = "webhook"\nurl = "http://127.0.0.1:{SINK}/liveops"\n'
                            'max_attempts = 8\ntimeout = "5s"')
    if pager == "pagerduty" and 'name = "pagerduty"' not in coll:
        raise RuntimeError("config/collector.toml changed: no stdout notifier to replace")
    (d / "collector.toml").write_text(coll)
    (d / "agent.toml").write_text(f"""
[agent]
world = "bench"
collector = "http://127.0.0.1:{COLL}"
game = "http://127.0.0.1:{WORLD}"
statsd_udp = "127.0.0.1:{AGENT_STATSD}"
http = "127.0.0.1:{AGENT_HTTP}"
data_dir = "{d}/agent-data"
""")
    (d / "rules.yml").write_text(RULES)
    (d / "prometheus.yml").write_text(f"""
global:
  scrape_interval: {p['interval']}
  evaluation_interval: {p['interval']}
rule_files: ["{d}/rules.yml"]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:{AM}"]
scrape_configs:
  - job_name: liveops-agent
    static_configs:
      - targets: ["127.0.0.1:{AGENT_HTTP}"]
""")
    (d / "alertmanager.yml").write_text(f"""
route:
  receiver: bench
  group_by: [alertname]
  group_wait: {p['group_wait']}
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: bench
    webhook_configs:
      - url: http://127.0.0.1:{SINK}/alertmanager
        send_resolved: false
""")


def firing(page):
    """(alertname, firing?) of a page from either system: a liveops
    webhook, a PagerDuty event or an Alertmanager webhook. Slack, email and
    tickets are later channels of the policy, not the first page."""
    b = page.get("body") or {}
    if page["path"] == PD_PATH:
        return (b.get("payload") or {}).get("class"), b.get("event_action") == "trigger"
    if page["path"] in ("/slack", "/email", "/tickets"):
        return None, False
    if page["path"] == "/alertmanager":
        alerts = b.get("alerts") or [{}]
        return alerts[0].get("labels", {}).get("alertname"), b.get("status") == "firing"
    return (b.get("labels") or {}).get("alertname"), b.get("status") == "firing"


def one_run(d, p, procs, pager):
    for sub in ("collector-data", "agent-data", "prom-data", "am-data"):
        shutil.rmtree(d / sub, ignore_errors=True)
    pages = d / "pages.jsonl"
    pages.unlink(missing_ok=True)
    write_configs(d, p, pager)
    env = {"LIVEOPS_AGENT_TOKEN": TOKEN}
    procs.start([TOOL, "sink", "--listen", f"127.0.0.1:{SINK}", "--out", pages, "--pagerduty", PD_PATH],
                core=LOAD_CORE, log=d / "sink.log")
    procs.start([COLLECTOR, "--config", d / "collector.toml"], core=DAEMON_CORE, env=env, log=d / "collector.log")
    wait_port("127.0.0.1", COLL)
    stall_after = p["warmup"] + random.uniform(0, p["jitter"])
    world = procs.start([TOOL, "world", "--statsd", f"127.0.0.1:{AGENT_STATSD}", "--http", f"127.0.0.1:{WORLD}",
                         "--stall-after", f"{stall_after:.3f}", "--then", p["limit"] + 10],
                        core=LOAD_CORE, stdout=__import__("subprocess").PIPE, text=True)
    first = json.loads(world.stdout.readline())
    procs.start([AGENT, "--config", d / "agent.toml"], core=DAEMON_CORE, env=env, log=d / "agent.log")
    procs.start(["prometheus", f"--config.file={d}/prometheus.yml", f"--storage.tsdb.path={d}/prom-data",
                 f"--web.listen-address=127.0.0.1:{PROM}"], core=LOAD_CORE, log=d / "prometheus.log")
    procs.start(["prometheus-alertmanager", f"--config.file={d}/alertmanager.yml", f"--storage.path={d}/am-data",
                 f"--web.listen-address=127.0.0.1:{AM}", "--cluster.listen-address="],
                core=LOAD_CORE, log=d / "alertmanager.log")
    fault = json.loads(world.stdout.readline())
    fault_ms = fault["fault_ms"]
    deadline = time.time() + p["limit"]
    got = {}
    while time.time() < deadline and len(got) < 2:
        time.sleep(0.2)
        if not pages.exists():
            continue
        for line in pages.read_text().splitlines():
            pg = json.loads(line)
            name, is_firing = firing(pg)
            if is_firing and pg["at_ms"] >= fault_ms and pg["path"] not in got:
                got[pg["path"]] = (pg["at_ms"] - fault_ms, name)
    early = []
    for line in pages.read_text().splitlines() if pages.exists() else []:
        pg = json.loads(line)
        # Notices (handoffs) on the policy's other channels are not pages.
        if pg["at_ms"] < fault_ms and (firing(pg)[1] or pg["path"] in ("/liveops", "/alertmanager")):
            early.append({"path": pg["path"], "alert": firing(pg)[0], "before_ms": fault_ms - pg["at_ms"]})
    procs.stop_all()
    return {
        "stall_after_s": round(stall_after, 3),
        "world_started_ms": first["started_ms"],
        "fault_ms": fault_ms,
        "liveops_ms": got.get(LIVEOPS_PATH[pager], (None,))[0],
        "liveops_alert": got.get(LIVEOPS_PATH[pager], (None, None))[1],
        "prometheus_ms": got.get("/alertmanager", (None,))[0],
        "prometheus_alert": got.get("/alertmanager", (None, None))[1],
        "false_pages": early,
    }


LIVEOPS_PATH = {"webhook": "/liveops", "pagerduty": PD_PATH}


def summary(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"n": len(xs), "median_ms": statistics.median(xs), "min_ms": min(xs), "max_ms": max(xs)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", choices=PROFILES, default="tuned")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pager", choices=LIVEOPS_PATH, default="webhook",
                    help="liveops pages a bare webhook, or through the shipped policy to PagerDuty")
    a = ap.parse_args()
    p = PROFILES[a.profile]
    name = a.profile if a.pager == "webhook" else f"{a.profile}-{a.pager}"
    d = out_dir(f"time-to-page-{name}")
    results = open(d / "results.jsonl", "a")
    results.write(json.dumps({"env": machine(), "profile": a.profile, "pager": a.pager, **p}) + "\n")
    procs = Procs()
    rows = []
    try:
        for i in range(a.runs):
            # The load when each run starts: the machine is shared.
            load = open("/proc/loadavg").read().split()[:3]
            r = one_run(d, p, procs, a.pager)
            r["run"] = i + 1
            r["loadavg_at_start"] = load
            print(json.dumps(r), flush=True)
            results.write(json.dumps(r) + "\n")
            results.flush()
            rows.append(r)
    finally:
        procs.stop_all()
    lo, pr = summary([r["liveops_ms"] for r in rows]), summary([r["prometheus_ms"] for r in rows])
    s = {"profile": a.profile, "pager": a.pager, "liveops": lo, "prometheus": pr,
         # Prometheus + Alertmanager's median over liveops' median.
         "ratio": round(pr["median_ms"] / lo["median_ms"], 1) if lo and pr and lo["median_ms"] else None,
         "false_pages": sum(len(r["false_pages"]) for r in rows)}
    print(json.dumps(s))
    results.write(json.dumps({"summary": s}) + "\n")


if __name__ == "__main__":
    main()
