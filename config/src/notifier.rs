//! `[[notifier]]`: the delivery channels, one table each, `kind` first.
//!
//! One raw struct holds every kind's keys (so a misspelled key is still an
//! error); a key that exists but belongs to another kind is refused where it
//! is written, so a `routing_key` on a Slack notifier does not pass unseen.

use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::error::Sink;
use crate::model::{EmailConfig, NotifierConfig, RetryConfig, Secret, StartTls};
use crate::notifier_names::not_named;
use crate::values;

pub(crate) const KINDS: &[&str] = &[
    "file",
    "stdout",
    "webhook",
    "pagerduty",
    "alertmanager",
    "slack",
    "discord",
    "email",
];

/// PagerDuty's Events API v2 endpoint (US service region).
pub const PAGERDUTY_URL: &str = "https://events.pagerduty.com/v2/enqueue";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotifier {
    kind: Spanned<String>,
    /// The `notifier` label of its metrics and its log lines.
    pub(crate) name: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    urls: Option<Spanned<Vec<Spanned<String>>>>,
    max_attempts: Option<Spanned<u32>>,
    timeout: Option<Spanned<String>>,
    deadline: Option<Spanned<String>>,
    routing_key: Option<Spanned<String>>,
    resend: Option<Spanned<String>>,
    host: Option<Spanned<String>>,
    port: Option<Spanned<u16>>,
    from: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    starttls: Option<Spanned<String>>,
    username: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
}

impl RawNotifier {
    /// Every key given besides `kind` and `name`, with where it is.
    fn given(&self) -> Vec<(&'static str, Range<usize>)> {
        let s = |v: &Option<Spanned<String>>| v.as_ref().map(Spanned::span);
        [
            ("path", s(&self.path)),
            ("url", s(&self.url)),
            ("urls", self.urls.as_ref().map(Spanned::span)),
            (
                "max_attempts",
                self.max_attempts.as_ref().map(Spanned::span),
            ),
            ("timeout", s(&self.timeout)),
            ("deadline", s(&self.deadline)),
            ("routing_key", s(&self.routing_key)),
            ("resend", s(&self.resend)),
            ("host", s(&self.host)),
            ("port", self.port.as_ref().map(Spanned::span)),
            ("from", s(&self.from)),
            ("to", s(&self.to)),
            ("starttls", s(&self.starttls)),
            ("username", s(&self.username)),
            ("password", s(&self.password)),
        ]
        .into_iter()
        .filter_map(|(k, span)| span.map(|sp| (k, sp)))
        .collect()
    }
}

