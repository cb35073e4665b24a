//! The demo's fault drills, each with three real simulated worlds (w1–w3),
//! their agents and one collector: a fault switched on in w2 after a few
//! healthy seconds pages the right alert for w2 within its bound (measured
//! from the moment the fault is set and printed for CI logs), with a
//! runbook and an owner, and resolves when the fault is cleared; no page
//! ever names w1 or w3. Also: a silent agent pages `AgentSilent` (not
//! `WorldDown`); slow logins burn the latency budget at a page-level rate
//! but page nothing yet (no acute alert for latency); and the real `liveops demo` binary pages a tick stall for w2
//! only, through its paging policy.

use std::process::Command;
use std::time::{Duration, Instant};

use liveops_agent::Agent;
use liveops_collector::Collector;
use liveops_config::CollectorConfig;
use liveops_protocol::{AlertStatus, Notification};
use liveops_simworld::{Fault, World};
use tempfile::TempDir;

use crate::support::*;

const WORLDS: [&str; 3] = ["w1", "w2", "w3"];
/// Healthy traffic before a fault: one whole acute-alert window (3 s).
const HEALTHY: Duration = Duration::from_secs(3);

struct Drill {
    dir: TempDir,
    collector: Collector,
    worlds: Vec<(World, Option<Agent>)>,
    stop: Switch,
}

impl Drill {
    async fn start(tweak: impl FnOnce(&mut CollectorConfig)) -> Drill {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = collector_config(dir.path(), any_port());
        tweak(&mut cfg);
        let collector = start_collector(cfg).await;
        let stop = Switch::new();
        let mut worlds = Vec::new();
        for name in WORLDS {
            let (w, a) = start_world(dir.path(), name, &collector.url(), &stop).await;
            worlds.push((w, Some(a)));
        }
        let url = collector.url();
        eventually(
            Duration::from_secs(10),
            "every world reported up",
            || async {
                let body = try_get_json(&format!("{url}/api/v1/worlds")).await?;
                let up = |w: &str| body["worlds"][w]["health"]["up"] == true;
                WORLDS
                    .iter()
                    .all(|w| up(w))
                    .then_some(())
                    .ok_or(body.to_string())
            },
        )
        .await;
        tokio::time::sleep(HEALTHY).await;
        Drill {
            dir,
            collector,
            worlds,
            stop,
        }
    }

    fn world(&self, name: &str) -> &World {
        let i = WORLDS.iter().position(|w| *w == name).unwrap();
        &self.worlds[i].0
    }

    /// Waits (up to `bound` plus slack, so a slow page is still measured)
    /// for a `status` notification of `alertname` in `world`, and checks it
    /// came within `bound` of `since`.
    async fn notified(
        &self,
        status: AlertStatus,
        alertname: &str,
        world: &str,
        since: Instant,
        bound: Duration,
    ) -> Notification {
        let what = format!("{status:?} {alertname} for {world}");
        let n = eventually(bound + Duration::from_secs(5), &what, || async {
            pager_log(self.dir.path())
                .into_iter()
                .find(|n| {
                    n.status == status
                        && n.label("alertname") == Some(alertname)
                        && n.label("world") == Some(world)
                })
                .ok_or_else(|| format!("{:#?}", pager_log(self.dir.path())))
        })
        .await;
        let latency = since.elapsed();
        eprintln!("{what}: {:.2} s (bound {bound:?})", latency.as_secs_f64());
        assert!(latency <= bound, "{what} took {latency:?}, over {bound:?}");
        n
    }

    /// Every notification so far is about `world` and one of `alerts`.
    fn only(&self, world: &str, alerts: &[&str]) {
        let log = pager_log(self.dir.path());
        let seen: Vec<String> = log
            .iter()
            .map(|n| format!("{:?} {}", n.status, n.label("alertname").unwrap_or("?")))
            .collect();
        eprintln!("pager log: {seen:?}");
        for n in log {
            assert_eq!(
                n.label("world"),
                Some(world),
                "page for another world: {n:#?}"
            );
            let name = n.label("alertname").unwrap_or_default();
            assert!(alerts.contains(&name), "unexpected {name}: {n:#?}");
        }
    }

    async fn stop(mut self) {
        self.stop.fire();
        for (world, agent) in self.worlds.drain(..) {
            world.stopped().await;
            if let Some(a) = agent {
                a.stop();
                a.wait().await.unwrap();
            }
        }
        self.collector.stop();
        self.collector.wait().await.unwrap();
    }
}

fn assert_page(n: &Notification, world: &str, alertname: &str, slo: &str) {
    let labels = [("alertname", alertname), ("world", world), ("slo", slo)];
    for (k, v) in labels.into_iter().chain([("severity", "page")]) {
        assert_eq!(n.label(k), Some(v), "{k}: {n:#?}");
    }
    for k in ["runbook_url", "owner", "summary"] {
        let v = n.annotations.get(k).map(String::as_str).unwrap_or("");
        assert!(!v.is_empty(), "empty {k}: {n:#?}");
    }
}

