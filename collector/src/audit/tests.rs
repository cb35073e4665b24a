//! Tests of the audit file: appends survive a reopen, reloads are recorded
//! once per report, a cut-off tail and a forged one stay visible, and a
//! crash between the file and the head is recovered from.

use liveops_protocol::flags::{FlagChange, FlagReload};
use liveops_protocol::{Health, Report};
use serde_json::json;

use super::*;
use crate::auth::Caller;

fn draft(reason: &str) -> Draft {
    Draft {
        actor: "alice".into(),
        role: "responder".into(),
        action: "override",
        id: "o-1".into(),
        subject: "trade.market".into(),
        scope: "world w1".into(),
        reason: reason.into(),
        before: json!({"trade.market": null}),
        after: json!({"trade.market": false}),
    }
}

fn report(seq: u64, reloads: Vec<FlagReload>) -> Report {
    Report {
        agent: "agent-7".into(),
        world: "w1".into(),
        seq,
        start_ms: 0,
        end_ms: 1_000,
        urgent: false,
        health: Health::default(),
        counters: vec![],
        gauges: vec![],
        histograms: vec![],
        losses: Default::default(),
        flag_reloads: reloads,
    }
}

fn reload(applied: bool) -> FlagReload {
    FlagReload {
        at_ms: 1_700_000_000_000,
        file: "/etc/liveops/flags.toml".into(),
        sha256: "ab".repeat(32),
        applied,
        error: (!applied).then(|| "flags.toml:3:11: unknown flag kind `kil`".into()),
        changes: if applied {
            vec![FlagChange {
                flag: "trade.market".into(),
                before: Some("true".into()),
                after: Some("false".into()),
            }]
        } else {
            vec![]
        },
    }
}

fn metrics() -> Arc<CollectorMetrics> {
    Arc::new(CollectorMetrics::new())
}

fn verified(audit: &Audit) -> Vec<Value> {
    let (entries, head) = audit.read().unwrap();
    verify(&entries, &head).unwrap();
    entries
}

#[test]
fn entries_chain_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    let first = audit
        .append(&store, vec![draft("one"), draft("two")])
        .unwrap();
    assert_eq!((first[0].seq, first[1].seq), (1, 2));
    assert_eq!(first[0].prev, GENESIS);
    assert_eq!(first[1].prev, first[0].hash);
    drop(audit);
    store.flush().unwrap();
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    let third = audit.append(&store, vec![draft("three")]).unwrap();
    assert_eq!(third[0].seq, 3);
    assert_eq!(third[0].prev, first[1].hash);
    let entries = verified(&audit);
    assert_eq!(entries[2]["reason"], "three");
}

#[test]
fn a_reports_reloads_are_recorded_once_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    audit.record_report(&store, &report(1, vec![])).unwrap();
    audit
        .record_report(&store, &report(2, vec![reload(true), reload(false)]))
        .unwrap();
    audit
        .record_report(&store, &report(2, vec![reload(true), reload(false)]))
        .unwrap();
    let entries = verified(&audit);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "flag-reload");
    assert_eq!(entries[0]["actor"], "agent:agent-7");
    assert_eq!(entries[0]["id"], "report-2");
    assert_eq!(entries[0]["scope"], "world w1");
    assert_eq!(entries[0]["before"], json!({"trade.market": "true"}));
    assert_eq!(entries[0]["after"], json!({"trade.market": "false"}));
    assert_eq!(entries[1]["action"], "flag-reload-rejected");
    assert!(
        entries[1]["reason"]
            .as_str()
            .unwrap()
            .contains("unknown flag kind")
    );
    drop(audit);
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    audit
        .record_report(&store, &report(2, vec![reload(true)]))
        .unwrap();
    audit
        .record_report(&store, &report(3, vec![reload(true)]))
        .unwrap();
    assert_eq!(verified(&audit).len(), 3);
}

#[test]
fn appends_are_counted_by_action() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let m = metrics();
    let audit = Audit::open(dir.path(), &store, m.clone()).unwrap();
    audit.append(&store, vec![draft("a"), draft("b")]).unwrap();
    let reloads = vec![reload(true), reload(false)];
    audit.record_report(&store, &report(1, reloads)).unwrap();
    // A replayed report adds nothing, so counts nothing.
    audit
        .record_report(&store, &report(1, vec![reload(true)]))
        .unwrap();
    let text = m.render();
    for line in [
        r#"liveops_collector_audit_entries_total{action="override"} 2"#,
        r#"liveops_collector_audit_entries_total{action="flag-reload"} 1"#,
        r#"liveops_collector_audit_entries_total{action="flag-reload-rejected"} 1"#,
        r#"liveops_collector_audit_entries_total{action="mitigate"} 0"#,
        "liveops_collector_audit_append_failures_total 0",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
    }
}

#[test]
fn a_cut_off_tail_stays_detected_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    audit
        .append(&store, vec![draft("a"), draft("b"), draft("c")])
        .unwrap();
    store.flush().unwrap();
    drop(audit);
    let path = dir.path().join(FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text.lines().take(2).collect();
    std::fs::write(&path, format!("{}\n", kept.join("\n"))).unwrap();
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    let (entries, head) = audit.read().unwrap();
    assert_eq!(verify(&entries, &head).unwrap_err().seq, 3);
    // Nothing is appended to a broken log until an admin reseals it; the
    // reseal continues the recorded chain, so seq 3 stays accounted for.
    let refused = audit.append(&store, vec![draft("d")]).unwrap_err();
    assert!(
        refused.to_string().contains("tail was cut off"),
        "{refused}"
    );
    let admin = Caller {
        name: "root".into(),
        role: liveops_config::Role::Admin,
    };
    let seal = audit.reseal(&store, &admin, "restored").unwrap().unwrap();
    assert_eq!((seal.seq, seal.action.as_str()), (4, "reseal"));
    assert!(audit.reseal(&store, &admin, "again").unwrap().is_none());
    let next = audit.append(&store, vec![draft("d")]).unwrap();
    assert_eq!(next[0].seq, 5);
    let (entries, head) = audit.read().unwrap();
    assert_eq!(verify(&entries, &head), Ok(()));
    let kept = seal.before["kept_as"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(kept).unwrap().lines().count(), 2);
}

