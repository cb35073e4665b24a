use super::*;

#[test]
fn the_answer_decides_whether_a_report_is_retried_counted_or_dead_lettered() {
    let ack = br#"{"seq":7,"duplicate":false}"#;
    let refused = br#"{"seq":7,"duplicate":false,"refused":[{"part":"counters[3]","reason":"value out of range"}]}"#;
    let refused_part = RefusedPart {
        part: "counters[3]".into(),
        reason: "value out of range".into(),
    };
    let cases: Vec<(u16, &[u8], Outcome)> = vec![
        (200, ack, Outcome::Delivered(vec![])),
        (200, br#"{"seq":7,"duplicate":true}"#, Outcome::Delivered(vec![])),
        (200, refused, Outcome::Delivered(vec![refused_part])),
        (
            400,
            br#"{"error":"counters[0].value: not a number"}"#,
            Outcome::Rejected {
                status: 400,
                error: "collector answered 400 Bad Request: counters[0].value: not a number"
                    .into(),
            },
        ),
        (
            413,
            b"",
            Outcome::Rejected {
                status: 413,
                error: "collector answered 413 Payload Too Large".into(),
            },
        ),
        (
            422,
            b"no such world\n",
            Outcome::Rejected {
                status: 422,
                error: "collector answered 422 Unprocessable Entity: no such world".into(),
            },
        ),
        (
            500,
            br#"{"error":"internal error; see the collector's log"}"#,
            Outcome::Failed {
                status: Some(500),
                error: "collector answered 500 Internal Server Error: internal error; see the collector's log".into(),
            },
        ),
        (
            503,
            b"",
            Outcome::Failed {
                status: Some(503),
                error: "collector answered 503 Service Unavailable".into(),
            },
        ),
        (401, b"", Outcome::Retry("collector answered 401 Unauthorized".into())),
        (403, b"", Outcome::Retry("collector answered 403 Forbidden".into())),
        (408, b"", Outcome::Retry("collector answered 408 Request Timeout".into())),
        (429, b"", Outcome::Retry("collector answered 429 Too Many Requests".into())),
    ];
    for (code, body, want) in cases {
        let status = StatusCode::from_u16(code).unwrap();
        assert_eq!(classify(status, body), want, "{code} {body:?}");
    }
    // A 2xx that is not an acknowledgement counts as a failed attempt.
    for body in [&b"ok"[..], b"", br#"{"seq":"x"}"#] {
        let Outcome::Failed { status, error } = classify(StatusCode::OK, body) else {
            panic!("{body:?}")
        };
        assert_eq!(status, Some(200));
        assert!(
            error.starts_with("unreadable acknowledgement (200 OK): "),
            "{error}"
        );
    }
    // A long message is kept short.
    let long = format!(r#"{{"error":"{}"}}"#, "x".repeat(5000));
    let Outcome::Rejected { error, .. } = classify(StatusCode::BAD_REQUEST, long.as_bytes()) else {
        panic!()
    };
    assert!(error.len() < MAX_ERROR_CHARS + 50, "{}", error.len());
}

#[test]
fn attempts_count_per_report_and_restart_with_the_next() {
    let mut a = Attempts::default();
    assert_eq!(a.made(5), 1);
    assert_eq!((a.fail(5), a.fail(5)), (1, 2));
    assert_eq!(a.made(5), 3, "the one that just ended included");
    assert_eq!(a.fail(6), 1, "another report starts from zero");
    assert_eq!(a.made(5), 1);
}
