//! The receiving end of every page: one HTTP listener that timestamps each
//! POST on arrival and appends it to a JSON-lines file.
//!
//! It also answers `POST /api/v1/reports` like a collector (an ack with the
//! report's `seq`), so an agent pointed at it delivers normally and the
//! bodies it keeps are real reports: that is how the collector benchmark
//! gets its template.
//!
//! With `--pagerduty PATH`, POSTs to that path are answered as PagerDuty's
//! Events API v2 answers an accepted event (202, `status`, `message`,
//! `dedup_key`), so the collector's real `pagerduty` notifier takes the
//! delivery as done, and the routing key is kept out of the file.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    listen: SocketAddr,
    /// One JSON object per POST: `path`, `at_ms`, `body`.
    #[arg(long)]
    out: PathBuf,
    /// A path answered as PagerDuty Events API v2 (`/v2/enqueue` there).
    #[arg(long)]
    pagerduty: Option<String>,
}

struct Sink {
    out: Mutex<std::fs::File>,
    pagerduty: Option<String>,
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&a.out)?;
    let listener = tokio::net::TcpListener::bind(a.listen).await?;
    let app = Router::new().fallback(arrival).with_state(Arc::new(Sink {
        out: Mutex::new(file),
        pagerduty: a.pagerduty,
    }));
    println!(
        "{}",
        serde_json::json!({ "listening": listener.local_addr()? })
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

async fn arrival(State(sink): State<Arc<Sink>>, uri: Uri, body: Bytes) -> Response {
    // Timestamp before anything else: this is the page's arrival.
    let at_ms = crate::unix_ms();
    let mut body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let pagerduty = sink.pagerduty.as_deref() == Some(uri.path());
    if pagerduty && let Some(key) = body.get_mut("routing_key") {
        // A routing key is a secret: the file keeps that there was one.
        *key = serde_json::json!("(redacted)");
    }
    let seq = body.get("seq").and_then(|s| s.as_u64()).unwrap_or(0);
    let dedup_key = body.get("dedup_key").cloned();
    let line = serde_json::json!({ "path": uri.path(), "at_ms": at_ms, "body": body });
    if let Ok(mut f) = sink.out.lock() {
        let _ = writeln!(f, "{line}");
    }
    if pagerduty {
        let answer = serde_json::json!({
            "status": "success",
            "message": "Event processed",
            "dedup_key": dedup_key,
        });
        return (StatusCode::ACCEPTED, axum::Json(answer)).into_response();
    }
    axum::Json(serde_json::json!({ "seq": seq, "duplicate": false })).into_response()
}
