//! Throughput check for parse + aggregate, the listener's per-datagram work.
//!
//! `cargo test --release -p liveops-agent --lib ingest -- --ignored --nocapture`

use std::time::{Duration, Instant};

use super::{LineBuf, Shared};

/// Datagrams of about 1,400 bytes, as a buffering client sends them, mixing
/// the shipped signals with tags drawn from small sets (as in a real world).
fn datagrams() -> Vec<(Vec<u8>, u64)> {
    let ops = ["march", "trade", "build", "chat", "login"];
    let statuses = ["ok", "ok", "ok", "error"];
    let mut out = Vec::new();
    let mut i = 0usize;
    for _ in 0..64 {
        let (mut d, mut lines) = (Vec::new(), 0);
        while d.len() < 1400 {
            let line = match i % 5 {
                0 | 1 => format!(
                    "request:1|c|#op:{},status:{},shard:{},build:1.42.7",
                    ops[i % ops.len()],
                    statuses[i % statuses.len()],
                    i % 8
                ),
                2 => format!(
                    "tick.duration:{}|ms|#shard:{},zone:north-{}",
                    40 + i % 20,
                    i % 8,
                    i % 4
                ),
                3 => format!(
                    "auth.latency:{}|h|@0.5|#provider:steam,region:eu-west",
                    80 + i % 300
                ),
                _ => format!(
                    "players.online:{}|g|#region:eu-west,shard:{}",
                    1200 + i % 50,
                    i % 3
                ),
            };
            d.extend_from_slice(line.as_bytes());
            d.push(b'\n');
            lines += 1;
            i += 1;
        }
        out.push((d, lines));
    }
    out
}

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn ingest_throughput() {
    let shared = Shared::new(10_000);
    let mut buf = LineBuf::default();
    let data = datagrams();
    let bytes: usize = data.iter().map(|(d, _)| d.len()).sum();
    let lines: u64 = data.iter().map(|(_, n)| n).sum();
    println!(
        "{} datagrams, {:.0} bytes and {:.1} lines each",
        data.len(),
        bytes as f64 / data.len() as f64,
        lines as f64 / data.len() as f64
    );
    let (mut total, mut rounds) = (0u64, 0u32);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        for (d, n) in &data {
            shared.ingest(d, Instant::now(), &mut buf);
            total += n;
        }
        rounds += 1;
        // A report every ~100 rounds keeps series creation in the mix.
        if rounds % 100 == 0 {
            shared.take_interval();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:.2} M lines/s ({:.0} MB/s)",
        total as f64 / secs / 1e6,
        (rounds as f64 * bytes as f64) / secs / 1e6
    );
    let out = shared.take_interval();
    assert!(out.losses.malformed_lines == 0 && out.losses.series_overflow_lines == 0);
}

/// The worst case: every line a new series past the limit, so every line
/// takes the slow path (UTF-8 check, tag parse, canonical key) and is dropped.
#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn overflow_flood_throughput() {
    let shared = Shared::new(100);
    let mut buf = LineBuf::default();
    let data: Vec<Vec<u8>> = (0..64)
        .map(|d| {
            (0..25)
                .map(|l| format!("flood.{d}.{l}:1|c|#op:march,status:ok,shard:3\n"))
                .collect::<String>()
                .into_bytes()
        })
        .collect();
    shared.ingest(b"warm:1|c", Instant::now(), &mut buf);
    let start = Instant::now();
    let mut rounds = 0u64;
    while start.elapsed() < Duration::from_secs(1) {
        for d in &data {
            shared.ingest(d, Instant::now(), &mut buf);
        }
        rounds += 1;
    }
    let lines = rounds * 64 * 25;
    println!(
        "overflow flood: {:.2} M lines/s",
        lines as f64 / start.elapsed().as_secs_f64() / 1e6
    );
    // `warm` and the first 99 flood series fit; they hit every round.
    let dropped = shared.take_interval().losses.series_overflow_lines;
    assert_eq!(dropped, lines - 99 * rounds);
}
