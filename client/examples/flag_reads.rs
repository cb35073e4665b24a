//! How long a flag read takes: `cargo run --release -p liveops-client
//! --example flag_reads [iterations]`. One line per case, `CASE NS ns/read`.
//!
//! An offline client serves a snapshot of 64 flags (one a kill switch with
//! world and player rules), so the numbers are the read path alone: the
//! snapshot load, the key lookup and evaluation. The last case reads from
//! one thread per core (at most four) while another swaps in a new snapshot
//! every millisecond, as the sync thread does (far more often than flags
//! change): readers must not slow each other down or wait for the writer.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use liveops_client::flags::{Context, FlagClient, SnapshotDoc};
use serde_json::json;

fn main() {
    let iters: u64 = std::env::args()
        .nth(1)
        .map_or(5_000_000, |a| a.parse().expect("iterations"));
    let flags = FlagClient::offline(snapshot("v1"), Some("w1"));
    let world = flags.world_context().clone();
    let player = flags.context().village("v-9").player("p-42").build();

    case("bool_simple", iters, || {
        flags.bool("feature.f7", &world, false)
    });
    case("bool_scoped_rules", iters, || {
        flags.bool("combat.attacks", &player, false)
    });
    case("int_simple", iters, || flags.int("limits.l3", &world, 0));
    case("bool_missing_flag", iters, || {
        flags.bool("no.such", &world, true)
    });
    case("string_simple", iters, || {
        flags.string("text.t1", &world, "")
    });
    case("details_scoped", iters, || {
        flags.details("combat.attacks", &player).is_ok()
    });
    contended(&flags, &world, iters);
}

fn case<T>(name: &str, iters: u64, mut read: impl FnMut() -> T) {
    for _ in 0..iters / 10 {
        black_box(read());
    }
    let started = Instant::now();
    for _ in 0..iters {
        black_box(read());
    }
    let ns = started.elapsed().as_nanos() as f64 / iters as f64;
    println!("{name:<28} {ns:>7.1} ns/read");
}

fn contended(flags: &FlagClient, world: &Context, iters: u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (flags, stop) = (flags.clone(), Arc::clone(&stop));
        let doc = snapshot("v");
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                flags.set_snapshot(doc.clone());
                std::thread::sleep(Duration::from_millis(1));
            }
            n
        })
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let per_thread = std::thread::scope(|s| {
        let readers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let started = Instant::now();
                    for _ in 0..iters {
                        black_box(flags.bool("feature.f7", world, false));
                    }
                    started.elapsed().as_nanos() as f64 / iters as f64
                })
            })
            .collect();
        let ns: Vec<f64> = readers.into_iter().map(|r| r.join().unwrap()).collect();
        ns.iter().sum::<f64>() / ns.len() as f64
    });
    stop.store(true, Ordering::Relaxed);
    let swaps = writer.join().unwrap();
    let name = format!("bool_{threads}_threads_while_swapping");
    println!("{name:<28} {per_thread:>7.1} ns/read ({swaps} swaps)");
}

/// 64 flags: 40 booleans, 10 integers, 10 strings, 3 floats and a kill
/// switch with a world rule and a player rule.
fn snapshot(version: &str) -> SnapshotDoc {
    let flag = |key: String, default: serde_json::Value, rules: serde_json::Value| {
        json!({
            "key": key, "description": "d", "system": "s", "kind": "ops", "owner": "o",
            "default": default, "fail_safe": default, "blast_radius": "b",
            "takes_effect": "t", "rollback": "r", "rules": rules,
        })
    };
    let mut flags: Vec<_> = (0..40)
        .map(|i| flag(format!("feature.f{i}"), json!(i % 2 == 0), json!([])))
        .collect();
    flags.extend((0..10).map(|i| flag(format!("limits.l{i}"), json!(i * 10), json!([]))));
    flags.extend((0..10).map(|i| flag(format!("text.t{i}"), json!("banner text"), json!([]))));
    flags.extend((0..3).map(|i| flag(format!("rates.r{i}"), json!(0.5), json!([]))));
    flags.push(flag(
        "combat.attacks".into(),
        json!(true),
        json!([{"world": ["w2", "w3"], "value": false}, {"player": ["p-7"], "value": true}]),
    ));
    serde_json::from_value(json!({ "version": version, "flags": flags })).unwrap()
}
