//! Paced DogStatsD load: datagrams of about `--datagram-bytes` packed with
//! whole lines, sent so that lines/s tracks `--rate` over `--secs`.
//!
//! Datagrams are built once up front, so the send loop costs one `send`
//! syscall per datagram and the generator is not the bottleneck it measures.
//! Pacing is by deficit: every wake-up sends as many datagrams as the clock
//! says are owed, so a late wake-up is caught up rather than lost.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use clap::ValueEnum;

#[derive(clap::Args)]
pub struct Args {
    /// Where the daemon under test listens.
    #[arg(long)]
    to: SocketAddr,
    #[arg(long, value_enum)]
    mix: Mix,
    /// Target lines per second.
    #[arg(long)]
    rate: u64,
    #[arg(long, default_value_t = 10.0)]
    secs: f64,
    #[arg(long, default_value_t = 1400)]
    datagram_bytes: usize,
    /// Also send one `tick.duration` line this many times a second, in its
    /// own datagram (a world's heartbeat beside the traffic).
    #[arg(long, default_value_t = 0.0)]
    ticks_hz: f64,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Mix {
    /// `name:1|c` counters, 8 names, no tags (what plain StatsD accepts).
    Plain,
    /// DogStatsD lines with tags: counters, timers, histograms, gauges.
    Tagged,
}

const PLAIN: &[&str] = &[
    "bench.c0:1|c",
    "bench.c1:1|c",
    "bench.c2:1|c",
    "bench.c3:1|c",
    "bench.c4:1|c",
    "bench.c5:1|c",
    "bench.c6:1|c",
    "bench.c7:1|c",
];

const TAGGED: &[&str] = &[
    "request:1|c|#op:march,status:ok",
    "tick.duration:48|ms|#shard:3",
    "request:1|c|#op:attack,status:ok",
    "auth.latency:120|h|#region:eu",
    "request:1|c|#op:trade,status:error",
    "payment:1|c|#outcome:success,provider:card",
    "players.online:1200|g|#shard:1",
    "request:1|c|#op:build,status:ok,shard:2",
    "chat.message.bytes:212|d|#channel:alliance",
    "request:1|c|#op:chat,status:ok",
    "tick.backlog:3|g|#shard:3",
];

struct Datagram {
    bytes: Vec<u8>,
    lines: u64,
}

/// Packs `lines` round-robin into datagrams of at most `max` bytes. Enough
/// datagrams are built that the pattern repeats across datagram boundaries.
fn pack(lines: &[&str], max: usize) -> Vec<Datagram> {
    let mut out = Vec::new();
    let mut next = 0;
    for _ in 0..lines.len().max(16) {
        let mut d = Datagram {
            bytes: Vec::with_capacity(max),
            lines: 0,
        };
        loop {
            let line = lines[next % lines.len()].as_bytes();
            let extra = line.len() + usize::from(d.lines > 0);
            if d.lines > 0 && d.bytes.len() + extra > max {
                break;
            }
            if d.lines > 0 {
                d.bytes.push(b'\n');
            }
            d.bytes.extend_from_slice(line);
            d.lines += 1;
            next += 1;
        }
        out.push(d);
    }
    out
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let lines = match a.mix {
        Mix::Plain => PLAIN,
        Mix::Tagged => TAGGED,
    };
    let datagrams = pack(lines, a.datagram_bytes);
    let per_datagram =
        datagrams.iter().map(|d| d.lines).sum::<u64>() as f64 / datagrams.len() as f64;
    let socket = UdpSocket::bind(if a.to.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    })?;
    socket.connect(a.to)?;

    let duration = Duration::from_secs_f64(a.secs);
    let tick_every = (a.ticks_hz > 0.0).then(|| Duration::from_secs_f64(1.0 / a.ticks_hz));
    let (mut sent_lines, mut sent_datagrams, mut sent_bytes, mut errors) = (0u64, 0u64, 0u64, 0u64);
    let mut ticks_sent = 0u64;
    let mut i = 0usize;
    let start = Instant::now();
    loop {
        let elapsed = start.elapsed();
        if elapsed >= duration {
            break;
        }
        if let Some(every) = tick_every {
            let owed = (elapsed.as_secs_f64() / every.as_secs_f64()) as u64 + 1;
            while ticks_sent < owed {
                if socket.send(b"tick.duration:48|ms").is_err() {
                    errors += 1;
                }
                ticks_sent += 1;
            }
        }
        let owed_lines = (a.rate as f64 * elapsed.as_secs_f64()) as u64;
        if sent_lines >= owed_lines {
            // Ahead of schedule: about one datagram's worth of time.
            let wait = per_datagram / a.rate.max(1) as f64;
            std::thread::sleep(Duration::from_secs_f64(wait.clamp(20e-6, 1e-3)));
            continue;
        }
        while sent_lines < owed_lines {
            let d = &datagrams[i % datagrams.len()];
            i += 1;
            match socket.send(&d.bytes) {
                Ok(_) => {
                    sent_lines += d.lines;
                    sent_datagrams += 1;
                    sent_bytes += d.bytes.len() as u64;
                }
                // A refused send (ECONNREFUSED after an ICMP, ENOBUFS) is
                // an offered datagram the daemon never saw: count it apart.
                Err(_) => errors += 1,
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "lines": sent_lines,
            "datagrams": sent_datagrams,
            "bytes": sent_bytes,
            "ticks": ticks_sent,
            "send_errors": errors,
            "secs": secs,
            "lines_per_sec": sent_lines as f64 / secs,
            "lines_per_datagram": per_datagram,
        })
    );
    Ok(())
}
