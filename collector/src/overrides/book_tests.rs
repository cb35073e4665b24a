//! Tests of [`Book`]: grouping, layering, revert restoring the prior state
//! exactly, expiry, and what each change tells the audit log.

use std::time::{Duration, UNIX_EPOCH};

use liveops_flags::{Context, Flag, FlagSet, evaluate};

use super::*;

fn t(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn catalogue() -> liveops_config::Catalogue {
    liveops_config::load_catalogue(&liveops_config::default_collector()).unwrap()
}

fn req(ttl: Option<u64>) -> Request<'static> {
    Request {
        actor: "alice",
        reason: "exploit #4711",
        ttl: ttl.map(Duration::from_secs),
    }
}

fn world(w: &str) -> Scope {
    Scope::World(w.into())
}

/// What `flag` evaluates to on `world` (and for `player`, if given).
fn serve(book: &Book, flags: &FlagSet, flag: &str, w: &str, player: Option<&str>) -> FlagValue {
    let f: &Flag = flags.get(flag).unwrap();
    let set = book.set_for(w);
    let mine: Vec<Override> = set
        .overrides
        .into_iter()
        .filter(|o| o.flag == flag)
        .collect();
    let ctx = Context {
        world: Some(w.into()),
        player: player.map(Into::into),
        ..Context::default()
    };
    evaluate(f, &mine, &ctx, t(1)).value.clone()
}

#[test]
fn a_mitigation_sets_one_override_per_flag_under_one_id() {
    let cat = catalogue();
    let mut book = Book::default();
    let bundle = cat.mitigations.get("freeze-attacks").unwrap();
    let (app, change) = book.mitigate(bundle, world("w1"), &req(Some(7200)), t(0));
    assert_eq!(app.id, "m-1");
    assert_eq!(app.overrides, ["o-1", "o-2"]);
    assert_eq!(app.expires_ms, Some(to_ms(t(7200))));
    assert_eq!(book.version(), 1);
    let flags: Vec<_> = book.overrides().iter().map(|o| o.flag.as_str()).collect();
    assert_eq!(flags, ["combat.attacks", "combat.raids"]);
    assert!(
        book.overrides()
            .iter()
            .all(|o| o.mitigation.as_deref() == Some("m-1")
                && o.actor == "alice"
                && o.expires == Some(t(7200)))
    );
    assert_eq!(change.action, Action::Mitigate);
    assert_eq!(change.before["combat.attacks"], None);
    assert_eq!(change.after["combat.attacks"], Some(FlagValue::Bool(false)));
    // Only w1's agent gets a world override; every agent gets the rest.
    assert_eq!(book.set_for("w1").overrides.len(), 2);
    assert_eq!(book.set_for("w2").overrides.len(), 0);
    assert_eq!(book.set_for("w2").version, 1);
}

#[test]
fn reverting_restores_exactly_the_prior_state() {
    let cat = catalogue();
    let mut book = Book::default();
    let (_, _) = book.set(
        "combat.attacks",
        FlagValue::Bool(false),
        Scope::Player("p9".into()),
        &req(None),
        t(0),
    );
    let (_, _) = book.set(
        "combat.raids",
        FlagValue::Bool(false),
        world("w1"),
        &req(None),
        t(1),
    );
    let prior = book.set_for("w1").overrides;
    let bundle = cat.mitigations.get("freeze-attacks").unwrap();
    let (app, _) = book.mitigate(bundle, Scope::Fleet, &req(None), t(2));
    assert_eq!(
        serve(&book, &cat.flags, "combat.attacks", "w2", None),
        FlagValue::Bool(false)
    );
    let (o, change) = book.set(
        "combat.raids",
        FlagValue::Bool(true),
        world("w1"),
        &req(None),
        t(3),
    );
    assert_eq!(change.before["combat.raids"], Some(FlagValue::Bool(false)));
    // The newest override at the same scope wins.
    assert_eq!(
        serve(&book, &cat.flags, "combat.raids", "w1", None),
        FlagValue::Bool(true)
    );
    book.revert(&o.id, "done").unwrap();
    let change = book.revert(&app.id, "hotfix deployed").unwrap();
    assert_eq!(change.action, Action::Revert);
    assert_eq!(change.id, "m-1");
    assert_eq!(change.overrides.len(), 2);
    assert_eq!(
        change.before["combat.attacks"],
        Some(FlagValue::Bool(false))
    );
    assert_eq!(change.after["combat.attacks"], None);
    assert_eq!(book.set_for("w1").overrides, prior);
    assert!(book.applications().is_empty());
    assert_eq!(
        serve(&book, &cat.flags, "combat.attacks", "w2", None),
        FlagValue::Bool(true)
    );
    assert_eq!(
        serve(&book, &cat.flags, "combat.attacks", "w2", Some("p9")),
        FlagValue::Bool(false)
    );
    assert_eq!(book.version(), 6);
    assert!(book.revert("m-1", "again").is_none());
    assert!(book.revert("o-404", "nope").is_none());
}

