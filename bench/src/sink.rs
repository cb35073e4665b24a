//! The receiving end of every page: one HTTP listener that timestamps each
//! POST on arrival and appends it to a JSON-lines file.
//!
//! It also answers `POST /api/v1/reports` like a collector (an ack with the
//! report's `seq`), so an agent pointed at it delivers normally and the
//! bodies it keeps are real reports: that is how the collector benchmark
//! gets its template.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::response::IntoResponse;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    listen: SocketAddr,
    /// One JSON object per POST: `path`, `at_ms`, `body`.
    #[arg(long)]
    out: PathBuf,
}

type Out = Arc<Mutex<std::fs::File>>;

pub async fn run(a: Args) -> anyhow::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&a.out)?;
    let listener = tokio::net::TcpListener::bind(a.listen).await?;
    let app = Router::new()
        .fallback(arrival)
        .with_state(Arc::new(Mutex::new(file)));
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

async fn arrival(State(out): State<Out>, uri: Uri, body: Bytes) -> impl IntoResponse {
    // Timestamp before anything else: this is the page's arrival.
    let at_ms = crate::unix_ms();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let seq = body.get("seq").and_then(|s| s.as_u64()).unwrap_or(0);
    let line = serde_json::json!({ "path": uri.path(), "at_ms": at_ms, "body": body });
    if let Ok(mut f) = out.lock() {
        let _ = writeln!(f, "{line}");
    }
    axum::Json(serde_json::json!({ "seq": seq, "duplicate": false }))
}
