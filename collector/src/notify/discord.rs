//! Discord webhooks: a `content` line (≤ 2,000 characters) that mentions
//! the person paged and no one else (`allowed_mentions`), and one embed
//! within Discord's limits (title ≤ 256, description ≤ 4,096, ≤ 25 fields
//! of name ≤ 256 and value ≤ 1,024, all embed text ≤ 6,000).

use liveops_config::{RetryConfig, Secret};
use liveops_protocol::{Delivery, Severity};
use serde_json::{Value, json};

use super::retry::{Schedule, deliver, post_json};
use super::text::{person, runbook, title, truncate, verdict};
use super::{Carrier, Ctx};

const CONTENT_MAX: usize = 2_000;
const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 4_096;
const FIELDS_MAX: usize = 25;
const FIELD_NAME_MAX: usize = 256;
const FIELD_VALUE_MAX: usize = 1_024;
const EMBED_TOTAL_MAX: usize = 6_000;

pub struct Discord {
    http: reqwest::Client,
    url: Secret,
    retry: RetryConfig,
}

impl Discord {
    pub fn new(http: reqwest::Client, url: Secret, retry: RetryConfig) -> Self {
        Discord { http, url, retry }
    }
}

impl Carrier for Discord {
    async fn carry(&self, ctx: &Ctx, d: &Delivery) -> Result<(), String> {
        let body = serde_json::to_vec(&message(d)).map_err(|e| e.to_string())?;
        deliver(ctx, Schedule::new(self.retry, None), || {
            post_json(&self.http, self.url.expose(), &body, self.retry.timeout)
        })
        .await
    }
}

/// A Discord user id (a snowflake: digits only), if the recipient has one.
fn mention(d: &Delivery) -> Option<&str> {
    let id = d.to.as_ref()?.address.as_deref()?;
    (!id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

fn colour(s: Severity) -> u32 {
    match s {
        Severity::Sev1 => 0x99_00_00,
        Severity::Sev2 => 0xE0_1E_1E,
        Severity::Sev3 => 0xF2_8C_28,
        Severity::Sev4 => 0x3A_7B_D5,
    }
}

/// Discord renders markdown; alert text is shown as written.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '*' | '_' | '~' | '`' | '|' | '>' | '#' | '[' | ']' | '(' | ')' | '\\' | '@'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) fn message(d: &Delivery) -> Value {
    let title = title(d);
    let who = mention(d).map(|id| format!("<@{id}> ")).unwrap_or_default();
    let content = match verdict(d) {
        Some(word) => format!("{who}**{}** {word}: {}", esc(&title), esc(d.summary())),
        None => format!("{who}**{}**: {}", esc(&title), esc(d.summary())),
    };
    let mut fields = vec![
        ("Severity", d.severity.as_str().to_owned()),
        (
            "World",
            d.alert.label("world").unwrap_or("fleet").to_owned(),
        ),
        (
            "Owner",
            if d.team.is_empty() {
                "—".to_owned()
            } else {
                esc(&d.team)
            },
        ),
    ];
    if let Some(p) = person(d) {
        fields.push(("Paged", esc(p)));
    }
    let mut links = vec![format!("[Page]({})", d.page_url)];
    if let Some(r) = runbook(d) {
        links.insert(0, format!("[Runbook]({r})"));
    }
    fields.push(("Links", links.join(" · ")));
    let mut description = esc(d.summary());
    if let Some(desc) = d
        .alert
        .annotations
        .get("description")
        .filter(|s| !s.is_empty())
    {
        description = format!("{description}\n\n{}", esc(desc));
    }
    let fields: Vec<(String, String)> = fields
        .into_iter()
        .take(FIELDS_MAX)
        .map(|(n, v)| {
            (
                truncate(n, FIELD_NAME_MAX).into_owned(),
                truncate(&v, FIELD_VALUE_MAX).into_owned(),
            )
        })
        .collect();
    let embed_title = truncate(
        &verdict(d).map_or(title.clone(), |w| format!("{title} — {w}")),
        TITLE_MAX,
    )
    .into_owned();
    // What the fields and title leave of the 6,000 for the description.
    let used: usize = embed_title.chars().count()
        + fields
            .iter()
            .map(|(n, v)| n.chars().count() + v.chars().count())
            .sum::<usize>();
    let room = EMBED_TOTAL_MAX.saturating_sub(used).min(DESCRIPTION_MAX);
    json!({
        "content": truncate(&content, CONTENT_MAX),
        "allowed_mentions": {"parse": [], "users": mention(d).into_iter().collect::<Vec<_>>()},
        "embeds": [{
            "title": embed_title,
            "url": d.page_url,
            "description": truncate(&description, room),
            "color": if verdict(d).is_some() { 0x2E_A0_43 } else { colour(d.severity) },
            "timestamp": d.alert.starts_at,
            "fields": fields
                .iter()
                .map(|(n, v)| json!({"name": n, "value": v, "inline": n != "Links"}))
                .collect::<Vec<_>>(),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::direct::tests::delivery;
    use liveops_protocol::Recipient;

    fn chars(v: &Value) -> usize {
        v.as_str().map_or(0, |s| s.chars().count())
    }

    #[test]
    fn only_the_person_paged_is_mentioned() {
        let mut d = delivery();
        d.to = Some(Recipient {
            person: "ana".into(),
            address: Some("80351110224678912".into()),
        });
        d.alert
            .annotations
            .insert("summary".into(), "@everyone the world is down".into());
        let m = message(&d);
        assert!(
            m["content"]
                .as_str()
                .unwrap()
                .starts_with("<@80351110224678912> **SEV2 TickStalled w2**")
        );
        assert_eq!(
            m["allowed_mentions"],
            json!({"parse": [], "users": ["80351110224678912"]})
        );
        assert!(m["content"].as_str().unwrap().contains("\\@everyone"));
        // An address that is not a user id mentions nobody.
        d.to = Some(Recipient {
            person: "ana".into(),
            address: Some("<@&role>".into()),
        });
        let m = message(&d);
        assert_eq!(m["allowed_mentions"]["users"], json!([]));
        assert!(!m["content"].as_str().unwrap().contains("<@"));
    }

    #[test]
    fn every_text_stays_within_discords_limits() {
        let mut d = delivery();
        d.alert
            .annotations
            .insert("summary".into(), "ü".repeat(9_000));
        d.alert
            .annotations
            .insert("description".into(), "d".repeat(9_000));
        d.alert.labels.insert("alertname".into(), "N".repeat(400));
        d.team = "t".repeat(3_000);
        d.to = Some(Recipient {
            person: "p".repeat(3_000),
            address: None,
        });
        let m = message(&d);
        assert!(chars(&m["content"]) <= CONTENT_MAX);
        let e = &m["embeds"][0];
        assert!(chars(&e["title"]) <= TITLE_MAX);
        assert!(chars(&e["description"]) <= DESCRIPTION_MAX);
        let fields = e["fields"].as_array().unwrap();
        assert!(fields.len() <= FIELDS_MAX);
        let mut total = chars(&e["title"]) + chars(&e["description"]);
        for f in fields {
            assert!(chars(&f["name"]) <= FIELD_NAME_MAX);
            assert!(chars(&f["value"]) <= FIELD_VALUE_MAX);
            total += chars(&f["name"]) + chars(&f["value"]);
        }
        assert!(total <= EMBED_TOTAL_MAX, "{total}");
        assert!(e["description"].as_str().unwrap().ends_with('…'));
    }
}
