//! One connection driven over an in-memory pipe with tokio's clock paused,
//! so every deadline is checked to the millisecond; and the accept loop on
//! loopback, at its connection limit.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::get;
use http_body::Frame;
use liveops_config::HttpConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::conn::{Conn, serve_one};
use crate::evict::Registry;

const GET: &[u8] = b"GET / HTTP/1.1\r\nhost: t\r\n\r\n";

fn limits(max_connections: usize) -> HttpConfig {
    HttpConfig {
        header_read_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(5),
        max_connections,
    }
}

/// A body that sends a line every 100 ms and never ends, like an event stream.
struct Ticks(tokio::time::Interval);

impl http_body::Body for Ticks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        this.0
            .poll_tick(cx)
            .map(|_| Some(Ok(Frame::data(Bytes::from_static(b"tick\n")))))
    }
}

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                "done"
            }),
        )
        .route(
            "/stream",
            get(|| async { Body::new(Ticks(tokio::time::interval(Duration::from_millis(100)))) }),
        )
}

/// A connection served over an in-memory pipe; the client end and the stop.
fn connect() -> (DuplexStream, watch::Sender<bool>) {
    let (client, server) = tokio::io::duplex(1 << 16);
    let conn = Conn::new(Arc::new(Registry::new()));
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(serve_one(server, app(), conn, limits(10), stop));
    (client, stop_tx)
}

/// Reads until `want` has arrived; panics on EOF first.
async fn read_until(client: &mut DuplexStream, want: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains(want) {
        let n = client.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "closed before {want:?}; got {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Reads until the server closes; returns when, from `since`.
async fn closed(client: &mut DuplexStream, since: Instant) -> Duration {
    let mut buf = [0u8; 4096];
    while client.read(&mut buf).await.unwrap_or(0) > 0 {}
    since.elapsed()
}

fn about(took: Duration, want: Duration) -> bool {
    took >= want && took <= want + Duration::from_millis(10)
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_sends_nothing_is_closed_at_the_idle_timeout() {
    let start = Instant::now();
    let (mut client, _stop) = connect();
    let took = closed(&mut client, start).await;
    assert!(about(took, Duration::from_secs(5)), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn a_half_sent_head_is_closed_at_the_header_read_timeout_from_its_first_byte() {
    let start = Instant::now();
    let (mut client, _stop) = connect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    client.write_all(b"GET / HTTP/1.1\r\nhost: ").await.unwrap();
    let took = closed(&mut client, start).await;
    assert!(about(took, Duration::from_secs(3)), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn a_kept_alive_connection_waits_the_idle_timeout_not_the_header_timeout() {
    let (mut client, _stop) = connect();
    client.write_all(GET).await.unwrap();
    read_until(&mut client, "ok").await;
    // Well past the 1 s header timeout, within the 5 s idle timeout.
    tokio::time::sleep(Duration::from_secs(4)).await;
    client.write_all(GET).await.unwrap();
    read_until(&mut client, "ok").await;
    let answered = Instant::now();
    let took = closed(&mut client, answered).await;
    assert!(about(took, Duration::from_secs(5)), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn a_streamed_response_is_busy_however_long_it_runs() {
    let (mut client, _stop) = connect();
    client
        .write_all(b"GET /stream HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    read_until(&mut client, "tick").await;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        read_until(&mut client, "tick").await;
    }
}

#[tokio::test(start_paused = true)]
async fn stop_lets_the_request_in_flight_finish_then_closes() {
    let (mut client, stop) = connect();
    client
        .write_all(b"GET /slow HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.send_replace(true);
    let start = Instant::now();
    read_until(&mut client, "done").await;
    let took = closed(&mut client, start).await;
    assert!(took <= Duration::from_millis(1600), "{took:?}");
}

/// The accept loop on loopback with room for 3 connections.
async fn serve_three() -> (std::net::SocketAddr, watch::Sender<bool>, crate::ConnStats) {
    let server = crate::Server::bind("127.0.0.1:0".parse().unwrap(), &limits(3), "test").unwrap();
    assert_eq!(server.max_connections(), 3);
    let addr = server.local_addr().unwrap();
    let stats = server.stats();
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(server.serve(app(), stop));
    (addr, stop_tx, stats)
}

async fn get_over(stream: &mut tokio::net::TcpStream, path: &str) -> String {
    let req = format!("GET {path} HTTP/1.1\r\nhost: t\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn at_the_limit_the_longest_idle_connection_makes_room() {
    use tokio::net::TcpStream;
    let (addr, _stop, stats) = serve_three().await;
    let mut oldest = TcpStream::connect(addr).await.unwrap();
    assert!(get_over(&mut oldest, "/").await.contains("ok"));
    let mut idle = Vec::new();
    for _ in 0..2 {
        idle.push(TcpStream::connect(addr).await.unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut fresh = TcpStream::connect(addr).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(2), get_over(&mut fresh, "/"))
        .await
        .expect("a new request is served at the limit");
    assert!(answer.contains("ok"), "{answer}");
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(2), oldest.read(&mut buf))
        .await
        .expect("the longest-idle connection was closed");
    assert_eq!(n.unwrap_or(0), 0);
    // What /metrics shows: four accepted; the three idle ones asked to
    // close at once (a batch, as nginx does), so only the newcomer is open.
    assert_eq!((stats.accepted(), stats.evicted()), (4, 3));
    let deadline = Instant::now() + Duration::from_secs(2);
    while stats.open() != 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stats.open(), 1);
}

#[tokio::test]
async fn when_every_connection_is_busy_accepting_waits_for_one_to_end() {
    use tokio::net::TcpStream;
    let (addr, _stop, _) = serve_three().await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        assert!(get_over(&mut s, "/stream").await.contains("200 OK"));
        streams.push(s);
    }
    let mut waiting = TcpStream::connect(addr).await.unwrap();
    waiting.write_all(GET).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let early = tokio::time::timeout(Duration::from_millis(300), waiting.read(&mut buf)).await;
    assert!(early.is_err(), "served although every connection was busy");
    drop(streams.pop());
    let n = tokio::time::timeout(Duration::from_secs(2), waiting.read(&mut buf))
        .await
        .expect("served once a stream ended")
        .unwrap_or_else(|e| panic!("read: {e:?}"));
    assert!(String::from_utf8_lossy(&buf[..n]).contains("ok"));
}
