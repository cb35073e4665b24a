use std::time::Duration;

use crate::model::{EmailConfig, NotifierConfig, RetryConfig, StartTls};
use crate::parse_collector;

const SLO_OK: &str = "[slo.uptime]\nkind = \"uptime\"\nobjective = 99.9\nowner = \"ops\"\nrunbook = \"/runbooks/uptime\"\n";

fn parse(text: &str) -> Vec<NotifierConfig> {
    parse_collector("c.toml", &format!("{SLO_OK}{text}"))
        .unwrap()
        .notifiers
}

fn errors(text: &str) -> String {
    parse_collector("c.toml", &format!("{SLO_OK}{text}"))
        .unwrap_err()
        .to_string()
}

const DEFAULT_RETRY: RetryConfig = RetryConfig {
    timeout: Duration::from_secs(10),
    deadline: Duration::from_secs(120),
};

#[test]
fn every_channel_kind_reads_with_its_defaults_and_a_name() {
    let n = parse(
        r#"
[[notifier]]
kind = "pagerduty"
routing_key = "R0UT1NGKEY"

[[notifier]]
kind = "pagerduty"
name = "pd-eu"
url = "https://events.eu.pagerduty.com/v2/enqueue"
deadline = "5m"

[[notifier]]
kind = "alertmanager"
urls = ["http://am1:9093/", "http://am2:9093"]

[[notifier]]
kind = "slack"
url = "https://hooks.slack.com/services/T0/B0/secret"
timeout = "3s"

[[notifier]]
kind = "discord"
url = "https://discord.com/api/webhooks/1/tok"

[[notifier]]
kind = "email"
host = "smtp.example.com"
port = 587
from = "liveops <liveops@example.com>"
to = "oncall@example.com"
username = "liveops"
password = "hunter2"
"#,
    );
    let names: Vec<String> = n.iter().map(NotifierConfig::name).collect();
    assert_eq!(
        names,
        [
            "pagerduty",
            "pd-eu",
            "alertmanager",
            "slack",
            "discord",
            "email"
        ]
    );
    let NotifierConfig::PagerDuty {
        url,
        routing_key,
        retry,
        ..
    } = &n[0]
    else {
        panic!("{n:?}")
    };
    assert_eq!(url, crate::PAGERDUTY_URL);
    assert_eq!(routing_key.as_ref().map(|k| k.expose()), Some("R0UT1NGKEY"));
    assert_eq!(*retry, DEFAULT_RETRY);
    let NotifierConfig::PagerDuty { retry, .. } = &n[1] else {
        panic!()
    };
    assert_eq!(retry.deadline, Duration::from_secs(300));
    let NotifierConfig::Alertmanager { urls, resend, .. } = &n[2] else {
        panic!()
    };
    assert_eq!(urls, &["http://am1:9093", "http://am2:9093"]);
    assert_eq!(*resend, Duration::from_secs(60));
    let NotifierConfig::Slack { url, retry, .. } = &n[3] else {
        panic!()
    };
    assert_eq!(
        url.expose(),
        "https://hooks.slack.com/services/T0/B0/secret"
    );
    assert_eq!(retry.timeout, Duration::from_secs(3));
    let NotifierConfig::Email(e) = &n[5] else {
        panic!()
    };
    assert_eq!(
        *e,
        EmailConfig {
            name: "email".into(),
            host: "smtp.example.com".into(),
            port: 587,
            from: "liveops <liveops@example.com>".into(),
            to: Some("oncall@example.com".into()),
            starttls: StartTls::Required,
            username: Some("liveops".into()),
            password: e.password.clone(),
            retry: DEFAULT_RETRY,
        }
    );
    // Secrets never show in a debug print of the config.
    let shown = format!("{n:?}");
    for secret in ["R0UT1NGKEY", "hunter2", "T0/B0/secret", "1/tok"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn two_of_a_kind_are_told_apart() {
    let n = parse(
        "[[notifier]]\nkind = \"slack\"\nurl = \"https://h/a\"\n[[notifier]]\nkind = \"slack\"\nurl = \"https://h/b\"\n",
    );
    let names: Vec<String> = n.iter().map(NotifierConfig::name).collect();
    assert_eq!(names, ["slack", "slack-2"]);
}

#[test]
fn channel_errors_name_the_key_and_place_and_never_a_secret() {
    let text = r#"
[[notifier]]
kind = "pager"

[[notifier]]
kind = "slack"
routing_key = "abc"
url = "hooks.slack.com/services/T0/B0/supersecret"

[[notifier]]
kind = "alertmanager"
urls = []

[[notifier]]
kind = "email"
from = "not-an-address"
starttls = "always"
password = "p"

[[notifier]]
kind = "discord"
"#;
    let e = errors(text);
    assert_eq!(
        e,
        "c.toml:8:8: unknown notifier kind `pager`, expected one of `file`, `stdout`, `webhook`, `pagerduty`, `alertmanager`, `slack`, `discord`, `email`\n\
         c.toml:12:15: `routing_key` is not a key of a slack notifier\n\
         c.toml:13:7: url is not an http:// or https:// URL (the value is a secret and is not shown)\n\
         c.toml:17:8: urls must name at least one Alertmanager\n\
         c.toml:19:1: an email notifier needs `host`\n\
         c.toml:19:1: `username` and `password` go together: give both or neither\n\
         c.toml:21:8: from: `not-an-address` is not an email address\n\
         c.toml:22:12: starttls: unknown value `always`, expected `off`, `opportunistic` or `required`\n\
         c.toml:25:1: a discord notifier needs `url`"
    );
    assert!(!e.contains("supersecret"));
}
