//! Known-good collector files are accepted.

use super::*;

/// A collector file of known-good SLOs, tokens and notifiers, and the SLO
/// names and token and notifier counts it must give.
fn collector_doc() -> impl Strategy<Value = (String, Vec<String>, usize, usize)> {
    let bounds = liveops_protocol::histogram::BUCKET_BOUNDS_MS.to_vec();
    let slo = (
        0u8..3,
        1u32..99_999,
        prop::sample::select(bounds),
        any::<bool>(),
        words(),
        prop::option::of(duration()),
    );
    let token = (
        name(),
        prop::sample::select(vec!["agent", "viewer", "responder", "admin"]),
        "[0-9a-f]{64}",
    );
    let notifier = prop_oneof![
        Just("kind = \"stdout\"".to_owned()),
        path().prop_map(|p| format!("kind = \"file\"\npath = \"{p}\"")),
        (url(), duration()).prop_map(|(u, t)| format!(
            "kind = \"webhook\"\nurl = \"{}\"\ntimeout = \"{}\"",
            u.0, t.0
        )),
    ];
    (
        prop::collection::btree_map(name(), slo, 1..5),
        prop::collection::vec(token, 0..3),
        prop::collection::vec(notifier, 0..3),
        prop::option::of((addr(), duration(), duration())),
    )
        .prop_map(|(slos, tokens, notifiers, collector)| {
            let mut text = String::new();
            if let Some((listen, no_data, eval)) = collector {
                let _ = writeln!(text, "[collector]\nlisten = \"{listen}\"\nno_data_after = \"{}\"\nevaluation_interval = \"{}\"", no_data.0, eval.0);
            }
            for (name, role, sha) in &tokens {
                let _ = writeln!(text, "[[token]]\nname = \"{name}\"\nrole = \"{role}\"\nsha256 = \"{sha}\"");
            }
            for n in &notifiers {
                let _ = writeln!(text, "[[notifier]]\n{n}");
            }
            for (name, (kind, objective, threshold, acute, owner, period)) in &slos {
                let objective = f64::from(*objective) / 1000.0;
                let _ = writeln!(text, "[slo.\"{name}\"]\nobjective = {objective:?}\nowner = \"{owner}\"\nrunbook = \"/runbooks/{name}\"");
                if let Some((p, _)) = period {
                    let _ = writeln!(text, "period = \"{p}\"");
                }
                match *kind {
                    0 => {
                        let _ = writeln!(text, "kind = \"uptime\"");
                    }
                    1 => {
                        let _ = writeln!(text, "kind = \"ratio\"\ntotal = {{ metric = \"request\" }}\nbad = {{ metric = \"request\", tags = {{ status = \"error\" }} }}\nacute = {acute}");
                    }
                    _ => {
                        let _ = writeln!(text, "kind = \"latency\"\nmetric = \"tick.duration\"\nthreshold_ms = {threshold:?}\nacute = {acute}");
                    }
                }
            }
            (text, slos.into_keys().collect(), tokens.len(), notifiers.len())
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_valid_collector_file_is_accepted(doc in collector_doc()) {
        let (text, slos, tokens, notifiers) = doc;
        let cfg = crate::parse_collector("collector.toml", &text)
            .map_err(|e| TestCaseError::fail(format!("{text}\n{e}")))?;
        prop_assert_eq!(cfg.slos.iter().map(|s| s.name.clone()).collect::<Vec<_>>(), slos);
        prop_assert_eq!(cfg.tokens.len(), tokens);
        prop_assert_eq!(cfg.notifiers.len(), notifiers);
    }
}
