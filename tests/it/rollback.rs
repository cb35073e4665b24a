//! A targeted rollback as an operator runs it, through the `liveops` binary,
//! the collector and the world's agent against the simulated world: the
//! exploit, the diff, the dry run with its collateral, the apply, the state
//! afterwards, the audit log, and the undo.

use std::collections::BTreeSet;
use std::time::Duration;

use liveops_simworld::Fault;
use serde_json::Value;

use crate::snapshots::{frozen_world, liveops};
use crate::support::{
    ADMIN_TOKEN, Switch, VIEWER_TOKEN, any_port, audit_entries, collector_config, eventually,
    start_collector,
};

/// (kind, id, owner) of every entity a `diff … --json` lists.
fn differing(report: &Value) -> BTreeSet<(String, String, String)> {
    report["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_owned();
            (s("kind"), s("id"), s("owner"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_one_exploiter_exactly_then_undo_it() {
    let dir = tempfile::tempdir().unwrap();
    let collector = start_collector(collector_config(dir.path(), any_port())).await;
    let url = collector.url();
    let stop = Switch::new();
    let (world, _agent) = frozen_world(dir.path(), "w1", &url, &stop).await;
    let run = |token: &'static str, args: Vec<String>| {
        let (dir, url) = (dir.path().to_owned(), url.clone());
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            liveops(&dir, &url, token, &args).await
        }
    };
    let argv = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();

    eventually(
        Duration::from_secs(30),
        "the agent answers commands",
        || async {
            let (ok, out, err) = run(VIEWER_TOKEN, argv("snapshot list --world w1")).await;
            if ok { Ok(out) } else { Err(err) }
        },
    )
    .await;
    let (ok, _, err) = run(
        ADMIN_TOKEN,
        argv("snapshot take --world w1 --label before --reason drill"),
    )
    .await;
    assert!(ok, "{err}");

    // One player mints gold and trades some of it to others' villages.
    let suspect = world.exploit_suspect().expect("a suspect");
    world.set_fault(Some(Fault::Exploit));
    let ticks = world.ticks();
    eventually(Duration::from_secs(60), "the exploit trades", || async {
        if world.ticks() > ticks + 25 {
            Ok(())
        } else {
            Err(format!("{} ticks", world.ticks() - ticks))
        }
    })
    .await;
    world.set_fault(None);
    let (ok, _, err) = run(
        ADMIN_TOKEN,
        argv("snapshot take --world w1 --label exploited --reason drill"),
    )
    .await;
    assert!(ok, "{err}");

    let (ok, out, err) = run(
        VIEWER_TOKEN,
        argv("snapshot diff before live --world w1 --json"),
    )
    .await;
    assert!(ok, "{err}");
    let before: Value = serde_json::from_str(&out).unwrap();
    let top: Vec<&str> = before["largest"]
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .map(|d| d["owner"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        top,
        [suspect.as_str(); 2],
        "the suspect's villages top the diff"
    );
    let changed = differing(&before);
    let (theirs, others): (BTreeSet<_>, BTreeSet<_>) =
        changed.iter().cloned().partition(|(_, _, o)| *o == suspect);
    assert!(
        !theirs.is_empty() && !others.is_empty(),
        "the exploit traded to others: {changed:?}"
    );

    // The dry run: exactly the suspect's changed villages, and the partners
    // as collateral; nothing written.
    let plan_args = format!("rollback --world w1 --from before --player {suspect}");
    let (ok, out, err) = run(VIEWER_TOKEN, argv(&format!("{plan_args} --json"))).await;
    assert!(ok, "{err}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    let planned: BTreeSet<_> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_owned(),
                i["id"].as_str().unwrap().to_owned(),
                i["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: BTreeSet<_> = theirs
        .iter()
        .map(|(k, i, _)| (k.clone(), i.clone(), "restore".to_owned()))
        .collect();
    assert_eq!(planned, want, "{plan:#}");
    let collateral: BTreeSet<_> = plan["collateral"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["id"].as_str().unwrap().to_owned(),
                c["owner"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(collateral, others, "the trade partners are the collateral");
    let (ok, out, _) = run(VIEWER_TOKEN, argv(&plan_args)).await;
    assert!(
        ok && out.contains("restore village")
            && out.contains("collateral:")
            && out.contains("dry run"),
        "{out}"
    );
    assert!(
        out.contains("data.resources.gold:"),
        "field by field, current → restored: {out}"
    );

    let (ok, _, err) = run(
        VIEWER_TOKEN,
        argv(&format!("{plan_args} --apply --reason exploit")),
    )
    .await;
    assert!(!ok && err.contains("this needs role `responder`"), "{err}");
    let (ok, out, err) = run(
        ADMIN_TOKEN,
        argv(&format!("{plan_args} --apply --reason dupe-exploit --json")),
    )
    .await;
    assert!(ok, "{out}{err}");
    let rec: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rec["state"], "applied", "{rec:#}");
    assert_eq!(rec["counts"]["applied"].as_u64(), Some(theirs.len() as u64));
    let rid = rec["id"].as_str().unwrap().to_owned();
    let safety = rec["safety"].as_str().unwrap().to_owned();

    // The suspect's entities equal the snapshot, and nothing else moved:
    // what still differs from `before` is the partners' side only.
    let (ok, out, err) = run(
        VIEWER_TOKEN,
        argv("snapshot diff before live --world w1 --json"),
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(differing(&serde_json::from_str(&out).unwrap()), others);
    let (ok, out, err) = run(
        VIEWER_TOKEN,
        argv("snapshot diff exploited live --world w1 --json"),
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(
        differing(&serde_json::from_str(&out).unwrap()),
        theirs,
        "only the suspect's entities were written"
    );

    // On record: who, why, from which snapshot, the counts, the safety snapshot.
    let audit = audit_entries(&url, VIEWER_TOKEN).await;
    let apply = audit
        .iter()
        .find(|e| e["action"] == "rollback-apply")
        .expect("the apply is audited");
    assert_eq!(
        (apply["reason"].as_str(), apply["before"]["from"].as_str()),
        (Some("dupe-exploit"), Some("before"))
    );
    assert_eq!(apply["before"]["targets"]["players"][0], suspect.as_str());
    let result = audit
        .iter()
        .rev()
        .find(|e| e["action"] == "command-result")
        .unwrap();
    assert_eq!(
        result["after"]["body"]["safety"].as_str(),
        Some(safety.as_str())
    );

    // Undo: a dry run, then back to the exploited state exactly.
    let undo = format!("rollback undo {rid} --world w1");
    let (ok, out, err) = run(VIEWER_TOKEN, argv(&undo)).await;
    assert!(
        ok && out.contains(&format!("rollback to {safety}")),
        "{out}{err}"
    );
    let (ok, out, err) = run(
        ADMIN_TOKEN,
        argv(&format!("{undo} --apply --reason wrong-player")),
    )
    .await;
    assert!(ok && out.contains(&format!("undid {rid}")), "{out}{err}");
    let (ok, out, err) = run(
        VIEWER_TOKEN,
        argv("snapshot diff exploited live --world w1 --json"),
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(
        differing(&serde_json::from_str(&out).unwrap()),
        BTreeSet::new()
    );
    let (ok, _, err) = run(ADMIN_TOKEN, argv(&format!("{undo} --apply --reason again"))).await;
    assert!(!ok && err.contains("undone already"), "{err}");
    let (ok, out, err) = run(VIEWER_TOKEN, argv("rollback list --world w1")).await;
    assert!(
        ok && out.contains("undone by") && out.contains(&format!("undoes {rid}")),
        "{out}{err}"
    );
    // Retention never takes a safety snapshot while its rollback stands.
    let (ok, out, err) = run(ADMIN_TOKEN, argv("snapshot prune --world w1 --reason test")).await;
    assert!(ok && out.contains("0 snapshots removed"), "{out}{err}");
    stop.fire();
}
