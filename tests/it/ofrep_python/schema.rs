//! Every kind of answer a real agent gives over OFREP, validated against
//! the protocol's response schemas (`ofrep_schema.json`, a transcription of
//! open-feature/protocol `service/openapi.yaml` and ADR 0008) by Python's
//! `jsonschema`: single answers for each value type and each reason, flag
//! not found, a bad context, a parse error; bulk answers with their
//! `refreshConnections`, a refetch with `sseEtag`, a bad context, 304; and
//! the `refetchEvaluation` event.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use liveops_protocol::sse::Parser;
use serde_json::{Value, json};

use super::{VALIDATOR, python};
use crate::flags_client::write_flags;
use crate::support::*;

/// Each value type, and a flag for each reason (with the context below).
fn flag_file(fee: i64) -> String {
    let flag = |key: &str, default: &str, extra: &str| {
        format!(
            "[flag.\"{key}\"]\ndescription = \"d\"\nsystem = \"s\"\nkind = \"ops\"\n\
             owner = \"it\"\ndefault = {default}\nfail_safe = {default}\n\
             blast_radius = \"b\"\ntakes_effect = \"t\"\nrollback = \"r\"\n{extra}\n"
        )
    };
    [
        // TARGETING_MATCH for p-vip, DEFAULT for anyone else.
        flag("combat.attacks", "false", ""),
        "[[flag.\"combat.attacks\".rule]]\nplayer = \"p-vip\"\nvalue = true\n\n".into(),
        flag("trade.fee", &fee.to_string(), ""),
        flag("economy.tax_rate", "0.05", ""),
        flag("events.banner", "\"Welcome\"", ""),
        flag("shop.layout", "{ columns = 3, theme = \"dark\" }", ""),
        flag("map.new_region", "false", ""),
        "[[flag.\"map.new_region\".rule]]\npercent = 100\nvalue = true\n\n".into(),
        flag("chat.global", "true", "enabled = false\n"),
    ]
    .concat()
}

struct Cases(Vec<Value>);

impl Cases {
    fn add(&mut self, name: &str, schema: &str, body: Value) {
        self.0
            .push(json!({ "name": name, "schema": schema, "body": body }));
    }
}

