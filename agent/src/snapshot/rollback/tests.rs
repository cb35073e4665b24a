//! Rollbacks against a game on a real socket: an axum server with the state
//! listing (GET and POST) and the restore endpoint over a map the test
//! edits, which can refuse some entities and misreport others.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::plan::Action;
use super::*;
use crate::snapshot::Retention;

#[derive(Default)]
struct Game {
    /// id → line.
    state: BTreeMap<String, String>,
    /// Refused by the restore endpoint.
    locked: BTreeSet<String>,
    /// Acknowledged by the restore endpoint but not written.
    liar: BTreeSet<String>,
}

type Shared = Arc<Mutex<Game>>;

fn line(kind: &str, id: &str, owner: Option<&str>, data: Value) -> String {
    let mut v = json!({"kind": kind, "id": id, "data": data});
    if let Some(o) = owner {
        v["owner"] = json!(o);
    }
    v.to_string()
}

fn village(i: u32, gold: u64, trade: Option<&str>) -> String {
    let owner = format!("p{}", i / 2);
    let data = json!({"resources": {"gold": gold, "wood": 50}, "last_trade": {"with": trade}});
    line("village", &format!("v{i}"), Some(&owner), data)
}

fn world() -> Game {
    let mut g = Game::default();
    for a in 0..5 {
        g.state.insert(
            format!("a{a}"),
            line("account", &format!("a{a}"), None, json!({"email": "x"})),
        );
    }
    for p in 0..50 {
        let owner = format!("a{}", p / 10);
        g.state.insert(
            format!("p{p}"),
            line(
                "player",
                &format!("p{p}"),
                Some(&owner),
                json!({"level": 1}),
            ),
        );
    }
    for v in 0..100 {
        g.state.insert(format!("v{v}"), village(v, 100, None));
    }
    g
}

