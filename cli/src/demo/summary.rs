//! What the demo prints: where to look, pages as they fire and resolve, and
//! a per-world SLO table every few seconds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use liveops_agent::Agent;
use liveops_collector::Collector;
use liveops_collector::state::Shared;
use liveops_simworld::World;

use super::{Admin, Args, WORLDS};

pub fn banner(
    collector: &Collector,
    agents: &[Agent],
    worlds: &[World],
    args: &Args,
    file_sd: &Path,
) {
    let c = collector.url();
    println!(
        "liveops demo: a collector and {} simulated worlds on loopback\n",
        worlds.len()
    );
    println!(
        "  collector     {c}   (SLOs {c}/api/v1/slos · alerts {c}/api/v1/alerts · {c}/metrics)"
    );
    for (a, w) in agents.iter().zip(worlds) {
        let statsd = a
            .bound()
            .statsd_udp
            .map(|s| s.to_string())
            .unwrap_or_default();
        println!(
            "  {:<4} agent    http://{}/metrics   DogStatsD udp://{statsd}   game {}",
            w.name(),
            a.bound().http,
            w.url()
        );
    }
    println!(
        "  prometheus    dashboards/prometheus.yml scrapes the default ports; these, for file_sd_configs: {}",
        file_sd.display()
    );
    match &args.fault {
        Some(f) => println!(
            "\n  fault: {f} on {} at {} s",
            args.fault_world, args.fault_at
        ),
        None => println!("\n  no fault scheduled (try --fault tick-stall)"),
    }
    println!();
}

/// Who is on call now and where the pages go.
pub fn paging_banner(data: &Path, deliveries: &Path) {
    println!(
        "  paging        {} routes alerts to teams and severities; {} says who is on call",
        data.join("paging.toml").display(),
        data.join("oncall.toml").display()
    );
    let now = liveops_oncall::jiff::Timestamp::now();
    // The collector has read it already: it is valid.
    if let Ok(cfg) = liveops_config::load_oncall(&data.join("oncall.toml")) {
        let schedule = liveops_oncall::Schedule::new(cfg);
        let mut teams: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for o in schedule.who(now, None) {
            teams
                .entry(o.team)
                .or_default()
                .push(format!("{} ({})", o.person, o.role.as_str()));
        }
        let line: Vec<String> = teams
            .into_iter()
            .map(|(team, people)| format!("{team}: {}", people.join(", ")))
            .collect();
        println!("  on call now   {}", line.join(" · "));
    }
    println!(
        "  channels      pagerduty, slack, email, tickets: the real notifiers, delivering to a local\n                stand-in that logs each request to {}\n",
        deliveries.display()
    );
}

/// How to try flags, OFREP and mitigations against the running demo.
pub fn flags_banner(
    collector: &Collector,
    agents: &[Agent],
    flags: &Path,
    admin: &Admin,
    suspect: Option<String>,
) {
    let c = collector.url();
    println!(
        "  flags         {} (edit it: every agent reloads it)",
        flags.display()
    );
    if let Some(a) = agents.get(1) {
        println!(
            "  OFREP         curl -s -XPOST http://{}/ofrep/v1/evaluate/flags/combat.attacks -d '{{\"context\":{{}}}}'",
            a.bound().http
        );
    }
    let token = admin.shown();
    // The binary that is running, as a path: after `cargo run` there is no
    // `liveops` on the PATH, and a printed command must run as pasted.
    let liveops = super::ports::this_binary();
    println!(
        "  mitigate      {liveops} mitigate freeze-attacks --world w2 --reason \"exploit\" --ttl 10m --collector {c} --token {token}"
    );
    println!(
        "                then `{liveops} mitigate list`, `{liveops} mitigate revert ID --reason …`, `{liveops} status`,\n                `{liveops} audit verify`, each with the same --collector and --token"
    );
    // Each agent snapshots its world once at start, so there is a base to
    // diff against from the first minute (`--fault exploit|corruption`).
    println!(
        "  snapshots     {liveops} snapshot diff latest live --world w2 --collector {c} --token {token}"
    );
    // The player `--fault exploit` makes rich, so the plan has something to show.
    let p = suspect.unwrap_or_else(|| "p1".into());
    println!(
        "  rollback      {liveops} rollback --world w2 --from latest --player {p} --collector {c} --token {token}\n                (a dry run; add --apply --reason … to do it, then `rollback undo ID`)\n"
    );
}

