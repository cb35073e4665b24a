#!/usr/bin/env python3
"""Incidents: (A) a page → the incident opened, rated and on its timeline;
(B) the public status page with 10,000 past incidents.

(A) Each run starts fresh: the sink, a collector with the shipped on-call
schedule and paging policy (its channels delivering to the sink), a
simulated world and its agent. The world stalls its tick loop after a
warm-up; the page opens an incident, which the collector rates from the
world's players. Figures from the collector's own timestamps: the page's
`opened_ms`, the incident's first timeline entry and its first severity
entry; and from outside, the first poll of `GET /api/v1/incidents/INC-1`
(every 10 ms) that showed the computed severity.

(B) One collector; 10,000 incidents opened and published as resolved on
the status channel (`POST /api/v1/incidents`, then `…/comms` with
`apply`), then `GET /status`, `/status.json`, `/status/feed.atom` and
`/status/incidents/5000` 2,000 times each, one keep-alive connection, in
sequence: p50, p99 and max.

    python3 bench/incidents.py --runs 5
    python3 bench/incidents.py --skip-a        # only the status page

Needs release binaries (`cargo build --release`).
"""

import argparse
import hashlib
import http.client
import json
import shutil
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from common import (
    AGENT, COLLECTOR, DAEMON_CORE, LOAD_CORE, PD_PATH, ROOT, TOOL, Procs, machine,
    out_dir, policy_notifiers, wait_port,
)

SINK, COLL, AGENT_STATSD, AGENT_HTTP, WORLD = 19580, 19590, 19525, 19591, 19592
AGENT_TOKEN = "bench-agent-token"
ADMIN = "bench-admin-token"


def collector_toml(d):
    coll = (ROOT / "config/collector.toml").read_text()
    coll = coll.replace('listen = "127.0.0.1:9470"', f'listen = "127.0.0.1:{COLL}"')
    coll = coll.replace('data_dir = "liveops-collector-data"', f'data_dir = "{d}/collector-data"')
    coll = coll.replace('# oncall = "oncall.toml"', f'oncall = "{ROOT}/config/oncall.toml"')
    coll = coll.replace('# paging = "paging.toml"', f'paging = "{ROOT}/config/paging.toml"')
    coll = coll.replace('[[notifier]]\nkind = "stdout"\n', policy_notifiers(SINK))
    sha = hashlib.sha256(ADMIN.encode()).hexdigest()
    coll += f'\n[[token]]\nname = "bench-admin"\nrole = "admin"\nsha256 = "{sha}"\n'
    (d / "collector.toml").write_text(coll)


