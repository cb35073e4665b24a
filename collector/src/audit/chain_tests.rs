//! Tests of the hash chain: every kind of tampering is named by its seq.

use serde_json::json;

use super::*;

fn entry(action: &str, reason: &str) -> Entry {
    Entry {
        seq: 0,
        time: "2026-01-01T00:00:00.000Z".into(),
        actor: "alice".into(),
        role: "responder".into(),
        action: action.into(),
        id: "m-1".into(),
        subject: "freeze-attacks".into(),
        scope: "world w1".into(),
        reason: reason.into(),
        before: json!({"combat.attacks": null}),
        after: json!({"combat.attacks": false, "n": 0.5}),
        prev: String::new(),
        hash: String::new(),
    }
}

/// A log of `n` entries as the API returns it, and its head.
fn log(n: usize) -> (Vec<Value>, Head) {
    let mut head = Head::default();
    let mut out = Vec::new();
    for i in 0..n {
        let e = seal(entry("mitigate", &format!("reason {i}")), &head);
        head = Head {
            seq: e.seq,
            hash: e.hash.clone(),
        };
        // Through text and back, as a reader of audit.jsonl sees it.
        let line = serde_json::to_string(&e).unwrap();
        out.push(serde_json::from_str(&line).unwrap());
    }
    (out, head)
}

fn broken_at(entries: &[Value], head: &Head) -> u64 {
    verify(entries, head).unwrap_err().seq
}

#[test]
fn an_untouched_log_verifies_and_links_each_entry_to_the_last() {
    let (entries, head) = log(4);
    verify(&entries, &head).unwrap();
    assert_eq!(entries[0]["prev"], GENESIS);
    assert_eq!(entries[1]["prev"], entries[0]["hash"]);
    assert_eq!(head.seq, 4);
    verify(&[], &Head::default()).unwrap();
}

#[test]
fn the_hash_ignores_key_order_but_not_content() {
    let (entries, _) = log(1);
    let mut reordered = serde_json::Map::new();
    let obj = entries[0].as_object().unwrap();
    for k in obj.keys().rev() {
        reordered.insert(k.clone(), obj[k].clone());
    }
    assert_eq!(hash_of(&Value::Object(reordered)), hash_of(&entries[0]));
    let mut added = entries[0].clone();
    added["note"] = json!("slipped in");
    assert_ne!(hash_of(&added), hash_of(&entries[0]));
}

#[test]
fn an_edited_entry_is_named() {
    let (mut entries, head) = log(5);
    entries[2]["reason"] = json!("nothing to see");
    assert_eq!(broken_at(&entries, &head), 3);
    let (mut entries, head) = log(5);
    entries[1]["after"]["combat.attacks"] = json!(true);
    let err = verify(&entries, &head).unwrap_err();
    assert_eq!(err.seq, 2);
    assert!(err.to_string().contains("edited"), "{err}");
}

#[test]
fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
    let (mut entries, head) = log(5);
    entries[2]["reason"] = json!("rewritten");
    entries[2]["hash"] = json!(hash_of(&entries[2]));
    assert_eq!(broken_at(&entries, &head), 4);
    // The last entry rewritten whole: only the recorded head catches it.
    let (mut entries, head) = log(3);
    entries[2]["reason"] = json!("rewritten");
    entries[2]["hash"] = json!(hash_of(&entries[2]));
    assert_eq!(broken_at(&entries, &head), 3);
}

#[test]
fn removed_reordered_and_cut_off_entries_are_named() {
    let (mut entries, head) = log(5);
    entries.remove(1);
    assert_eq!(broken_at(&entries, &head), 2);
    let (mut entries, head) = log(5);
    entries.swap(2, 3);
    assert_eq!(broken_at(&entries, &head), 3);
    let (mut entries, head) = log(5);
    entries.truncate(3);
    let err = verify(&entries, &head).unwrap_err();
    assert_eq!(err.seq, 4);
    assert!(err.to_string().contains("cut off"), "{err}");
    let (mut entries, head) = log(2);
    entries.clear();
    assert_eq!(broken_at(&entries, &head), 1);
    let (mut entries, head) = log(2);
    entries.push(json!("garbage"));
    assert_eq!(broken_at(&entries, &head), 3);
}