/// One `[[notifier]]` table; `None` when it has errors (reported to `sink`).
/// Named kinds get their name later, once all are read (`name_notifiers`).
pub(crate) fn notifier(
    raw: RawNotifier,
    span: Range<usize>,
    sink: &mut Sink<'_>,
) -> Option<NotifierConfig> {
    let kind = raw.kind.get_ref().as_str();
    let Some(keys) = keys_of(kind) else {
        let list = KINDS
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        sink.at(
            raw.kind.span(),
            format!("unknown notifier kind `{kind}`, expected one of {list}"),
        );
        return None;
    };
    let mut ok = true;
    for (key, at) in raw.given() {
        if !keys.contains(&key) {
            sink.at(at, format!("`{key}` is not a key of a {kind} notifier"));
            ok = false;
        }
    }
    let parsed = match kind {
        "file" => match &raw.path {
            Some(p) if not_named(&raw.name, "file", sink) => Some(NotifierConfig::File {
                path: PathBuf::from(p.get_ref()),
            }),
            Some(_) => None,
            None => {
                sink.at(span, "a file notifier needs `path`");
                None
            }
        },
        "stdout" => not_named(&raw.name, "stdout", sink).then_some(NotifierConfig::Stdout),
        "webhook" => {
            let url = values::http_url(required(&raw.url, "url", kind, &span, sink)?, "url", sink);
            let timeout = duration_or(&raw.timeout, "timeout", 5, sink);
            Some(NotifierConfig::Webhook {
                name: String::new(),
                url: url?,
                max_attempts: raw.max_attempts.map_or(8, |m| m.into_inner().max(1)),
                timeout: timeout?,
            })
        }
        "pagerduty" => {
            let url = match &raw.url {
                Some(u) => values::http_url(u, "url", sink),
                None => Some(PAGERDUTY_URL.to_owned()),
            };
            let routing_key = match &raw.routing_key {
                Some(k) if k.get_ref().trim().is_empty() => {
                    sink.at(k.span(), "routing_key must not be empty");
                    None
                }
                Some(k) => Some(Some(Secret(k.get_ref().trim().to_owned()))),
                None => Some(None),
            };
            let retry = retry(&raw, sink);
            Some(NotifierConfig::PagerDuty {
                name: String::new(),
                url: url?,
                routing_key: routing_key?,
                retry: retry?,
            })
        }
        "alertmanager" => alertmanager(&raw, &span, sink),
        "slack" | "discord" => {
            let url = secret_url(required(&raw.url, "url", kind, &span, sink)?, sink);
            let retry = retry(&raw, sink);
            let (name, url, retry) = (String::new(), url?, retry?);
            Some(if kind == "slack" {
                NotifierConfig::Slack { name, url, retry }
            } else {
                NotifierConfig::Discord { name, url, retry }
            })
        }
        "email" => email(&raw, &span, sink),
        // `keys_of` knows no other kind.
        _ => None,
    };
    parsed.filter(|_| ok)
}

/// The keys each kind takes besides `kind` and `name`.
fn keys_of(kind: &str) -> Option<&'static [&'static str]> {
    let keys: &'static [&'static str] = match kind {
        "file" => &["path"],
        "stdout" => &[],
        "webhook" => &["url", "max_attempts", "timeout"],
        "pagerduty" => &["url", "routing_key", "timeout", "deadline"],
        "alertmanager" => &["urls", "resend", "timeout", "deadline"],
        "slack" | "discord" => &["url", "timeout", "deadline"],
        "email" => &[
            "host", "port", "from", "to", "starttls", "username", "password", "timeout", "deadline",
        ],
        _ => return None,
    };
    Some(keys)
}

fn alertmanager(
    raw: &RawNotifier,
    span: &Range<usize>,
    sink: &mut Sink<'_>,
) -> Option<NotifierConfig> {
    let Some(list) = &raw.urls else {
        sink.at(
            span.clone(),
            "an alertmanager notifier needs `urls`, e.g. [\"http://127.0.0.1:9093\"]",
        );
        return None;
    };
    if list.get_ref().is_empty() {
        sink.at(list.span(), "urls must name at least one Alertmanager");
    }
    let urls: Vec<Option<String>> = list
        .get_ref()
        .iter()
        .map(|u| values::http_url(u, "urls", sink))
        .collect();
    let resend = duration_or(&raw.resend, "resend", 60, sink);
    let retry = retry(raw, sink);
    if list.get_ref().is_empty() {
        return None;
    }
    Some(NotifierConfig::Alertmanager {
        name: String::new(),
        urls: urls.into_iter().collect::<Option<_>>()?,
        resend: resend?,
        retry: retry?,
    })
}

