//! Operator overrides and one-click mitigations on the collector.
//!
//! Every change goes the same way: it is made on a copy of the [`Book`],
//! the copy is written to sled, the change is published as an event (which
//! the audit log records before publishing returns), both are flushed, and
//! only then does the copy become the book and get published to the
//! agents' streams. A change that cannot be audited does not happen.
//!
//! - `book.rs`: the pure book: ids, grouping, layering, expiry;
//!   `change.rs`: what a change did, as the event stream tells it.
//! - [`http`]: the JSON API (`/api/v1/mitigations`, `/api/v1/overrides`);
//!   `checks.rs`: what it checks in a request (reason, ttl, scope ids).
//! - [`push`]: the server-sent event stream each agent subscribes to.

mod book;
mod change;
mod checks;
pub mod http;
pub mod push;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use liveops_config::Catalogue;
use liveops_flags::{FlagValue, Override, Scope};
use serde_json::Value;
use tokio::sync::watch;

pub use book::{Application, Book, Request};
pub use change::{Action, Change};

use crate::CollectorError;
use crate::auth::Caller;
use crate::events::{Event, Events};
use crate::store::Store;

const BOOK_KEY: &[u8] = b"overrides";

/// What the operator got wrong, worded for them; or an internal failure.
#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Internal(#[from] CollectorError),
}

pub struct Overrides {
    catalogue: Catalogue,
    /// Every bundle that can be in force: the catalogue's, and any in the
    /// restored book that has since left it. Fixed at start, so the
    /// mitigations gauge has a bounded label set and no stale series.
    mitigation_names: Vec<String>,
    book: Mutex<Book>,
    /// The book as last committed, for the agents' streams.
    published: watch::Sender<Arc<Book>>,
    /// Turns true at shutdown: streams end so the server can stop.
    stop: watch::Receiver<bool>,
}

/// Who changes the book: a token's name and role, or the collector itself.
pub struct Actor<'a> {
    pub name: &'a str,
    pub role: &'a str,
}

/// Why, and for how long (`None`: until reverted).
pub struct Why<'a> {
    pub reason: &'a str,
    pub ttl: Option<Duration>,
}

impl<'a> From<&'a Caller> for Actor<'a> {
    fn from(c: &'a Caller) -> Self {
        Actor {
            name: &c.name,
            role: c.role.as_str(),
        }
    }
}

