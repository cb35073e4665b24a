//! The listener threads: blocking datagram sockets on dedicated OS threads.
//!
//! Not tokio: under a flood the goal is one core spent receiving and
//! aggregating, with the async runtime (health probes, reports, `/metrics`)
//! untouched. A short read timeout lets each loop notice `stop` without a
//! wake-up channel.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::{LineBuf, Shared};

/// How long a listener blocks before looking at `stop` again.
pub const POLL: Duration = Duration::from_millis(100);
/// Pause after a real receive error, so a persistent one is not a busy loop.
const ERROR_PAUSE: Duration = Duration::from_millis(100);
/// Largest datagram read whole. UDP payloads cannot exceed it; a longer Unix
/// datagram is cut by the kernel, and its last line is dropped as truncated.
const DATAGRAM_BYTES: usize = 65536;

/// Binds `addr` and receives on a thread named `ingest-udp`. Returns the bound
/// address (useful with port 0) and the thread, which ends once `stop` is set.
pub fn spawn_udp(
    addr: SocketAddr,
    recv_buffer_bytes: usize,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    grow_recv_buffer(&socket, recv_buffer_bytes, &shared)?;
    socket.bind(&addr.into())?;
    let socket: UdpSocket = socket.into();
    socket.set_read_timeout(Some(POLL))?;
    let bound = socket.local_addr()?;
    tracing::info!(%bound, "DogStatsD UDP listener bound");
    let handle = thread::Builder::new()
        .name("ingest-udp".into())
        .spawn(move || receive_loop("udp", |buf| socket.recv(buf), &shared, &stop))?;
    Ok((bound, handle))
}

/// Binds a Unix datagram socket at `path` and receives on a thread named
/// `ingest-unix`. A stale socket file left by a dead agent is replaced; a live
/// one, or any other kind of file, is an error. The file is removed when the
/// thread ends.
pub fn spawn_unix(
    path: &Path,
    recv_buffer_bytes: usize,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
) -> io::Result<JoinHandle<()>> {
    remove_stale_socket(path)?;
    let socket = Socket::new(Domain::UNIX, Type::DGRAM, None)?;
    grow_recv_buffer(&socket, recv_buffer_bytes, &shared)?;
    socket.bind(&SockAddr::unix(path)?)?;
    let guard = RemoveOnDrop(path.to_owned());
    let socket: UnixDatagram = socket.into();
    socket.set_read_timeout(Some(POLL))?;
    tracing::info!(path = %path.display(), "DogStatsD Unix listener bound");
    thread::Builder::new()
        .name("ingest-unix".into())
        .spawn(move || {
            let _guard = guard;
            receive_loop("unix", |buf| socket.recv(buf), &shared, &stop);
        })
}