/// A line chained onto the file's last entry, as anyone with write access
/// to the data dir could compute it.
fn forge(dir: &Path, reason: &str) -> Head {
    let path = dir.join(FILE);
    let entries = parse_lines(&std::fs::read_to_string(&path).unwrap());
    let last = entries.last().unwrap();
    let head = Head {
        seq: last["seq"].as_u64().unwrap(),
        hash: last["hash"].as_str().unwrap().to_owned(),
    };
    let e = chain::seal(
        into_entry(draft(reason), "2026-01-01T00:00:00.000Z".into()),
        &head,
    );
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    writeln!(f, "{}", serde_json::to_string(&e).unwrap()).unwrap();
    Head {
        seq: e.seq,
        hash: e.hash,
    }
}

#[test]
fn entries_appended_while_stopped_are_not_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    audit.append(&store, vec![draft("a"), draft("b")]).unwrap();
    store.flush().unwrap();
    drop(audit);
    forge(dir.path(), "nothing happened");
    forge(dir.path(), "nothing at all");
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    assert_eq!(audit.head().seq, 2);
    let (entries, head) = audit.read().unwrap();
    let err = verify(&entries, &head).unwrap_err();
    assert_eq!(err.seq, 3);
    assert!(
        err.to_string().contains("recorded entries up to 2"),
        "{err}"
    );
    // Nor after another restart; and the collector refuses to append.
    drop(audit);
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    assert_eq!(audit.head().seq, 2);
    assert!(matches!(
        audit.append(&store, vec![draft("c")]),
        Err(CollectorError::AuditBroken(_))
    ));
    assert!(audit.check().is_some());
}

#[test]
fn a_log_without_entries_is_anchored_so_a_whole_forged_file_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    drop(Audit::open(dir.path(), &store, metrics()).unwrap());
    let mut f = OpenOptions::new()
        .append(true)
        .open(dir.path().join(FILE))
        .unwrap();
    let e = chain::seal(into_entry(draft("forged"), "t".into()), &Head::default());
    writeln!(f, "{}", serde_json::to_string(&e).unwrap()).unwrap();
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    assert_eq!(audit.head(), Head::default());
    let (entries, head) = audit.read().unwrap();
    assert_eq!(verify(&entries, &head).unwrap_err().seq, 1);
}

#[test]
fn a_crash_between_the_file_and_the_head_is_recovered_from_the_pending_head() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    audit.append(&store, vec![draft("a"), draft("b")]).unwrap();
    store.flush().unwrap();
    drop(audit);
    // What sled holds when the collector dies after writing and fsyncing
    // entry 3 but before saving the head: the head at 2, the pending head
    // at 3. The crash also left half of a line that was never acknowledged.
    let pending = forge(dir.path(), "c");
    store.put(PENDING_KEY, &pending).unwrap();
    let mut f = OpenOptions::new()
        .append(true)
        .open(dir.path().join(FILE))
        .unwrap();
    f.write_all(b"{\"seq\":4,\"ti").unwrap();
    drop(f);
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    assert_eq!(audit.head(), pending);
    assert_eq!(store.get::<Head>(PENDING_KEY).unwrap(), None);
    assert_eq!(store.get::<Head>(HEAD_KEY).unwrap(), Some(pending));
    audit.append(&store, vec![draft("d")]).unwrap();
    assert_eq!(verified(&audit).len(), 4);
}

#[test]
fn a_pending_head_is_adopted_only_where_the_file_ends_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    audit.append(&store, vec![draft("a")]).unwrap();
    drop(audit);
    // The crash left entry 2; someone then added entry 3 behind it.
    let pending = forge(dir.path(), "b");
    store.put(PENDING_KEY, &pending).unwrap();
    forge(dir.path(), "forged");
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    assert_eq!(audit.head().seq, 1);
    let (entries, head) = audit.read().unwrap();
    assert_eq!(verify(&entries, &head).unwrap_err().seq, 2);
    // A pending head whose append never reached the file is dropped.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    audit.append(&store, vec![draft("a")]).unwrap();
    let never = Head {
        seq: 2,
        hash: "ab".repeat(32),
    };
    store.put(PENDING_KEY, &never).unwrap();
    drop(audit);
    let audit = Audit::open(dir.path(), &store, metrics()).unwrap();
    assert_eq!(audit.head().seq, 1);
    assert_eq!(store.get::<Head>(PENDING_KEY).unwrap(), None);
    assert_eq!(verified(&audit).len(), 1);
}

impl Audit {
    /// The reloads of a whole report, as the report intake records them.
    fn record_report(&self, store: &Store, r: &Report) -> Result<bool, CollectorError> {
        let from = From {
            agent: &r.agent,
            world: &r.world,
            seq: r.seq,
        };
        self.record_reloads(store, from, &r.flag_reloads)
    }
}
