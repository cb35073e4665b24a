//! Tests of the agent file's sections and their checks.

#[test]
fn spool_section_sets_dead_letter_bounds_and_refuses_zero() {
    let cfg = super::parse(
        "a.toml",
        "[spool]\nmax_attempts = 3\nmax_dead_letters = 20\n",
        &crate::Overrides::new(),
    )
    .unwrap();
    assert_eq!(
        (cfg.spool.max_attempts, cfg.spool.max_dead_letters),
        (3, 20)
    );
    assert_eq!(cfg.spool.max_reports, 86_400);
    let d = super::defaults();
    assert_eq!((d.spool.max_attempts, d.spool.max_dead_letters), (8, 1000));
    let err = super::parse(
        "a.toml",
        "[spool]\nmax_attempts = 0\nmax_dead_letters = 0\n",
        &crate::Overrides::new(),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "a.toml:2:16: max_attempts must be at least 1\n\
         a.toml:3:20: max_dead_letters must be at least 1"
    );
}

#[test]
fn flags_section_sets_the_file_and_reports_errors_with_positions() {
    let none = &crate::Overrides::new();
    let cfg = super::parse(
        "a.toml",
        "[flags]\nfile = \"/etc/liveops/flags.toml\"\npoll_interval = \"500ms\"\n",
        none,
    )
    .unwrap();
    assert_eq!(
        cfg.flags.file.as_deref(),
        Some(std::path::Path::new("/etc/liveops/flags.toml"))
    );
    assert_eq!(cfg.flags.poll_interval.as_millis(), 500);

    let err = super::parse(
        "a.toml",
        "[flags]\nfile = \"\"\npoll_interval = \"often\"\nwatch = true\n",
        none,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("a.toml:4:1: unknown field `watch`"), "{err}");
    let err = super::parse(
        "a.toml",
        "[flags]\nfile = \" \"\npoll_interval = \"0s\"\n",
        none,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "a.toml:2:8: flags.file must not be empty; leave it out to serve no flags\n\
         a.toml:3:17: poll_interval must be longer than zero"
    );
}
