use std::time::Duration;

use liveops_protocol::Severity;

const SLOS: &str = "[slo.pay]\nkind = \"ratio\"\nobjective = 99\nperiod = \"30d\"\nowner = \"o\"\nrunbook = \"/r\"\ntotal = { metric = \"payment\" }\ngood = { metric = \"payment\", tags = { outcome = \"success\" } }\n";

#[test]
fn the_shipped_file_says_what_the_defaults_are() {
    let shipped = crate::default_collector().incidents;
    assert_eq!(shipped, super::defaults());
    assert_eq!(shipped.join_window, Duration::from_secs(600));
    assert_eq!(shipped.rules[0].severity, Severity::Sev1);
}

#[test]
fn rules_are_sorted_worst_first_and_slos_named_must_exist() {
    let text = format!(
        "{SLOS}[incidents]\njoin_window = \"2m\"\npayments_slo = \"pay\"\nlogins_slo = \"\"\n\
         [[incidents.severity]]\nseverity = \"SEV2\"\nworlds = 2\n\
         [[incidents.severity]]\nseverity = \"sev1\"\nplayers_share = 0.5\n"
    );
    let cfg = crate::parse_collector("c.toml", &text).unwrap().incidents;
    assert_eq!(cfg.join_window, Duration::from_secs(120));
    assert_eq!(cfg.payments_slo.as_deref(), Some("pay"));
    assert_eq!(cfg.logins_slo, None);
    let sevs: Vec<Severity> = cfg.rules.iter().map(|r| r.severity).collect();
    assert_eq!(sevs, [Severity::Sev1, Severity::Sev2]);
    assert_eq!(cfg.rules[0].players_share, Some(0.5));
    assert_eq!(cfg.rules[1].worlds, Some(2));
}

#[test]
fn bad_values_are_errors_with_their_positions() {
    let text = format!(
        "{SLOS}[incidents]\nsettle = \"soon\"\npayments_slo = \"payments\"\nmin_events = -1\n\
         [[incidents.severity]]\nseverity = \"SEV0\"\nplayers_share = 0.2\n\
         [[incidents.severity]]\nseverity = \"SEV2\"\nplayers_share = 1.5\nworlds = 0\n\
         [[incidents.severity]]\nseverity = \"SEV3\"\n\
         [[incidents.severity]]\nseverity = \"SEV2\"\npayments_share = nan\n"
    );
    let err = crate::parse_collector("c.toml", &text)
        .unwrap_err()
        .to_string();
    for want in [
        "c.toml:10:10: ",
        "c.toml:11:16: payments_slo `payments` is not an SLO of this file (SLOs: pay;",
        "c.toml:12:14: min_events must be 0 or more, not -1",
        "c.toml:14:12: unknown severity `SEV0`, expected SEV1, SEV2, SEV3 or SEV4",
        "c.toml:18:17: players_share is a share in (0, 1], e.g. 0.2, not 1.5",
        "c.toml:19:10: worlds must be 1 or more, not 0",
        "a severity rule needs a threshold",
        "payments_share is a share in (0, 1], e.g. 0.2, not NaN",
        "SEV2 has two rules",
    ] {
        assert!(err.contains(want), "{want:?} missing from:\n{err}");
    }
}
