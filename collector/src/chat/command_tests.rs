use super::*;

fn note(id: u64, kind: NoteKind, text: &str) -> Command {
    Command::Note {
        id,
        kind,
        text: text.into(),
    }
}

#[test]
fn every_command_parses_into_its_type() {
    let cases: Vec<(&str, Command)> = vec![
        ("", Command::Help),
        ("  help", Command::Help),
        ("timeline", Command::Timeline(Target::Newest)),
        ("timeline INC-3", Command::Timeline(Target::Id(3))),
        ("status", Command::Active),
        (
            "note INC-1 provider answers 502",
            note(1, NoteKind::Observation, "provider answers 502"),
        ),
        // Only the first word after the verb is the id.
        (
            "note 2   42 players  stuck\nin login",
            note(2, NoteKind::Observation, "42 players  stuck\nin login"),
        ),
        (
            "/incident decision inc-4 roll back 1.8.2",
            note(4, NoteKind::Decision, "roll back 1.8.2"),
        ),
        (
            "link 1 https://grafana.example/d/x",
            note(1, NoteKind::Link, "https://grafana.example/d/x"),
        ),
        (
            "link 1 <https://status.example/i/9|status page> the public one",
            note(
                1,
                NoteKind::Link,
                "https://status.example/i/9 the public one",
            ),
        ),
        (
            "status INC-1 Mitigated flag off, payments back",
            Command::Status {
                id: 1,
                to: State::Mitigated,
                note: "flag off, payments back".into(),
            },
        ),
        (
            "status 1 investigating",
            Command::Status {
                id: 1,
                to: State::Investigating,
                note: String::new(),
            },
        ),
        (
            "sev INC-1 sev1 whale-tier payments failing",
            Command::Sev {
                id: 1,
                sev: Sev::Sev1,
                reason: "whale-tier payments failing".into(),
            },
        ),
        (
            "mitigate pause-payments world eu-1 provider down",
            Command::Mitigate {
                name: "pause-payments".into(),
                scope: Where::World("eu-1".into()),
                reason: "provider down".into(),
            },
        ),
        (
            "mitigate freeze-attacks fleet exploit in the wild",
            Command::Mitigate {
                name: "freeze-attacks".into(),
                scope: Where::Fleet,
                reason: "exploit in the wild".into(),
            },
        ),
        (
            "mitigate freeze-attacks exploit in the wild",
            Command::Mitigate {
                name: "freeze-attacks".into(),
                scope: Where::Incident,
                reason: "exploit in the wild".into(),
            },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(parse(text), Ok(want.clone()), "{text:?}");
        assert_eq!(
            want.changes(),
            !matches!(want, Command::Help | Command::Active | Command::Timeline(_))
        );
    }
}

#[test]
fn bad_syntax_says_what_is_wrong() {
    let cases = [
        ("dance", "unknown command `dance`"),
        ("note", "`note` needs an incident id"),
        ("note INC-1", "`note` needs some text"),
        ("note players are stuck", "`players` is not an incident id"),
        (
            "link 1 grafana",
            "`grafana` is not an http:// or https:// link",
        ),
        ("link 1 https://", "is not an http:// or https:// link"),
        ("status INC-1", "`status` needs a state"),
        (
            "status INC-1 fixed",
            "unknown state `fixed`: one of triage,",
        ),
        ("status INC-x mitigated", "`INC-x` is not an incident id"),
        ("sev 1", "`sev` needs a severity"),
        ("sev 1 SEV0 because", "unknown severity `SEV0`"),
        ("sev 1 SEV1", "`sev` needs a reason"),
        ("sev 1 SEV1    ", "`sev` needs a reason"),
        ("mitigate", "`mitigate` needs a mitigation name"),
        ("mitigate pause-payments", "`mitigate` needs a reason"),
        (
            "mitigate pause-payments world",
            "needs a world after `world`",
        ),
        ("mitigate pause-payments world eu/1 why", "world"),
        ("mitigate pause-payments fleet", "`mitigate` needs a reason"),
        ("timeline soon", "`soon` is not an incident id"),
        ("timeline 99999999999999999999999", "is not an incident id"),
    ];
    for (text, want) in cases {
        let err = parse(text).expect_err(text);
        assert!(err.contains(want), "{text:?}: {err:?} lacks {want:?}");
    }
}

#[test]
fn no_text_panics_the_parser() {
    // Multi-byte characters, control characters and stray whitespace at
    // every position a word boundary could fall.
    let words = [
        "note", "1", "é", "\u{200b}", "\t", "\n", "ß字", "<", "|", ">", "world", "fleet",
    ];
    for a in words {
        for b in words {
            for c in words {
                let _ = parse(&format!("{a} {b}{c} {a}"));
                let _ = parse(&format!("mitigate {a} {b} {c}"));
                let _ = parse(&format!("link {b} {a}{c}"));
            }
        }
    }
}
