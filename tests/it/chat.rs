//! The incident chat bot end to end: a collector configured with a
//! `[chat]` section (a Slack signing secret in a file, a Discord public
//! key of a key pair made here), and requests signed as Slack and Discord
//! sign them, over HTTP:
//!
//! - Discord's `PING` is answered `{"type":1}`; commands from both land on
//!   the incident's timeline as the mapped person, and in the audit log;
//! - a bad or missing signature, a stale timestamp, a replayed request,
//!   an unmapped or read-only user's change: refused, nothing changed;
//! - every answer arrives well within the platforms' 3 s; a body over the
//!   router's limit is a 413.

mod harness;

use std::time::Duration;

use ed25519_dalek::SigningKey;
use serde_json::{Value, json};

use crate::support::*;
use harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_commands_land_on_the_timeline_as_the_mapped_person() {
    let dir = tempfile::tempdir().unwrap();
    let bot = start(dir.path()).await;

    let (status, answer) = bot.slack("U1", "note INC-1 provider answers 502").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["response_type"], "in_channel", "{answer}");
    let (_, answer) = bot.slack("U1", "decision 1 pause payments in eu-1").await;
    assert_eq!(answer["response_type"], "in_channel", "{answer}");
    let (_, answer) = bot
        .slack("U1", "status INC-1 identified the provider's outage")
        .await;
    assert_eq!(answer["response_type"], "in_channel", "{answer}");
    let timeline = bot.timeline().await;
    let last: Vec<(&str, &str, &str)> = timeline[1..]
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default();
            (s("by"), s("kind"), s("text"))
        })
        .collect();
    assert_eq!(
        last,
        [
            ("ana", "note", "provider answers 502"),
            ("ana", "note", "pause payments in eu-1"),
            ("ana", "state", "the provider's outage"),
        ]
    );
    assert_eq!(timeline[2]["note"], "decision");
    assert_eq!(timeline[3]["to"], "identified");
    let audit = audit_entries(&bot.url, VIEWER_TOKEN).await;
    let by_ana = audit
        .iter()
        .filter(|e| e["actor"] == "ana" && e["role"] == "responder")
        .count();
    assert_eq!(by_ana, 3, "each change audited as ana: {audit:?}");

    // Refused, each with nothing changed.
    let body = slash("U1", "note INC-1 forged");
    let now = now_s();
    let (status, _, _) = bot
        .slack_at(now, Some(slack_signature(&now.to_string(), "other")), &body)
        .await;
    assert_eq!(status, 401, "a signature over another body");
    let (status, _, _) = bot.slack_at(now, Some("v0=".into()), &body).await;
    assert_eq!(status, 401, "a malformed signature");
    let bare = post(&format!("{}{SLACK}", bot.url), &[], &body).await;
    assert_eq!(bare.0, 401, "no signature at all");
    let (status, _, _) = bot.slack_at(now - 301, None, &body).await;
    assert_eq!(status, 401, "a timestamp 5 minutes old");
    let (status, _, _) = bot.slack_at(now + 301, None, &body).await;
    assert_eq!(status, 401, "a timestamp 5 minutes ahead");
    let replayed = slash("U1", "note INC-1 said twice");
    let sig = slack_signature(&now.to_string(), &replayed);
    let (first, _, _) = bot.slack_at(now, Some(sig.clone()), &replayed).await;
    let (again, _, _) = bot.slack_at(now, Some(sig), &replayed).await;
    assert_eq!((first, again), (200, 401), "a replay is refused");
    let (_, answer) = bot.slack("U9", "note INC-1 from a stranger").await;
    assert_eq!(answer["response_type"], "ephemeral");
    assert!(
        answer["text"].as_str().unwrap().contains("not mapped"),
        "{answer}"
    );
    let (_, answer) = bot.slack("U2", "sev INC-1 SEV1 a viewer tries").await;
    assert!(
        answer["text"].as_str().unwrap().contains("role `viewer`"),
        "{answer}"
    );
    let (_, answer) = bot.slack("U1", "status INC-9 resolved").await;
    assert!(
        answer["text"]
            .as_str()
            .unwrap()
            .contains("no incident INC-9"),
        "{answer}"
    );
    let (_, answer) = bot.slack("U1", "status INC-1 triage").await;
    assert!(
        answer["text"].as_str().unwrap().contains("needs a reason"),
        "{answer}"
    );
    let (_, answer) = bot.slack("U1", "sev INC-1").await;
    assert!(
        answer["text"]
            .as_str()
            .unwrap()
            .contains("needs a severity"),
        "{answer}"
    );
    let big = slash("U1", &format!("note INC-1 {}", "x".repeat(100_000)));
    let (status, _, _) = bot.slack_at(now_s(), None, &big).await;
    assert_eq!(status, 413, "bodies are size-limited, signed or not");
    let after = bot.timeline().await;
    assert_eq!(
        after.len(),
        timeline.len() + 1,
        "only the first of the replayed pair landed"
    );
    assert_eq!(after.last().unwrap()["text"], "said twice");

    // Anyone in the workspace may read; the answer is theirs alone.
    let (_, answer) = bot.slack("U9", "timeline").await;
    assert_eq!(answer["response_type"], "ephemeral");
    let text = answer["text"].as_str().unwrap();
    assert!(
        text.starts_with("INC-1 SEV2 identified: Payments failing in eu-1"),
        "{text}"
    );
    assert!(
        text.contains("ana — decision: pause payments in eu-1"),
        "{text}"
    );

    // A mitigation through the mitigation path, for the incident's world.
    let (_, answer) = bot
        .slack("U1", "mitigate pause-payments provider down")
        .await;
    assert_eq!(answer["response_type"], "in_channel", "{answer}");
    let active: Value = http()
        .get(format!("{}/api/v1/mitigations", bot.url))
        .bearer_auth(VIEWER_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let app = &active["active"][0];
    assert_eq!(
        (app["mitigation"].as_str(), app["actor"].as_str()),
        (Some("pause-payments"), Some("ana"))
    );
    assert_eq!(
        app["scope"],
        json!({"kind": "world", "id": "eu-1"}),
        "{app}"
    );
    // And the incident's timeline tells it, from the event stream.
    eventually(
        Duration::from_secs(5),
        "the mitigation on INC-1",
        || async {
            let t = bot.timeline().await;
            t.iter()
                .find(|e| {
                    e["kind"] == "signal"
                        && e["text"].as_str().is_some_and(|x| x.contains("by ana"))
                })
                .map(|_| ())
                .ok_or(format!("{t:?}"))
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_interactions_are_verified_and_answered() {
    let dir = tempfile::tempdir().unwrap();
    let bot = start(dir.path()).await;
    let ping = json!({"type": 1}).to_string();

    let (status, answer) = bot.discord_signed(now_s(), &ping, &bot.key).await;
    assert_eq!((status, answer), (200, json!({"type": 1})));
    // Discord checks the endpoint with bad signatures: each must be a 401.
    let stranger = SigningKey::from_bytes(&rand::random());
    let (status, _) = bot.discord_signed(now_s(), &ping, &stranger).await;
    assert_eq!(status, 401, "signed by another key");
    let unsigned = post(&format!("{}{DISCORD}", bot.url), &[], &ping).await;
    assert_eq!(unsigned.0, 401, "no signature");
    let (status, _) = bot.discord_signed(now_s() - 400, &ping, &bot.key).await;
    assert_eq!(status, 401, "stale");

    let body = command("111", "status INC-1 investigating");
    let (status, answer) = bot.discord_signed(now_s(), &body, &bot.key).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["type"], 4, "{answer}");
    assert_eq!(
        answer["data"]["flags"], 0,
        "a change is shown to the channel"
    );
    assert!(
        answer["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with("INC-1 ana: triage → investigating"),
        "{answer}"
    );
    let timeline = bot.timeline().await;
    let last = timeline.last().unwrap();
    assert_eq!(
        (last["by"].as_str(), last["to"].as_str()),
        (Some("ana"), Some("investigating"))
    );

    // Replayed, and an unmapped user's change: nothing changes.
    let ts = now_s();
    let note = command("111", "note INC-1 once only");
    let (first, _) = bot.discord_signed(ts, &note, &bot.key).await;
    let (again, _) = bot.discord_signed(ts, &note, &bot.key).await;
    assert_eq!((first, again), (200, 401));
    let (_, answer) = bot
        .discord_signed(now_s(), &command("999", "note INC-1 hi"), &bot.key)
        .await;
    assert_eq!(answer["data"]["flags"], 64, "ephemeral: {answer}");
    assert!(
        answer["data"]["content"]
            .as_str()
            .unwrap()
            .contains("not mapped"),
        "{answer}"
    );
    assert_eq!(bot.timeline().await.len(), timeline.len() + 1);
}
