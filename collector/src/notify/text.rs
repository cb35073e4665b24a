//! What every channel says about a page, and the limits they share: text
//! cut on a character boundary with `…`, and URLs shown without secrets.

use std::borrow::Cow;

use liveops_protocol::{Delivery, PageAction};

/// `s` in at most `max` characters (Unicode scalar values, as Slack,
/// Discord and PagerDuty count), the last one `…` when it was cut.
pub(crate) fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some(_) if max == 0 => Cow::Borrowed(""),
        Some(_) => {
            let end = s.char_indices().nth(max - 1).map_or(s.len(), |(i, _)| i);
            Cow::Owned(format!("{}…", &s[..end]))
        }
    }
}

/// `SEV2 TickStalled w2`: how every channel names a page. A notice is
/// named by its summary (`On call: ops primary from …`).
pub(crate) fn title(d: &Delivery) -> String {
    if d.action == PageAction::Notify {
        return d.summary().to_owned();
    }
    format!("{} {}", d.severity, what(d))
}

/// `TickStalled w2`: the alert and where.
pub(crate) fn what(d: &Delivery) -> String {
    let name = d.alert.label("alertname").unwrap_or("alert");
    match d.alert.label("world") {
        Some(w) => format!("{name} {w}"),
        None => name.to_owned(),
    }
}

/// `resolved`, `acknowledged`, or `None` for a trigger (and a notice,
/// which reads like one: a title, its text, a link).
pub(crate) fn verdict(d: &Delivery) -> Option<&'static str> {
    match d.action {
        PageAction::Trigger | PageAction::Notify => None,
        PageAction::Acknowledge => Some("acknowledged"),
        PageAction::Resolve => Some("resolved"),
    }
}

pub(crate) fn runbook(d: &Delivery) -> Option<&str> {
    d.alert
        .annotations
        .get("runbook_url")
        .map(String::as_str)
        .filter(|u| !u.is_empty())
}

/// The person paged, if the pager named one.
pub(crate) fn person(d: &Delivery) -> Option<&str> {
    d.to.as_ref().map(|r| r.person.as_str())
}

/// `https://hooks.slack.com`: what a log line may show of a URL whose path
/// or query is a credential (Slack and Discord webhooks).
pub(crate) fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters_and_marks_the_cut() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("exactly", 7), "exactly");
        assert_eq!(truncate("abcdefgh", 5), "abcd…");
        // Multi-byte characters are never split.
        assert_eq!(truncate("ééééé", 3), "éé…");
        assert_eq!(truncate("🔥🔥🔥🔥", 2), "🔥…");
        assert_eq!(truncate("x", 0), "");
        for max in 1..12 {
            let t = truncate("aé🔥b日本語テキスト", max);
            assert!(t.chars().count() <= max, "{t} for {max}");
        }
    }

    #[test]
    fn a_secret_url_shows_only_scheme_and_host() {
        assert_eq!(
            redact_url("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com"
        );
        assert_eq!(
            redact_url("https://user:pw@discord.com:443/api/webhooks/1/tok?wait=true"),
            "https://discord.com:443"
        );
    }
}
