//! The handle game code reads flags through.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use liveops_flags::{Context, EvalError, FlagValue, Reason, Snapshot, SnapshotDoc};
use tokio::sync::oneshot;

use super::builder::{FlagClientBuilder, FlagClientError};
use super::context::ContextBuilder;
use super::store::Store;

/// Reads flags from an in-process snapshot kept in sync with the agent.
///
/// Cheap to clone and shareable across threads; the sync thread stops when
/// the last clone drops. Typed reads never fail: a missing flag, a value of
/// another type, or no snapshot yet all give the caller's default, which
/// should be the safe behaviour for that call site. [`FlagClient::details`]
/// says which of those happened.
#[derive(Clone)]
pub struct FlagClient {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<Store>,
    world: Option<String>,
    /// `{world}` alone, for reads that concern the whole world.
    world_ctx: Context,
    sync: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

/// One evaluation, as OpenFeature reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Details {
    pub value: FlagValue,
    pub reason: Reason,
    /// `default`, `rule-N`, `override-ID` or `fail-safe`.
    pub variant: String,
    /// The snapshot version that answered.
    pub version: String,
}

/// Why [`FlagClient::details`] has no value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("no flag snapshot from the agent yet")]
    NotReady,
    #[error("no flag `{0}`")]
    FlagNotFound(String),
    #[error("the agent's flag file never loaded: {0}")]
    ParseError(String),
}

impl ReadError {
    /// The OpenFeature error code.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::NotReady => "PROVIDER_NOT_READY",
            ReadError::FlagNotFound(_) => "FLAG_NOT_FOUND",
            ReadError::ParseError(_) => "PARSE_ERROR",
        }
    }
}

/// How the sync with the agent is going.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The version of the snapshot being served, if any.
    pub version: Option<String>,
    /// Whether the change stream is open right now.
    pub connected: bool,
    /// Snapshots loaded since the client started.
    pub snapshots: u64,
    /// The most recent sync failure, kept after recovery for diagnosis.
    pub last_error: Option<String>,
}

impl FlagClient {
    pub fn builder(agent: impl Into<String>) -> FlagClientBuilder {
        FlagClientBuilder::new(agent)
    }

    /// A client following the agent at `agent` (its HTTP base URL) for a
    /// server in `world`, with default settings.
    pub fn connect(agent: &str, world: &str) -> Result<FlagClient, FlagClientError> {
        FlagClientBuilder::new(agent).world(world).build()
    }

    /// A client that serves `doc` and never connects: for a game server's
    /// own tests, and for benchmarks.
    pub fn offline(doc: SnapshotDoc, world: Option<&str>) -> FlagClient {
        let store = Arc::new(Store::with(Snapshot::new(doc)));
        FlagClient::new(store, world.map(str::to_owned), None)
    }

    pub(crate) fn new(
        store: Arc<Store>,
        world: Option<String>,
        sync: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
    ) -> FlagClient {
        let world_ctx = Context {
            world: world.clone(),
            ..Context::default()
        };
        FlagClient {
            inner: Arc::new(Inner {
                store,
                world,
                world_ctx,
                sync,
            }),
        }
    }

    /// A context builder with this client's world already set.
    pub fn context(&self) -> ContextBuilder {
        match &self.inner.world {
            Some(w) => ContextBuilder::new().world(w.as_str()),
            None => ContextBuilder::new(),
        }
    }

    /// The context of the whole world: no village, account or player.
    pub fn world_context(&self) -> &Context {
        &self.inner.world_ctx
    }

    pub fn bool(&self, key: &str, ctx: &Context, default: bool) -> bool {
        self.read(key, ctx, FlagValue::as_bool).unwrap_or(default)
    }

    pub fn int(&self, key: &str, ctx: &Context, default: i64) -> i64 {
        self.read(key, ctx, FlagValue::as_i64).unwrap_or(default)
    }

    /// Integer flags are read as floats too.
    pub fn float(&self, key: &str, ctx: &Context, default: f64) -> f64 {
        self.read(key, ctx, FlagValue::as_f64).unwrap_or(default)
    }

    pub fn string(&self, key: &str, ctx: &Context, default: &str) -> String {
        self.read(key, ctx, |v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| default.to_owned())
    }

    /// The value with its reason and variant, or why there is none.
    pub fn details(&self, key: &str, ctx: &Context) -> Result<Details, ReadError> {
        let guard = self.inner.store.snapshot.load();
        let snap = guard.as_deref().ok_or(ReadError::NotReady)?;
        match snap.evaluate_now(key, ctx) {
            Ok(e) => Ok(Details {
                value: e.value.clone(),
                reason: e.reason,
                variant: e.variant.to_string(),
                version: snap.version().to_owned(),
            }),
            Err(EvalError::FlagNotFound) => Err(ReadError::FlagNotFound(key.to_owned())),
            Err(EvalError::ParseError(why)) => Err(ReadError::ParseError(why)),
        }
    }

    /// Serves `doc` from now on. Meant for an [`offline`](Self::offline)
    /// client in a game server's tests (flip a kill switch mid-test); on a
    /// connected client the next change from the agent replaces it.
    pub fn set_snapshot(&self, doc: SnapshotDoc) {
        self.inner.store.publish(Snapshot::new(doc));
    }

    /// The snapshot being served, whole: to evaluate several flags against
    /// one consistent version, or to list the flags.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        let guard = self.inner.store.snapshot.load();
        guard.as_ref().map(Arc::clone)
    }

    /// Blocks until the first snapshot has loaded (true) or `timeout` has
    /// passed (false). A server may call it at start-up so that its first
    /// requests see real flags rather than defaults.
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        self.inner.store.wait_loaded(timeout)
    }

    pub fn status(&self) -> Status {
        let (snapshots, last_error) = self.inner.store.progress_now();
        Status {
            version: self.snapshot().map(|s| s.version().to_owned()),
            connected: self.inner.store.connected(),
            snapshots,
            last_error,
        }
    }

    /// The hot path: no lock, no allocation, no syscall (the clock, through
    /// the vDSO, only for a flag with an expiring rule or override). `load`
    /// borrows the snapshot without touching its refcount.
    #[inline]
    fn read<T>(
        &self,
        key: &str,
        ctx: &Context,
        pick: impl FnOnce(&FlagValue) -> Option<T>,
    ) -> Option<T> {
        let guard = self.inner.store.snapshot.load();
        let e = guard.as_deref()?.evaluate_now(key, ctx).ok()?;
        pick(e.value)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.sync.take() {
            // Dropping the sender wakes the thread wherever it waits (a
            // stream read, a backoff sleep); it returns within milliseconds.
            drop(stop);
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for FlagClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlagClient")
            .field("world", &self.inner.world)
            .field("status", &self.status())
            .finish()
    }
}
