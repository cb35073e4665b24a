//! `liveops-bench`: the moving parts of the benchmarks in
//! `docs/BENCHMARKS.md`. The Python scripts beside this crate start the
//! daemons under test and call these subcommands; each subcommand prints one
//! JSON object on stdout when it finishes, so the scripts parse no prose.
//!
//! # Layout
//!
//! - `statsd_load`: paced DogStatsD datagrams at a target lines/s.
//! - `udp_floor`: a bare `recvmmsg` receiver counting lines, the ingest floor.
//! - `sink`: an HTTP listener that timestamps webhook pages and acks reports.
//! - `world`: a simulated world that stalls its ticks on cue.
//! - `collector_load`: many simulated agents POSTing reports every second.
//! - `bare`: a bare hyper server with a constant body, the OFREP floor.
//! - `flag_save`: flag file save → value served, per kind of save.
//! - `fleet`: a fleet-wide mitigation → every agent serving it.

mod bare;
mod collector_load;
mod flag_save;
mod fleet;
mod sink;
mod state_world;
mod stats;
mod statsd_load;
mod udp_floor;
mod world;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Benchmark drivers for liveops (see docs/BENCHMARKS.md)")]
struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    StatsdLoad(statsd_load::Args),
    UdpFloor(udp_floor::Args),
    Sink(sink::Args),
    World(world::Args),
    CollectorLoad(collector_load::Args),
    Bare(bare::Args),
    FlagSave(flag_save::Args),
    FleetMitigate(fleet::Args),
    StateWorld(state_world::Args),
}

fn main() -> anyhow::Result<()> {
    match Args::parse().cmd {
        // Blocking on purpose: one thread, one core, no runtime in the way.
        Cmd::StatsdLoad(a) => statsd_load::run(a),
        Cmd::UdpFloor(a) => udp_floor::run(a),
        Cmd::Sink(a) => runtime(1)?.block_on(sink::run(a)),
        Cmd::World(a) => runtime(1)?.block_on(world::run(a)),
        Cmd::CollectorLoad(a) => runtime(2)?.block_on(collector_load::run(a)),
        // Two workers, as the agent's own runtime has on this machine.
        Cmd::Bare(a) => runtime(2)?.block_on(bare::run(a)),
        Cmd::FlagSave(a) => runtime(1)?.block_on(flag_save::run(a)),
        Cmd::FleetMitigate(a) => runtime(2)?.block_on(fleet::run(a)),
        Cmd::StateWorld(a) => runtime(1)?.block_on(state_world::run(a)),
    }
}

fn runtime(threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?)
}

/// Milliseconds since the Unix epoch: the common clock of every process in a
/// run (fault injection, page arrival).
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
