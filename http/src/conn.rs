//! One connection: which phase it is in, when that phase must end, and the
//! hyper connection serving it.
//!
//! The phase is tracked from three edges, all inside the connection's own
//! task: bytes arriving on the socket ([`Watched`]), a request reaching the
//! router, and its response body being dropped by hyper once sent
//! ([`Tracked`]). So a response still streaming (server-sent events) keeps
//! the connection busy, and a half-sent head is told from an idle socket.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use liveops_config::HttpConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::evict::Registry;

/// Milliseconds since the server started, on tokio's clock (so tests can
/// pause it).
pub(crate) struct Clock {
    epoch: Instant,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            epoch: Instant::now(),
        }
    }

    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn at(&self, ms: u64) -> Instant {
        self.epoch + Duration::from_millis(ms)
    }
}

/// Where a connection is; times in [`Clock`] milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// A request in flight, until its response is sent.
    Busy,
    /// Nothing in flight and no byte of a next request, since `since`.
    Idle { since: u64 },
    /// The first byte of a request head came at `since`.
    Head { since: u64 },
}

/// When a connection in `phase` must be closed; `None` while busy.
pub(crate) fn deadline(phase: Phase, limits: &HttpConfig) -> Option<u64> {
    let after = |since: u64, d: Duration| {
        since.saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    };
    match phase {
        Phase::Busy => None,
        Phase::Idle { since } => Some(after(since, limits.idle_timeout)),
        Phase::Head { since } => Some(after(since, limits.header_read_timeout)),
    }
}

pub(crate) struct Conn {
    registry: Arc<Registry>,
    /// Requests whose response is not yet sent (more than one only when
    /// pipelined).
    in_flight: AtomicUsize,
    idle_since: AtomicU64,
    /// 1 + the time of the first byte of the next head; 0 while none came.
    head_since: AtomicU64,
    /// Asked to close to make room at the connection limit.
    evicting: AtomicBool,
    /// Poked on every phase change and eviction, so the task looks again.
    wake: Notify,
}

impl Conn {
    pub(crate) fn new(registry: Arc<Registry>) -> Arc<Conn> {
        let now = registry.clock.now_ms();
        Arc::new(Conn {
            registry,
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(now),
            head_since: AtomicU64::new(0),
            evicting: AtomicBool::new(false),
            wake: Notify::new(),
        })
    }

    fn phase(&self) -> Phase {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Phase::Busy;
        }
        match self.head_since.load(Ordering::Acquire) {
            0 => Phase::Idle {
                since: self.idle_since.load(Ordering::Acquire),
            },
            h => Phase::Head { since: h - 1 },
        }
    }

    /// Idle since when, if it may be evicted (not busy, not already closing).
    /// A half-sent head counts from the end of the last exchange: it is as
    /// much a held descriptor as an idle socket.
    pub(crate) fn evictable_since(&self) -> Option<u64> {
        match self.phase() {
            _ if self.evicting.load(Ordering::Acquire) => None,
            Phase::Busy => None,
            Phase::Idle { .. } | Phase::Head { .. } => {
                Some(self.idle_since.load(Ordering::Acquire))
            }
        }
    }

    pub(crate) fn evict(&self) {
        self.evicting.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    fn bytes_arrived(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0
            && self.head_since.load(Ordering::Acquire) == 0
        {
            let now = self.registry.clock.now_ms();
            self.head_since
                .store(now.saturating_add(1), Ordering::Release);
            self.wake.notify_one();
        }
    }

    /// Whether the connection is to be closed now.
    fn should_close(&self, limits: &HttpConfig) -> bool {
        let phase = self.phase();
        if phase == Phase::Busy {
            // Chosen while idle, busy since: let the accept loop choose again.
            if self.evicting.swap(false, Ordering::AcqRel) {
                self.registry.room.notify_one();
            }
            return false;
        }
        self.evicting.load(Ordering::Acquire)
            || deadline(phase, limits).is_some_and(|d| self.registry.clock.now_ms() >= d)
    }
}

/// Marks a connection busy from the request reaching the router until its
/// response body is dropped (sent, or the connection gone).
struct Busy(Arc<Conn>);

impl Busy {
    fn enter(conn: &Arc<Conn>) -> Busy {
        conn.in_flight.fetch_add(1, Ordering::AcqRel);
        conn.head_since.store(0, Ordering::Release);
        Busy(conn.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let conn = &self.0;
        if conn.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            let now = conn.registry.clock.now_ms();
            conn.idle_since.store(now, Ordering::Release);
            conn.wake.notify_one();
            conn.registry.room.notify_one();
        }
    }
}

/// A response body that holds its connection busy while it lives.
struct Tracked {
    body: Body,
    _busy: Busy,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The router as a hyper service, marking the connection busy per request.
struct Service {
    app: Router,
    conn: Arc<Conn>,
}

type Answer = Pin<Box<dyn Future<Output = Result<Response<Tracked>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for Service {
    type Response = Response<Tracked>;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, req: Request<Incoming>) -> Answer {
        let busy = Busy::enter(&self.conn);
        let app = self.app.clone();
        Box::pin(async move {
            let resp = app.oneshot(req).await?;
            Ok(resp.map(|body| Tracked { body, _busy: busy }))
        })
    }
}

/// The socket, noticing the first byte of each request head.
struct Watched<S> {
    io: S,
    conn: Arc<Conn>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.conn.bytes_arrived();
        }
        read
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, b)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Serves one connection until the client closes it, a deadline of its
/// phase passes, it is evicted, or (after `stop`) its last response is sent.
pub(crate) async fn serve_one<S>(
    io: S,
    app: Router,
    conn: Arc<Conn>,
    limits: HttpConfig,
    mut stop: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(Watched {
        io,
        conn: conn.clone(),
    });
    let service = Service {
        app,
        conn: conn.clone(),
    };
    let mut h1 = http1::Builder::new();
    // hyper's timer spans idle wait and head together: a backstop only.
    let backstop = limits
        .idle_timeout
        .saturating_add(limits.header_read_timeout);
    h1.timer(TokioTimer::new()).header_read_timeout(backstop);
    let served = h1.serve_connection(io, service);
    tokio::pin!(served);
    let mut draining = false;
    loop {
        let clock = &conn.registry.clock;
        let until = deadline(conn.phase(), &limits).map(|d| clock.at(d));
        let far = Instant::now() + Duration::from_secs(86_400);
        tokio::select! {
            ended = served.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = conn.wake.notified() => {}
            _ = tokio::time::sleep_until(until.unwrap_or(far)), if until.is_some() => {}
            _ = stop.wait_for(|s| *s), if !draining => {
                // Idle connections close now, busy ones after their
                // response; streams end as their handlers see `stop`.
                draining = true;
                served.as_mut().graceful_shutdown();
                continue;
            }
        }
        if conn.should_close(&limits) {
            return;
        }
    }
}
