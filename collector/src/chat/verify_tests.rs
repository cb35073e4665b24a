use ed25519_dalek::{Signer, SigningKey};

use super::*;

// Slack's own worked example ("Verifying requests from Slack").
const SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";
const TS: &str = "1531420618";
const BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
const NOW: u64 = 1_531_420_618;

/// Secret, timestamp, signature, body, now, and the refusal expected.
type SlackCase<'a> = (
    &'a [u8],
    Option<&'a str>,
    Option<&'a str>,
    &'a [u8],
    u64,
    Refused,
);
type DiscordCase<'a> = (Option<&'a str>, Option<&'a str>, &'a [u8], u64, Refused);

#[test]
fn slack_accepts_its_documented_example_and_refuses_every_change() {
    let ok = slack(SECRET, Some(TS), Some(SIG), BODY, NOW + 10);
    assert_eq!(ok.map(|v| v.at_s), Ok(NOW));
    let mut other_body = BODY.to_vec();
    other_body[6] ^= 1;
    let flipped = SIG.replace("a2114d", "a2114e");
    let cases: &[SlackCase] = &[
        (SECRET, None, Some(SIG), BODY, NOW, Refused::Missing),
        (SECRET, Some(TS), None, BODY, NOW, Refused::Missing),
        (
            SECRET,
            Some("soon"),
            Some(SIG),
            BODY,
            NOW,
            Refused::Malformed,
        ),
        (
            SECRET,
            Some(TS),
            Some("a2114d57"),
            BODY,
            NOW,
            Refused::Malformed,
        ),
        (
            SECRET,
            Some(TS),
            Some("v0=zz"),
            BODY,
            NOW,
            Refused::Malformed,
        ),
        (
            SECRET,
            Some(TS),
            Some(&flipped),
            BODY,
            NOW,
            Refused::BadSignature,
        ),
        (
            b"another-secret",
            Some(TS),
            Some(SIG),
            BODY,
            NOW,
            Refused::BadSignature,
        ),
        (
            SECRET,
            Some(TS),
            Some(SIG),
            &other_body,
            NOW,
            Refused::BadSignature,
        ),
        // The timestamp is signed: moving it breaks the signature.
        (
            SECRET,
            Some("1531420619"),
            Some(SIG),
            BODY,
            NOW,
            Refused::BadSignature,
        ),
        (SECRET, Some(TS), Some(SIG), BODY, NOW + 301, Refused::Stale),
        (SECRET, Some(TS), Some(SIG), BODY, NOW - 301, Refused::Stale),
    ];
    for (secret, ts, sig, body, now, want) in cases {
        assert_eq!(
            slack(secret, *ts, *sig, body, *now),
            Err(*want),
            "{ts:?} {sig:?} at {now}"
        );
    }
    // Exactly 5 minutes off is still in time.
    assert!(slack(SECRET, Some(TS), Some(SIG), BODY, NOW + 300).is_ok());
    assert!(slack(SECRET, Some(TS), Some(SIG), BODY, NOW - 300).is_ok());
}

fn signed(key: &SigningKey, ts: &str, body: &[u8]) -> String {
    let mut msg = ts.as_bytes().to_vec();
    msg.extend_from_slice(body);
    hex::encode(key.sign(&msg).to_bytes())
}

#[test]
fn discord_checks_the_signature_over_timestamp_and_body() {
    let key = SigningKey::from_bytes(&[7; 32]);
    let public = key.verifying_key();
    let body = br#"{"type":1}"#;
    let sig = signed(&key, TS, body);
    assert_eq!(
        discord(&public, Some(TS), Some(&sig), body, NOW).map(|v| v.at_s),
        Ok(NOW)
    );
    let other = SigningKey::from_bytes(&[8; 32]);
    let by_other = signed(&other, TS, body);
    let later = signed(&key, "1531420619", body);
    let cases: &[DiscordCase] = &[
        (None, Some(&sig), body, NOW, Refused::Missing),
        (Some(TS), None, body, NOW, Refused::Missing),
        (Some(TS), Some("00"), body, NOW, Refused::Malformed),
        (Some(TS), Some(&sig[..126]), body, NOW, Refused::Malformed),
        (
            Some(" 1531420618"),
            Some(&sig),
            body,
            NOW,
            Refused::Malformed,
        ),
        (Some(TS), Some(&by_other), body, NOW, Refused::BadSignature),
        (Some(TS), Some(&later), body, NOW, Refused::BadSignature),
        (
            Some(TS),
            Some(&sig),
            br#"{"type":2}"#,
            NOW,
            Refused::BadSignature,
        ),
        (Some(TS), Some(&sig), body, NOW + 301, Refused::Stale),
    ];
    for (ts, s, b, now, want) in cases {
        assert_eq!(
            discord(&public, *ts, *s, b, *now),
            Err(*want),
            "{ts:?} {s:?}"
        );
    }
    // All zeros is a signature verify_strict must refuse (small order).
    let zeros = "0".repeat(128);
    assert_eq!(
        discord(&public, Some(TS), Some(&zeros), body, NOW),
        Err(Refused::BadSignature)
    );
}

#[test]
fn a_signature_is_taken_once_within_the_window() {
    let v = |at_s, k: u8| Verified { at_s, key: [k; 32] };
    let mut r = Replays::new(3);
    assert_eq!(r.first_time(v(100, 1), 100), Ok(()));
    assert_eq!(r.first_time(v(100, 1), 200), Err(Refused::Replayed));
    assert_eq!(r.first_time(v(100, 2), 200), Ok(()));
    // Aged out: forgotten (its timestamp refuses it from now on).
    assert_eq!(r.first_time(v(500, 3), 401), Ok(()));
    assert_eq!(r.len(), 1);
    // Bounded: past `max`, the oldest goes.
    for k in 4..10 {
        assert_eq!(r.first_time(v(500 + u64::from(k), k), 500), Ok(()));
    }
    assert_eq!(r.len(), 3);
    assert_eq!(r.first_time(v(509, 9), 500), Err(Refused::Replayed));
}
