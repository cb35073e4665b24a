"""Shared helpers for the benchmark scripts: paths, processes, /proc readings.

Stdlib only, so `python3 bench/<script>.py` runs on a fresh machine once the
peers are installed (see docs/BENCHMARKS.md).
"""

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RELEASE = ROOT / "target" / "release"
# Another build of the agent or the collector (say, the one before a
# change) can be measured beside this one.
AGENT = Path(os.environ.get("LIVEOPS_BENCH_AGENT", RELEASE / "liveops-agent"))
COLLECTOR = Path(os.environ.get("LIVEOPS_BENCH_COLLECTOR", RELEASE / "liveops-collector"))
TOOL = RELEASE / "liveops-bench"
OUT = BENCH / "out"

DAEMON_CORE = "0"
LOAD_CORE = "1"


def out_dir(name):
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    return d


class Procs:
    """Processes started by a script, each stopped by its own pid at exit."""

    def __init__(self):
        self.procs = []

    def start(self, args, core=None, log=None, env=None, **kw):
        if core is not None:
            args = ["taskset", "-c", core] + [str(a) for a in args]
        stdout = open(log, "w") if log else subprocess.DEVNULL
        p = subprocess.Popen(
            [str(a) for a in args],
            stdout=kw.pop("stdout", stdout),
            stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            **kw,
        )
        self.procs.append(p)
        return p

    def stop(self, p, timeout=10):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop_all(self):
        for p in reversed(self.procs):
            self.stop(p)
        self.procs.clear()


# Where the pagerduty notifier posts (PagerDuty's own path); the sink
# answers there as PagerDuty does (`liveops-bench sink --pagerduty`).
PD_PATH = "/v2/enqueue"


def policy_notifiers(sink_port):
    """The `[[notifier]]`s the shipped paging policy names (`pagerduty`,
    `slack`, `email`, `tickets`), each delivering to the sink on loopback
    through the real notifier of its kind."""
    base = f"http://127.0.0.1:{sink_port}"
    return f"""[[notifier]]
kind = "pagerduty"
name = "pagerduty"
url = "{base}{PD_PATH}"
# For people of the schedule without a PagerDuty key of their own.
routing_key = "bench-routing-key"

[[notifier]]
kind = "slack"
name = "slack"
url = "{base}/slack"

[[notifier]]
kind = "webhook"
name = "email"
url = "{base}/email"

[[notifier]]
kind = "webhook"
name = "tickets"
url = "{base}/tickets"
"""


def wait_port(host, port, timeout=20):
    import socket

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {host}:{port} after {timeout}s")


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def metric(text, name):
    """Sum of every sample of `name` in a Prometheus text exposition."""
    total, seen = 0.0, False
    for line in text.splitlines():
        if line.startswith(name) and line[len(name)] in " {":
            total += float(line.rsplit(" ", 1)[1])
            seen = True
    return total if seen else None


def udp_snmp():
    """The Udp: counters of /proc/net/snmp as a dict."""
    lines = [l.split() for l in open("/proc/net/snmp") if l.startswith("Udp:")]
    return dict(zip(lines[0][1:], map(int, lines[1][1:])))


def status_kib(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def cpu_ticks(pid):
    """utime + stime of a process (all its threads), in clock ticks."""
    stat = open(f"/proc/{pid}/stat").read()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def child_pid(p):
    """The pid of the program `taskset` exec'd (taskset replaces itself)."""
    return p.pid


def machine():
    model = next(
        (l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
        "?",
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": os.uname().release,
        "loadavg": open("/proc/loadavg").read().split()[:3],
        # HEAD when the run started; the binaries are whatever was built
        # last, so note the build's commit apart when others are committing.
        "commit": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                 capture_output=True, text=True).stdout.strip(),
    }


def sysctl(name, value=None):
    path = Path("/proc/sys") / name.replace(".", "/")
    before = path.read_text().strip()
    if value is not None:
        path.write_text(str(value))
    return before


def run_json(args, core=None, timeout=None):
    if core is not None:
        args = ["taskset", "-c", core] + [str(a) for a in args]
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{args} failed: {r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def inspect_number(text, key):
    """A number from node's util.inspect output (`'key': 123`)."""
    m = re.search(r"'" + re.escape(key) + r"':\s*([0-9.e+]+)", text)
    return float(m.group(1)) if m else None
