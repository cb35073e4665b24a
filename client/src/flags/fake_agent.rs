//! A stand-in for the agent's two flag endpoints, on std threads and raw
//! HTTP/1.1, so the sync loop is tested here without the agent crate:
//! `GET` snapshot with `ETag`/`If-None-Match`, and the change stream
//! (one event on connect, one per [`FakeAgent::set`]).

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use liveops_flags::SnapshotDoc;
use liveops_protocol::flags::{CHANGES_PATH, SNAPSHOT_PATH};

pub(crate) struct FakeAgent {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

struct State {
    doc: SnapshotDoc,
    streams: Vec<TcpStream>,
    /// Snapshot GETs answered 200.
    fetches: u64,
}

impl FakeAgent {
    pub(crate) fn start(addr: &str, doc: SnapshotDoc) -> FakeAgent {
        let listener = TcpListener::bind(addr).expect("fake agent binds");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            doc,
            streams: Vec::new(),
            fetches: 0,
        }));
        let stopping = Arc::new(AtomicBool::new(false));
        let (st, stop) = (Arc::clone(&state), Arc::clone(&stopping));
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let st = Arc::clone(&st);
                if let Ok(conn) = conn {
                    std::thread::spawn(move || serve(conn, &st));
                }
            }
        });
        FakeAgent {
            addr,
            state,
            stopping,
            accept: Some(accept),
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn fetches(&self) -> u64 {
        self.state.lock().unwrap().fetches
    }

    /// Serves `doc` from now on and tells every open stream.
    pub(crate) fn set(&self, doc: SnapshotDoc) {
        let mut st = self.state.lock().unwrap();
        let event = format!("event: changed\ndata: {}\n\n", doc.version);
        st.doc = doc;
        st.streams
            .retain_mut(|s| s.write_all(event.as_bytes()).is_ok());
    }

    /// Sends a keepalive comment and an event for the version already
    /// served: neither may cause a fetch.
    pub(crate) fn repeat(&self) {
        let mut st = self.state.lock().unwrap();
        let event = format!(
            ": keepalive\n\nevent: changed\ndata: {}\n\n",
            st.doc.version
        );
        st.streams
            .retain_mut(|s| s.write_all(event.as_bytes()).is_ok());
    }
}

impl Drop for FakeAgent {
    /// Like a killed agent: the listener goes and open streams are cut.
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        for s in self.state.lock().unwrap().streams.drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

fn serve(conn: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut request = String::new();
    let mut if_none_match = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if request.is_empty() {
            request = line.to_owned();
        } else if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("if-none-match")
        {
            if_none_match = Some(v.trim().to_owned());
        }
    }
    let path = request.split(' ').nth(1).unwrap_or("");
    let mut conn = conn;
    let mut st = state.lock().unwrap();
    let etag = format!("\"{}\"", st.doc.version);
    if path == SNAPSHOT_PATH && if_none_match.as_deref() == Some(&etag) {
        let _ = conn.write_all(
            b"HTTP/1.1 304 Not Modified\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        );
    } else if path == SNAPSHOT_PATH {
        st.fetches += 1;
        let body = serde_json::to_vec(&st.doc).unwrap();
        let head = format!(
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nETag: {etag}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let _ = conn.write_all(head.as_bytes());
        let _ = conn.write_all(&body);
    } else if path == CHANGES_PATH {
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
        let first = format!("event: changed\ndata: {}\n\n", st.doc.version);
        if conn.write_all(head.as_bytes()).is_ok() && conn.write_all(first.as_bytes()).is_ok() {
            st.streams.push(conn);
        }
    } else {
        let _ = conn
            .write_all(b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    }
}