fn receive_loop(
    transport: &'static str,
    mut recv: impl FnMut(&mut [u8]) -> io::Result<usize>,
    shared: &Shared,
    stop: &AtomicBool,
) {
    let mut buf = vec![0u8; DATAGRAM_BYTES];
    let mut lines = LineBuf::default();
    while !stop.load(Ordering::Relaxed) {
        match recv(&mut buf) {
            Ok(n) => {
                let truncated = n == buf.len();
                shared.ingest_datagram(&buf[..n], truncated, Instant::now(), &mut lines);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(error) => {
                shared.stats.recv_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(transport, %error, "DogStatsD receive failed");
                thread::sleep(ERROR_PAUSE);
            }
        }
    }
    tracing::debug!(transport, "DogStatsD listener stopped");
}

/// Asks for a large receive buffer so bursts queue in the kernel instead of
/// being dropped. Linux silently caps the request at `net.core.rmem_max`; the
/// granted size is recorded so the cap is visible.
fn grow_recv_buffer(socket: &Socket, wanted: usize, shared: &Shared) -> io::Result<()> {
    socket.set_recv_buffer_size(wanted)?;
    let granted = socket.recv_buffer_size()?;
    shared
        .stats
        .recv_buffer_bytes
        .store(granted as u64, Ordering::Relaxed);
    match rmem_max() {
        Some(max) if max < wanted => tracing::warn!(
            wanted,
            granted,
            rmem_max = max,
            "socket receive buffer capped by net.core.rmem_max; raise it to absorb bursts"
        ),
        _ => tracing::debug!(wanted, granted, "socket receive buffer set"),
    }
    Ok(())
}

fn rmem_max() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/net/core/rmem_max")
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn remove_stale_socket(path: &Path) -> io::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a socket", path.display()),
        ));
    }
    // Connecting only succeeds if something is bound there: another agent.
    if UnixDatagram::unbound()?.connect(path).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("{} is in use by another process", path.display()),
        ));
    }
    std::fs::remove_file(path)
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_file(&self.0) {
            tracing::debug!(path = %self.0.display(), %error, "could not remove the socket file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Interval;

    const DATAGRAMS: [&[u8]; 3] = [
        b"request:1|c|#op:march,status:ok\nrequest:1|c|@0.5|#status:ok,op:march\ntick.duration:48|ms\n",
        b"players.online:1200|g\nplayers.online:1190|g\r\nnonsense\nusers:alice|s",
        b"tick.duration:50:52|ms|#shard:3\nauth.latency:120|h",
    ];

    /// Waits until the listener has taken `n` datagrams, then drains.
    fn drain_after(shared: &Shared, n: u64) -> Interval {
        let deadline = Instant::now() + Duration::from_secs(5);
        while shared.stats.datagrams.load(Ordering::Relaxed) < n {
            assert!(
                Instant::now() < deadline,
                "listener did not receive {n} datagrams"
            );
            thread::sleep(Duration::from_millis(5));
        }
        shared.take_interval()
    }

    fn check(shared: &Shared, out: &Interval) {
        assert_eq!(out.counters.len(), 1);
        assert_eq!(out.counters[0].value, 3.0);
        assert_eq!(out.gauges.len(), 1);
        assert_eq!(out.gauges[0].value, 1190.0);
        let tick_counts: Vec<f64> = out.histograms.iter().map(|h| h.histogram.count).collect();
        assert_eq!(
            tick_counts,
            [1.0, 2.0, 1.0],
            "tick untagged, tick shard:3, auth"
        );
        assert_eq!(out.losses.malformed_lines, 1);
        let s = &shared.stats;
        assert_eq!(s.lines.load(Ordering::Relaxed), 9);
        assert_eq!(s.unsupported_lines.load(Ordering::Relaxed), 1);
        assert!(s.recv_buffer_bytes.load(Ordering::Relaxed) > 0);
        assert!(shared.ticks.last_tick_age(Instant::now()).is_some());
    }

    fn stop_and_join(stop: &AtomicBool, handle: JoinHandle<()>) {
        stop.store(true, Ordering::Relaxed);
        let asked = Instant::now();
        handle.join().expect("listener thread panicked");
        assert!(
            asked.elapsed() < POLL * 10,
            "stop took {:?}",
            asked.elapsed()
        );
    }

    #[test]
    fn udp_datagrams_are_aggregated_until_stop() {
        let shared = Arc::new(Shared::new(100));
        let stop = Arc::new(AtomicBool::new(false));
        let addr = "127.0.0.1:0".parse().unwrap();
        let (bound, handle) = spawn_udp(addr, 1 << 20, shared.clone(), stop.clone()).unwrap();
        assert_ne!(bound.port(), 0);
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        for d in DATAGRAMS {
            client.send_to(d, bound).unwrap();
        }
        let out = drain_after(&shared, 3);
        check(&shared, &out);
        stop_and_join(&stop, handle);
    }

    #[test]
    fn unix_datagrams_are_aggregated_and_the_socket_file_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dsd.sock");
        // A stale file from a dead agent is replaced.
        drop(UnixDatagram::bind(&path).unwrap());
        let shared = Arc::new(Shared::new(100));
        let stop = Arc::new(AtomicBool::new(false));
        let handle = spawn_unix(&path, 1 << 20, shared.clone(), stop.clone()).unwrap();

        let second = spawn_unix(&path, 1 << 20, shared.clone(), stop.clone());
        assert_eq!(second.unwrap_err().kind(), io::ErrorKind::AddrInUse);

        let client = UnixDatagram::unbound().unwrap();
        for d in DATAGRAMS {
            client.send_to(d, &path).unwrap();
        }
        let out = drain_after(&shared, 3);
        check(&shared, &out);
        stop_and_join(&stop, handle);
        assert!(!path.exists(), "socket file left behind");
    }

    #[test]
    fn unix_refuses_to_replace_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not-a-socket");
        std::fs::write(&path, "keep me").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let err = spawn_unix(&path, 1 << 20, Arc::new(Shared::new(1)), stop).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
    }
}
