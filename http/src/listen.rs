//! Binding the listener and sizing the connection limit.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;

/// Descriptors kept for the process's own files: sled, logs, outgoing
/// connections (reports, webhooks, the override stream), DogStatsD sockets.
pub const RESERVED_FDS: u64 = 128;

/// The smallest backlog asked for; the kernel caps it at `somaxconn`.
const MIN_BACKLOG: i32 = 4096;

/// Binds `addr` with a listen backlog of at least 4096 (or `somaxconn`,
/// if larger): after a collector restart a thousand agents or more
/// reconnect at once, and the 1024 `TcpListener::bind` asks for would
/// drop some SYNs and delay their reports by a retransmit.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // A restarted server binds again while the old one's connections sit
    // in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog())?;
    TcpListener::from_std(socket.into())
}

fn backlog() -> i32 {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .map_or(MIN_BACKLOG, |n| n.max(MIN_BACKLOG))
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit, as Go's runtime
/// does at start (the soft default of 1024 is a relic of `select`), and
/// returns the soft limit now in force; `None` when it is unlimited or
/// cannot be read.
pub fn raise_nofile() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    // `None` is unlimited: nothing to raise to, or nothing to raise.
    if let (Some(soft), Some(hard)) = (limit.current, limit.maximum)
        && soft < hard
    {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => limit = getrlimit(Resource::Nofile),
            Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
        }
    }
    limit.current
}

/// The connection limit in force: `configured`, but never closer than
/// [`RESERVED_FDS`] to the soft descriptor limit (half of it, when that is
/// tiny), so accepting cannot starve the process of its own files.
pub fn connection_limit(configured: usize, nofile: Option<u64>) -> usize {
    let Some(soft) = nofile else {
        return configured.max(1);
    };
    let room = if soft > 2 * RESERVED_FDS {
        soft - RESERVED_FDS
    } else {
        soft / 2
    };
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    configured.min(room).max(1)
}

#[cfg(test)]
mod tests {
    use super::connection_limit;

    #[test]
    fn the_connection_limit_leaves_room_under_the_descriptor_limit() {
        // (configured, soft limit) → in force
        let cases = [
            (10_000, Some(1_048_576), 10_000),
            (10_000, Some(1_024), 896),
            (1_024, Some(1_024), 896),
            (500, Some(1_024), 500),
            (1_024, Some(200), 100),
            (1_024, Some(1), 1),
            (1_024, None, 1_024),
        ];
        for (configured, soft, want) in cases {
            assert_eq!(
                connection_limit(configured, soft),
                want,
                "{configured} under {soft:?}"
            );
        }
    }

    #[tokio::test]
    async fn binding_gives_a_listener_on_the_asked_address() {
        let l = super::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        assert!(l.local_addr().unwrap().ip().is_loopback());
        assert!(super::raise_nofile().is_none_or(|n| n >= 1));
    }
}
