//! The service against a game on a real socket: an axum server serving the
//! state contract from a map the test edits.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::diff::Filter;
use super::*;

type World = Arc<Mutex<BTreeMap<u32, String>>>;

fn village(i: u32, gold: u64) -> String {
    format!(
        r#"{{"kind":"village","id":"v{i}","owner":"p{}","data":{{"resources":{{"gold":{gold},"wood":50}},"buildings":{{"wall":1}}}}}}"#,
        i / 2
    )
}

async fn game(world: World) -> String {
    async fn state(State(w): State<World>) -> String {
        let w = w.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        for line in w.values() {
            out.push_str(line);
            out.push('\n');
        }
        // Lines a game should not send: skipped and counted, not fatal.
        out.push_str("not json\n{\"kind\":\"village\",\"id\":\"\",\"data\":{}}\n");
        out
    }
    let app = Router::new()
        .route("/liveops/v1/state", get(state))
        .with_state(world);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn open(dir: &std::path::Path, game: Option<String>) -> Snapshots {
    Snapshots::open(
        dir,
        game,
        reqwest::Client::new(),
        Retention::default(),
        Duration::from_secs(30),
    )
    .unwrap()
}

#[tokio::test]
async fn take_change_diff_verify_and_reclaim() {
    let dir = tempfile::tempdir().unwrap();
    let world: World = Arc::new(Mutex::new(
        (0..5000).map(|i| (i, village(i, 100))).collect(),
    ));
    let snaps = open(dir.path(), Some(game(world.clone()).await));

    let first = snaps.take(Some("before".into()), "manual").await.unwrap();
    assert_eq!((first.entities, first.skipped), (5000, 2));
    assert_eq!(first.counts["village"], 5000);
    let line_bytes: u64 = world.lock().unwrap().values().map(|l| l.len() as u64).sum();
    assert_eq!(first.bytes_added, line_bytes);

    // The exploit: player p7's two villages gain a fortune; one is deleted.
    {
        let mut w = world.lock().unwrap();
        w.insert(14, village(14, 900_000));
        w.insert(15, village(15, 800_000));
        w.remove(&4999);
        w.insert(5000, village(5000, 1));
    }
    let second = snaps.take(None, "scheduled").await.unwrap();
    let changed =
        (village(14, 900_000).len() + village(15, 800_000).len() + village(5000, 1).len()) as u64;
    assert_eq!(
        second.bytes_added, changed,
        "unchanged entities are not stored again"
    );

    let report = snaps
        .diff("before", &second.id, &Filter::default())
        .await
        .unwrap();
    assert_eq!(report.kinds["village"].changed, 2);
    assert_eq!(
        (
            report.kinds["village"].added,
            report.kinds["village"].removed
        ),
        (1, 1)
    );
    assert_eq!(report.largest[0].id, "v14");
    assert_eq!(report.largest[0].delta, 899_900.0);
    assert_eq!(report.largest[1].owner.as_deref(), Some("p7"));

    let p7 = Filter {
        owner: vec!["p7".into()],
        ..Filter::default()
    };
    let live = snaps.diff("s-1", LIVE, &p7).await.unwrap();
    assert_eq!(live.to, "live");
    assert_eq!(live.entities.len(), 2);
    assert_eq!(
        snaps.list().unwrap().len(),
        2,
        "the live view is not listed"
    );

    let verified = snaps.verify(None).await.unwrap();
    assert!(
        verified.iter().all(|v| v.problems.is_empty()),
        "{verified:?}"
    );
    assert!(matches!(
        snaps.resolve("nope"),
        Err(SnapshotError::Unknown(_))
    ));
    assert_eq!(snaps.resolve("latest").unwrap().id, second.id);

    // Both expire but the newest stays; its predecessor's unique lines go.
    let month = now_ms() + 30 * 86_400_000;
    assert_eq!(snaps.prune(month).await.unwrap().removed, ["s-1"]);
    let kept = snaps.verify(None).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].problems.is_empty(), "{kept:?}");
    let blobs = snaps.store.blob_count();
    assert_eq!(blobs, 5000, "the three lines only s-1 held were swept");
}

#[tokio::test]
async fn an_interrupted_snapshot_is_dropped_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let world: World = Arc::new(Mutex::new((0..100).map(|i| (i, village(i, 1))).collect()));
    {
        let snaps = open(dir.path(), Some(game(world).await));
        snaps.take(None, "manual").await.unwrap();
        // As if killed mid-way: begun, never finished.
        let half = Meta {
            id: String::new(),
            trigger: "manual".into(),
            ..snaps.resolve("latest").unwrap()
        };
        snaps.store.begin(half).unwrap();
        snaps.store.durable().unwrap();
        assert_eq!(snaps.store.list().unwrap().len(), 2);
    }
    let snaps = open(dir.path(), None);
    let ids: Vec<String> = snaps
        .store
        .list()
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["s-1"]);
    assert!(snaps.verify(None).await.unwrap()[0].problems.is_empty());
}

#[tokio::test]
async fn a_game_that_fails_leaves_nothing_behind_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let none = open(dir.path(), None);
    assert!(matches!(
        none.take(None, "manual").await,
        Err(SnapshotError::Take(TakeError::NoGame))
    ));
    drop(none);
    let gone = open(dir.path(), Some("http://127.0.0.1:9".into()));
    let err = gone
        .take(None, "manual")
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("cannot read the game's state from http://127.0.0.1:9"),
        "{err}"
    );
    assert!(gone.store.list().unwrap().is_empty());
}
