use super::*;
use crate::comms::context::context;

fn ctx(state: CommsState) -> Value {
    let mut inc = sample();
    inc.title = "Marches <stuck> & late".into();
    context(
        &inc,
        state,
        "https://play.example/status/incidents/1",
        "Realms",
        "",
        0,
    )
}

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (n, t) in files {
        std::fs::write(d.path().join(n), t).unwrap();
    }
    d
}

#[test]
fn the_shipped_templates_render_every_channel_state_and_severity() {
    let t = Templates::shipped();
    assert_eq!(t.check(), []);
    let m = t
        .render(
            Channel::Banner,
            CommsState::Investigating,
            Sev::Sev1,
            &ctx(CommsState::Investigating),
        )
        .unwrap();
    assert_eq!(
        m.template, "banner.investigating.SEV1.j2",
        "the SEV1 banner wins"
    );
    assert!(
        m.part("text").starts_with("Major outage in eu-1, eu-2"),
        "{m:?}"
    );
    let m = t
        .render(
            Channel::Banner,
            CommsState::Resolved,
            Sev::Sev1,
            &ctx(CommsState::Resolved),
        )
        .unwrap();
    assert_eq!(m.template, "banner.j2");
    let mail = t
        .render(
            Channel::Email,
            CommsState::Identified,
            Sev::Sev2,
            &ctx(CommsState::Identified),
        )
        .unwrap();
    // Plain parts are plain; the HTML part is escaped.
    assert_eq!(mail.part("subject"), "[Identified] Marches <stuck> & late");
    assert!(
        mail.part("html")
            .contains("<h2>Marches &lt;stuck&gt; &amp; late</h2>"),
        "{mail:?}"
    );
    assert!(
        mail.part("text")
            .contains("https://play.example/status/incidents/1")
    );
}

#[test]
fn errors_name_the_file_and_line_and_a_message_must_fit_and_link() {
    let d = dir_with(&[
        (
            "banner.j2",
            "{% block text %}\n{{ incident.titel }} {{ link }}{% endblock %}",
        ),
        (
            "discord.j2",
            "{% block title %}x{% endblock %}\n{% block description %}{% if %}{% endblock %}",
        ),
        (
            "forum.j2",
            "{% block title %}t{% endblock %}{% block body %}no link here{% endblock %}",
        ),
        (
            "status.j2",
            "{% block title %}t{% endblock %}{% block body %}{{ link }}{% endblock %}",
        ),
        (
            "email.resolved.j2",
            "{% block subject %}{{ 'x' * 300 }}{% endblock %}",
        ),
        ("sms.j2", "hi"),
    ]);
    let errs = match Templates::load(d.path()) {
        Ok(_) => panic!("a syntax error loads"),
        Err(e) => e,
    };
    let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
    let dir = d.path().display().to_string();
    assert!(
        text.iter()
            .any(|e| e.starts_with(&format!("{dir}/discord.j2:2: syntax error"))),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|e| e.starts_with(&format!("{dir}/sms.j2: not a template name"))),
        "{text:#?}"
    );

    std::fs::write(
        d.path().join("discord.j2"),
        "{% block title %}x{% endblock %}{% block description %}{{ link }}{% endblock %}",
    )
    .unwrap();
    std::fs::remove_file(d.path().join("sms.j2")).unwrap();
    let t = Templates::load(d.path()).unwrap();
    let text: Vec<String> = t.check().iter().map(ToString::to_string).collect();
    for want in [
        format!("{dir}/banner.j2:2: undefined value"),
        format!("{dir}/forum.j2: the forum message does not carry the incident link"),
        format!("{dir}/email.resolved.j2: the subject is 300 characters; email takes at most 200"),
        format!("no email template (add email.j2 to {dir})"),
    ] {
        assert!(
            text.iter().any(|e| e.starts_with(&want)),
            "{want:?} not in {text:#?}"
        );
    }
}

#[test]
fn a_fifo_is_refused_not_read() {
    let d = dir_with(&[]);
    let fifo = d.path().join("banner.j2");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        panic!("mkfifo is needed for this test");
    }
    let errs = Templates::load(d.path()).err().expect("refused");
    assert!(
        errs[0]
            .to_string()
            .ends_with("banner.j2: not a regular file"),
        "{errs:?}"
    );
}