/// Sets `fault` on w2, expects `alertname` for `slo` within `bound`, then
/// clears it and expects the alert resolved; `also` may page on the way.
async fn drill(fault: Fault, alertname: &str, slo: &str, bound: Duration, also: &[&str]) {
    let d = Drill::start(|_| {}).await;
    let set = Instant::now();
    d.world("w2").set_fault(Some(fault));
    let page = d
        .notified(AlertStatus::Firing, alertname, "w2", set, bound)
        .await;
    assert_page(&page, "w2", alertname, slo);

    let cleared = Instant::now();
    d.world("w2").set_fault(None);
    let resolved = Duration::from_secs(10);
    let end = d
        .notified(AlertStatus::Resolved, alertname, "w2", cleared, resolved)
        .await;
    assert_eq!(
        (&end.labels, &end.starts_at),
        (&page.labels, &page.starts_at)
    );
    assert!(end.ends_at.is_some(), "{end:#?}");
    d.only("w2", &[also, &[alertname]].concat());
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_stall_pages_tick_stalled_within_2_s() {
    drill(
        Fault::TickStall,
        "TickStalled",
        "uptime",
        Duration::from_secs(2),
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_burst_pages_high_failure_ratio_within_5_s() {
    let bound = Duration::from_secs(5);
    drill(
        Fault::ErrorBurst,
        "HighFailureRatio",
        "error_rate",
        bound,
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_failure_pages_high_failure_ratio_within_5_s() {
    let bound = Duration::from_secs(5);
    drill(
        Fault::PaymentFailure,
        "HighFailureRatio",
        "payment_success",
        bound,
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_world_down_while_its_agent_reports_pages_world_down() {
    // Ticks stop at once and the probe fails only on its second try, so a
    // TickStalled page may come first and give way to WorldDown.
    let bound = Duration::from_secs(4);
    drill(Fault::Down, "WorldDown", "uptime", bound, &["TickStalled"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_logins_page_high_failure_ratio_on_the_latency_slo() {
    // Logins are rarer than requests (a few a second), so the shipped
    // auth_latency SLO has a 6 s acute window: most logins slow for about
    // 3 s, plus a report, pages.
    let bound = Duration::from_secs(8);
    drill(
        Fault::AuthSlow,
        "HighFailureRatio",
        "auth_latency",
        bound,
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_agent_pages_agent_silent_not_world_down() {
    let mut d = Drill::start(|c| c.no_data_after = Duration::from_secs(2)).await;
    let agent = d.worlds[0].1.take().unwrap();
    agent.stop();
    agent.wait().await.unwrap();
    // Its last report arrived just before `wait` returned.
    let (stopped, ticks) = (Instant::now(), d.world("w1").ticks());
    let bound = Duration::from_secs(4);
    let page = d
        .notified(AlertStatus::Firing, "AgentSilent", "w1", stopped, bound)
        .await;
    assert_page(&page, "w1", "AgentSilent", "uptime");
    // The world kept ticking all along; only its agent is gone.
    assert!(d.world("w1").ticks() > ticks);
    d.only("w1", &["AgentSilent"]);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_binary_pages_a_tick_stall_in_w2_only() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind(any_port())
        .unwrap()
        .local_addr()
        .unwrap();
    let mut demo = Command::new(liveops_bin());
    demo.args(["demo", "--listen", &port.to_string(), "--duration", "8"])
        // Free agent ports: the fixed ones are tests/it/demo.rs's.
        .args(["--agent-http-base", "0", "--statsd-base", "0"])
        .args(["--fault", "tick-stall", "--fault-at", "3", "--pager-log"])
        .arg(dir.path().join("pager.jsonl"))
        .arg("--data-dir")
        .arg(dir.path().join("data"));
    let out = run(demo, Duration::from_secs(40), dir.path()).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    // The pager log holds what the demo's channels received; PagerDuty's
    // events carry the alert's labels in their details.
    let log = std::fs::read_to_string(dir.path().join("pager.jsonl")).unwrap();
    let paged: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["channel"] == "pagerduty" && l["body"]["event_action"] == "trigger")
        .map(|l| l["body"]["payload"]["custom_details"]["labels"].clone())
        .collect();
    assert!(
        paged.iter().any(|l| l["alertname"] == "TickStalled"),
        "{log}\n{stdout}"
    );
    assert!(
        paged.iter().all(|l| l["world"] == "w2"),
        "pages for w2 only: {log}\n{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_growing_tick_backlog_pages_tick_backlog_and_resolves_once_drained() {
    // The shipped rule (50 events for 20 s) scaled down to keep the test
    // short; the rule is the same.
    let d = Drill::start(|cfg| {
        let slo = cfg
            .slos
            .iter_mut()
            .find(|s| s.name == "tick_latency")
            .unwrap();
        let rule = slo
            .backlog
            .as_mut()
            .expect("the shipped tick_latency has a backlog rule");
        rule.threshold = 5.0;
        rule.window = Duration::from_secs(4);
    })
    .await;
    let set = Instant::now();
    d.world("w2").set_fault(Some(Fault::TickBacklog));
    let page = d
        .notified(
            AlertStatus::Firing,
            "TickBacklog",
            "w2",
            set,
            Duration::from_secs(25),
        )
        .await;
    assert_page(&page, "w2", "TickBacklog", "tick_latency");
    assert!(
        page.annotations["runbook_url"].ends_with("/runbooks/tick-backlog"),
        "{page:#?}"
    );
    let metrics = get_text(&format!("{}/metrics", d.collector.url())).await;
    let backlog = sample(
        &metrics,
        "liveops_collector_world_tick_backlog",
        &[("world", "w2")],
    );
    assert!(backlog.is_some_and(|b| b > 5.0), "{backlog:?}");

    let cleared = Instant::now();
    d.world("w2").set_fault(None);
    d.notified(
        AlertStatus::Resolved,
        "TickBacklog",
        "w2",
        cleared,
        Duration::from_secs(10),
    )
    .await;
    d.only("w2", &["TickBacklog", "ErrorBudgetBurn"]);
    d.stop().await;
}
