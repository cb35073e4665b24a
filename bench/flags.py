#!/usr/bin/env python3
"""Flag benchmarks: file save → value served, a fleet-wide mitigation → all
agents serving it, and OFREP throughput beside a bare hyper server.

    python3 bench/flags.py save [--saves 200]
    python3 bench/flags.py ofrep [--secs 10] [--repeat 2]
    python3 bench/flags.py fleet [--agents 100] [--rounds 20]
    python3 bench/flags.py client

Needs `cargo build --release -p liveops-agent -p liveops-collector -p
liveops-bench -p liveops` plus `cargo build --release -p
liveops-client --example flag_reads`, and, for `ofrep`, `wrk` (Debian package). Each
run appends to bench/out/flags/results.jsonl; `bench/report.py flags`
prints the tables.
"""

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time

from common import (AGENT, COLLECTOR, DAEMON_CORE, LOAD_CORE, RELEASE, ROOT, TOOL, Procs,
                    machine, out_dir, wait_port)

OUT = out_dir("flags")
FLAGS = ROOT / "config" / "flags.toml"
AGENT_TOKEN = "bench-agent-token"
RESPONDER_TOKEN = "bench-responder-token"


def record(row):
    row["env"] = {"machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with open(OUT / "results.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row))


def run_json(args, core=None):
    if core is not None:
        args = ["taskset", "-c", core] + args
    out = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{args}: {out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def save(a):
    for kind in ("in-place", "rename", "symlink"):
        r = run_json([TOOL, "flag-save", "--agent-bin", AGENT, "--core", DAEMON_CORE,
                      "--dir", OUT / f"save-{kind}", "--kind", kind, "--saves", a.saves,
                      "--base", FLAGS], core=LOAD_CORE)
        record({"bench": "save", **r})


WRK_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"context":{"targetingKey":"player-42","player":"player-42","account":"acct-7"}}'
"""


def wrk(url, secs):
    script = OUT / "post.lua"
    script.write_text(WRK_LUA)
    out = subprocess.run(["taskset", "-c", LOAD_CORE, "wrk", "-t1", "-c32", f"-d{secs}s", "--latency",
                          "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale,
            "non_2xx": int(errors.group(1)) if errors else 0}


def ofrep(a):
    procs = Procs()
    try:
        data = OUT / "ofrep-agent"
        shutil.rmtree(data, ignore_errors=True)
        procs.start([AGENT, "--world", "w1", "--flags", FLAGS, "--http", "127.0.0.1:19481",
                     "--statsd-udp", "127.0.0.1:0", "--data-dir", data],
                    core=DAEMON_CORE, log=OUT / "ofrep-agent.log", env={"RUST_LOG": "warn"})
        procs.start([TOOL, "bare", "--listen", "127.0.0.1:19482"], core=DAEMON_CORE,
                    log=OUT / "bare.log")
        wait_port("127.0.0.1", 19481)
        wait_port("127.0.0.1", 19482)
        time.sleep(1)
        targets = {
            # A kill switch with a player rule: the common case.
            "liveops": "http://127.0.0.1:19481/ofrep/v1/evaluate/flags/combat.attacks",
            "bare-hyper": "http://127.0.0.1:19482/ofrep/v1/evaluate/flags/combat.attacks",
        }
        for i in range(a.repeat):
            for name, url in targets.items():
                record({"bench": "ofrep", "server": name, "run": i, "secs": a.secs, **wrk(url, a.secs)})
    finally:
        procs.stop_all()


def fleet(a):
    d = OUT / "fleet"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    sha = hashlib.sha256(RESPONDER_TOKEN.encode()).hexdigest()
    coll = (ROOT / "config/collector.toml").read_text()
    coll = re.sub(r'(?m)^listen = .*$', 'listen = "127.0.0.1:19490"', coll)
    coll = re.sub(r'(?m)^data_dir = .*$', f'data_dir = "{d}/collector-data"', coll)
    coll = coll.replace('[[notifier]]\nkind = "stdout"', f'[[notifier]]\nkind = "file"\npath = "{d}/alerts.jsonl"')
    coll += f'\n[[token]]\nname = "bench-responder"\nrole = "responder"\nsha256 = "{sha}"\n'
    (d / "collector.toml").write_text(coll)
    procs = Procs()
    try:
        procs.start([COLLECTOR, "--config", d / "collector.toml"], log=d / "collector.log",
                    env={"LIVEOPS_AGENT_TOKEN": AGENT_TOKEN, "RUST_LOG": "warn"})
        wait_port("127.0.0.1", 19490)
        ports = [19500 + i for i in range(a.agents)]
        for i, port in enumerate(ports):
            procs.start([AGENT, "--world", f"w{i + 1}", "--collector", "http://127.0.0.1:19490",
                         "--flags", FLAGS, "--http", f"127.0.0.1:{port}", "--statsd-udp", "127.0.0.1:0",
                         "--data-dir", d / f"agent-{i + 1}"],
                        log=d / f"agent-{i + 1}.log",
                        env={"LIVEOPS_AGENT_TOKEN": AGENT_TOKEN, "RUST_LOG": "warn"})
        for port in ports:
            wait_port("127.0.0.1", port)
        time.sleep(3)
        r = run_json([TOOL, "fleet-mitigate", "--collector", "http://127.0.0.1:19490",
                      "--token", RESPONDER_TOKEN, "--agent-ports", ",".join(map(str, ports)),
                      "--rounds", a.rounds])
        record({"bench": "fleet", **r})
    finally:
        procs.stop_all()


def client(a):
    """The client example prints `case   N ns/read` lines; pinned to one core."""
    out = subprocess.run(["taskset", "-c", DAEMON_CORE, str(RELEASE / "examples" / "flag_reads")],
                         capture_output=True, text=True, check=True).stdout
    cases = {}
    for line in out.splitlines():
        m = re.match(r"(.+?)\s+([\d.]+) ns/read", line)
        if m:
            cases[m.group(1).strip()] = float(m.group(2))
    record({"bench": "client", "ns_per_read": cases})


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("save")
    s.add_argument("--saves", type=int, default=200)
    o = sub.add_parser("ofrep")
    o.add_argument("--secs", type=int, default=10)
    o.add_argument("--repeat", type=int, default=2)
    f = sub.add_parser("fleet")
    f.add_argument("--agents", type=int, default=100)
    f.add_argument("--rounds", type=int, default=20)
    sub.add_parser("client")
    a = p.parse_args()
    {"save": save, "ofrep": ofrep, "fleet": fleet, "client": client}[a.what](a)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    main()