#[test]
fn the_more_specific_scope_wins_whatever_the_order() {
    let cat = catalogue();
    let mut book = Book::default();
    book.set(
        "auth.logins",
        FlagValue::Bool(true),
        world("w1"),
        &req(None),
        t(0),
    );
    let bundle = cat.mitigations.get("block-logins").unwrap();
    book.mitigate(bundle, Scope::Fleet, &req(None), t(1));
    assert_eq!(
        serve(&book, &cat.flags, "auth.logins", "w1", None),
        FlagValue::Bool(true)
    );
    assert_eq!(
        serve(&book, &cat.flags, "auth.logins", "w2", None),
        FlagValue::Bool(false)
    );
}

#[test]
fn reverting_one_override_of_a_mitigation_keeps_the_rest() {
    let cat = catalogue();
    let mut book = Book::default();
    let bundle = cat.mitigations.get("pause-payments").unwrap();
    let (app, _) = book.mitigate(bundle, world("w1"), &req(None), t(0));
    book.revert(&app.overrides[0], "refunds may run").unwrap();
    assert_eq!(book.applications()[0].overrides, [app.overrides[1].clone()]);
    let change = book.revert("m-1", "over").unwrap();
    assert_eq!(change.overrides.len(), 1);
    assert!(book.overrides().is_empty());
}

#[test]
fn expiry_removes_whole_groups_once_and_reports_them() {
    let cat = catalogue();
    let mut book = Book::default();
    let bundle = cat.mitigations.get("disable-events").unwrap();
    book.mitigate(bundle, Scope::Fleet, &req(Some(60)), t(0));
    book.set(
        "chat.messages",
        FlagValue::Bool(false),
        world("w3"),
        &req(Some(30)),
        t(0),
    );
    book.set(
        "trade.market",
        FlagValue::Bool(false),
        world("w3"),
        &req(None),
        t(0),
    );
    assert_eq!(book.next_expiry(), Some(t(30)));
    assert!(
        book.expire(t(30)).is_empty(),
        "active up to its expiry instant"
    );
    let changes = book.expire(t(31));
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (changes[0].action, changes[0].id.as_str()),
        (Action::Expire, "o-4")
    );
    assert_eq!(
        changes[0].reason,
        "ttl elapsed; set by alice for: exploit #4711"
    );
    assert_eq!(changes[0].subject, "chat.messages");
    let changes = book.expire(t(61));
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].id, "m-1");
    assert_eq!(changes[0].subject, "disable-events");
    assert_eq!(changes[0].overrides.len(), 3);
    assert!(book.applications().is_empty());
    assert_eq!(book.overrides().len(), 1);
    assert_eq!(book.next_expiry(), None);
    assert!(book.expire(t(999)).is_empty());
}

#[test]
fn ids_and_version_survive_serialization() {
    let cat = catalogue();
    let mut book = Book::default();
    let bundle = cat.mitigations.get("freeze-diplomacy").unwrap();
    book.mitigate(bundle, world("w1"), &req(Some(10)), t(0));
    let json = serde_json::to_string(&book).unwrap();
    let mut back: Book = serde_json::from_str(&json).unwrap();
    assert_eq!(back, book);
    let (o, _) = back.set(
        "trade.market",
        FlagValue::Bool(false),
        Scope::Fleet,
        &req(None),
        t(1),
    );
    assert_eq!(o.id, "o-3");
    assert_eq!(back.version(), 2);
}

#[test]
fn a_clock_stepping_back_never_makes_an_override_older_than_the_one_before() {
    let mut book = Book::default();
    book.set(
        "trade.market",
        FlagValue::Bool(false),
        Scope::Fleet,
        &req(None),
        t(10),
    );
    let (o, _) = book.set(
        "trade.market",
        FlagValue::Bool(true),
        Scope::Fleet,
        &req(None),
        t(5),
    );
    assert_eq!(o.created, t(10));
}