fn email(raw: &RawNotifier, span: &Range<usize>, sink: &mut Sink<'_>) -> Option<NotifierConfig> {
    let host = required(&raw.host, "host", "email", span, sink).and_then(|h| {
        let h = h.get_ref().trim();
        if h.is_empty() || h.contains(|c: char| c.is_whitespace() || c == '/') {
            sink.at(
                raw.host.as_ref().map_or(0..0, Spanned::span),
                format!("host: `{h}` is not a host name or address"),
            );
            None
        } else {
            Some(h.to_owned())
        }
    });
    let port = match &raw.port {
        Some(p) if *p.get_ref() == 0 => {
            sink.at(p.span(), "port must be 1–65535");
            None
        }
        Some(p) => Some(*p.get_ref()),
        None => Some(25),
    };
    let from =
        required(&raw.from, "from", "email", span, sink).and_then(|f| address(f, "from", sink));
    let to = match &raw.to {
        Some(t) => address(t, "to", sink).map(Some),
        None => Some(None),
    };
    let starttls = match raw.starttls.as_ref().map(|s| (s, s.get_ref().as_str())) {
        None | Some((_, "required")) => Some(StartTls::Required),
        Some((_, "opportunistic")) => Some(StartTls::Opportunistic),
        Some((_, "off")) => Some(StartTls::Off),
        Some((s, other)) => {
            sink.at(
                s.span(),
                format!("starttls: unknown value `{other}`, expected `off`, `opportunistic` or `required`"),
            );
            None
        }
    };
    if raw.password.is_some() != raw.username.is_some() {
        sink.at(
            span.clone(),
            "`username` and `password` go together: give both or neither",
        );
    }
    let retry = retry(raw, sink);
    Some(NotifierConfig::Email(EmailConfig {
        name: String::new(),
        host: host?,
        port: port?,
        from: from?,
        to: to?,
        starttls: starttls?,
        username: raw.username.as_ref().map(|u| u.get_ref().clone()),
        password: raw.password.as_ref().map(|p| Secret(p.get_ref().clone())),
        retry: retry?,
    }))
}

fn required<'r>(
    v: &'r Option<Spanned<String>>,
    key: &str,
    kind: &str,
    span: &Range<usize>,
    sink: &mut Sink<'_>,
) -> Option<&'r Spanned<String>> {
    if v.is_none() {
        let article = if kind.starts_with(['a', 'e']) {
            "an"
        } else {
            "a"
        };
        sink.at(
            span.clone(),
            format!("{article} {kind} notifier needs `{key}`"),
        );
    }
    v.as_ref()
}

fn duration_or(
    v: &Option<Spanned<String>>,
    key: &str,
    default_secs: u64,
    sink: &mut Sink<'_>,
) -> Option<Duration> {
    match v {
        Some(d) => values::duration(d, key, sink),
        None => Some(Duration::from_secs(default_secs)),
    }
}

fn retry(raw: &RawNotifier, sink: &mut Sink<'_>) -> Option<RetryConfig> {
    let timeout = duration_or(&raw.timeout, "timeout", 10, sink);
    let deadline = duration_or(&raw.deadline, "deadline", 120, sink);
    if let (Some(t), Some(d), Some(at)) = (timeout, deadline, raw.deadline.as_ref())
        && d < t
    {
        sink.at(at.span(), "deadline must not be shorter than timeout");
    }
    Some(RetryConfig {
        timeout: timeout?,
        deadline: deadline?,
    })
}

/// A webhook URL that is itself the credential: checked like any URL, but
/// an error names only its scheme and host.
fn secret_url(v: &Spanned<String>, sink: &mut Sink<'_>) -> Option<Secret> {
    let s = v.get_ref().trim();
    let ok = ["https://", "http://"].iter().any(|p| {
        s.strip_prefix(p)
            .is_some_and(|h| !h.is_empty() && !h.starts_with('/'))
    }) && !s.contains(char::is_whitespace);
    if !ok {
        sink.at(
            v.span(),
            "url is not an http:// or https:// URL (the value is a secret and is not shown)",
        );
        return None;
    }
    Some(Secret(s.to_owned()))
}

/// `user@example.com` or `Name <user@example.com>`: enough to catch a
/// misplaced value; the SMTP library parses it fully at start.
fn address(v: &Spanned<String>, key: &str, sink: &mut Sink<'_>) -> Option<String> {
    let s = v.get_ref().trim();
    let bare = s
        .rsplit_once('<')
        .map_or(s, |(_, a)| a.trim_end_matches('>'));
    match bare.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !s.contains(['\r', '\n']) =>
        {
            Some(s.to_owned())
        }
        _ => {
            sink.at(v.span(), format!("{key}: `{s}` is not an email address"));
            None
        }
    }
}

#[cfg(test)]
#[path = "notifier_tests.rs"]
mod tests;
