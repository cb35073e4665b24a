#!/usr/bin/env python3
"""Ingest benchmark: DogStatsD lines/s absorbed by one core, with losses.

liveops-agent, the npm `statsd` daemon, collectd's statsd plugin and the
floor (`liveops-bench udp-floor`: a bare recvmmsg receiver that only counts
lines, the most this machine's UDP path and core can absorb) run side by
side, all pinned to core 0 and all idle but the one under load. For each
mix and offered rate, `liveops-bench statsd-load` (pinned to core 1) sends
to one daemon at a time; lines offered are compared with the lines the
daemon itself counted, and with the kernel's UDP RcvbufErrors.

    python3 bench/ingest.py [--rates 150000,500000,...] [--secs 10]

Needs: release binaries, `npm install statsd@0.9.0` in bench/, Debian
collectd-core, root (to raise net.core.rmem_max / rmem_default).
"""

import argparse
import json
import os
import shutil
import socket
import time

from common import (
    AGENT, BENCH, DAEMON_CORE, LOAD_CORE, TOOL, Procs, cpu_ticks, http_get, inspect_number,
    machine, metric, out_dir, run_json, status_kib, sysctl, udp_snmp, wait_port,
)

RCVBUF = 8 * 1024 * 1024
PORTS = {"liveops": 18125, "statsd-npm": 18126, "collectd": 18128, "floor": 18129}
NPM_MGMT = 18127
FLOOR_STATS = 18130
AGENT_HTTP = 19471
SINK = 19470


def agent_config(d):
    data = d / "agent-data"
    shutil.rmtree(data, ignore_errors=True)
    cfg = d / "agent.toml"
    cfg.write_text(f"""
[agent]
world = "bench"
collector = "http://127.0.0.1:{SINK}"
statsd_udp = "127.0.0.1:{PORTS['liveops']}"
http = "127.0.0.1:{AGENT_HTTP}"
data_dir = "{data}"
report_interval = "1s"

[ingest]
recv_buffer_bytes = {RCVBUF}
""")
    return cfg


def npm_config(d):
    cfg = d / "statsd-npm.js"
    # No backend at all and an hour-long flush: the daemon only receives,
    # parses and aggregates, which is what is being compared.
    cfg.write_text(json.dumps({
        "address": "127.0.0.1", "port": PORTS["statsd-npm"],
        "mgmt_address": "127.0.0.1", "mgmt_port": NPM_MGMT,
        "flushInterval": 3600000, "backends": [], "deleteIdleStats": False,
    }))
    return cfg


def collectd_config(d):
    base = d / "collectd"
    shutil.rmtree(base, ignore_errors=True)
    (base / "csv").mkdir(parents=True)
    cfg = d / "collectd.conf"
    cfg.write_text(f"""
Hostname "bench"
FQDNLookup false
Interval 1
BaseDir "{base}"
PIDFile "{base}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin statsd
LoadPlugin csv
<Plugin statsd>
  Host "127.0.0.1"
  Port "{PORTS['collectd']}"
  DeleteCounters false
</Plugin>
<Plugin csv>
  DataDir "{base}/csv"
  StoreRates false
</Plugin>
""")
    return cfg, base / "csv"


def count_liveops():
    return metric(http_get(f"http://127.0.0.1:{AGENT_HTTP}/metrics"), "liveops_agent_statsd_lines_total")


def count_npm():
    with socket.create_connection(("127.0.0.1", NPM_MGMT), timeout=30) as s:
        s.sendall(b"counters\n")
        buf = b""
        while b"END" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return inspect_number(buf.decode(), "statsd.metrics_received")


def count_floor():
    # One JSON line per connection, then EOF.
    with socket.create_connection(("127.0.0.1", FLOOR_STATS), timeout=30) as s:
        buf = b""
        while chunk := s.recv(65536):
            buf += chunk
    return json.loads(buf)["lines"]


def count_collectd(csv_dir):
    # Counters are `derive` values: cumulative (DeleteCounters false, raw
    # values since StoreRates false). The newest row of each is the total.
    total = 0.0
    for f in csv_dir.glob("*/statsd/derive-*"):
        rows = [r for r in f.read_text().splitlines() if r and r[0].isdigit()]
        if rows:
            total += float(rows[-1].split(",")[1])
    return total


