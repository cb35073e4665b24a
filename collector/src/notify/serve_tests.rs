//! A channel's lanes: a page stuck in its delivery holds up only its own
//! lane, and one page's deliveries keep their order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use liveops_protocol::{Delivery, PageAction};
use tokio::sync::{Notify, mpsc};

use super::direct::tests::delivery;
use super::{Carrier, Ctx, lane_of, serve};

#[derive(Clone, Default)]
struct Gate {
    carried: Arc<Mutex<Vec<(String, PageAction)>>>,
    open: Arc<Notify>,
}

impl Carrier for Gate {
    async fn carry(&self, _: &Ctx, d: &Delivery) -> Result<(), String> {
        if d.page_id == "p-1" && d.action == PageAction::Trigger {
            // A receiver that does not answer (until the test lets it).
            self.open.notified().await;
        }
        let mut carried = self.carried.lock().unwrap();
        carried.push((d.page_id.clone(), d.action));
        Ok(())
    }
}

fn to(page: &str, action: PageAction) -> Delivery {
    let mut d = delivery();
    d.page_id = page.to_owned();
    d.action = action;
    d
}

async fn until(gate: &Gate, what: impl Fn(&[(String, PageAction)]) -> bool) {
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        while !what(&gate.carried.lock().unwrap()) {
            tokio::task::yield_now().await;
        }
    });
    waited.await.expect("the lanes never got there");
}

#[tokio::test]
async fn a_stuck_page_holds_up_only_its_lane_and_a_resolve_never_overtakes_its_trigger() {
    let other = (2..)
        .map(|n| format!("p-{n}"))
        .find(|p| lane_of(p) != lane_of("p-1"))
        .unwrap();
    let gate = Gate::default();
    let (tx, rx) = mpsc::channel(16);
    let task = tokio::spawn(serve(gate.clone(), Ctx::for_tests("pagerduty"), rx));
    tx.send(to("p-1", PageAction::Trigger)).await.unwrap();
    tx.send(to("p-1", PageAction::Resolve)).await.unwrap();
    tx.send(to(&other, PageAction::Trigger)).await.unwrap();

    until(&gate, |c| c.iter().any(|(p, _)| *p == other)).await;
    assert!(
        gate.carried.lock().unwrap().iter().all(|(p, _)| p != "p-1"),
        "p-1's resolve went out before its trigger"
    );
    gate.open.notify_one();
    until(&gate, |c| c.len() == 3).await;
    let p1: Vec<PageAction> = (gate.carried.lock().unwrap().iter())
        .filter(|(p, _)| p == "p-1")
        .map(|(_, a)| *a)
        .collect();
    assert_eq!(p1, [PageAction::Trigger, PageAction::Resolve]);
    drop(tx);
    task.await.unwrap();
}
