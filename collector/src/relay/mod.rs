//! Operator commands relayed to one world's agent (see
//! [`liveops_protocol::command`] for the road they take).
//!
//! Each agent holds a command stream open; [`Relay::send`] puts a command
//! on the newest stream of its world and waits for the agent to post the
//! outcome back ([`Relay::answer`]). Nothing is queued for an agent that is
//! not connected: the operator is told at once that no agent of the world
//! is listening, rather than finding a stale command run an hour later.
//!
//! - `http.rs`: the operator's route, the agent's stream and result routes.

pub mod http;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use liveops_protocol::command::{Command, Outcome};
use tokio::sync::{mpsc, oneshot, watch};

/// Commands waiting on one agent's stream before `send` says it is busy.
const STREAM_QUEUE: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RelayError {
    #[error("no agent of world {0} is connected to the collector")]
    NoAgent(String),
    #[error("the agent of world {world} did not answer within {after:?}")]
    Timeout { world: String, after: Duration },
    #[error("the agent of world {0} went away before answering")]
    Gone(String),
    #[error("the agent of world {0} has {STREAM_QUEUE} commands waiting already; try again")]
    Busy(String),
}

struct Stream {
    conn: u64,
    tx: mpsc::Sender<Command>,
}

struct Waiting {
    world: String,
    /// The stream it went out on, once sent.
    conn: Option<u64>,
    tx: oneshot::Sender<Outcome>,
}

pub struct Relay {
    next: AtomicU64,
    streams: Mutex<HashMap<String, Vec<Stream>>>,
    waiting: Mutex<HashMap<String, Waiting>>,
    stop: watch::Receiver<bool>,
}

/// An agent's place on its world's list while its stream is open.
pub struct Listening {
    relay: std::sync::Arc<Relay>,
    world: String,
    conn: u64,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let mut streams = lock(&self.relay.streams);
        if let Some(list) = streams.get_mut(&self.world) {
            list.retain(|s| s.conn != self.conn);
            if list.is_empty() {
                streams.remove(&self.world);
            }
        }
        drop(streams);
        // What went out on this stream will not be answered: its senders
        // are dropped, so those operators hear "went away" now.
        lock(&self.relay.waiting).retain(|_, w| w.conn != Some(self.conn));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Relay {
    pub fn new(stop: watch::Receiver<bool>) -> Relay {
        Relay {
            next: AtomicU64::new(1),
            streams: Mutex::default(),
            waiting: Mutex::default(),
            stop,
        }
    }

    /// Registers an agent's stream for `world`.
    pub fn listen(
        self: &std::sync::Arc<Self>,
        world: &str,
    ) -> (Listening, mpsc::Receiver<Command>) {
        let conn = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(STREAM_QUEUE);
        lock(&self.streams)
            .entry(world.to_owned())
            .or_default()
            .push(Stream { conn, tx });
        let guard = Listening {
            relay: self.clone(),
            world: world.to_owned(),
            conn,
        };
        (guard, rx)
    }

    pub(crate) fn stopped(&self) -> watch::Receiver<bool> {
        self.stop.clone()
    }

    /// A fresh command id: a counter and 64 random bits, so an agent of
    /// another world cannot guess and answer someone else's command.
    pub fn id(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        // std's hasher keys are drawn from the OS's randomness.
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        format!("c-{n}-{:016x}", h.finish())
    }

    /// Sends `cmd` to an agent of `world` and waits for its outcome.
    pub async fn send(
        &self,
        world: &str,
        cmd: Command,
        timeout: Duration,
    ) -> Result<Outcome, RelayError> {
        let (tx, rx) = oneshot::channel();
        let id = cmd.id.clone();
        lock(&self.waiting).insert(
            id.clone(),
            Waiting {
                world: world.to_owned(),
                conn: None,
                tx,
            },
        );
        let result = match self.deliver(world, cmd) {
            Err(e) => Err(e),
            Ok(()) => match tokio::time::timeout(timeout, rx).await {
                Ok(Ok(outcome)) => Ok(outcome),
                Ok(Err(_)) => Err(RelayError::Gone(world.to_owned())),
                Err(_) => Err(RelayError::Timeout {
                    world: world.to_owned(),
                    after: timeout,
                }),
            },
        };
        lock(&self.waiting).remove(&id);
        result
    }

    /// Puts `cmd` on the newest open stream of `world` (an agent that
    /// restarted leaves an older, dying one behind for a moment).
    fn deliver(&self, world: &str, mut cmd: Command) -> Result<(), RelayError> {
        let mut streams = lock(&self.streams);
        let list = streams
            .get_mut(world)
            .ok_or_else(|| RelayError::NoAgent(world.to_owned()))?;
        while let Some(stream) = list.last() {
            let (id, conn) = (cmd.id.clone(), stream.conn);
            match stream.tx.try_send(cmd) {
                Ok(()) => {
                    // Under the streams lock, so the stream cannot close
                    // unnoticed between sending and recording where to.
                    if let Some(w) = lock(&self.waiting).get_mut(&id) {
                        w.conn = Some(conn);
                    }
                    return Ok(());
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    return Err(RelayError::Busy(world.to_owned()));
                }
                Err(mpsc::error::TrySendError::Closed(c)) => {
                    cmd = c;
                    list.pop();
                }
            }
        }
        Err(RelayError::NoAgent(world.to_owned()))
    }

    /// An agent's outcome for command `id`; false when nobody waits for it
    /// (unknown, timed out, or not a command of `world`).
    pub fn answer(&self, id: &str, world: &str, outcome: Outcome) -> bool {
        let mut waiting = lock(&self.waiting);
        match waiting.get(id) {
            Some(w) if w.world == world => {}
            _ => return false,
        }
        waiting
            .remove(id)
            .is_some_and(|w| w.tx.send(outcome).is_ok())
    }
}

#[cfg(test)]
mod tests;
