//! The world driven as the agent and an operator drive it: DogStatsD lines
//! read from a real UDP socket, HTTP over a real TCP connection.

use std::time::Duration;

use liveops_client::Target;
use liveops_client::signal::{
    AUTH_LATENCY, HEALTH_PATH, PAYMENT, PLAYERS_ONLINE, REQUEST, TICK_BACKLOG, TICK_DURATION,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::oneshot;
use tokio::time::{Instant, timeout};

use crate::{FAULT_PATH, Fault, World, WorldConfig};

/// Short ticks and a crowd of players, so each test sees plenty of every
/// signal (about 1,000 lines a second) within a fraction of a second.
const TICK: Duration = Duration::from_millis(20);
const PLAYERS: u32 = 20_000;
/// Long enough for a tick already under way, and the client's batch, to
/// arrive after a fault is switched.
const SETTLE: Duration = Duration::from_millis(150);

struct Harness {
    world: World,
    statsd: UdpSocket,
    http: reqwest::Client,
    shutdown: oneshot::Sender<()>,
}

async fn start() -> Harness {
    let statsd = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut config = WorldConfig::new("test-1", Target::Udp(statsd.local_addr().unwrap()));
    config.tick_interval = TICK;
    config.players = PLAYERS;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (shutdown, fired) = oneshot::channel::<()>();
    let world = World::start(config, listener, async {
        let _ = fired.await;
    })
    .await
    .unwrap();
    Harness {
        world,
        statsd,
        http: reqwest::Client::new(),
        shutdown,
    }
}

/// Every DogStatsD line received over `window`.
async fn lines_for(statsd: &UdpSocket, window: Duration) -> Vec<String> {
    let deadline = Instant::now() + window;
    let mut buf = vec![0; 65_536];
    let mut lines = Vec::new();
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, statsd.recv(&mut buf)).await {
        let datagram = std::str::from_utf8(&buf[..n]).expect("datagram is UTF-8");
        lines.extend(datagram.lines().map(str::to_owned));
    }
    lines
}

/// Lines received over `window`, after what was in flight has drained.
async fn settled_lines_for(statsd: &UdpSocket, window: Duration) -> Vec<String> {
    lines_for(statsd, SETTLE).await;
    lines_for(statsd, window).await
}

impl Harness {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.world.url()))
            .send()
            .await
            .unwrap();
        (resp.status(), resp.json().await.unwrap())
    }

    async fn put_fault(&self, body: Value) -> (StatusCode, String) {
        let url = format!("{}{FAULT_PATH}", self.world.url());
        let resp = self.http.put(url).json(&body).send().await.unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    async fn stop(self) {
        self.shutdown.send(()).unwrap();
        timeout(Duration::from_secs(2), self.world.stopped())
            .await
            .expect("world stopped");
    }
}

/// A line split into name, value, type and tags, checked against the
/// DogStatsD grammar the agent accepts: `name:value|type|#k:v,k:v`.
struct Line<'a> {
    name: &'a str,
    kind: &'a str,
    tags: Vec<(&'a str, &'a str)>,
}

fn parse(line: &str) -> Line<'_> {
    let (name, rest) = line
        .split_once(':')
        .unwrap_or_else(|| panic!("no value: {line}"));
    let mut fields = rest.split('|');
    let value = fields.next().unwrap();
    assert!(
        value.parse::<f64>().is_ok_and(f64::is_finite),
        "bad value: {line}"
    );
    let kind = fields.next().unwrap_or_else(|| panic!("no type: {line}"));
    let tags = match fields.next() {
        None => Vec::new(),
        Some(tags) => {
            let tags = tags
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("bad tags: {line}"));
            tags.split(',')
                .map(|t| t.split_once(':').unwrap_or_else(|| panic!("tag: {line}")))
                .collect()
        }
    };
    assert_eq!(fields.next(), None, "extra fields: {line}");
    Line { name, kind, tags }
}

fn named<'a>(lines: &'a [String], name: &'a str) -> impl Iterator<Item = Line<'a>> {
    lines
        .iter()
        .map(|l| parse(l))
        .filter(move |l| l.name == name)
}

fn tag<'a>(line: &Line<'a>, key: &str) -> Option<&'a str> {
    line.tags.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
}

#[tokio::test]
async fn every_signal_arrives_as_well_formed_dogstatsd() {
    let h = start().await;
    let lines = lines_for(&h.statsd, Duration::from_millis(1200)).await;

    let expected_kind = [
        (TICK_DURATION, "ms"),
        (TICK_BACKLOG, "g"),
        (REQUEST, "c"),
        (PAYMENT, "c"),
        (AUTH_LATENCY, "ms"),
        (PLAYERS_ONLINE, "g"),
    ];
    for line in &lines {
        let line = parse(line);
        let kind = expected_kind
            .iter()
            .find(|(n, _)| *n == line.name)
            .map(|&(_, k)| k);
        assert_eq!(Some(line.kind), kind, "unexpected signal {}", line.name);
        match line.name {
            REQUEST => {
                let op = tag(&line, "op").unwrap();
                assert!(
                    ["march", "attack", "trade", "build", "chat"].contains(&op),
                    "op:{op}"
                );
                assert!(matches!(tag(&line, "status"), Some("ok" | "error")));
            }
            PAYMENT => assert!(matches!(tag(&line, "outcome"), Some("success" | "failure"))),
            _ => assert!(line.tags.is_empty(), "{} carries tags", line.name),
        }
    }
    for (name, _) in expected_kind {
        assert!(
            named(&lines, name).next().is_some(),
            "no {name} line in {} lines",
            lines.len()
        );
    }
    let ticks = named(&lines, TICK_DURATION).count();
    assert!(ticks >= 20, "only {ticks} ticks in 1.2 s of 20 ms ticks");
    h.stop().await;
}

