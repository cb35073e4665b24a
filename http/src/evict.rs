//! The open connections, and which one to close when the limit is reached.
//!
//! nginx, out of `worker_connections`, closes kept-alive connections to
//! make room rather than stop accepting, up to 32 at a time; so does this.
//! The victims are the connections idle the longest: the least likely to
//! send a request soon (an agent posting every second is never idle long).
//! A batch, so that a flood of newcomers (agents reconnecting after a
//! restart, a connection storm) is not served one eviction at a time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use crate::conn::{Clock, Conn};

/// What the accept loop and the connections share.
pub(crate) struct Registry {
    pub(crate) clock: Clock,
    /// Poked when a connection becomes idle: at the limit, the accept loop
    /// waits for one to close.
    pub(crate) room: Notify,
    /// Never held across an await.
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Connections accepted and connections closed to make room, since
    /// start: for `/metrics`.
    accepted: AtomicU64,
    evicted: AtomicU64,
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            clock: Clock::new(),
            room: Notify::new(),
            open: Mutex::new(HashMap::new()),
            accepted: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
        }
    }

    pub(crate) fn add(&self, id: u64, conn: Arc<Conn>) {
        self.lock().insert(id, conn);
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn open(&self) -> usize {
        self.lock().len()
    }

    pub(crate) fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    pub(crate) fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    pub(crate) fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Asks the `n` longest-idle connections to close; how many were asked.
    pub(crate) fn evict_longest_idle(&self, n: usize) -> usize {
        let open = self.lock();
        let victims = longest_idle(open.iter().map(|(id, c)| (*id, c.evictable_since())), n);
        for id in &victims {
            if let Some(conn) = open.get(id) {
                conn.evict();
            }
        }
        self.evicted
            .fetch_add(victims.len() as u64, Ordering::Relaxed);
        victims.len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The keys of the (at most) `n` connections idle since the earliest
/// times, longest idle first; `None` marks a connection that may not be
/// evicted (busy, or already closing).
pub(crate) fn longest_idle<K: Copy>(
    conns: impl IntoIterator<Item = (K, Option<u64>)>,
    n: usize,
) -> Vec<K> {
    let mut idle: Vec<(u64, K)> = conns
        .into_iter()
        .filter_map(|(key, since)| Some((since?, key)))
        .collect();
    // Only the `n` oldest need sorting: a partition first, so an eviction
    // among ten thousand connections is linear, not a full sort.
    if n < idle.len() {
        idle.select_nth_unstable_by_key(n, |(since, _)| *since);
        idle.truncate(n);
    }
    idle.sort_unstable_by_key(|(since, _)| *since);
    idle.into_iter().map(|(_, key)| key).collect()
}

#[cfg(test)]
mod tests {
    use super::longest_idle;

    #[test]
    fn the_longest_idle_connections_are_chosen_and_never_a_busy_one() {
        // (connections as (id, idle since), how many wanted, chosen)
        type Conns = &'static [(u32, Option<u64>)];
        let cases: &[(Conns, usize, &[u32])] = &[
            (&[], 1, &[]),
            (&[(1, None), (2, None)], 1, &[]),
            (&[(1, Some(500)), (2, Some(100)), (3, Some(300))], 1, &[2]),
            (
                &[(1, Some(500)), (2, Some(100)), (3, Some(300))],
                2,
                &[2, 3],
            ),
            (&[(1, None), (2, Some(900)), (3, None)], 32, &[2]),
            // Idle since the accept (never sent a byte) counts the same.
            (&[(7, Some(0)), (8, Some(1))], 1, &[7]),
            (&[(7, Some(0)), (8, Some(1))], 0, &[]),
        ];
        for (conns, n, want) in cases {
            assert_eq!(
                longest_idle(conns.iter().copied(), *n),
                *want,
                "{conns:?} {n}"
            );
        }
    }
}
