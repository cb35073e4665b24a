"""Sends a fixed mix of DogStatsD traffic with Datadog's own Python client.

Used by tests/it/dogstatsd.rs, which holds the expected counts; change both
together. Usage: dogstatsd_client.py udp HOST PORT | unix PATH

Per run: 185 metric lines (131 request, 40 payment, 7 auth.latency,
5 tick.duration, 2 gauges) and 5 lines the agent recognises but does not
aggregate (a set, two events, two service checks): 190 lines in all. Over
UDP each line is its own datagram (the client's default); over the Unix
socket lines are batched into a few datagrams.
"""

import sys

import datadog.dogstatsd.base as base
from datadog.dogstatsd import DogStatsd

# The client drops sampled metrics at random (keeping a share `rate`) and
# tags the ones it keeps with |@rate. Keeping every one makes the run
# exact; what is tested is that the agent weighs each line by 1/rate.
assert hasattr(base, "random"), "datadog changed how it samples; update this script"
base.random = lambda: 0.0

if sys.argv[1] == "udp":
    statsd = DogStatsd(host=sys.argv[2], port=int(sys.argv[3]), disable_telemetry=True)
elif sys.argv[1] == "unix":
    # Batched, as Datadog recommends for Unix sockets: the kernel queues at
    # most net.unix.max_dgram_qlen (10 by default) datagrams per socket, and
    # this client drops what does not fit rather than block. Unbatched, a
    # burst of 190 datagrams loses most of itself before the agent can read.
    statsd = DogStatsd(
        socket_path=sys.argv[2], disable_buffering=False, disable_telemetry=True
    )
else:
    sys.exit("usage: dogstatsd_client.py udp HOST PORT | unix PATH")

# request (error_rate SLO): 100 + 10 + 20 + 1 lines; 100 + 10 + 40 + 5 = 155
# events, 10 of them errors.
for _ in range(100):
    statsd.increment("request", tags=["op:march", "status:ok"])
for _ in range(10):
    statsd.increment("request", tags=["status:error", "op:attack"])
for _ in range(20):
    statsd.increment("request", sample_rate=0.5, tags=["op:chat", "status:ok"])
statsd.increment("request", value=5, tags=["op:build", "status:ok"])

# payment (payment_success SLO): 40 lines; 30 successes + 10 x 4 failures.
for _ in range(30):
    statsd.increment("payment", tags=["outcome:success"])
for _ in range(10):
    statsd.increment("payment", sample_rate=0.25, tags=["outcome:failure"])

# auth.latency (auth_latency SLO, 1 s): 7 lines, 8 events, 6 of them fast.
for ms in (120, 250, 999):
    statsd.timing("auth.latency", ms)
statsd.timing("auth.latency", 800, sample_rate=0.5)
statsd.histogram("auth.latency", 640)
statsd.distribution("auth.latency", 1500)
statsd.distribution("auth.latency", 4000, tags=["region:eu"])

# tick.duration (tick_latency SLO, 250 ms): 5 lines, 3 fast, 2 slow.
for ms in (40, 60, 250):
    statsd.histogram("tick.duration", ms)
statsd.timing("tick.duration", 300)
statsd.distribution("tick.duration", 400)

statsd.gauge("players.online", 1234, tags=["shard:1"])
statsd.gauge("tick.backlog", 0)

# Well-formed, but nothing liveops aggregates: counted as unsupported.
statsd.set("players.unique", "alice")
statsd.event("Deploy", "v1.2.3 rolled out", alert_type="info", tags=["team:game"])
statsd.event("Rollback", "v1.2.3 rolled back\nby the on-call")
statsd.service_check("db.reachable", 0, tags=["db:main"])
statsd.service_check("cache.reachable", 2, message="connection refused")

statsd.flush()
statsd.close_socket()
