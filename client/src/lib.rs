//! Clients for Rust game servers: a DogStatsD client that never blocks the
//! game loop, and (in [`flags`]) feature flags evaluated in process.
//!
//! [`Client`]: each call formats one line and hands it to a bounded queue; a background
//! thread packs lines into datagrams (up to one MTU for UDP) and sends them to
//! the liveops agent. When the queue is full the line is dropped and counted
//! ([`Client::dropped`]): a slow or absent agent must never stall a tick.
//!
//! ```no_run
//! let stats = liveops_client::Client::udp("127.0.0.1:8125").unwrap();
//! stats.timing_ms(liveops_protocol::signal::TICK_DURATION, 42.0, &[]);
//! stats.incr(liveops_protocol::signal::REQUEST, &[("op", "march"), ("status", "ok")]);
//! ```
//!
//! Any DogStatsD client works with the agent; this one exists so that Rust
//! servers get batching and drop accounting without a runtime dependency.
//!
//! [`flags`] (the default `flags` feature) reads feature flags and kill
//! switches from an in-process copy of the agent's snapshot.

#[cfg(feature = "flags")]
pub mod flags;
mod sender;

use std::fmt::Write as _;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::Duration;

pub use liveops_protocol::signal;

/// Where datagrams go.
#[derive(Clone, Debug)]
pub enum Target {
    Udp(SocketAddr),
    /// A Unix datagram socket (the agent's `--statsd-unix`).
    Unix(PathBuf),
}

/// Settings for a [`Client`]; the defaults suit a game server on one host.
#[derive(Clone, Debug)]
pub struct Builder {
    target: Target,
    queue: usize,
    max_datagram: usize,
    flush_interval: Duration,
    tags: Vec<(String, String)>,
}

impl Builder {
    pub fn new(target: Target) -> Self {
        // 1432 bytes keeps a UDP datagram inside one Ethernet frame; a Unix
        // socket has no MTU, so larger datagrams there cost fewer syscalls.
        let max_datagram = match target {
            Target::Udp(_) => 1432,
            Target::Unix(_) => 8192,
        };
        Self {
            target,
            queue: 16 * 1024,
            max_datagram,
            flush_interval: Duration::from_millis(10),
            tags: Vec::new(),
        }
    }

    /// Lines held before new ones are dropped.
    pub fn queue(mut self, lines: usize) -> Self {
        self.queue = lines.max(1);
        self
    }

    /// Largest datagram sent.
    pub fn max_datagram(mut self, bytes: usize) -> Self {
        self.max_datagram = bytes.max(64);
        self
    }

    /// Longest a line waits in a partly filled datagram.
    pub fn flush_interval(mut self, every: Duration) -> Self {
        self.flush_interval = every;
        self
    }

    /// A tag added to every line (for example `shard:3`).
    pub fn tag(mut self, key: &str, value: &str) -> Self {
        self.tags.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn build(self) -> io::Result<Client> {
        let stats = Arc::new(Stats::default());
        let (tx, rx) = std::sync::mpsc::sync_channel(self.queue);
        let socket = sender::Socket::connect(&self.target)?;
        let thread_stats = Arc::clone(&stats);
        let (max, every) = (self.max_datagram, self.flush_interval);
        std::thread::Builder::new()
            .name("liveops-statsd".into())
            .spawn(move || sender::run(socket, rx, max, every, &thread_stats))?;
        let mut suffix = String::new();
        for (k, v) in &self.tags {
            let sep = if suffix.is_empty() { "|#" } else { "," };
            let _ = write!(suffix, "{sep}{k}:{v}");
        }
        Ok(Client {
            inner: Arc::new(Inner {
                tx,
                stats,
                constant_tags: suffix,
            }),
        })
    }
}

/// A cheap-to-clone handle; the sender thread ends when the last clone drops,
/// after sending what was queued.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    tx: SyncSender<sender::Msg>,
    stats: Arc<Stats>,
    /// `|#k:v,...` for the builder's constant tags, or empty.
    constant_tags: String,
}

#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) dropped: AtomicU64,
    pub(crate) send_errors: AtomicU64,
    pub(crate) datagrams: AtomicU64,
}