impl Overrides {
    /// Restores the book from `store`.
    pub fn open(
        catalogue: Catalogue,
        store: &Store,
        stop: watch::Receiver<bool>,
    ) -> Result<Overrides, CollectorError> {
        let book: Book = store.get(BOOK_KEY)?.unwrap_or_default();
        tracing::info!(
            overrides = book.overrides().len(),
            mitigations = book.applications().len(),
            version = book.version(),
            "operator overrides restored"
        );
        let mut mitigation_names: Vec<String> = catalogue
            .mitigations
            .names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        for app in book.applications() {
            if !mitigation_names.contains(&app.mitigation) {
                mitigation_names.push(app.mitigation.clone());
            }
        }
        Ok(Overrides {
            catalogue,
            mitigation_names,
            published: watch::channel(Arc::new(book.clone())).0,
            book: Mutex::new(book),
            stop,
        })
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// The bundle names the mitigations gauge is labelled with.
    pub fn mitigation_names(&self) -> &[String] {
        &self.mitigation_names
    }

    pub fn subscribe(&self) -> watch::Receiver<Arc<Book>> {
        self.published.subscribe()
    }

    pub fn book(&self) -> Arc<Book> {
        self.published.borrow().clone()
    }

    pub(crate) fn stopped(&self) -> watch::Receiver<bool> {
        self.stop.clone()
    }

    fn lock(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies the bundle `name` to `scope`; the bundle's `default_ttl`
    /// when no `ttl` is given. The application and the overrides it set.
    /// Blocking.
    pub fn mitigate(
        &self,
        env: (&Store, &Events),
        who: Actor<'_>,
        why: Why<'_>,
        name: &str,
        scope: Scope,
    ) -> Result<((Application, Vec<Override>), u64), OverrideError> {
        let bundle = self.catalogue.mitigations.get(name).ok_or_else(|| {
            OverrideError::NotFound(format!(
                "unknown mitigation `{name}`; known: {}",
                self.catalogue.mitigations.names().join(", ")
            ))
        })?;
        let req = Request {
            actor: who.name,
            reason: why.reason,
            ttl: why.ttl.or(bundle.default_ttl),
        };
        self.commit(env, &who, |book| {
            let (app, change) = book.mitigate(bundle, scope, &req, SystemTime::now());
            Ok(((app, change.overrides.clone()), vec![change]))
        })
    }

    /// Sets `flag` to `value` for `scope`; the value must have the type
    /// of the flag's default. Blocking.
    pub fn set(
        &self,
        env: (&Store, &Events),
        who: Actor<'_>,
        why: Why<'_>,
        flag: &str,
        value: FlagValue,
        scope: Scope,
    ) -> Result<(Override, u64), OverrideError> {
        let default = &self.flag(flag)?.default;
        if default.type_name() != value.type_name() {
            return Err(OverrideError::Invalid(format!(
                "`{flag}` is a {} flag (default {default}); {value} is a {}",
                default.type_name(),
                value.type_name()
            )));
        }
        let req = Request {
            actor: who.name,
            reason: why.reason,
            ttl: why.ttl,
        };
        self.commit(env, &who, |book| {
            let (o, change) = book.set(flag, value, scope, &req, SystemTime::now());
            Ok((o, vec![change]))
        })
    }

    /// Reads a value given in an API call for `flag`: text is read in the
    /// type of the flag's default (`false`, `250`, `{"a": 1}`), JSON as is.
    pub fn parse_value(&self, flag: &str, given: &Value) -> Result<FlagValue, OverrideError> {
        let default = &self.flag(flag)?.default;
        let value = match given {
            Value::String(text) => FlagValue::parse_like(text, default),
            other => serde_json::from_value::<FlagValue>(other.clone())
                .map_err(|_| format!("`{other}` is not a flag value")),
        }
        .map_err(|why| OverrideError::Invalid(format!("value for `{flag}`: {why}")))?;
        if value.type_name() != default.type_name() {
            return Err(OverrideError::Invalid(format!(
                "`{flag}` is a {} flag (default {default}); {value} is a {}",
                default.type_name(),
                value.type_name()
            )));
        }
        Ok(value)
    }

    fn flag(&self, key: &str) -> Result<&liveops_flags::Flag, OverrideError> {
        self.catalogue.flags.get(key).ok_or_else(|| {
            OverrideError::NotFound(format!(
                "unknown flag `{key}`: not in the flag catalogue (`liveops flag docs` lists them)"
            ))
        })
    }

    /// Reverts `m-N` or `o-N`. Blocking.
    pub fn revert(
        &self,
        env: (&Store, &Events),
        who: Actor<'_>,
        id: &str,
        reason: &str,
    ) -> Result<(Change, u64), OverrideError> {
        self.commit(env, &who, |book| match book.revert(id, reason) {
            Some(change) => Ok((change.clone(), vec![change])),
            None => Err(OverrideError::NotFound(format!(
                "nothing in force has id `{id}`: it may have expired or been reverted already (`liveops mitigate list`)"
            ))),
        })
    }

    /// Removes what has expired by `now`, audited as `expire`. Blocking.
    pub fn expire(&self, env: (&Store, &Events), now: SystemTime) -> Result<usize, OverrideError> {
        let who = Actor {
            name: "collector",
            role: "system",
        };
        let (n, _) = self.commit(env, &who, |book| {
            let changes = book.expire(now);
            Ok((changes.len(), changes))
        })?;
        Ok(n)
    }

    fn commit<T>(
        &self,
        (store, events): (&Store, &Events),
        who: &Actor<'_>,
        change: impl FnOnce(&mut Book) -> Result<(T, Vec<Change>), OverrideError>,
    ) -> Result<(T, u64), OverrideError> {
        let mut book = self.lock();
        let mut next = book.clone();
        let (out, changes) = change(&mut next)?;
        if changes.is_empty() {
            return Ok((out, book.version()));
        }
        store.put(BOOK_KEY, &next)?;
        let happened = changes
            .iter()
            .map(|c| Event::Action(c.action(who)))
            .collect();
        if let Err(e) = events.publish(happened) {
            // Not audited, so not done: the stored book goes back too.
            store.put(BOOK_KEY, &*book)?;
            return Err(e.into());
        }
        // Audited, so done: the agents get it even if the flush below
        // fails (sled retries it in the background within 200 ms).
        *book = next;
        let version = book.version();
        self.published.send_replace(Arc::new(book.clone()));
        if let Err(e) = store.flush() {
            tracing::error!(error = %e, version, "override change applied and audited, but not yet flushed to disk");
        }
        Ok((out, version))
    }
}