async fn serve(game: Shared) -> String {
    async fn listing(State(g): State<Shared>, body: String) -> String {
        let g = g.lock().unwrap();
        let values = |name: &str| -> BTreeSet<String> {
            body.split('&')
                .filter_map(|p| p.strip_prefix(name))
                .map(str::to_owned)
                .collect()
        };
        let (ids, owners) = (values("id="), values("owner="));
        let mut out = String::new();
        for (id, l) in &g.state {
            let v: Value = serde_json::from_str(l).unwrap();
            let owner = v["owner"].as_str().unwrap_or("");
            if ids.is_empty() && owners.is_empty() || ids.contains(id) || owners.contains(owner) {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }
    async fn restore(State(g): State<Shared>, body: String) -> axum::Json<Value> {
        let mut g = g.lock().unwrap();
        let mut results = Vec::new();
        for (i, l) in body.lines().enumerate() {
            let v: Value = serde_json::from_str(l).unwrap();
            let id = v["id"].as_str().unwrap().to_owned();
            if g.locked.contains(&id) {
                results.push(json!({"line": i + 1, "ok": false, "error": "account is locked"}));
                continue;
            }
            if !g.liar.contains(&id) {
                if v["deleted"] == json!(true) {
                    g.state.remove(&id);
                } else {
                    g.state.insert(id, l.to_owned());
                }
            }
            results.push(json!({"line": i + 1, "ok": true}));
        }
        axum::Json(json!({ "results": results }))
    }
    let app = Router::new()
        .route("/liveops/v1/state", get(listing).post(listing))
        .route("/liveops/v1/state/restore", post(restore))
        .with_state(game);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn setup() -> (tempfile::TempDir, Shared, Snapshots) {
    let dir = tempfile::tempdir().unwrap();
    let game: Shared = Arc::new(Mutex::new(world()));
    let url = serve(game.clone()).await;
    let s = Snapshots::open(
        dir.path(),
        Some(url),
        reqwest::Client::new(),
        Retention::default(),
        Duration::from_secs(30),
    )
    .unwrap();
    s.take(Some("before".into()), "manual").await.unwrap();
    (dir, game, s)
}

fn gold(game: &Shared, id: &str) -> Option<u64> {
    let g = game.lock().unwrap();
    let v: Value = serde_json::from_str(g.state.get(id)?).unwrap();
    v["data"]["resources"]["gold"].as_u64()
}

/// p0's villages v0 and v1 mint gold and v0 trades some to v10 (p5's);
/// p0 founds v900.
fn exploit(game: &Shared) {
    let mut g = game.lock().unwrap();
    g.state
        .insert("v0".into(), village(0, 1_000_000, Some("v10")));
    g.state.insert("v1".into(), village(1, 2_000_000, None));
    g.state
        .insert("v10".into(), village(10, 50_100, Some("v0")));
    g.state.insert(
        "v900".into(),
        line(
            "village",
            "v900",
            Some("p0"),
            json!({"resources": {"gold": 5}}),
        ),
    );
}

fn player(p: &str) -> Targets {
    Targets {
        players: vec![p.into()],
        ..Targets::default()
    }
}

fn actions(plan: &Plan) -> Vec<(String, Action)> {
    plan.items
        .iter()
        .map(|i| (i.id.clone(), i.action))
        .collect()
}

#[tokio::test]
async fn plan_apply_and_undo_one_players_exploit() {
    let (_dir, game, s) = setup().await;
    exploit(&game);

    let plan = s.rollback_plan("before", &player("p0")).await.unwrap();
    // p0 itself is unchanged; its two villages restore, the new one stays.
    assert_eq!(plan.summary.targeted, 4);
    assert_eq!(plan.summary.unchanged, 1);
    assert_eq!(
        actions(&plan),
        [
            ("v0".into(), Action::Restore),
            ("v1".into(), Action::Restore),
            ("v900".into(), Action::Keep)
        ]
    );
    let v0 = &plan.items[0].fields;
    assert!(
        v0.iter().any(|f| f.path == "data.resources.gold"
            && f.old == json!(1_000_000)
            && f.new == json!(100)),
        "{v0:?}"
    );
    // The trade partner changed and names v0: shown, not touched.
    assert_eq!(plan.collateral.len(), 1, "{:?}", plan.collateral);
    assert_eq!(
        (
            plan.collateral[0].id.as_str(),
            plan.collateral[0].references.clone()
        ),
        ("v10", vec!["v0".to_string()])
    );
    assert_eq!(gold(&game, "v0"), Some(1_000_000), "a plan writes nothing");
    assert_eq!(
        plan.collateral_from, "live",
        "no snapshot since: the whole world is read"
    );

    // With a snapshot since, only the targets are read from the game; the
    // collateral is what changed up to that snapshot.
    let later = s.take(Some("exploited".into()), "manual").await.unwrap();
    let fast = s.rollback_plan("before", &player("p0")).await.unwrap();
    assert_eq!(fast.collateral_from, later.id);
    assert_eq!(
        (actions(&fast), fast.collateral.clone()),
        (actions(&plan), plan.collateral.clone())
    );
    assert_eq!(fast.summary, plan.summary);

    let mut t = player("p0");
    t.delete_new = true;
    let rec = s
        .rollback_apply("before", &t, "alice", "dupe exploit", None)
        .await
        .unwrap();
    assert_eq!(
        (rec.state.as_str(), rec.counts.applied, rec.counts.delete),
        ("applied", 3, 1),
        "{rec:?}"
    );
    assert_eq!(
        (gold(&game, "v0"), gold(&game, "v1"), gold(&game, "v900")),
        (Some(100), Some(100), None)
    );
    assert_eq!(gold(&game, "v10"), Some(50_100), "collateral is left alone");
    let safety = s.resolve(&rec.safety).unwrap();
    assert_eq!((safety.trigger.as_str(), safety.entities), ("safety", 3));
    assert_ne!(
        s.resolve("latest").unwrap().id,
        safety.id,
        "`latest` is a whole-world snapshot"
    );

    // Undo: a plan first, then the apply; back to the exploited state.
    let (_, undo) = s.rollback_undo_targets(&rec.id).unwrap();
    let plan = s.rollback_plan(&rec.safety, &undo).await.unwrap();
    assert_eq!(
        actions(&plan),
        [
            ("v0".into(), Action::Restore),
            ("v1".into(), Action::Restore),
            ("v900".into(), Action::Recreate)
        ]
    );
    let un = s
        .rollback_apply(
            &rec.safety,
            &undo,
            "alice",
            "wrong player",
            Some(rec.id.clone()),
        )
        .await
        .unwrap();
    assert_eq!((un.state.as_str(), un.counts.applied), ("applied", 3));
    assert_eq!(
        (gold(&game, "v0"), gold(&game, "v1"), gold(&game, "v900")),
        (Some(1_000_000), Some(2_000_000), Some(5))
    );
    assert!(matches!(
        s.rollback_undo_targets(&rec.id),
        Err(SnapshotError::Conflict(_))
    ));
    let list = s.rollbacks().unwrap();
    assert_eq!(list[0].undone_by.as_deref(), Some(un.id.as_str()));
    assert_eq!(list[1].undoes.as_deref(), Some(rec.id.as_str()));
}

#[tokio::test]
async fn a_partial_failure_names_each_refused_and_each_wrong_entity() {
    let (_dir, game, s) = setup().await;
    exploit(&game);
    game.lock().unwrap().locked.insert("v1".into());
    game.lock().unwrap().liar.insert("v0".into());
    let rec = s
        .rollback_apply("before", &player("p0"), "alice", "exploit", None)
        .await
        .unwrap();
    assert_eq!(rec.state, "partial");
    assert_eq!(
        (rec.counts.applied, rec.counts.failed, rec.counts.mismatched),
        (1, 1, 1)
    );
    assert_eq!(
        (rec.failed[0].id.as_str(), rec.failed[0].error.as_str()),
        ("v1", "account is locked")
    );
    assert_eq!(rec.mismatched[0].id, "v0");
    assert!(
        rec.mismatched[0].error.contains("reads back as"),
        "{:?}",
        rec.mismatched
    );
}

#[tokio::test]
async fn accounts_cover_their_players_villages_and_fields_narrow_the_write() {
    let (_dir, game, s) = setup().await;
    exploit(&game);
    {
        let mut g = game.lock().unwrap();
        // p12 belongs to a1; its village v24 loses wood and gains gold.
        g.state.insert(
            "v24".into(),
            village(24, 7, None).replace("\"wood\":50", "\"wood\":1"),
        );
    }
    let t = Targets {
        accounts: vec!["a1".into()],
        ..Targets::default()
    };
    let plan = s.rollback_plan("before", &t).await.unwrap();
    // a1, p10..p19, v20..v39.
    assert_eq!(plan.summary.targeted, 31);
    assert_eq!(actions(&plan), [("v24".into(), Action::Restore)]);

    let t = Targets {
        fields: vec!["data.resources.gold".into()],
        ..t
    };
    let rec = s
        .rollback_apply("before", &t, "alice", "gold only", None)
        .await
        .unwrap();
    assert_eq!(rec.counts.applied, 1);
    let g = game.lock().unwrap();
    let v: Value = serde_json::from_str(&g.state["v24"]).unwrap();
    assert_eq!(
        (
            v["data"]["resources"]["gold"].clone(),
            v["data"]["resources"]["wood"].clone()
        ),
        (json!(100), json!(1))
    );
}

#[tokio::test]
async fn targets_that_name_nothing_or_cannot_be_queried_are_refused() {
    assert!(Targets::default().check().is_err());
    let bad = Targets {
        players: vec!["p1&id=v9".into()],
        ..Targets::default()
    };
    assert!(bad.check().unwrap_err().contains("p1&id=v9"));
    let no_kind = Targets {
        ids: vec!["v1".into()],
        ..Targets::default()
    };
    assert_eq!(no_kind.check().unwrap_err(), "--id needs --kind");
    let (_dir, _game, s) = setup().await;
    let err = s.rollback_plan("nope", &player("p0")).await.unwrap_err();
    assert!(matches!(err, SnapshotError::Unknown(_)));
    let plan = s.rollback_plan("before", &player("p999")).await.unwrap();
    assert_eq!(actions(&plan), [("p999".into(), Action::Skip)]);
}