impl Client {
    /// A client sending to the agent's UDP listener.
    pub fn udp(addr: impl ToSocketAddrs) -> io::Result<Client> {
        let addr = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address"))?;
        Builder::new(Target::Udp(addr)).build()
    }

    /// A client sending to the agent's Unix datagram socket.
    pub fn unix(path: impl Into<PathBuf>) -> io::Result<Client> {
        Builder::new(Target::Unix(path.into())).build()
    }

    pub fn builder(target: Target) -> Builder {
        Builder::new(target)
    }

    /// Adds `value` to a counter.
    pub fn count(&self, name: &str, value: i64, tags: &[(&str, &str)]) {
        self.send(name, &value.to_string(), "c", tags);
    }

    /// Adds one to a counter.
    pub fn incr(&self, name: &str, tags: &[(&str, &str)]) {
        self.send(name, "1", "c", tags);
    }

    /// Sets a gauge.
    pub fn gauge(&self, name: &str, value: f64, tags: &[(&str, &str)]) {
        self.send(name, &fmt_f64(value), "g", tags);
    }

    /// Records a duration in milliseconds (DogStatsD `ms`).
    pub fn timing_ms(&self, name: &str, ms: f64, tags: &[(&str, &str)]) {
        self.send(name, &fmt_f64(ms), "ms", tags);
    }

    /// Records a value into a histogram (DogStatsD `h`).
    pub fn histogram(&self, name: &str, value: f64, tags: &[(&str, &str)]) {
        self.send(name, &fmt_f64(value), "h", tags);
    }

    /// Lines dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.inner.stats.dropped.load(Ordering::Relaxed)
    }

    /// Datagrams the socket refused (agent absent, buffer full).
    pub fn send_errors(&self) -> u64 {
        self.inner.stats.send_errors.load(Ordering::Relaxed)
    }

    /// Datagrams sent.
    pub fn datagrams(&self) -> u64 {
        self.inner.stats.datagrams.load(Ordering::Relaxed)
    }

    /// Sends whatever is batched now instead of at the next flush interval.
    pub fn flush(&self) {
        let _ = self.inner.tx.try_send(sender::Msg::Flush);
    }

    fn send(&self, name: &str, value: &str, kind: &str, tags: &[(&str, &str)]) {
        let mut line = String::with_capacity(name.len() + value.len() + 16 + tags.len() * 16);
        line.push_str(name);
        line.push(':');
        line.push_str(value);
        line.push('|');
        line.push_str(kind);
        line.push_str(&self.inner.constant_tags);
        for (i, (k, v)) in tags.iter().enumerate() {
            let sep = if i == 0 && self.inner.constant_tags.is_empty() {
                "|#"
            } else {
                ","
            };
            line.push_str(sep);
            line.push_str(k);
            line.push(':');
            line.push_str(v);
        }
        match self.inner.tx.try_send(sender::Msg::Line(line)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.inner.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn fmt_f64(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    #[test]
    fn lines_are_batched_into_datagrams_in_dogstatsd_format() {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let client = Builder::new(Target::Udp(sock.local_addr().unwrap()))
            .tag("world", "w1")
            .build()
            .unwrap();
        client.timing_ms("tick.duration", 12.5, &[]);
        client.incr("request", &[("op", "march"), ("status", "ok")]);
        client.gauge("players.online", 1200.0, &[]);
        client.flush();
        let mut buf = [0u8; 2048];
        let mut got = String::new();
        while got.lines().count() < 3 {
            let n = sock.recv(&mut buf).unwrap();
            got.push_str(std::str::from_utf8(&buf[..n]).unwrap());
            got.push('\n');
        }
        let lines: Vec<&str> = got.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines,
            [
                "tick.duration:12.5|ms|#world:w1",
                "request:1|c|#world:w1,op:march,status:ok",
                "players.online:1200|g|#world:w1",
            ]
        );
        assert_eq!(client.dropped(), 0);
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let client = Builder::new(Target::Udp(sock.local_addr().unwrap()))
            .queue(1)
            .flush_interval(Duration::from_secs(60))
            .build()
            .unwrap();
        for _ in 0..10_000 {
            client.incr("request", &[]);
        }
        assert!(client.dropped() > 0);
    }
}
