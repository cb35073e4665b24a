use liveops_config::{ChatConfig, ChatUser, Role};

use super::*;

fn user(slack: Option<&str>, discord: Option<&str>, person: &str, role: Role) -> ChatUser {
    ChatUser {
        slack: slack.map(Into::into),
        discord: discord.map(Into::into),
        person: person.into(),
        role,
    }
}

#[test]
fn chat_users_are_the_people_they_are_mapped_to() {
    let cfg = ChatConfig {
        users: vec![
            user(Some("U1"), Some("11"), "ana", Role::Responder),
            user(None, Some("22"), "bo", Role::Viewer),
        ],
        ..Default::default()
    };
    let chat = Chat::new(&cfg).unwrap();
    let name = |p, id| chat.caller(p, id).map(|c| (c.name, c.role));
    assert_eq!(
        name(Platform::Slack, "U1"),
        Some(("ana".into(), Role::Responder))
    );
    assert_eq!(
        name(Platform::Discord, "11"),
        Some(("ana".into(), Role::Responder))
    );
    assert_eq!(
        name(Platform::Discord, "22"),
        Some(("bo".into(), Role::Viewer))
    );
    // A Discord id is not a Slack id, and nobody is "".
    assert_eq!(name(Platform::Slack, "11"), None);
    assert_eq!(name(Platform::Slack, ""), None);
    assert_eq!(name(Platform::Discord, "U1"), None);
}

#[test]
fn a_discord_key_off_the_curve_is_refused_at_start() {
    // y = 2 is not the encoding of any point.
    let mut bad = [0u8; 32];
    bad[0] = 2;
    let cfg = ChatConfig {
        discord_public_key: Some(bad),
        ..Default::default()
    };
    let err = Chat::new(&cfg)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("not an Ed25519 public key"), "{err}");
}

#[test]
fn clipping_keeps_whole_characters() {
    assert_eq!(clip("héllo", 10), "héllo");
    assert_eq!(clip("héllo", 2), "hé…");
    assert_eq!(clip("", 0), "");
}

#[test]
fn slack_answers_show_text_as_typed() {
    let r = Reply::private("<!channel> a & b");
    let v = slack::message(&r);
    assert_eq!(v["response_type"], "ephemeral");
    assert_eq!(v["text"], "&lt;!channel&gt; a &amp; b");
}
