use crate::model::Role;

const SLOS: &str = "[slo.up]\nkind = \"uptime\"\nobjective = 99\nperiod = \"30d\"\nowner = \"o\"\nrunbook = \"/r\"\n";

fn errors(text: &str) -> String {
    crate::parse_collector("c.toml", &format!("{SLOS}{text}"))
        .unwrap_err()
        .to_string()
}

#[test]
fn off_by_default_and_in_the_shipped_file() {
    assert_eq!(
        crate::default_collector().chat,
        super::ChatConfig::default()
    );
}

#[test]
fn users_keys_and_the_secret_file_are_read() {
    let key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let text = format!(
        "{SLOS}[chat]\nslack_signing_secret_file = \"slack.secret\"\ndiscord_public_key = \"{key}\"\n\
         [[chat.user]]\nslack = \"U024BE7LH\"\ndiscord = \"80351110224678912\"\nperson = \"ana\"\nrole = \"responder\"\n\
         [[chat.user]]\ndiscord = \"42\"\nperson = \"bo\"\nrole = \"viewer\"\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("collector.toml");
    std::fs::write(&path, text).unwrap();
    let chat = crate::load_collector(&path).unwrap().chat;
    // Relative to the collector file, as the other files it names.
    assert_eq!(
        chat.slack_signing_secret_file.as_deref(),
        Some(dir.path().join("slack.secret").as_path())
    );
    assert_eq!(
        chat.discord_public_key.map(hex::encode).as_deref(),
        Some(key)
    );
    assert_eq!(chat.users.len(), 2);
    assert_eq!(chat.users[0].slack.as_deref(), Some("U024BE7LH"));
    assert_eq!(chat.users[0].role, Role::Responder);
    assert_eq!(chat.users[1].slack, None);
    assert_eq!(chat.users[1].person, "bo");
}

#[test]
fn bad_values_are_errors_with_their_positions() {
    let e = errors("[chat]\ndiscord_public_key = \"abc\"\nslack_signing_secret = \"x\"\n");
    assert!(
        e.contains("c.toml:9:1: unknown field `slack_signing_secret`"),
        "{e}"
    );
    let e = errors(
        "[chat]\ndiscord_public_key = \"zz\"\n\
         [[chat.user]]\nslack = \"U-1\"\nperson = \"ana\"\nrole = \"agent\"\n\
         [[chat.user]]\nperson = \"bo\"\nrole = \"viewer\"\n\
         [[chat.user]]\ndiscord = \"12x\"\nperson = \"c d\"\nrole = \"boss\"\n\
         [[chat.user]]\nslack = \"U1\"\nperson = \"e\"\nrole = \"admin\"\n\
         [[chat.user]]\nslack = \"U1\"\nperson = \"f\"\nrole = \"admin\"\n",
    );
    for want in [
        "c.toml:8:22: discord_public_key must be 64 hex digits",
        "c.toml:10:9: a Slack user id is letters and digits",
        "c.toml:12:8: unknown role `agent` for a chat user, expected `viewer`, `responder` or `admin`",
        "a [[chat.user]] needs `slack` or `discord` (or both)",
        "c.toml:17:11: a Discord user id is digits",
        "c.toml:19:8: unknown role `boss`",
        "c.toml:25:9: slack user `U1` is mapped twice; give it one [[chat.user]]",
    ] {
        assert!(e.contains(want), "{want:?} missing from:\n{e}");
    }
    assert!(
        e.contains("c.toml:18:10: "),
        "the bad person is positioned: {e}"
    );
}

#[test]
fn the_secret_comes_from_its_file_and_an_empty_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    let cfg = super::ChatConfig {
        slack_signing_secret_file: Some(path.clone()),
        ..Default::default()
    };
    let none = super::slack_secret(&Default::default()).unwrap();
    // The environment may give one in a developer's shell; not in CI.
    if std::env::var_os(super::SLACK_SECRET_ENV).is_none() {
        assert!(none.is_none());
        let missing = super::slack_secret(&cfg).unwrap_err().to_string();
        assert!(
            missing.contains("cannot read slack_signing_secret_file"),
            "{missing}"
        );
        std::fs::write(&path, " \n").unwrap();
        let empty = super::slack_secret(&cfg).unwrap_err().to_string();
        assert!(
            empty.ends_with("slack_signing_secret_file is empty"),
            "{empty}"
        );
        std::fs::write(&path, "8f742231b10e8888abcd99yyyzzz85a5\n").unwrap();
        let s = super::slack_secret(&cfg).unwrap().unwrap();
        assert_eq!(s.expose(), "8f742231b10e8888abcd99yyyzzz85a5");
        assert_eq!(format!("{s:?}"), "Secret(****)", "never shown in logs");
    }
}
