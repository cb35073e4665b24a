//! The sync thread: one current-thread tokio runtime running one loop.
//!
//! Each session fetches the snapshot, then follows the change stream; the
//! stream sends the version on connect and after every change, and a
//! version other than the one served means "fetch again". Fetching before
//! subscribing cannot miss a change: one made in between shows up as the
//! version sent on connect. Any error ends the session; the loop waits out
//! a backoff and starts a new one, which refetches unconditionally (a
//! restarted agent may reuse a version string for other content).

use std::sync::Arc;
use std::time::Duration;

use liveops_flags::{Snapshot, SnapshotDoc};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, ETAG, IF_NONE_MATCH};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use super::builder::Settings;
use super::store::Store;
use liveops_protocol::backoff::Backoff;
use liveops_protocol::sse;

#[derive(Debug, thiserror::Error)]
enum SyncError {
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("GET {0}: HTTP {1}")]
    Status(String, StatusCode),
    #[error("GET {0}: not a flag snapshot: {1}")]
    Decode(String, serde_json::Error),
    #[error("GET {0}: no answer within {1:?}")]
    Timeout(String, Duration),
    #[error("change stream silent for {0:?}")]
    Idle(Duration),
    #[error("change stream closed by the agent")]
    Closed,
    #[error("change stream sent a line longer than 64 KiB")]
    LineTooLong,
}

/// What a session knows about the snapshot it served last.
#[derive(Default)]
struct Served {
    version: Option<String>,
    /// The agent's `ETag` for it, echoed verbatim in `If-None-Match`.
    etag: Option<String>,
}

pub(crate) fn run(
    runtime: Runtime,
    store: Arc<Store>,
    http: reqwest::Client,
    settings: Settings,
    mut stop: oneshot::Receiver<()>,
) {
    runtime.block_on(async {
        let mut backoff = Backoff::new(settings.backoff_min, settings.backoff_max);
        loop {
            let ended = tokio::select! {
                _ = &mut stop => break,
                ended = session(&store, &http, &settings, &mut backoff) => ended,
            };
            store.set_connected(false);
            store.failed(ended.to_string());
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(backoff.next_delay()) => {}
            }
        }
        store.set_connected(false);
    });
    // Connection tasks die with the runtime; a DNS lookup still running on
    // the blocking pool is not waited for beyond this.
    runtime.shutdown_timeout(Duration::from_millis(100));
}

/// One connection's worth of following; returns only with what ended it.
async fn session(
    store: &Store,
    http: &reqwest::Client,
    s: &Settings,
    backoff: &mut Backoff,
) -> SyncError {
    let mut served = Served::default();
    if let Err(e) = fetch(store, http, s, &mut served).await {
        return e;
    }
    let url = &s.changes_url;
    let open = http.get(url).header(ACCEPT, "text/event-stream").send();
    let mut resp = match tokio::time::timeout(s.request_timeout, open).await {
        Err(_) => return SyncError::Timeout(url.clone(), s.request_timeout),
        Ok(Err(e)) => return e.into(),
        Ok(Ok(r)) if !r.status().is_success() => return SyncError::Status(url.clone(), r.status()),
        Ok(Ok(r)) => r,
    };
    store.set_connected(true);
    let mut parser = sse::Parser::default();
    let mut heard = false;
    loop {
        let chunk = match tokio::time::timeout(s.idle_timeout, resp.chunk()).await {
            Err(_) => return SyncError::Idle(s.idle_timeout),
            Ok(Err(e)) => return e.into(),
            Ok(Ok(None)) => return SyncError::Closed,
            Ok(Ok(Some(chunk))) => chunk,
        };
        let events = match parser.push(&chunk) {
            Ok(events) => events,
            Err(sse::LineTooLong) => return SyncError::LineTooLong,
        };
        for event in events {
            if !heard {
                // Only a stream that delivers counts as a working
                // connection: one that is accepted and dropped at once
                // must keep backing off.
                heard = true;
                backoff.reset();
            }
            if event.name == "changed"
                && served.version.as_deref() != Some(event.data.trim())
                && let Err(e) = fetch(store, http, s, &mut served).await
            {
                return e;
            }
        }
    }
}

/// GETs the snapshot (conditionally once one was served this session) and
/// publishes it if it is new.
async fn fetch(
    store: &Store,
    http: &reqwest::Client,
    s: &Settings,
    served: &mut Served,
) -> Result<(), SyncError> {
    let url = &s.snapshot_url;
    let mut req = http.get(url).timeout(s.request_timeout);
    if let Some(etag) = &served.etag {
        req = req.header(IF_NONE_MATCH, etag);
    }
    let resp = req.send().await?;
    match resp.status() {
        StatusCode::NOT_MODIFIED => return Ok(()),
        ok if ok.is_success() => {}
        bad => return Err(SyncError::Status(url.clone(), bad)),
    }
    let etag = resp
        .headers()
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.bytes().await?;
    let doc: SnapshotDoc =
        serde_json::from_slice(&body).map_err(|e| SyncError::Decode(url.clone(), e))?;
    served.version = Some(doc.version.clone());
    served.etag = etag;
    // Indexing happens here, off the game's threads; readers switch to the
    // new snapshot on their next load.
    store.publish(Snapshot::new(doc));
    Ok(())
}
