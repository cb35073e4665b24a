//! Names of notifiers: the `notifier` label of their metrics and log lines
//! (so that one failing receiver is told from a working one), and the
//! channel name a paging policy delivers through.

use std::collections::BTreeSet;

use toml::Spanned;

use crate::error::Sink;
use crate::model::NotifierConfig;

/// File and stdout notifiers are labelled by what they write to; the kinds
/// that send somewhere, of which there may be several, take a name.
pub(crate) fn not_named(name: &Option<Spanned<String>>, kind: &str, sink: &mut Sink<'_>) -> bool {
    if let Some(n) = name {
        sink.at(
            n.span(),
            format!("`name` is for notifiers that send somewhere; a {kind} notifier is labelled `{kind}`"),
        );
    }
    name.is_none()
}

/// Gives every named kind its name: the one written, checked with the name
/// rule and refused when used twice, or a default made unique with `-2`,
/// `-3` (`webhook-HOST` for a webhook, the kind for the others: `slack`,
/// `pagerduty`…), so that a failing receiver can be told from a working one
/// on `/metrics` and in logs, and a policy can name the channel.
pub(crate) fn name_notifiers(
    notifiers: Vec<(Option<Spanned<String>>, NotifierConfig)>,
    sink: &mut Sink<'_>,
) -> Vec<NotifierConfig> {
    let mut taken = BTreeSet::new();
    for (name, _) in &notifiers {
        let Some(n) = name else { continue };
        if let Err(e) = liveops_protocol::name::check(n.get_ref(), "notifier name") {
            sink.at(n.span(), e);
        } else if !taken.insert(n.get_ref().clone()) {
            sink.at(
                n.span(),
                format!(
                    "notifier name `{}` is used twice: each [[notifier]] needs its own, it is the `notifier` label of its metrics",
                    n.get_ref()
                ),
            );
        }
    }
    notifiers
        .into_iter()
        .map(|(name, mut n)| {
            let base = match &n {
                NotifierConfig::Webhook { url, .. } => format!("webhook-{}", host_of(url)),
                other => other.kind().to_owned(),
            };
            if let Some(slot) = name_slot(&mut n) {
                *slot = match name {
                    Some(given) => given.into_inner(),
                    None => unique(&base, &mut taken),
                };
            }
            n
        })
        .collect()
}

fn name_slot(n: &mut NotifierConfig) -> Option<&mut String> {
    match n {
        NotifierConfig::File { .. } | NotifierConfig::Stdout => None,
        NotifierConfig::Webhook { name, .. }
        | NotifierConfig::PagerDuty { name, .. }
        | NotifierConfig::Alertmanager { name, .. }
        | NotifierConfig::Slack { name, .. }
        | NotifierConfig::Discord { name, .. }
        | NotifierConfig::Email(crate::model::EmailConfig { name, .. }) => Some(name),
    }
}

/// The host of an http(s) URL (no user, port or path), with anything the
/// name rule does not allow (an IPv6 address's `:`) as `-`.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    host.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// `base`, or `base-2`, `base-3`… whichever is free, within the name rule's length.
fn unique(base: &str, taken: &mut BTreeSet<String>) -> String {
    let max = liveops_protocol::name::MAX_NAME_LEN;
    let fit = |s: &str, room: usize| s.chars().take(max - room).collect::<String>();
    let mut name = fit(base, 0);
    let mut i = 2;
    while taken.contains(&name) {
        let suffix = format!("-{i}");
        name = format!("{}{suffix}", fit(base, suffix.len()));
        i += 1;
    }
    taken.insert(name.clone());
    name
}