async fn post(url: &str, body: &str, etag: Option<&str>) -> (u16, Option<String>, Value) {
    let mut req = http().post(url).body(body.to_owned());
    if let Some(tag) = etag {
        req = req.header("if-none-match", tag);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let tag = resp
        .headers()
        .get("etag")
        .map(|t| t.to_str().unwrap().to_owned());
    let text = resp.text().await.unwrap();
    (
        status,
        tag,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn start(dir: &Path, name: &str, text: &str) -> (liveops_agent::Agent, String) {
    let file = dir.join(format!("{name}.toml"));
    write_flags(&file, text);
    let mut cfg = agent_config(dir, name, "http://127.0.0.1:9");
    cfg.flags.file = Some(file);
    let agent = start_agent(cfg).await;
    let url = format!("http://{}", agent.bound().http);
    (agent, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ofrep_answer_of_the_agent_conforms_to_the_schema() {
    let python = tokio::task::spawn_blocking(|| python(VALIDATOR))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (agent, url) = start(dir.path(), "sc1", &flag_file(20)).await;
    let one = |key: &str| format!("{url}/ofrep/v1/evaluate/flags/{key}");
    let mut cases = Cases(Vec::new());

    let vip = r#"{"context":{"targetingKey":"u-1","player":"p-vip"}}"#;
    let mut reasons = Vec::new();
    for (key, ctx) in [
        ("combat.attacks", vip),
        ("combat.attacks", r#"{"context":{"targetingKey":"u-2"}}"#),
        ("trade.fee", vip),
        ("economy.tax_rate", vip),
        ("events.banner", vip),
        ("shop.layout", vip),
        ("map.new_region", vip),
        ("chat.global", vip),
    ] {
        let (status, _, body) = post(&one(key), ctx, None).await;
        assert_eq!(status, 200, "{key}: {body}");
        reasons.push(body["reason"].as_str().unwrap().to_owned());
        cases.add(&format!("single {key}"), "serverEvaluationSuccess", body);
    }
    assert_eq!(
        reasons,
        [
            "TARGETING_MATCH",
            "DEFAULT",
            "STATIC",
            "STATIC",
            "STATIC",
            "STATIC",
            "SPLIT",
            "DISABLED"
        ]
    );
    let (status, _, body) = post(&one("no.such"), "{}", None).await;
    assert_eq!(status, 404);
    cases.add("single not found", "flagNotFound", body);
    let (status, _, body) = post(&one("trade.fee"), r#"{"context":{"player":1.5}}"#, None).await;
    assert_eq!(status, 400);
    cases.add("single bad context", "evaluationFailure", body);

    let bulk = format!("{url}/ofrep/v1/evaluate/flags");
    let (status, tag, body) = post(&bulk, vip, None).await;
    assert_eq!(status, 200);
    let events = body["refreshConnections"][0]["url"]
        .as_str()
        .expect("refreshConnections advertised")
        .to_owned();
    cases.add("bulk", "bulkEvaluationSuccess", body);
    let tag = tag.expect("bulk ETag");
    let (status, again, body) = post(&bulk, vip, Some(&tag)).await;
    assert_eq!(
        (status, again.as_deref(), &body),
        (304, Some(tag.as_str()), &Value::Null)
    );
    let (status, _, body) = post(&bulk, r#"{"context":[]}"#, None).await;
    assert_eq!(status, 400);
    cases.add("bulk bad context", "bulkEvaluationFailure", body);

    // A change, announced on the advertised stream, then the refetch a
    // provider makes on it.
    let mut stream = http().get(&events).send().await.unwrap();
    write_flags(&dir.path().join("sc1.toml"), &flag_file(21));
    let data = next_message(&mut stream).await;
    cases.add(
        "refetchEvaluation event",
        "refetchEvaluationEvent",
        data.clone(),
    );
    let refetch = format!(
        "{bulk}?sseEtag={}&sseLastModified={}",
        urlencode(data["etag"].as_str().unwrap()),
        data["lastModified"]
    );
    let (status, _, body) = post(&refetch, vip, None).await;
    assert_eq!(status, 200, "{body}");
    cases.add("bulk refetch", "bulkEvaluationSuccess", body);
    agent.stop();
    agent.wait().await.unwrap();

    // A file never valid: the flag it could not read is a parse error.
    let broken = flag_file(20).replace("default = 20", "default = 20\nwhen = 1");
    let (agent, url) = start(dir.path(), "sc2", &broken).await;
    let (status, _, body) = post(
        &format!("{url}/ofrep/v1/evaluate/flags/trade.fee"),
        "{}",
        None,
    )
    .await;
    assert_eq!(
        (status, &body["errorCode"]),
        (400, &json!("PARSE_ERROR")),
        "{body}"
    );
    cases.add("single parse error", "evaluationFailure", body);
    let (status, _, body) = post(&format!("{url}/ofrep/v1/evaluate/flags"), "{}", None).await;
    assert_eq!(status, 200);
    cases.add("bulk fail-safe", "bulkEvaluationSuccess", body);
    agent.stop();
    agent.wait().await.unwrap();

    let cases_file = dir.path().join("cases.json");
    std::fs::write(&cases_file, serde_json::to_string_pretty(&cases.0).unwrap()).unwrap();
    let it = Path::new(env!("CARGO_MANIFEST_DIR")).join("it");
    let mut cmd = Command::new(python);
    cmd.arg(it.join("ofrep_schema_check.py"))
        .arg(it.join("ofrep_schema.json"))
        .arg(&cases_file);
    let out = run(cmd, Duration::from_secs(60), dir.path()).await;
    assert!(
        out.status.success(),
        "answers outside the OFREP schema:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The data of the next default-type event, parsed.
async fn next_message(resp: &mut reqwest::Response) -> Value {
    let mut parser = Parser::default();
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let chunk = resp.chunk().await.unwrap().expect("stream open");
            let events = parser.push(&chunk).expect("short lines");
            if let Some(ev) = events
                .into_iter()
                .find(|e| e.name.is_empty() || e.name == "message")
            {
                return serde_json::from_str(&ev.data).unwrap();
            }
        }
    })
    .await
    .expect("a refetchEvaluation event")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