#[tokio::test]
async fn health_answers_ok_with_the_world_state() {
    let h = start().await;
    lines_for(&h.statsd, Duration::from_millis(100)).await;
    let (status, body) = h.get(HEALTH_PATH).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["world"], "test-1");
    assert!(body["tick"].as_u64().unwrap() > 0, "{body}");
    assert!(body["players_online"].as_u64().unwrap() > 0, "{body}");
    h.stop().await;
}

#[tokio::test]
async fn a_tick_stall_silences_ticks_while_health_stays_ok() {
    let h = start().await;
    h.world.set_fault(Some(Fault::TickStall));
    let lines = settled_lines_for(&h.statsd, Duration::from_millis(400)).await;
    assert_eq!(named(&lines, TICK_DURATION).count(), 0);
    let (status, body) = h.get(HEALTH_PATH).await;
    assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("ok")));

    h.world.set_fault(None);
    let lines = lines_for(&h.statsd, Duration::from_millis(300)).await;
    assert!(
        named(&lines, TICK_DURATION).count() > 0,
        "ticks did not resume"
    );
    h.stop().await;
}

#[tokio::test]
async fn an_error_burst_fails_every_request() {
    let h = start().await;
    let (status, body) = h.put_fault(json!({ "fault": "error-burst" })).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"fault":"error-burst"}"#)
    );
    let lines = settled_lines_for(&h.statsd, Duration::from_millis(400)).await;
    let statuses: Vec<_> = named(&lines, REQUEST).map(|l| tag(&l, "status")).collect();
    assert!(statuses.len() > 50, "only {} requests", statuses.len());
    assert!(statuses.iter().all(|&s| s == Some("error")));
    h.stop().await;
}

#[tokio::test]
async fn down_answers_503_and_stops_ticks() {
    let h = start().await;
    h.world.set_fault(Some(Fault::Down));
    let (status, body) = h.get(HEALTH_PATH).await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::SERVICE_UNAVAILABLE, &json!("down"))
    );
    let ticks = h.world.ticks();
    let lines = settled_lines_for(&h.statsd, Duration::from_millis(300)).await;
    assert_eq!(named(&lines, TICK_DURATION).count(), 0);
    // At most the tick that was under way when the fault was set.
    assert!(h.world.ticks() <= ticks + 1);
    h.stop().await;
}

#[tokio::test]
async fn faults_are_read_set_and_cleared_over_http() {
    let h = start().await;
    assert_eq!(
        h.get(FAULT_PATH).await,
        (StatusCode::OK, json!({ "fault": null }))
    );

    h.put_fault(json!({ "fault": "payment-failure" })).await;
    assert_eq!(h.world.fault(), Some(Fault::PaymentFailure));
    assert_eq!(
        h.get(FAULT_PATH).await.1,
        json!({ "fault": "payment-failure" })
    );
    let lines = settled_lines_for(&h.statsd, Duration::from_millis(400)).await;
    let outcomes: Vec<_> = named(&lines, PAYMENT).map(|l| tag(&l, "outcome")).collect();
    assert!(!outcomes.is_empty() && outcomes.iter().all(|&o| o == Some("failure")));

    let (status, text) = h.put_fault(json!({ "fault": "meteor" })).await;
    assert!(status.is_client_error(), "{status}");
    assert!(
        text.contains("unknown fault `meteor` (expected one of: tick-stall,"),
        "{text}"
    );
    let (status, _) = h.put_fault(json!({ "falut": null })).await;
    assert!(status.is_client_error(), "{status}");
    assert_eq!(
        h.world.fault(),
        Some(Fault::PaymentFailure),
        "a bad request changed the fault"
    );

    h.put_fault(json!({ "fault": null })).await;
    assert_eq!(h.world.fault(), None);
    h.stop().await;
}

#[tokio::test]
async fn shutdown_ends_the_server_and_the_tick_thread() {
    let Harness {
        world,
        statsd,
        http,
        shutdown,
    } = start().await;
    let health = format!("{}{HEALTH_PATH}", world.url());
    assert_eq!(
        http.get(&health).send().await.unwrap().status(),
        StatusCode::OK
    );

    shutdown.send(()).unwrap();
    timeout(Duration::from_secs(2), world.stopped())
        .await
        .expect("world stopped");
    assert!(http.get(&health).send().await.is_err(), "still serving");
    let lines = settled_lines_for(&statsd, Duration::from_millis(300)).await;
    assert!(lines.is_empty(), "telemetry after shutdown: {lines:?}");
}
