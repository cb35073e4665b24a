//! The accept loop: `accept`, then a connection slot, then a task per
//! connection; at stop, no more accepting, and every connection finishes.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use liveops_config::HttpConfig;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use crate::conn::{Conn, serve_one};
use crate::evict::Registry;
use crate::listen;

/// After asking an idle connection to close, how long to wait for its slot
/// before choosing again (it may have turned busy meanwhile).
const EVICT_RETRY: Duration = Duration::from_millis(20);
/// Connections asked to close at once when the limit is reached (nginx's
/// number).
const EVICT_BATCH: usize = 32;
/// Pause after an accept error that is not one client's, so as not to spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A bound listener with its limits, ready to serve.
pub struct Server {
    listener: TcpListener,
    limits: HttpConfig,
    what: &'static str,
    registry: Arc<Registry>,
}

/// How a server's connections fare, for the binary's `/metrics`: read at
/// scrape time, so the serving loop knows nothing of metric names.
#[derive(Clone)]
pub struct ConnStats(Arc<Registry>);

impl ConnStats {
    /// Connections open now.
    pub fn open(&self) -> usize {
        self.0.open()
    }

    /// Connections accepted since start.
    pub fn accepted(&self) -> u64 {
        self.0.accepted()
    }

    /// Idle connections closed to make room for a newcomer since start:
    /// more than now and then means `max_connections` is too low.
    pub fn evicted(&self) -> u64 {
        self.0.evicted()
    }
}

impl Server {
    /// Binds `addr` (see [`listen::bind`]), raises the descriptor limit and
    /// sets the connection limit under it, and logs the limit in force.
    /// `what` names the server in logs.
    pub fn bind(addr: SocketAddr, limits: &HttpConfig, what: &'static str) -> io::Result<Server> {
        let listener = listen::bind(addr)?;
        let nofile = listen::raise_nofile();
        let mut limits = limits.clone();
        let configured = limits.max_connections;
        limits.max_connections = listen::connection_limit(configured, nofile);
        if limits.max_connections < configured {
            tracing::warn!(server = what, max_connections = limits.max_connections, configured, open_file_limit = ?nofile, "connection limit lowered to fit the open-file limit");
        } else {
            tracing::info!(server = what, max_connections = limits.max_connections, open_file_limit = ?nofile, header_read_timeout = ?limits.header_read_timeout, idle_timeout = ?limits.idle_timeout, "connection limits");
        }
        Ok(Server {
            listener,
            limits,
            what,
            registry: Arc::new(Registry::new()),
        })
    }

    /// This server's connection figures.
    pub fn stats(&self) -> ConnStats {
        ConnStats(self.registry.clone())
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The connection limit in force.
    pub fn max_connections(&self) -> usize {
        self.limits.max_connections
    }

    /// Serves `app` until `stop` turns true, then stops accepting and
    /// returns once every connection has finished its last response.
    pub async fn serve(self, app: Router, mut stop: watch::Receiver<bool>) {
        let registry = self.registry.clone();
        let slots = Arc::new(Semaphore::new(self.limits.max_connections));
        let mut conns = JoinSet::new();
        let mut next_id = 0u64;
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                _ = stop.wait_for(|s| *s) => break,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    self.accept_failed(e, &registry).await;
                    continue;
                }
            };
            // A slot only once someone is waiting for one, so that room is
            // made only for a real newcomer; while every connection is busy
            // this one waits (one descriptor over the limit, within the
            // reserve) and nothing more is accepted.
            let slot = tokio::select! {
                slot = free_slot(&slots, &registry) => slot,
                _ = stop.wait_for(|s| *s) => break,
            };
            // Override events and OFREP answers are small writes: without
            // TCP_NODELAY, Nagle can hold one back for a delayed ACK.
            let _ = stream.set_nodelay(true);
            next_id += 1;
            let conn = Conn::new(registry.clone());
            let listed = Listed::new(&registry, next_id, conn.clone());
            let (app, limits, stop) = (app.clone(), self.limits.clone(), stop.clone());
            conns.spawn(async move {
                let _held = (slot, listed);
                serve_one(stream, app, conn, limits, stop).await;
            });
            while conns.try_join_next().is_some() {}
        }
        drop(self.listener);
        while conns.join_next().await.is_some() {}
    }

    async fn accept_failed(&self, e: io::Error, registry: &Registry) {
        // A connection reset before it was accepted is that client's affair.
        if matches!(
            e.kind(),
            io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::Interrupted
        ) {
            return;
        }
        // Out of descriptors all the same (the process's own files grew):
        // shed an idle connection and back off rather than spin.
        tracing::error!(server = self.what, error = %e, "accept error");
        registry.evict_longest_idle(1);
        tokio::time::sleep(ACCEPT_BACKOFF).await;
    }
}

/// A connection slot; at the limit, made by closing the longest-idle
/// connections, or awaited while every connection is busy.
async fn free_slot(slots: &Arc<Semaphore>, registry: &Registry) -> OwnedSemaphorePermit {
    loop {
        if let Ok(slot) = slots.clone().try_acquire_owned() {
            return slot;
        }
        let evicted = registry.evict_longest_idle(EVICT_BATCH) > 0;
        tokio::select! {
            slot = slots.clone().acquire_owned() => {
                // The semaphore is never closed.
                if let Ok(slot) = slot {
                    return slot;
                }
            }
            _ = registry.room.notified(), if !evicted => {}
            _ = tokio::time::sleep(EVICT_RETRY), if evicted => {}
        }
    }
}

/// A connection's entry in the registry, removed however its task ends.
struct Listed {
    registry: Arc<Registry>,
    id: u64,
}

impl Listed {
    fn new(registry: &Arc<Registry>, id: u64, conn: Arc<Conn>) -> Listed {
        registry.add(id, conn);
        Listed {
            registry: registry.clone(),
            id,
        }
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        self.registry.remove(self.id);
    }
}
