//! The floor for DogStatsD ingest: a bare UDP receiver that does the least
//! any receiver must do to see every line, and nothing else.
//!
//! One thread, one socket with the receive buffer the agent asks for, and
//! `recvmmsg(2)` with `MSG_WAITFORONE` filling up to `BATCH` preallocated
//! 64 KiB buffers per syscall. Per datagram it counts bytes and lines (the
//! `\n`s, plus one for a last line without a trailing newline: the same count
//! `statsd-load` makes when it packs them). No parsing, no aggregation, no
//! allocation on the hot path but a tiny vector of slice headers per batch.
//! Whatever rate this loses at is the limit of the kernel's UDP path and of
//! this core, not of a daemon's code.
//!
//! The counts are read the way `ingest.py` reads each daemon's own counter,
//! while it runs: every TCP connection to `--stats` gets one JSON line
//! (`datagrams`, `bytes`, `lines`, `batches`, `recv_buffer_bytes`) and is
//! closed. The process runs until it is killed (SIGTERM from the script).

use std::io::{self, IoSliceMut, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;
use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, setsockopt, sockopt};

/// Datagrams asked for per `recvmmsg` call.
const BATCH: usize = 64;
/// One buffer per datagram, as large as a UDP payload can be (the agent reads
/// into a buffer of the same size).
const DATAGRAM_BYTES: usize = 65536;

#[derive(clap::Args)]
pub struct Args {
    /// The UDP address the load is sent to.
    #[arg(long)]
    listen: SocketAddr,
    /// SO_RCVBUF to ask for: the agent's `recv_buffer_bytes` (capped by the
    /// kernel at `net.core.rmem_max`, as for the agent).
    #[arg(long, default_value_t = 8 * 1024 * 1024)]
    recv_buffer: usize,
    /// TCP address where each connection receives the counts as one JSON line.
    #[arg(long, default_value = "127.0.0.1:0")]
    stats: SocketAddr,
}

#[derive(Default)]
struct Counts {
    datagrams: AtomicU64,
    bytes: AtomicU64,
    lines: AtomicU64,
    batches: AtomicU64,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let socket = UdpSocket::bind(a.listen)?;
    setsockopt(&socket, sockopt::RcvBuf, &a.recv_buffer)?;
    // Linux reports twice the granted size (the bookkeeping overhead it adds);
    // printed as the kernel gives it, like the agent's own gauge.
    let granted = nix::sys::socket::getsockopt(&socket, sockopt::RcvBuf)?;
    let stats = TcpListener::bind(a.stats)?;
    println!(
        "{}",
        serde_json::json!({
            "listening": socket.local_addr()?.to_string(),
            "stats": stats.local_addr()?.to_string(),
            "recv_buffer_bytes": granted,
        })
    );
    let counts = Arc::new(Counts::default());
    let served = Arc::clone(&counts);
    std::thread::Builder::new()
        .name("floor-stats".into())
        .spawn(move || serve_stats(&stats, &served, granted))?;
    receive(&socket, &counts)
}

fn receive(socket: &UdpSocket, counts: &Counts) -> anyhow::Result<()> {
    let mut buf = vec![0u8; BATCH * DATAGRAM_BYTES];
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
    let mut lens = [0usize; BATCH];
    loop {
        // recvmmsg borrows the buffers for as long as its results live, so
        // the slice headers are rebuilt each call (64 small structs, no data).
        let received = {
            let mut iovs: Vec<[IoSliceMut<'_>; 1]> = buf
                .chunks_exact_mut(DATAGRAM_BYTES)
                .map(|c| [IoSliceMut::new(c)])
                .collect();
            match recvmmsg(
                socket.as_raw_fd(),
                &mut headers,
                iovs.iter_mut(),
                MsgFlags::MSG_WAITFORONE,
                None,
            ) {
                Ok(msgs) => {
                    let mut n = 0;
                    for (len, msg) in lens.iter_mut().zip(msgs) {
                        *len = msg.bytes;
                        n += 1;
                    }
                    n
                }
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(io::Error::from(e).into()),
            }
        };
        let (mut bytes, mut lines) = (0u64, 0u64);
        for (chunk, &len) in buf.chunks_exact(DATAGRAM_BYTES).zip(&lens[..received]) {
            bytes += len as u64;
            lines += count_lines(&chunk[..len]);
        }
        counts.batches.fetch_add(1, Ordering::Relaxed);
        counts
            .datagrams
            .fetch_add(received as u64, Ordering::Relaxed);
        counts.bytes.fetch_add(bytes, Ordering::Relaxed);
        counts.lines.fetch_add(lines, Ordering::Relaxed);
    }
}

/// Newline-separated lines in a datagram: every `\n`, plus the last line when
/// it has no trailing newline. Empty datagrams hold no line.
fn count_lines(d: &[u8]) -> u64 {
    let newlines = d.iter().filter(|&&b| b == b'\n').count() as u64;
    newlines + u64::from(d.last().is_some_and(|&b| b != b'\n'))
}

fn serve_stats(listener: &TcpListener, counts: &Counts, granted: usize) {
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { continue };
        let line = serde_json::json!({
            "datagrams": counts.datagrams.load(Ordering::Relaxed),
            "bytes": counts.bytes.load(Ordering::Relaxed),
            "lines": counts.lines.load(Ordering::Relaxed),
            "batches": counts.batches.load(Ordering::Relaxed),
            "recv_buffer_bytes": granted,
        });
        // A reader that went away is its own problem; keep serving.
        let _ = writeln!(conn, "{line}");
    }
}
