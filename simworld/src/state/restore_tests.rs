//! Restore, line by line: what is applied, what is refused and why.

use std::sync::RwLock;

use serde_json::json;

use super::restore::restore;
use super::tests::listing;
use super::*;

fn world() -> SharedStore {
    RwLock::new(Store::generate(Population::new(10, 2).unwrap(), 1))
}

/// A valid village line, `last_trade` included.
fn village(id: &str, owner: &str, gold: u64) -> String {
    format!(
        r#"{{"kind":"village","id":"{id}","owner":"{owner}","data":{{"name":"village-x","resources":{{"gold":{gold},"wood":1,"stone":2,"food":3}},"buildings":{{"town_hall":1,"barracks":1,"farm":1,"wall":1}},"army":{{"spearmen":1,"archers":0,"cavalry":0}},"last_trade":{{"with":"v4","tick":9}}}}}}"#
    )
}

#[test]
fn a_line_changed_by_hand_is_applied_and_read_back_as_sent() {
    let state = world();
    let line = village("v3", "p1", 999_999);
    let report = restore(&state, format!("{line}\n").as_bytes());
    assert_eq!((report.applied, report.failed), (1, 0));
    assert_eq!(listing(&state, "id=v3"), format!("{line}\n"));
    // `last_trade: null` and leaving it out both mean "no trade".
    let plain = listing(&state, "id=v5");
    let nulled = plain.replace(r#"}}}"#, r#"},"last_trade":null}}"#);
    assert_eq!(restore(&state, nulled.as_bytes()).applied, 1);
    assert_eq!(listing(&state, "id=v5"), plain);
}

#[test]
fn deletions_creations_and_owner_moves_keep_the_owner_index_right() {
    let state = world();
    let body = format!(
        "{}\n{}\n{}\n",
        r#"{"kind":"village","id":"v2","deleted":true}"#,
        village("v999", "p4", 1),
        village("v3", "p4", 1),
    );
    let report = restore(&state, body.as_bytes());
    assert_eq!((report.applied, report.failed), (3, 0));
    let ids = |q: &str| {
        let text = listing(&state, q);
        text.lines()
            .map(|l| l.split('"').nth(7).unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("owner=p1"), Vec::<String>::new());
    assert_eq!(ids("owner=p4"), ["v3", "v8", "v9", "v999"]);
    assert_eq!(ids("id=v2"), Vec::<String>::new());
    // The index itself, not only the listing (which checks owners again).
    let owned = |p| read(&state).owned_by((Kind::Player, p)).collect::<Vec<_>>();
    assert_eq!(owned(1), []);
    let villages = [3, 8, 9, 999].map(|n| (Kind::Village, n));
    assert_eq!(owned(4), villages);
    assert_eq!(read(&state).len(), 10 + 10 + 20);
    // Deleting what is not there is not an error: the body can be resent.
    let again = restore(&state, body.as_bytes());
    assert_eq!((again.applied, again.failed), (3, 0));
    assert_eq!(ids("owner=p4"), ["v3", "v8", "v9", "v999"]);
}

#[test]
fn the_same_body_twice_gives_the_same_state() {
    let state = world();
    let mut body = listing(&state, "kind=village");
    body = body.replace(r#""gold":"#, r#""gold":1"#);
    body.push_str("{\"kind\":\"player\",\"id\":\"p3\",\"deleted\":true}\n");
    restore(&state, body.as_bytes());
    let once = listing(&state, "");
    restore(&state, body.as_bytes());
    assert_eq!(listing(&state, ""), once);
}

#[test]
fn bad_lines_are_refused_with_reasons_and_good_ones_still_apply() {
    let state = world();
    let good = village("v1", "p0", 5);
    let cases = [
        (
            "not json",
            "line 2: not an entity: expected ident at column 2",
        ),
        (r#"{"id":"v1","data":{}}"#, "line 3: no `kind`"),
        (
            r#"{"kind":"castle","id":"c1","data":{}}"#,
            "line 4: castle c1: unknown kind `castle` (expected account, player or village)",
        ),
        (
            r#"{"kind":"village","id":"p3","owner":"p1","data":{}}"#,
            "line 5: village p3: id must be `v` followed by digits",
        ),
        (
            r#"{"kind":"village","id":"v3","data":{}}"#,
            "line 6: village v3: no `owner` (a player id)",
        ),
        (
            r#"{"kind":"village","id":"v3","owner":"a1","data":{}}"#,
            "line 7: village v3: owner `a1` is not a player id",
        ),
        (
            r#"{"kind":"player","id":"p3","owner":"p1","data":{}}"#,
            "line 8: player p3: owner `p1` is not an account id",
        ),
        (
            r#"{"kind":"account","id":"a3","owner":"a1","data":{"gems":1,"premium":true}}"#,
            "line 9: account a3: an account has no owner",
        ),
        (
            &good.replace(r#""gold""#, r#""golds""#).replace("v1", "v9"),
            "line 10: village v9: data: unknown field `golds`, expected one of `gold`, `wood`, `stone`, `food`",
        ),
        (
            &good.replace(r#","wall":1"#, ""),
            "line 11: village v1: data: missing field `wall`",
        ),
        (
            &good.replace(r#""with":"v4""#, r#""with":"p4""#),
            "line 12: village v1: data: `p4` is not a village id (`v` followed by digits)",
        ),
        (
            r#"{"kind":"account","id":"a3"}"#,
            "line 13: account a3: no `data`",
        ),
        (
            r#"{"kind":"account","id":"a3","colour":"red","data":{"gems":1,"premium":true}}"#,
            "line 14: account a3: unknown field `colour` (expected kind, id, owner, data or deleted)",
        ),
        (
            r#"{"kind":"account","id":"a3","deleted":true,"data":{}}"#,
            "line 15: account a3: a deletion carries only kind, id and `deleted`",
        ),
        (
            r#"{"kind":"account","id":"a3","id":"a4"}"#,
            "line 16: not an entity: duplicate field `id` at column 38",
        ),
    ];
    let mut body = format!("{good}\n");
    for (line, _) in &cases {
        body.push_str(line);
        body.push('\n');
    }
    body.push_str("\n   \n");
    body.push_str(r#"{"kind":"account","id":"a2","data":{"gems":7,"premium":true}}"#);
    let report = restore(&state, body.as_bytes());
    assert_eq!((report.applied, report.failed), (2, cases.len()));
    for (result, (_, want)) in report.results[1..].iter().zip(cases) {
        assert_eq!(result.error.as_deref(), Some(want));
        assert!(!result.ok);
    }
    // Blank lines are skipped but numbered.
    assert_eq!(
        report.results.last().map(|r| (r.line, r.ok)),
        Some((19, true))
    );
    assert_eq!(listing(&state, "id=v1"), format!("{good}\n"));
    assert!(listing(&state, "id=a2").contains(r#""gems":7"#));

    let report =
        serde_json::to_value(restore(&state, b"{\"kind\":\"village\",\"id\":\"v9\"}\nx")).unwrap();
    assert_eq!(
        report,
        json!({"applied": 0, "failed": 2, "results": [
            {"line": 1, "kind": "village", "id": "v9", "ok": false,
             "error": "line 1: village v9: no `owner` (a player id)"},
            {"line": 2, "ok": false, "error": "line 2: not an entity: expected value at column 1"},
        ]})
    );
}
