//! The state endpoints over real HTTP, on a running world.

use std::time::{Duration, Instant};

use liveops_client::Target;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::oneshot;

use super::tests::{by_id, changed};
use crate::{Fault, RESTORE_PATH, STATE_PATH, World, WorldConfig};

const TICK: Duration = Duration::from_millis(20);

struct Harness {
    world: World,
    http: reqwest::Client,
    shutdown: oneshot::Sender<()>,
    // Held so telemetry has somewhere to go.
    _statsd: UdpSocket,
}

async fn start(players: u32, churn: u32) -> Harness {
    let statsd = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut config = WorldConfig::new("state-1", Target::Udp(statsd.local_addr().unwrap()));
    config.tick_interval = TICK;
    config.players = 100;
    config.state_players = players;
    config.state_churn = churn;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (shutdown, fired) = oneshot::channel::<()>();
    let world = World::start(config, listener, async {
        let _ = fired.await;
    })
    .await
    .unwrap();
    Harness {
        world,
        http: reqwest::Client::new(),
        shutdown,
        _statsd: statsd,
    }
}

impl Harness {
    async fn get(&self, query: &str) -> (StatusCode, String) {
        let url = format!("{}{STATE_PATH}{query}", self.world.url());
        let resp = self.http.get(url).send().await.unwrap();
        let status = resp.status();
        if status.is_success() {
            let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
            assert_eq!(ct, "application/x-ndjson");
        }
        (status, resp.text().await.unwrap())
    }

