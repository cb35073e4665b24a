use std::sync::Arc;
use std::time::Duration;

use liveops_protocol::command::{Command, Op, Outcome};
use serde_json::json;
use tokio::sync::watch;

use super::*;

fn relay() -> Arc<Relay> {
    Arc::new(Relay::new(watch::channel(false).1))
}

fn cmd(r: &Relay) -> Command {
    Command {
        id: r.id(),
        op: Op::SnapshotList,
        args: json!({}),
        actor: "alice".into(),
        reason: None,
    }
}

#[tokio::test]
async fn a_command_reaches_the_newest_stream_of_its_world_and_comes_back() {
    let r = relay();
    let (_old, mut old_rx) = r.listen("w1");
    let (_new, mut new_rx) = r.listen("w1");
    let (_other, mut other_rx) = r.listen("w2");
    let c = cmd(&r);
    let agent = {
        let r = r.clone();
        tokio::spawn(async move {
            let got = new_rx.recv().await.unwrap_or_else(|| panic!("no command"));
            assert!(
                !r.answer(
                    &got.id,
                    "w2",
                    Outcome {
                        status: 200,
                        body: json!(1)
                    }
                ),
                "wrong world"
            );
            assert!(r.answer(
                &got.id,
                "w1",
                Outcome {
                    status: 200,
                    body: json!({"ok": true})
                }
            ));
            assert!(
                !r.answer(
                    &got.id,
                    "w1",
                    Outcome {
                        status: 200,
                        body: json!(2)
                    }
                ),
                "answered once"
            );
        })
    };
    let out = r.send("w1", c, Duration::from_secs(5)).await;
    assert_eq!(
        out,
        Ok(Outcome {
            status: 200,
            body: json!({"ok": true})
        })
    );
    agent.await.unwrap_or_else(|e| panic!("{e}"));
    assert!(old_rx.try_recv().is_err() && other_rx.try_recv().is_err());
}

#[tokio::test]
async fn no_agent_a_gone_one_and_a_silent_one_are_told_apart() {
    let r = relay();
    assert_eq!(
        r.send("w1", cmd(&r), Duration::from_secs(1)).await,
        Err(RelayError::NoAgent("w1".into()))
    );
    let (l, rx) = r.listen("w1");
    drop(rx);
    assert_eq!(
        r.send("w1", cmd(&r), Duration::from_secs(1)).await,
        Err(RelayError::NoAgent("w1".into())),
        "a closed stream is skipped"
    );
    drop(l);
    let (_l, _rx) = r.listen("w1");
    tokio::time::pause();
    let c = cmd(&r);
    let id = c.id.clone();
    let out = r.send("w1", c, Duration::from_secs(30)).await;
    assert!(matches!(out, Err(RelayError::Timeout { .. })), "{out:?}");
    assert!(
        !r.answer(
            &id,
            "w1",
            Outcome {
                status: 200,
                body: json!(0)
            }
        ),
        "too late"
    );
}

#[tokio::test]
async fn an_agent_that_goes_away_fails_its_commands_at_once() {
    let r = relay();
    let (listening, mut rx) = r.listen("w1");
    let waiter = {
        let r = r.clone();
        let c = cmd(&r);
        tokio::spawn(async move { r.send("w1", c, Duration::from_secs(300)).await })
    };
    assert!(rx.recv().await.is_some());
    drop(listening);
    let out = tokio::time::timeout(Duration::from_secs(5), waiter).await;
    assert!(matches!(out, Ok(Ok(Err(RelayError::Gone(_))))), "{out:?}");
}

#[test]
fn ids_are_not_guessable_from_the_counter() {
    let r = relay();
    let (a, b) = (r.id(), r.id());
    assert_ne!(
        a[a.rfind('-').unwrap_or(0)..],
        b[b.rfind('-').unwrap_or(0)..]
    );
}
