//! Slack incoming webhooks: a Block Kit message a person can read at a
//! glance (what, where, who, links), within Slack's limits (≤ 50 blocks,
//! section text ≤ 3,000 characters, header ≤ 150), with a `text` fallback
//! for notifications. Acknowledge and resolve are a short follow-up.

use liveops_config::{RetryConfig, Secret};
use liveops_protocol::{Delivery, Severity};
use serde_json::{Value, json};

use super::retry::{Schedule, deliver, post_json};
use super::text::{person, runbook, title, truncate, verdict};
use super::{Carrier, Ctx};

const SECTION_MAX: usize = 3_000;
const HEADER_MAX: usize = 150;
const FIELD_MAX: usize = 2_000;

pub struct Slack {
    http: reqwest::Client,
    url: Secret,
    retry: RetryConfig,
}

impl Slack {
    pub fn new(http: reqwest::Client, url: Secret, retry: RetryConfig) -> Self {
        Slack { http, url, retry }
    }
}

impl Carrier for Slack {
    async fn carry(&self, ctx: &Ctx, d: &Delivery) -> Result<(), String> {
        let body = serde_json::to_vec(&message(d)).map_err(|e| e.to_string())?;
        deliver(ctx, Schedule::new(self.retry, None), || {
            post_json(&self.http, self.url.expose(), &body, self.retry.timeout)
        })
        .await
    }
}

/// Slack's mrkdwn needs `&`, `<` and `>` escaped; everything else is text.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `<url|text>`, or just the text when the URL would break the link syntax.
fn link(url: &str, text: &str) -> String {
    if url.contains(['|', '>', '<', ' ']) {
        esc(text)
    } else {
        format!("<{}|{text}>", url.replace('&', "&amp;"))
    }
}

fn icon(s: Severity) -> &'static str {
    match s {
        Severity::Sev1 => ":rotating_light:",
        Severity::Sev2 => ":red_circle:",
        Severity::Sev3 => ":large_orange_circle:",
        Severity::Sev4 => ":large_blue_circle:",
    }
}

pub(crate) fn message(d: &Delivery) -> Value {
    let title = title(d);
    let links = [
        runbook(d).map(|r| link(r, "Runbook")),
        Some(link(&d.page_url, "Page")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("  ·  ");
    if let Some(word) = verdict(d) {
        let by = person(d)
            .map(|p| format!(" by {}", esc(p)))
            .unwrap_or_default();
        let line = format!(
            ":white_check_mark: *{}* {word}{by}  ·  {links}",
            esc(&title)
        );
        let text = format!("{title} {word}: {}", d.summary());
        return json!({
            "text": truncate(&text, SECTION_MAX),
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": truncate(&line, SECTION_MAX)}}],
        });
    }
    let mut fields = vec![
        field("Severity", d.severity.as_str()),
        field("World", d.alert.label("world").unwrap_or("fleet")),
        field("Owner", if d.team.is_empty() { "—" } else { &d.team }),
    ];
    if let Some(p) = person(d) {
        fields.push(field("Paged", p));
    }
    if d.attempt > 1 {
        fields.push(field("Attempt", &d.attempt.to_string()));
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&format!("{} {title}", icon(d.severity)), HEADER_MAX), "emoji": true}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&esc(d.summary()), SECTION_MAX)}, "fields": fields}),
    ];
    if let Some(desc) = d
        .alert
        .annotations
        .get("description")
        .filter(|s| !s.is_empty())
    {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&esc(desc), SECTION_MAX)}}));
    }
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(&links, SECTION_MAX)}]}));
    let text = format!("{title}: {}", d.summary());
    json!({"text": truncate(&text, SECTION_MAX), "blocks": blocks})
}

fn field(name: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": truncate(&format!("*{name}*\n{}", esc(value)), FIELD_MAX)})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::direct::tests::delivery;
    use liveops_protocol::{PageAction, Recipient};

    fn texts(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(t)) = m.get("text") {
                    out.push(t.clone());
                }
                m.values().for_each(|v| texts(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| texts(v, out)),
            _ => {}
        }
    }

    #[test]
    fn a_trigger_reads_at_a_glance() {
        let mut d = delivery();
        d.to = Some(Recipient {
            person: "ana".into(),
            address: None,
        });
        let m = message(&d);
        assert_eq!(
            m["text"],
            "SEV2 TickStalled w2: w2 is not ticking: last tick 1.1 s ago"
        );
        let blocks = m["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(
            blocks[0]["text"]["text"],
            ":red_circle: SEV2 TickStalled w2"
        );
        let all = serde_json::to_string(&m).unwrap();
        for want in [
            "*World*\\nw2",
            "*Owner*\\nplatform-oncall",
            "*Paged*\\nana",
            "<http://127.0.0.1:9470/runbooks/uptime|Runbook>",
            "/api/v1/pages/",
        ] {
            assert!(all.contains(want), "{want} in {all}");
        }
    }

    #[test]
    fn long_and_unicode_texts_stay_within_slacks_limits() {
        let mut d = delivery();
        d.alert
            .annotations
            .insert("summary".into(), "村".repeat(10_000));
        d.alert
            .annotations
            .insert("description".into(), "<b>&".repeat(2_000));
        d.alert.labels.insert("world".into(), "w".repeat(500));
        let m = message(&d);
        let blocks = m["blocks"].as_array().unwrap();
        assert!(blocks.len() <= 50);
        let mut all = Vec::new();
        texts(&m, &mut all);
        for t in &all {
            assert!(
                t.chars().count() <= SECTION_MAX,
                "{} chars",
                t.chars().count()
            );
        }
        assert!(blocks[0]["text"]["text"].as_str().unwrap().chars().count() <= HEADER_MAX);
        assert!(blocks[1]["text"]["text"].as_str().unwrap().ends_with('…'));
        assert!(
            !serde_json::to_string(&m).unwrap().contains("<b>"),
            "mrkdwn is escaped"
        );
    }

    #[test]
    fn resolve_and_acknowledge_are_a_short_follow_up() {
        let mut d = delivery();
        d.action = PageAction::Resolve;
        let m = message(&d);
        assert_eq!(m["blocks"].as_array().unwrap().len(), 1);
        assert!(
            m["text"]
                .as_str()
                .unwrap()
                .starts_with("SEV2 TickStalled w2 resolved")
        );
        d.action = PageAction::Acknowledge;
        d.to = Some(Recipient {
            person: "ana".into(),
            address: None,
        });
        let m = message(&d);
        assert!(
            m["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap()
                .contains("acknowledged by ana")
        );
    }
}
