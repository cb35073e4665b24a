use super::*;
use liveops_flags::SnapshotDoc;

#[test]
fn etags_follow_the_context_and_match_lists_weak_tags_and_stars() {
    let snap = Snapshot::new(SnapshotDoc {
        version: "v1".into(),
        ..SnapshotDoc::default()
    });
    let ctx = |p: &str| Context {
        player: Some(p.into()),
        ..Context::default()
    };
    let tag = bulk_etag(&snap, &ctx("7"));
    assert_eq!(tag, bulk_etag(&snap, &ctx("7")));
    assert_ne!(tag, bulk_etag(&snap, &ctx("8")));
    assert!(tag.to_str().unwrap().starts_with("\"v1-"));

    let with = |v: &str| {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
        h
    };
    let t = tag.to_str().unwrap();
    assert!(not_modified(&with(t), &tag));
    assert!(not_modified(&with(&format!("\"x\", W/{t}")), &tag));
    assert!(not_modified(&with("*"), &tag));
    assert!(!not_modified(&with("\"v1-0\""), &tag));
    assert!(!not_modified(&HeaderMap::new(), &tag));
}

#[test]
fn a_bulk_item_that_fails_is_an_evaluation_failure_and_events_are_ofrep_shaped() {
    let item = Item::Err(Failure {
        key: Some("market.fee"),
        error_code: EvalError::ParseError(String::new()).code(),
        error_details: "flags.toml:3:1: …".into(),
    });
    assert_eq!(
        serde_json::to_value(&item).unwrap(),
        serde_json::json!({"key": "market.fee", "errorCode": "PARSE_ERROR",
                           "errorDetails": "flags.toml:3:1: …"})
    );
    let mut headers = HeaderMap::new();
    assert_eq!(events_url(&headers), None);
    for (host, want) in [
        (
            "127.0.0.1:9471",
            Some("http://127.0.0.1:9471/liveops/v1/flags/ofrep-events"),
        ),
        (
            "agent.w1.internal",
            Some("http://agent.w1.internal/liveops/v1/flags/ofrep-events"),
        ),
        ("evil@host", None),
        ("a b", None),
    ] {
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        assert_eq!(events_url(&headers).as_deref(), want, "{host}");
    }
    let frame = refetch_event("v7\nx");
    let (head, data) = frame.split_once("\ndata: ").unwrap();
    assert_eq!(head, "id: v7x");
    assert!(frame.ends_with("}\n\n"), "{frame:?}");
    let data: serde_json::Value = serde_json::from_str(data.trim_end()).unwrap();
    assert_eq!(data["type"], "refetchEvaluation");
    assert_eq!(data["etag"], "\"v7x\"");
    assert!(data["lastModified"].as_u64().unwrap() > 1_700_000_000);
}
