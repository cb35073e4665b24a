//! Names of webhook notifiers: the `notifier` label of their metrics and
//! log lines, so that one failing receiver is told from a working one.

use std::collections::BTreeSet;

use toml::Spanned;

use crate::error::Sink;
use crate::model::NotifierConfig;

/// File and stdout notifiers are labelled by what they write to; only a
/// webhook, of which there may be several on one host, takes a name.
pub(crate) fn not_named(name: &Option<Spanned<String>>, kind: &str, sink: &mut Sink<'_>) -> bool {
    if let Some(n) = name {
        sink.at(
            n.span(),
            format!("`name` is for webhook notifiers; a {kind} notifier is labelled `{kind}`"),
        );
    }
    name.is_none()
}

/// Gives every webhook its name: the one written, checked with the name rule
/// and refused when used twice, or `webhook-HOST` made unique with `-2`,
/// `-3`, so that a failing receiver can be told from a working one on
/// `/metrics` and in logs.
pub(crate) fn name_webhooks(
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
            if let NotifierConfig::Webhook {
                name: slot, url, ..
            } = &mut n
            {
                *slot = match name {
                    Some(given) => given.into_inner(),
                    None => unique(&format!("webhook-{}", host_of(url)), &mut taken),
                };
            }
            n
        })
        .collect()
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
