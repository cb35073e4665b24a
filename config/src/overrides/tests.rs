use std::path::Path;

use crate::{Overrides, load_agent_with, load_collector_with};

fn given(items: &[(&str, &str, &str)]) -> Overrides {
    let mut o = Overrides::new();
    for (key, origin, value) in items {
        o.set(key, *origin, *value);
    }
    o
}

fn agent_errors(items: &[(&str, &str, &str)]) -> String {
    load_agent_with(&given(items)).unwrap_err().to_string()
}

#[test]
fn a_bad_flag_is_refused_like_the_same_key_in_a_file_and_named() {
    assert_eq!(
        agent_errors(&[("world", "--world", "eu 1")]),
        "--world: world `eu 1` must be 1–64 characters of letters, digits, `-`, `_` or `.`"
    );
    assert_eq!(
        agent_errors(&[
            ("collector", "LIVEOPS_COLLECTOR", "ftp://c"),
            ("statsd_udp", "--statsd-udp", "8125"),
            ("http", "--http", "localhost"),
            ("game", "--game", "http://"),
            ("flags", "LIVEOPS_AGENT_FLAGS", " "),
            ("token", "LIVEOPS_AGENT_TOKEN", ""),
        ]),
        "LIVEOPS_COLLECTOR: collector: `ftp://c` is not an http:// or https:// URL\n\
         --game: game: `http://` is not an http:// or https:// URL\n\
         --statsd-udp: statsd_udp: `8125` is not an address; write IP:PORT, e.g. \"127.0.0.1:8125\"\n\
         --http: http: `localhost` is not an address; write IP:PORT, e.g. \"127.0.0.1:8125\"\n\
         LIVEOPS_AGENT_FLAGS: flags.file must not be empty; leave it out to serve no flags\n\
         LIVEOPS_AGENT_TOKEN: token must not be empty"
    );
    assert_eq!(
        load_collector_with(&given(&[("listen", "--listen", "nonsense")]))
            .unwrap_err()
            .to_string(),
        "--listen: listen: `nonsense` is not an address; write IP:PORT, e.g. \"127.0.0.1:8125\""
    );
}

#[test]
fn good_flags_win_over_the_file_and_the_last_one_given_wins() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agent.toml");
    std::fs::write(
        &file,
        "[agent]\nworld = \"from-file\"\nhttp = \"127.0.0.1:1\"\ndata_dir = \"d\"\n",
    )
    .unwrap();
    let cfg = load_agent_with(&given(&[
        ("config", "--config", file.to_str().unwrap()),
        ("world", "--world", "eu-1"),
        ("collector", "LIVEOPS_COLLECTOR", "https://c.example/"),
        ("statsd_udp", "--statsd-udp", ""),
        ("statsd_unix", "--statsd-unix", "/run/statsd.sock"),
        ("flags", "--flags", "/etc/flags.toml"),
        ("token", "LIVEOPS_AGENT_TOKEN", "t0"),
        ("token", "--token", "t1"),
    ]))
    .unwrap();
    assert_eq!(cfg.world, "eu-1");
    assert_eq!(cfg.collector, "https://c.example");
    assert_eq!(
        cfg.statsd_udp, None,
        "an empty address turns UDP off, as in a file"
    );
    assert_eq!(
        cfg.statsd_unix.as_deref(),
        Some(Path::new("/run/statsd.sock"))
    );
    assert_eq!(
        cfg.http.to_string(),
        "127.0.0.1:1",
        "the file's, not overridden"
    );
    assert_eq!(cfg.data_dir, Path::new("d"));
    assert_eq!(
        cfg.flags.file.as_deref(),
        Some(Path::new("/etc/flags.toml"))
    );
    assert_eq!(cfg.token.unwrap().expose(), "t1");

    let c = load_collector_with(&given(&[
        ("listen", "--listen", "0.0.0.0:9000"),
        ("data_dir", "--data-dir", "/var/lib/c"),
        ("agent_token", "LIVEOPS_AGENT_TOKEN", "a"),
    ]))
    .unwrap();
    assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(c.data_dir, Path::new("/var/lib/c"));
    assert_eq!(c.agent_token.unwrap().expose(), "a");
    assert_eq!(
        c.public_url, None,
        "derived at start from the address bound"
    );

    // `--listen` moves the listener, never the configured links.
    let file = dir.path().join("collector.toml");
    let text = crate::DEFAULT_COLLECTOR_TOML.replace(
        "# public_url = \"https://liveops.internal.example\"",
        "public_url = \"https://liveops.example/\"",
    );
    std::fs::write(&file, text).unwrap();
    let c = load_collector_with(&given(&[
        ("config", "--config", file.to_str().unwrap()),
        ("listen", "--listen", "127.0.0.1:9000"),
    ]))
    .unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
    assert_eq!(c.public_url.as_deref(), Some("https://liveops.example"));
}

#[test]
fn file_and_flag_errors_come_together_and_an_unreadable_file_hides_no_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agent.toml");
    std::fs::write(&file, "[agent]\nreport_interval = \"soon\"\n").unwrap();
    let name = file.display();
    assert_eq!(
        agent_errors(&[
            ("config", "LIVEOPS_AGENT_CONFIG", file.to_str().unwrap()),
            ("world", "--world", "a/b"),
        ]),
        format!(
            "--world: world `a/b` must be 1–64 characters of letters, digits, `-`, `_` or `.`\n\
             {name}:2:19: report_interval: `soon` is not a duration (expected number at 0); write e.g. \"500ms\", \"5m\", \"30d\""
        )
    );
    // A file that does not even parse still lets the flags be checked.
    std::fs::write(&file, "[agent\n").unwrap();
    let err = agent_errors(&[
        ("config", "--config", file.to_str().unwrap()),
        ("world", "--world", "a b"),
    ]);
    assert!(err.starts_with("--world: world `a b`"), "{err}");
    assert!(err.contains(&format!("{name}:1:")), "{err}");

    let missing = dir.path().join("missing.toml");
    let err = agent_errors(&[
        ("config", "--config", missing.to_str().unwrap()),
        ("http", "--http", "x"),
    ]);
    assert!(
        err.starts_with(&format!(
            "{}: cannot read (named by --config): ",
            missing.display()
        )),
        "{err}"
    );
    assert!(
        err.ends_with(
            "--http: http: `x` is not an address; write IP:PORT, e.g. \"127.0.0.1:8125\""
        ),
        "{err}"
    );
}

#[test]
fn the_token_comes_from_token_file_unless_given() {
    let dir = tempfile::tempdir().unwrap();
    let (file, token) = (dir.path().join("agent.toml"), dir.path().join("token"));
    std::fs::write(&token, "from-file\n").unwrap();
    std::fs::write(
        &file,
        format!("[agent]\ntoken_file = \"{}\"\n", token.display()),
    )
    .unwrap();
    let config = ("config", "--config", file.to_str().unwrap());
    let cfg = load_agent_with(&given(&[config])).unwrap();
    assert_eq!(cfg.token.unwrap().expose(), "from-file");
    let cfg = load_agent_with(&given(&[config, ("token", "--token", "given")])).unwrap();
    assert_eq!(cfg.token.unwrap().expose(), "given");
}
