//! `NotifierFailing`: liveops' own alert when a delivery channel keeps
//! failing, one per channel, fleet-wide, so the page goes out through the
//! channels that still work.

use liveops_config::Severity;

use super::Candidate;

/// The alert for `channel`, whose deliveries failed `failures` times in a
/// row, the last because of `why` (channels keep secrets out of it).
pub fn notifier_failing(
    channel: &str,
    failures: u32,
    why: &str,
    owner: &str,
    public_url: &str,
) -> Candidate {
    let times = if failures == 1 {
        "once".to_owned()
    } else {
        format!("{failures} times in a row")
    };
    Candidate::new("NotifierFailing", "fleet", "notify", Severity::Page)
        .with_label("notifier", channel.to_owned())
        .annotated(
            format!("notifier `{channel}` is failing: pages sent through it are not arriving"),
            format!(
                "Deliveries through `{channel}` failed {times}, each after retrying to its deadline. Last error: {why}. Pages still go out through the other notifiers."
            ),
            &format!("{public_url}/runbooks/notifier"),
            owner,
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_alert_per_channel_with_the_runbook_and_owner() {
        let c = notifier_failing(
            "slack",
            3,
            "receiver answered 500",
            "platform-oncall",
            "http://c",
        );
        assert_eq!(c.label("alertname"), Some("NotifierFailing"));
        assert_eq!(c.label("world"), Some("fleet"));
        assert_eq!(c.label("notifier"), Some("slack"));
        assert_eq!(c.annotations["runbook_url"], "http://c/runbooks/notifier");
        assert_eq!(c.annotations["owner"], "platform-oncall");
        assert!(c.annotations["description"].contains("3 times in a row"));
        assert_ne!(
            super::super::fingerprint(&c.labels),
            super::super::fingerprint(&notifier_failing("pd", 1, "x", "o", "http://c").labels)
        );
    }
}