def settled(read, quiet_polls=3, every=0.7, limit=30):
    """Reads a count until it stops moving (the daemon drained its socket
    and, for collectd, wrote its interval out)."""
    last, same, deadline = read(), 0, time.time() + limit
    while same < quiet_polls and time.time() < deadline:
        time.sleep(every)
        now = read()
        same = same + 1 if now == last else 0
        last = now
    return last


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rates", default="150000,500000,1000000,2000000,3000000")
    ap.add_argument("--secs", type=float, default=10)
    ap.add_argument("--mixes", default="plain,tagged")
    ap.add_argument("--daemons", default="floor,liveops,statsd-npm,collectd")
    # Repeats are interleaved (rate, repeat, daemon) so that a noisy moment
    # on the shared machine does not land on one daemon only.
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    rates = [int(r) for r in a.rates.split(",")]
    daemons = a.daemons.split(",")
    d = out_dir("ingest")
    results = open(d / "results.jsonl", "a")
    procs = Procs()
    old = {k: sysctl(k) for k in ("net.core.rmem_max", "net.core.rmem_default")}
    try:
        # The same receive buffer for every daemon: the agent asks for it,
        # the others get it as the default.
        sysctl("net.core.rmem_max", RCVBUF)
        sysctl("net.core.rmem_default", RCVBUF)
        pids, readers = {}, {}
        sink = procs.start([TOOL, "sink", "--listen", f"127.0.0.1:{SINK}", "--out", d / "reports.jsonl"],
                           core=LOAD_CORE, log=d / "sink.log")
        if "liveops" in daemons:
            p = procs.start([AGENT, "--config", agent_config(d)], core=DAEMON_CORE, log=d / "agent.log")
            wait_port("127.0.0.1", AGENT_HTTP)
            pids["liveops"], readers["liveops"] = p.pid, count_liveops
        if "statsd-npm" in daemons:
            p = procs.start(["node", BENCH / "node_modules/statsd/bin/statsd", npm_config(d)],
                            core=DAEMON_CORE, log=d / "statsd-npm.log")
            wait_port("127.0.0.1", NPM_MGMT)
            pids["statsd-npm"], readers["statsd-npm"] = p.pid, count_npm
        if "floor" in daemons:
            # The agent's receive buffer size, asked for the same way.
            p = procs.start([TOOL, "udp-floor", "--listen", f"127.0.0.1:{PORTS['floor']}",
                             "--recv-buffer", RCVBUF, "--stats", f"127.0.0.1:{FLOOR_STATS}"],
                            core=DAEMON_CORE, log=d / "floor.log")
            wait_port("127.0.0.1", FLOOR_STATS)
            pids["floor"], readers["floor"] = p.pid, count_floor
        if "collectd" in daemons:
            cfg, csv_dir = collectd_config(d)
            p = procs.start(["collectd", "-f", "-C", cfg], core=DAEMON_CORE, log=d / "collectd.log")
            pids["collectd"], readers["collectd"] = p.pid, lambda: count_collectd(csv_dir)
        time.sleep(2)
        env = {"machine": machine(), "rmem": RCVBUF, "started": time.strftime("%F %T")}
        print(json.dumps(env))
        results.write(json.dumps({"env": env}) + "\n")
        for mix in a.mixes.split(","):
            for rate, rep in ((r, i) for r in rates for i in range(a.repeat)):
                for name in daemons:
                    # collectd's statsd plugin rejects DogStatsD tags.
                    if mix == "tagged" and name == "collectd":
                        continue
                    read = readers[name]
                    before = settled(read, quiet_polls=1)
                    snmp0 = udp_snmp()
                    cpu0 = cpu_ticks(pids[name])
                    sent = run_json([TOOL, "statsd-load", "--to", f"127.0.0.1:{PORTS[name]}",
                                     "--mix", mix, "--rate", rate, "--secs", a.secs], core=LOAD_CORE)
                    after = settled(read)
                    # CPU over load plus drain, as a share of one core over
                    # the load's duration: what it cost to absorb it.
                    cpu = (cpu_ticks(pids[name]) - cpu0) / os.sysconf("SC_CLK_TCK")
                    snmp1 = udp_snmp()
                    got = after - before
                    row = {
                        "mix": mix, "daemon": name, "target_rate": rate, "repeat": rep,
                        "load1": float(open("/proc/loadavg").read().split()[0]),
                        "offered_lines": sent["lines"], "offered_rate": round(sent["lines_per_sec"]),
                        "send_errors": sent["send_errors"],
                        "counted_lines": int(got),
                        "loss_pct": round(100 * (1 - got / sent["lines"]), 3) if sent["lines"] else None,
                        "rcvbuf_errors": snmp1["RcvbufErrors"] - snmp0["RcvbufErrors"],
                        "kernel_dropped_lines_est": round((snmp1["RcvbufErrors"] - snmp0["RcvbufErrors"]) * sent["lines_per_datagram"]),
                        "cpu_s": round(cpu, 2),
                        "cpu_pct_of_core": round(100 * cpu / sent["secs"], 1),
                        "rss_kib": status_kib(pids[name], "VmRSS"),
                        "hwm_kib": status_kib(pids[name], "VmHWM"),
                    }
                    print(json.dumps(row), flush=True)
                    results.write(json.dumps(row) + "\n")
                    results.flush()
        for name, pid in pids.items():
            print(json.dumps({"daemon": name, "final_rss_kib": status_kib(pid, "VmRSS"),
                              "hwm_kib": status_kib(pid, "VmHWM")}))
    finally:
        procs.stop_all()
        for k, v in old.items():
            sysctl(k, v)
        results.close()


if __name__ == "__main__":
    main()
