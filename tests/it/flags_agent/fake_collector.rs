//! A stand-in for the collector's side of the flag contract: the override
//! stream (`GET /api/v1/overrides/stream?world=W`, bearer token, one
//! `overrides` event with the whole set on connect and on every change)
//! and report intake, keeping the flag reloads the reports carry.
//! Stoppable and restartable on the same address.
//!
//! Plain HTTP/1.1 over TCP, one request per connection: a streamed body
//! needs nothing more than writing to the socket, and the agent's client
//! reads a close-delimited body like any other.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use liveops_protocol::flags::OVERRIDES_STREAM_PATH;
use liveops_protocol::report::{REPORTS_PATH, ReportAck};
use liveops_protocol::{FlagReload, Report};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::support::AGENT_TOKEN;

/// What outlives a restart of the fake: the overrides it serves and what
/// it was sent.
#[derive(Clone)]
pub struct Shared {
    /// The whole `OverrideSet`, as JSON.
    pub overrides: watch::Sender<Value>,
    pub reloads: Arc<Mutex<Vec<FlagReload>>>,
    /// The query string of each accepted stream request.
    pub subscribers: Arc<Mutex<Vec<String>>>,
}

impl Shared {
    pub fn new(set: Value) -> Shared {
        Shared {
            overrides: watch::channel(set).0,
            reloads: Arc::default(),
            subscribers: Arc::default(),
        }
    }
}

pub struct FakeCollector {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeCollector {
    /// Serves on `addr` (port 0: any), retrying while a previous instance's
    /// socket is let go.
    pub async fn start(addr: SocketAddr, shared: Shared) -> FakeCollector {
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(addr).await {
                Ok(l) => break l,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("fake collector bind {addr}: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("fake collector cannot bind {addr}: {e}"),
            }
        };
        let addr = listener.local_addr().unwrap();
        let (stop, mut stop_rx) = watch::channel(false);
        let rx = stop_rx.clone();
        let server = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    Ok((sock, _)) = listener.accept() => {
                        conns.spawn(connection(sock, shared.clone(), rx.clone()));
                    }
                    _ = stop_rx.wait_for(|s| *s) => break,
                }
            }
            drop(listener);
            // Dropping the sockets is what a dying collector does too.
            conns.shutdown().await;
        });
        FakeCollector { addr, stop, server }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops listening and closes every stream.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        tokio::time::timeout(Duration::from_secs(5), self.server)
            .await
            .expect("fake collector stops")
            .unwrap();
    }
}

async fn connection(sock: TcpStream, shared: Shared, mut stop: watch::Receiver<bool>) {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    let mut request_line = String::new();
    let mut auth = None;
    let mut length = 0usize;
    if r.read_line(&mut request_line).await.is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((&line, ""));
        match name.to_ascii_lowercase().as_str() {
            "authorization" => auth = Some(value.trim().to_owned()),
            "content-length" => length = value.trim().parse().unwrap_or(0),
            _ => {}
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if auth.as_deref() != Some(&format!("Bearer {AGENT_TOKEN}")) {
        let _ = w
            .write_all(respond("401 Unauthorized", "").as_bytes())
            .await;
        return;
    }
    match (method, path) {
        ("GET", OVERRIDES_STREAM_PATH) => {
            shared.subscribers.lock().unwrap().push(query.to_owned());
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
            if w.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut sets = shared.overrides.subscribe();
            sets.mark_changed();
            loop {
                tokio::select! {
                    r = sets.changed() => if r.is_err() { return },
                    _ = stop.wait_for(|s| *s) => return,
                }
                let event = format!("event: overrides\ndata: {}\n\n", *sets.borrow_and_update());
                if w.write_all(event.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
        ("POST", REPORTS_PATH) => {
            let mut body = vec![0; length];
            if r.read_exact(&mut body).await.is_err() {
                return;
            }
            let report: Report = serde_json::from_slice(&body).expect("a report");
            shared.reloads.lock().unwrap().extend(report.flag_reloads);
            let ack = serde_json::to_string(&ReportAck {
                seq: report.seq,
                duplicate: false,
                refused: vec![],
            })
            .unwrap();
            let _ = w.write_all(respond("200 OK", &ack).as_bytes()).await;
        }
        _ => {
            let _ = w.write_all(respond("404 Not Found", "").as_bytes()).await;
        }
    }
}

fn respond(status: &str, json: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
        json.len()
    )
}
