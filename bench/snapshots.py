"""Snapshot benchmark: take, change, diff, side by side with GNU diff.

    python3 bench/snapshots.py [--players 250000]

Release builds of liveops-collector, liveops-agent and liveops-bench; a world
of 4 × players entities (`liveops-bench state-world`, no churn) whose state
only this script changes, through the game's own restore endpoint.

1. snapshot 1 of the whole world: entities/s, the agent's peak RSS;
2. 1 % of the entities changed, snapshot 2: bytes added ÷ the changed
   entities' bytes (index bytes reported beside);
3. diff 1 → 2 through the collector, as `liveops snapshot diff` asks it;
4. 10 entities changed, snapshot 3, diff 2 → 3;
5. GNU `diff` of the same states exported as sorted NDJSON, in the same run;
6. a rollback plan (dry run) for 10,000 players back to snapshot 1: its wall
   time through the collector, the part spent reading the game's state, and
   the part spent planning; as a plan runs by default (only the targeted
   entities read, the collateral up to the newest snapshot) and `fresh`
   (the whole world read);
7. retention: everything but the newest snapshot expired and swept, the
   store's size on disk before and after; then every village changed (half
   the world's lines), a snapshot, and the same again, so that packs are
   rewritten and space comes back.

Prints one JSON object. `LIVEOPS_BENCH_PERF=DIR` also profiles the agent
during each command (`perf report -i DIR/01-snapshot-take.data`); the
figures of such a run are slower and are not the ones to report.
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
import urllib.request

from common import AGENT, COLLECTOR, ROOT, TOOL, Procs, machine, out_dir, status_kib, wait_port

COLL = 19580
AGENT_TOKEN = "bench-agent-token"
ADMIN = "bench-admin-token"


def post(url, body, token=None, timeout=600):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


PERF = {"dir": os.environ.get("LIVEOPS_BENCH_PERF"), "pid": None, "step": 0}


def command(op, args=None, reason=None):
    """One operator command through the collector. With LIVEOPS_BENCH_PERF=DIR
    set, the agent is profiled (`perf record`, DWARF call graphs) while it
    runs, into DIR/NN-op.data."""
    perf = None
    if PERF["dir"] and PERF["pid"] and op != "snapshot-list":
        PERF["step"] += 1
        out = f'{PERF["dir"]}/{PERF["step"]:02d}-{op}.data'
        perf = subprocess.Popen(["perf", "record", "-q", "-F", "250", "--call-graph", "dwarf,16384",
                                 "-p", str(PERF["pid"]), "-o", out], stderr=subprocess.DEVNULL)
        time.sleep(0.5)
    try:
        return _command(op, args, reason)
    finally:
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait()


def _command(op, args=None, reason=None):
    t = time.perf_counter()
    out = post(f"http://127.0.0.1:{COLL}/api/v1/worlds/bench/commands",
               {"op": op, "args": args or {}, "reason": reason}, ADMIN)
    return out, time.perf_counter() - t


def state(game, query=""):
    with urllib.request.urlopen(f"{game}/liveops/v1/state{query}", timeout=600) as r:
        return r.read()


def change(game, n, rng, measure=True):
    """Changes n villages' gold through the restore endpoint; returns the
    bytes of the changed entities as the game serves them afterwards (when
    `measure`: the listing's body is limited, so not for half the world)."""
    villages = [l for l in state(game, "?kind=village").splitlines() if l]
    picked = rng.sample(villages, n)
    body = []
    for line in picked:
        e = json.loads(line)
        e["data"]["resources"]["gold"] += rng.randrange(1, 1_000_000)
        body.append(json.dumps(e))
    # In bodies the game takes (its restore limit is 64 MiB).
    for at in range(0, len(body), 100_000):
        part = body[at:at + 100_000]
        req = urllib.request.Request(f"{game}/liveops/v1/state/restore",
                                     data=("\n".join(part) + "\n").encode(), method="POST")
        with urllib.request.urlopen(req, timeout=600) as r:
            res = json.loads(r.read())
        assert res["failed"] == 0, res
    if not measure:
        return None
    # The POST form of the listing: 10,000 ids do not fit in a URI.
    ids = "&".join(f"id={json.loads(l)['id']}" for l in picked)
    req = urllib.request.Request(f"{game}/liveops/v1/state", data=f"kind=village&{ids}".encode(), method="POST")
    with urllib.request.urlopen(req, timeout=600) as r:
        after = [l for l in r.read().splitlines() if l]
    assert len(after) == n
    return sum(len(l) for l in after)


def sample_rss(pid, stop, out):
    while not stop.is_set():
        try:
            out.append(status_kib(pid, "VmRSS"))
        except Exception:
            break
        time.sleep(0.05)


def gnu_diff(d, a, b):
    pa, pb = d / "a.ndjson", d / "b.ndjson"
    pa.write_bytes(b"\n".join(sorted(a.splitlines())) + b"\n")
    pb.write_bytes(b"\n".join(sorted(b.splitlines())) + b"\n")
    t = time.perf_counter()
    p = subprocess.run(["diff", pa, pb], stdout=subprocess.DEVNULL)
    took = time.perf_counter() - t
    assert p.returncode in (0, 1)
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--players", type=int, default=250_000)
    a = ap.parse_args()
    d = out_dir("snapshots")
    shutil.rmtree(d / "agent", ignore_errors=True)
    shutil.rmtree(d / "collector-data", ignore_errors=True)
    sha = hashlib.sha256(ADMIN.encode()).hexdigest()
    coll = (ROOT / "config/collector.toml").read_text()
    coll = coll.replace('listen = "127.0.0.1:9470"', f'listen = "127.0.0.1:{COLL}"')
    coll = coll.replace('data_dir = "liveops-collector-data"', f'data_dir = "{d}/collector-data"')
    coll += f'\n[[token]]\nname = "bench"\nrole = "admin"\nsha256 = "{sha}"\n'
    (d / "collector.toml").write_text(coll)
    procs = Procs()
    rng = random.Random(7)
    try:
        w = procs.start([TOOL, "state-world", "--players", a.players, "--http", "127.0.0.1:19581"],
                        stdout=subprocess.PIPE)
        game = json.loads(w.stdout.readline())["url"]
        procs.start([COLLECTOR, "--config", d / "collector.toml"], env={"LIVEOPS_AGENT_TOKEN": AGENT_TOKEN},
                    log=d / "collector.log")
        wait_port("127.0.0.1", COLL)
        # Only the snapshots this script takes (none at start).
        # Retention keeps only the newest, so step 7's prune expires the rest.
        (d / "agent.toml").write_text('[snapshots]\nevery = "off"\nkeep_all = "1s"\nkeep_hourly = "1s"\nkeep_daily = "1s"\n')
        ag = procs.start([AGENT, "--config", d / "agent.toml", "--world", "bench", "--collector", f"http://127.0.0.1:{COLL}", "--game", game,
                          "--data-dir", d / "agent", "--http", "127.0.0.1:19582", "--statsd-udp", "127.0.0.1:19583"],
                         env={"LIVEOPS_AGENT_TOKEN": AGENT_TOKEN}, log=d / "agent.log")
        for _ in range(100):
            try:
                command("snapshot-list")
                break
            except Exception:
                time.sleep(0.2)
        PERF["pid"] = ag.pid
        before = state(game)
        stop, rss = threading.Event(), []
        t = threading.Thread(target=sample_rss, args=(ag.pid, stop, rss))
        t.start()
        s1, wall1 = command("snapshot-take", {"label": "base"}, "benchmark")
        stop.set()
        t.join()
        hwm1 = status_kib(ag.pid, "VmHWM")
        n = s1["entities"]
        changed_bytes = change(game, n // 100, rng)
        mid = state(game)
        s2, wall2 = command("snapshot-take", {}, "benchmark")
        d12, wall_d12 = command("snapshot-diff", {"from": s1["id"], "to": s2["id"]})
        ten_bytes = change(game, 10, rng)
        after = state(game)
        s3, wall3 = command("snapshot-take", {}, "benchmark")
        d23, wall_d23 = command("snapshot-diff", {"from": s2["id"], "to": s3["id"]})
        players = [f"p{i}" for i in range(min(10_000, a.players))]
        plan, wall_plan = command("rollback-plan", {"from": s1["id"], "targets": {"players": players}})
        fresh, wall_fresh = command("rollback-plan", {"from": s1["id"], "targets": {"players": players, "fresh": True}})
        assert fresh["summary"]["restore"] == plan["summary"]["restore"], (fresh["summary"], plan["summary"])
        pruned, wall_prune = command("snapshot-prune", {}, "benchmark")
        # Half the world's lines die at once (every village changed): the
        # packs holding them are rewritten and their disk space returns.
        villages = s1["counts"]["village"]
        change(game, villages, rng, measure=False)
        s4, _ = command("snapshot-take", {}, "benchmark")
        time.sleep(1.1)
        pruned_all, wall_prune_all = command("snapshot-prune", {}, "benchmark")
        gnu_1pct = gnu_diff(d, before, mid)
        gnu_10 = gnu_diff(d, mid, after)
        changed = lambda r: sum(k["changed"] for k in r["kinds"].values())
        print(json.dumps({
            "machine": machine(),
            "entities": n,
            "state_bytes": len(before),
            "snapshot1": {"took_ms": s1["took_ms"], "wall_s": round(wall1, 3),
                          "entities_per_s": round(n / (s1["took_ms"] / 1000)),
                          "agent_rss_peak_kib": max(rss or [0]),
                          "agent_hwm_kib": hwm1,
                          "bytes_added": s1["bytes_added"], "index_bytes": s1["index_bytes_added"]},
            "one_percent": {"changed": n // 100, "changed_bytes": changed_bytes,
                            "bytes_added": s2["bytes_added"], "index_bytes": s2["index_bytes_added"],
                            "ratio": round(s2["bytes_added"] / changed_bytes, 3),
                            "snapshot_took_ms": s2["took_ms"],
                            "diff_wall_s": round(wall_d12, 3), "diff_found": changed(d12),
                            "gnu_diff_s": round(gnu_1pct, 3),
                            "liveops_over_gnu": round(wall_d12 / gnu_1pct, 3)},
            "ten": {"changed_bytes": ten_bytes, "bytes_added": s3["bytes_added"],
                    "diff_wall_s": round(wall_d23, 4), "diff_found": changed(d23),
                    "gnu_diff_s": round(gnu_10, 3),
                    "liveops_over_gnu": round(wall_d23 / gnu_10, 4)},
            "rollback_plan": {"players": len(players), "targeted": plan["summary"]["targeted"],
                              "to_restore": plan["summary"]["restore"],
                              "collateral": plan["summary"]["collateral"],
                              "wall_s": round(wall_plan, 3), "read_ms": plan["read_ms"],
                              "plan_ms": plan["took_ms"], "collateral_from": plan["collateral_from"],
                              "fresh_wall_s": round(wall_fresh, 3), "fresh_read_ms": fresh["read_ms"],
                              "fresh_plan_ms": fresh["took_ms"]},
            "agent_hwm_kib_whole_run": status_kib(ag.pid, "VmHWM"),
            "prune_half": {"villages_changed": villages, "snapshot_took_ms": s4["took_ms"],
                           "removed": pruned_all["removed"], "blobs": pruned_all["blobs"],
                           "nodes": pruned_all["nodes"], "bytes_before": pruned_all["bytes_before"],
                           "bytes_after": pruned_all["bytes_after"], "wall_s": round(wall_prune_all, 3)},
            "prune": {"removed": pruned["removed"], "blobs": pruned["blobs"], "nodes": pruned["nodes"],
                      "bytes_before": pruned["bytes_before"], "bytes_after": pruned["bytes_after"],
                      "wall_s": round(wall_prune, 3)},
        }, indent=1))
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()
