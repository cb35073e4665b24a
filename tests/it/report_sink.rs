//! A stand-in for the collector's report intake whose answers are scripted
//! per report: the Nth distinct sequence number it sees gets a chosen
//! status, or an acknowledgement refusing some parts; every other report is
//! acknowledged. It keeps every attempt and every report it took, so a test
//! can tell what the agent sent, how often and in what order.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use liveops_protocol::Report;
use liveops_protocol::report::{REPORTS_PATH, RefusedPart, ReportAck};
use serde_json::json;

use crate::support::{AGENT_TOKEN, any_port};

/// How the sink answers one report.
#[derive(Clone, Debug)]
pub enum Answer {
    /// This status with `{"error": message}`, every time.
    Status(u16, &'static str),
    /// 200, taking the report but refusing these parts.
    Refuse(Vec<RefusedPart>),
}

#[derive(Default)]
pub struct Seen {
    /// Every attempt: the report's seq and the status answered.
    pub attempts: Vec<(u64, u16)>,
    /// Distinct seqs in the order they first arrived.
    pub distinct: Vec<u64>,
    /// Reports taken (answered 200), in arrival order.
    pub taken: Vec<Report>,
}

struct Inner {
    /// 1-based index among distinct seqs → answer.
    script: HashMap<usize, Answer>,
    seen: Mutex<Seen>,
}

pub struct ReportSink {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

impl ReportSink {
    pub async fn start(script: HashMap<usize, Answer>) -> ReportSink {
        let inner = Arc::new(Inner {
            script,
            seen: Mutex::default(),
        });
        let app = axum::Router::new()
            .route(REPORTS_PATH, post(report))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(any_port()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ReportSink {
            addr,
            inner,
            server,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Looks at what was seen so far.
    pub fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.inner.seen.lock().unwrap())
    }
}

impl Drop for ReportSink {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn report(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: String) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {AGENT_TOKEN}")) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let report: Report = match serde_json::from_str(&body) {
        Ok(r) => r,
        Err(e) => {
            let error = format!("not a report: {e}");
            return (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response();
        }
    };
    let mut seen = inner.seen.lock().unwrap();
    let index = match seen.distinct.iter().position(|s| *s == report.seq) {
        Some(i) => i + 1,
        None => {
            seen.distinct.push(report.seq);
            seen.distinct.len()
        }
    };
    let seq = report.seq;
    let (status, refused) = match inner.script.get(&index) {
        Some(Answer::Status(code, message)) => {
            seen.attempts.push((seq, *code));
            let status = StatusCode::from_u16(*code).unwrap();
            return (status, Json(json!({ "error": message }))).into_response();
        }
        Some(Answer::Refuse(parts)) => (200, parts.clone()),
        None => (200, vec![]),
    };
    seen.attempts.push((seq, status));
    seen.taken.push(report);
    Json(ReportAck {
        seq,
        duplicate: false,
        refused,
    })
    .into_response()
}