    async fn restore(&self, body: impl Into<reqwest::Body>) -> (StatusCode, String) {
        let url = format!("{}{RESTORE_PATH}", self.world.url());
        let resp = self.http.post(url).body(body).send().await.unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    /// Waits for `n` more ticks.
    async fn ticks(&self, n: u64) {
        let until = self.world.ticks() + n;
        while self.world.ticks() < until {
            tokio::time::sleep(TICK / 2).await;
        }
    }

    async fn stop(self) {
        self.shutdown.send(()).unwrap();
        self.world.stopped().await;
    }
}

fn ids(ndjson: &str) -> Vec<String> {
    by_id(ndjson).into_keys().collect()
}

#[tokio::test]
async fn the_listing_streams_every_entity_and_filters() {
    let h = start(12_000, 0).await;
    let (status, all) = h.get("").await;
    assert_eq!(status, StatusCode::OK);
    assert!(all.ends_with('\n'));
    assert_eq!(all.lines().count(), 12_000 * 4);
    assert_eq!(h.get("?kind=player").await.1.lines().count(), 12_000);
    assert_eq!(
        ids(&h.get("?owner=p10&owner=a3").await.1),
        ["p3", "v20", "v21"]
    );
    assert_eq!(
        ids(&h.get("?id=v7&id=a1&owner=p10").await.1),
        ["a1", "v20", "v21", "v7"]
    );
    assert_eq!(ids(&h.get("?kind=account&id=v7&id=a1").await.1), ["a1"]);

    let (status, text) = h.get("?kind=castle").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("unknown kind `castle`"), "{text}");
    let (status, text) = h.get("?owners=p1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("unknown query parameter `owners`"), "{text}");

    // The rollback plan's question: ten thousand owners. A URI holds about
    // 4,000 of them; the body of a POST holds them all.
    let owners = |n: usize| {
        (0..n)
            .map(|i| format!("owner=p{i}"))
            .collect::<Vec<_>>()
            .join("&")
    };
    let (status, some) = h.get(&format!("?{}", owners(4000))).await;
    assert_eq!((status, some.lines().count()), (StatusCode::OK, 8000));
    let url = format!("{}{STATE_PATH}", h.world.url());
    let resp = h.http.post(url).body(owners(10_000)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let some = resp.text().await.unwrap();
    assert_eq!(some.lines().count(), 20_000);
    assert!(some.lines().all(|l| l.starts_with(r#"{"kind":"village""#)));
    h.stop().await;
}

#[tokio::test]
async fn a_frozen_world_lists_the_same_bytes_tick_after_tick() {
    let h = start(500, 0).await;
    let first = h.get("").await.1;
    h.ticks(5).await;
    assert_eq!(h.get("").await.1, first);
    h.stop().await;
}

#[tokio::test]
async fn normal_play_changes_a_few_villages_each_tick() {
    let h = start(500, 5).await;
    let first = h.get("").await.1;
    h.ticks(5).await;
    let changed = changed(&first, &h.get("").await.1);
    assert!(
        !changed.is_empty() && changed.iter().all(|id| id.starts_with('v')),
        "{changed:?}"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_restore_is_applied_per_line_and_idempotent() {
    let h = start(100, 0).await;
    let line = h.get("?id=v3").await.1;
    let edited = line.replace(r#""name":"village-3""#, r#""name":"restored \"3\"""#);
    let body = format!(
        "{}\n{}\nnot json\n{}\n",
        edited.trim_end(),
        r#"{"kind":"village","id":"v9","owner":"p4","data":{"golds":1}}"#,
        r#"{"kind":"village","id":"v4","deleted":true}"#,
    );
    let (status, text) = h.restore(body.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (&report["applied"], &report["failed"]),
        (&json!(2), &json!(2))
    );
    assert_eq!(
        report["results"][0],
        json!({"line": 1, "kind": "village", "id": "v3", "ok": true})
    );
    assert_eq!(report["results"][1]["kind"], "village");
    let error = report["results"][1]["error"].as_str().unwrap();
    assert!(
        error.starts_with("line 2: village v9: data: unknown field `golds`"),
        "{error}"
    );
    assert_eq!(h.get("?id=v3").await.1, edited);
    assert_eq!(h.get("?id=v4").await.1, "");

    let once = h.get("").await.1;
    assert_eq!(h.restore(body).await.0, StatusCode::OK);
    assert_eq!(h.get("").await.1, once);

    let (status, _) = h.restore(vec![b'\n'; (64 << 20) + 1]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    h.stop().await;
}

#[tokio::test]
async fn the_exploit_enriches_only_its_suspect_and_trade_partners() {
    let h = start(400, 0).await;
    let suspect = h.world.exploit_suspect().unwrap();
    let seed = WorldConfig::new("state-1", Target::Unix("/nowhere".into())).seed;
    assert_eq!(suspect, format!("p{}", seed % 400));
    let theirs = ids(&h.get(&format!("?owner={suspect}")).await.1);
    assert_eq!(theirs.len(), 2);
    let before = h.get("").await.1;
    h.world.set_fault(Some(Fault::Exploit));
    h.ticks(12).await;
    h.world.set_fault(None);
    h.ticks(2).await;
    let after = h.get("").await.1;
    let (was, now) = (by_id(&before), by_id(&after));
    let gold = |v: &Value| v["data"]["resources"]["gold"].as_u64().unwrap();
    // At least 11 of the 12 ticks ran the exploit (the fault is read as a
    // tick starts), each adding 50,000 gold, less two launders of 25,000.
    for id in &theirs {
        assert!(gold(&now[id]) > gold(&was[id]) + 8 * 50_000, "{id}");
    }
    let partners: Vec<_> = changed(&before, &after)
        .into_iter()
        .filter(|id| !theirs.contains(id))
        .collect();
    assert!(!partners.is_empty());
    for id in partners {
        let with = now[&id]["data"]["last_trade"]["with"].as_str().unwrap();
        assert!(theirs.iter().any(|t| t == with), "{id} traded with {with}");
    }
    h.stop().await;
}

#[tokio::test]
async fn corruption_leaves_impossible_villages_while_ticks_go_on() {
    let h = start(400, 0).await;
    let damaged = |text: &str| {
        by_id(text)
            .into_values()
            .filter(|v| v["data"]["buildings"]["town_hall"] == 0)
            .count()
    };
    assert_eq!(damaged(&h.get("?kind=village").await.1), 0);
    h.world.set_fault(Some(Fault::Corruption));
    h.ticks(3).await;
    assert!(damaged(&h.get("?kind=village").await.1) >= 3);
    h.stop().await;
}

#[tokio::test]
async fn a_state_over_the_limit_is_refused_at_start() {
    let mut config = WorldConfig::new("big", Target::Unix("/nowhere".into()));
    config.state_players = u32::MAX;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = World::start(config, listener, std::future::pending())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("state_players 4294967295"),
        "{err}"
    );
}

/// The benchmark's world: `cargo test --release -p liveops-simworld --
/// --ignored a_million`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a release-build benchmark"]
async fn a_million_entities_build_and_stream_fast() {
    let started = Instant::now();
    let h = start(250_000, 5).await;
    let built = started.elapsed();
    let started = Instant::now();
    let url = format!("{}{STATE_PATH}", h.world.url());
    let mut resp = h.http.get(url).send().await.unwrap();
    let (mut lines, mut bytes) = (0, 0);
    while let Some(chunk) = resp.chunk().await.unwrap() {
        lines += chunk.iter().filter(|&&b| b == b'\n').count();
        bytes += chunk.len();
    }
    let took = started.elapsed();
    let rate = lines as f64 / took.as_secs_f64();
    println!("built in {built:?}; {lines} entities, {bytes} bytes in {took:?}: {rate:.0}/s");
    assert_eq!(lines, 1_000_000);
    assert!(built < Duration::from_secs(2), "{built:?}");
    assert!(rate > 200_000.0, "{rate:.0}/s");
    h.stop().await;
}