def api(conn, method, path, body=None):
    headers = {"Authorization": f"Bearer {ADMIN}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, data


def run_a(d, procs):
    for sub in ("collector-data", "agent-data"):
        shutil.rmtree(d / sub, ignore_errors=True)
    collector_toml(d)
    (d / "agent.toml").write_text(f"""
[agent]
world = "bench"
collector = "http://127.0.0.1:{COLL}"
game = "http://127.0.0.1:{WORLD}"
statsd_udp = "127.0.0.1:{AGENT_STATSD}"
http = "127.0.0.1:{AGENT_HTTP}"
data_dir = "{d}/agent-data"
""")
    env = {"LIVEOPS_AGENT_TOKEN": AGENT_TOKEN}
    procs.start([TOOL, "sink", "--listen", f"127.0.0.1:{SINK}", "--out", d / "pages.jsonl", "--pagerduty", PD_PATH],
                core=LOAD_CORE, log=d / "sink.log")
    procs.start([COLLECTOR, "--config", d / "collector.toml"], core=DAEMON_CORE, env=env, log=d / "collector.log")
    wait_port("127.0.0.1", COLL)
    world = procs.start([TOOL, "world", "--statsd", f"127.0.0.1:{AGENT_STATSD}", "--http", f"127.0.0.1:{WORLD}",
                         "--stall-after", "12", "--then", "40"],
                        core=LOAD_CORE, stdout=__import__("subprocess").PIPE, text=True)
    json.loads(world.stdout.readline())
    procs.start([AGENT, "--config", d / "agent.toml"], core=DAEMON_CORE, env=env, log=d / "agent.log")
    fault_ms = json.loads(world.stdout.readline())["fault_ms"]
    conn = http.client.HTTPConnection("127.0.0.1", COLL, timeout=5)
    seen_ms = None
    deadline = time.time() + 30
    inc = None
    while time.time() < deadline:
        status, body = api(conn, "GET", "/api/v1/incidents/INC-1")
        if status == 200:
            inc = json.loads(body)
            if inc["severity"].get("computed"):
                seen_ms = time.time() * 1000
                break
        time.sleep(0.01)
    status, body = api(conn, "GET", "/api/v1/pages/p-1")
    page = json.loads(body) if status == 200 else {}
    procs.stop_all()
    if inc is None or seen_ms is None or not page:
        return {"error": "no rated incident", "incident": inc, "page": page}
    opened = inc["timeline"][0]["at_ms"]
    rated = next(e["at_ms"] for e in inc["timeline"] if e["kind"] == "severity")
    return {
        "fault_to_page_ms": page["opened_ms"] - fault_ms,
        "page_to_incident_ms": opened - page["opened_ms"],
        "page_to_severity_ms": rated - page["opened_ms"],
        "page_to_seen_rated_ms": round(seen_ms - page["opened_ms"], 1),
        "severity": inc["severity"]["computed"],
        "why": next(e["text"] for e in inc["timeline"] if e["kind"] == "severity"),
    }


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def run_b(d, procs, n, gets):
    shutil.rmtree(d / "collector-data", ignore_errors=True)
    collector_toml(d)
    procs.start([COLLECTOR, "--config", d / "collector.toml"], core=DAEMON_CORE, log=d / "collector-b.log")
    wait_port("127.0.0.1", COLL)
    t0 = time.time()

    def one(i):
        c = http.client.HTTPConnection("127.0.0.1", COLL, timeout=30)
        s, b = api(c, "POST", "/api/v1/incidents", {"title": f"Incident {i} in w{i % 50}", "worlds": [f"w{i % 50}"]})
        assert s == 200, b
        num = json.loads(b)["id"]
        s, b = api(c, "POST", f"/api/v1/incidents/{num}/comms",
                   {"channel": "status", "state": "resolved", "message": f"Fixed {i}.", "apply": True})
        assert s == 200, b
        c.close()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(n)))
    filled_s = time.time() - t0
    conn = http.client.HTTPConnection("127.0.0.1", COLL, timeout=10)
    out = {"incidents": n, "fill_seconds": round(filled_s, 1)}
    for path in ["/status", "/status.json", "/status/feed.atom", f"/status/incidents/{n // 2}"]:
        lat = []
        size = 0
        for _ in range(gets):
            t = time.perf_counter()
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            lat.append((time.perf_counter() - t) * 1000)
            assert r.status == 200, (path, r.status)
            size = len(body)
        out[path] = {"p50_ms": round(pct(lat, 0.5), 2), "p99_ms": round(pct(lat, 0.99), 2),
                     "max_ms": round(max(lat), 2), "over_10ms": sum(x > 10 for x in lat), "bytes": size}
    procs.stop_all()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--incidents", type=int, default=10_000)
    ap.add_argument("--gets", type=int, default=2_000)
    ap.add_argument("--skip-a", action="store_true")
    ap.add_argument("--skip-b", action="store_true")
    args = ap.parse_args()
    d = out_dir("incidents")
    procs = Procs()
    result = {"machine": machine()}
    try:
        if not args.skip_a:
            runs = [run_a(d, procs) for _ in range(args.runs)]
            ok = [r for r in runs if "error" not in r]
            result["a"] = {"runs": runs}
            if ok:
                for k in ["page_to_incident_ms", "page_to_severity_ms", "page_to_seen_rated_ms", "fault_to_page_ms"]:
                    xs = [r[k] for r in ok]
                    result["a"][k] = {"median": statistics.median(xs), "max": max(xs)}
        if not args.skip_b:
            result["b"] = run_b(d, procs, args.incidents, args.gets)
    finally:
        procs.stop_all()
    print(json.dumps(result, indent=2))
    (d / "result.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