pub struct Printer {
    shared: Arc<Shared>,
    /// Fingerprint → how the alert was announced, to name it when it resolves.
    firing: BTreeMap<String, String>,
    last_summary: Option<Duration>,
}

impl Printer {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            firing: BTreeMap::new(),
            // The first table waits one period: before it there is nothing to show.
            last_summary: Some(Duration::ZERO),
        }
    }

    /// Prints alerts that started or ended since the last call.
    pub fn alerts(&mut self, elapsed: Duration) {
        let active = self.shared.alerts();
        let now: BTreeSet<String> = active.iter().map(|a| a.fingerprint.clone()).collect();
        let new: Vec<_> = active
            .iter()
            .filter(|a| !self.firing.contains_key(&a.fingerprint))
            .collect();
        for a in new {
            let l = |k: &str| a.labels.get(k).map(String::as_str).unwrap_or("-");
            let n = |k: &str| a.annotations.get(k).map(String::as_str).unwrap_or("-");
            println!(
                "{:>6.1}s  {:<9} {} {} [{}] {}\n          owner {} · runbook {}",
                elapsed.as_secs_f64(),
                // The pager decides what becomes a page; see its lines.
                if l("severity") == "page" {
                    "ALERT"
                } else {
                    "TICKET"
                },
                l("alertname"),
                l("world"),
                l("slo"),
                n("summary"),
                n("owner"),
                n("runbook_url"),
            );
            self.firing.insert(
                a.fingerprint.clone(),
                format!("{} {} [{}]", l("alertname"), l("world"), l("slo")),
            );
        }
        self.firing.retain(|fingerprint, what| {
            let still = now.contains(fingerprint);
            if !still {
                println!("{:>6.1}s  RESOLVED  {what}", elapsed.as_secs_f64());
            }
            still
        });
    }

    /// Prints the SLO table if `every` has passed since the last one.
    pub fn summary_every(&mut self, elapsed: Duration, every: Duration) {
        if self.last_summary.is_some_and(|t| elapsed < t + every) {
            return;
        }
        self.last_summary = Some(elapsed);
        let status = self.shared.status();
        let worlds = self.shared.worlds();
        println!(
            "{:>6.1}s  {:<6} {:<5} {:>9} {:>9} {:>10} {:>9} {:>9}   (SLI over the period; budget left of the worst SLO)",
            elapsed.as_secs_f64(),
            "world",
            "state",
            "uptime",
            "errors",
            "tick<250",
            "payments",
            "auth<1s"
        );
        for name in WORLDS.iter().map(|w| Some(*w)).chain([None]) {
            let row: Vec<_> = status
                .iter()
                .filter(|s| s.world.as_deref() == name)
                .collect();
            let sli = |slo: &str| {
                row.iter()
                    .find(|s| s.slo == slo)
                    .and_then(|s| s.sli)
                    .map(|v| format!("{:.3}%", v * 100.0))
                    .unwrap_or_else(|| "-".into())
            };
            let budget = row
                .iter()
                .filter_map(|s| s.error_budget_remaining)
                .fold(f64::INFINITY, f64::min);
            let state = match name {
                None => "",
                Some(w) => match worlds.get(w) {
                    None => "?",
                    Some(s) if s.health.up => "up",
                    Some(s) if s.health.stalled => "STALL",
                    Some(_) => "DOWN",
                },
            };
            println!(
                "          {:<6} {:<5} {:>9} {:>9} {:>10} {:>9} {:>9}   budget {}",
                name.unwrap_or("fleet"),
                state,
                sli("uptime"),
                sli("error_rate"),
                sli("tick_latency"),
                sli("payment_success"),
                sli("auth_latency"),
                if budget.is_finite() {
                    format!("{:.1}%", budget * 100.0)
                } else {
                    "-".into()
                },
            );
        }
    }
}
