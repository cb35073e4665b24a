//! `liveops demo` as a newcomer meets it: run the real binary on its fixed,
//! documented ports, scrape it with the targets of the shipped
//! `dashboards/prometheus.yml`, paste the `mitigate` command it prints, and
//! see healthy worlds within every SLO.
//!
//! The only test that binds the fixed ports (9470–9473, 8125–8127); every
//! other test that runs the demo passes `--agent-http-base 0` and a free
//! `--listen`, so tests in parallel cannot collide.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{http, liveops_bin, workspace};

/// The demo's documented ports: the collector, then the agents of w1–w3.
const DEMO_TARGETS: [&str; 4] = [
    "127.0.0.1:9470",
    "127.0.0.1:9471",
    "127.0.0.1:9472",
    "127.0.0.1:9473",
];

/// Every `"HOST:PORT"` target in a Prometheus file, comments left out. The
/// file is small and regular (quoted targets, `#` comments), so a line
/// scan reads it without a YAML crate.
fn scrape_targets(yaml: &str) -> Vec<String> {
    yaml.lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .flat_map(|l| {
            l.split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|t| t.parse::<SocketAddr>().is_ok())
        .collect()
}

#[test]
fn the_shipped_prometheus_yml_lists_exactly_the_demo_targets() {
    let yaml = std::fs::read_to_string(workspace().join("dashboards/prometheus.yml")).unwrap();
    assert_eq!(scrape_targets(&yaml), DEMO_TARGETS);
}

/// Waits until `stdout` has a line starting (after spaces) with `label`.
fn printed(stdout: &Path, label: &str, child: &mut std::process::Child) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(stdout).unwrap_or_default();
        if let Some(l) = text.lines().find(|l| l.trim_start().starts_with(label)) {
            return l.trim_start()[label.len()..].trim().to_owned();
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the demo exited ({status}) before printing `{label}`:\n{text}");
        }
        assert!(Instant::now() < deadline, "no `{label}` line:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The real `liveops demo` run from the workspace, as after `cargo run`
/// (so the commands it prints name `target/debug/liveops`), its output in
/// files under `dir`.
struct Demo {
    child: std::process::Child,
    out: PathBuf,
    err: PathBuf,
}

impl Demo {
    fn start(dir: &Path, args: &[&str]) -> Demo {
        let (out, err) = (dir.join("stdout.txt"), dir.join("stderr.txt"));
        let child = Command::new(liveops_bin())
            .arg("demo")
            .args(args)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--postmortem-dir")
            .arg(dir)
            .current_dir(workspace())
            .env_remove("LIVEOPS_TOKEN")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        Demo { child, out, err }
    }

    /// What follows `label` on the first line starting with it.
    fn printed(&mut self, label: &str) -> String {
        printed(&self.out, label, &mut self.child)
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap()
    }

    /// Waits for it to stop after `--duration`, insists on exit 0, and
    /// returns everything it printed.
    async fn finished(mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the demo did not stop after --duration");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let stdout = self.stdout();
        assert!(
            status.success(),
            "{status}\n{stdout}\n{}",
            std::fs::read_to_string(&self.err).unwrap()
        );
        stdout
    }
}

/// Runs a command the demo printed, as pasted in the workspace; its stdout.
fn paste(command: &str) -> String {
    let pasted = Command::new("sh")
        .args(["-c", command])
        .current_dir(workspace())
        .env_remove("LIVEOPS_COLLECTOR")
        .output()
        .unwrap();
    assert!(
        pasted.status.success(),
        "`{command}` failed: {}{}",
        String::from_utf8_lossy(&pasted.stdout),
        String::from_utf8_lossy(&pasted.stderr)
    );
    String::from_utf8_lossy(&pasted.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_binds_its_documented_ports_and_its_printed_command_runs_as_pasted() {
    let dir = tempfile::tempdir().unwrap();
    let mut demo = Demo::start(dir.path(), &["--duration", "25"]);
    let started = Instant::now();
    let mitigate = demo.printed("mitigate");
    let file_sd = demo.printed("prometheus");

    // Every target of the shipped file answers /metrics.
    let yaml = std::fs::read_to_string(workspace().join("dashboards/prometheus.yml")).unwrap();
    for target in scrape_targets(&yaml) {
        let resp = http()
            .get(format!("http://{target}/metrics"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {target}/metrics: {e}"));
        assert_eq!(resp.status(), 200, "{target}");
        let body = resp.text().await.unwrap();
        assert!(body.contains("liveops_"), "{target}: {body}");
    }
    // The file-SD file lists the same targets.
    let sd_path = file_sd.rsplit(' ').next().unwrap();
    let groups: Value = serde_json::from_str(&std::fs::read_to_string(sd_path).unwrap()).unwrap();
    let sd: Vec<&str> = groups
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["targets"].as_array().unwrap())
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(sd, DEMO_TARGETS, "{groups}");

    // Healthy worlds look healthy: once a few tables are out, every SLO of
    // every world and the fleet is within its objective.
    let token = mitigate.rsplit(' ').next().unwrap().to_owned();
    tokio::time::sleep(Duration::from_secs(12).saturating_sub(started.elapsed())).await;
    let slos: Value = http()
        .get("http://127.0.0.1:9470/api/v1/slos")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = slos["slos"].as_array().expect("an array of SLO rows");
    assert!(rows.len() >= 20, "{slos:#}");
    for row in rows {
        let (sli, objective) = (row["sli"].as_f64(), row["objective"].as_f64().unwrap());
        let budget = row["error_budget_remaining"].as_f64();
        assert!(
            sli.is_some_and(|s| s >= objective) && budget.is_some_and(|b| b >= 0.0),
            "before any fault, {} in {} is at {sli:?} (objective {objective}), budget {budget:?}",
            row["slo"],
            row["world"]
        );
    }

    // The printed command starts with an existing executable and runs as pasted.
    let exe = mitigate.split(' ').next().unwrap();
    let exe_path = workspace().join(exe);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&exe_path).unwrap().permissions(),
    );
    assert!(
        mode & 0o111 != 0,
        "{} is not executable",
        exe_path.display()
    );
    paste(&mitigate);
    let stdout = demo.finished().await;
    assert!(
        !stdout.contains(" PAGE "),
        "a healthy demo paged:\n{stdout}"
    );
}

/// Who `liveops oncall who` says holds `role` in `team` now, from the
/// schedule the demo runs with.
fn on_call(schedule: &Path, team: &str, role: &str) -> String {
    let out = Command::new(liveops_bin())
        .args(["oncall", "who", "--json", "--team", team, "--schedule"])
        .arg(schedule)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let who: Value = serde_json::from_slice(&out.stdout).unwrap();
    who.as_array()
        .unwrap()
        .iter()
        .find(|o| o["role"] == role)
        .and_then(|o| o["person"].as_str())
        .unwrap_or_else(|| panic!("no {team} {role} in {who}"))
        .to_owned()
}

/// The lines of the demo's output whose word after the timestamp is `word`.
fn lines_of<'a>(stdout: &'a str, word: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some(word))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_world_going_down_in_the_demo_is_one_page_showing_who_was_paged_and_how_to_ack() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Free ports: the fixed ones are the other test's.
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let args = [
        ["--listen", &listen],
        ["--duration", "14"],
        ["--agent-http-base", "0"],
        ["--statsd-base", "0"],
        ["--fault", "down"],
        ["--fault-at", "3"],
    ];
    let mut demo = Demo::start(dir.path(), args.as_flattened());

    // The page names the people on call by the shipped schedule (SEV1:
    // the owning team's primary and community's), through PagerDuty.
    let ack = demo.printed("ack");
    let schedule = data.join("oncall.toml");
    assert_eq!(
        std::fs::read_to_string(&schedule).unwrap(),
        liveops_config::DEFAULT_ONCALL_TOML
    );
    let stdout = demo.stdout();
    let paged: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("paged"))
        .map(str::trim)
        .collect();
    let want = [
        format!("{} via pagerduty", on_call(&schedule, "ops", "primary")),
        format!(
            "{} via pagerduty",
            on_call(&schedule, "community", "primary")
        ),
    ];
    assert_eq!(paged, want, "{stdout}");

    // The printed command acknowledges the page as pasted.
    assert!(
        ack.starts_with("target/debug/liveops ack p-1 --reason"),
        "{ack}"
    );
    let acked = paste(&ack);
    assert!(acked.contains("acknowledged"), "{acked}");
    let stdout = demo.finished().await;
    // TickStalled then WorldDown, ~1 s apart: one page, not two.
    let pages = lines_of(&stdout, "PAGE");
    assert_eq!(pages.len(), 1, "{stdout}");
    assert!(
        pages[0].contains("p-1 SEV1 ") && pages[0].ends_with("w2 → team ops"),
        "{stdout}"
    );
    let down = lines_of(&stdout, "GROUPED")
        .iter()
        .chain(&pages)
        .any(|l| l.contains("WorldDown w2"));
    assert!(down, "WorldDown is on the page: {stdout}");
    assert_eq!(lines_of(&stdout, "ACKED").len(), 1, "{stdout}");
    // The page opened an incident; the simulated players rated it (w2
    // holds a third of them: SEV1); the comms templates drafted its
    // banner; its postmortem was written at the end.
    let opened = lines_of(&stdout, "INCIDENT");
    assert!(
        opened.len() == 1 && opened[0].contains("INC-1 opened"),
        "{stdout}"
    );
    let sev = lines_of(&stdout, "SEVERITY");
    assert!(
        sev.iter().any(|l| l.contains("INC-1 SEV3 → SEV1: ")),
        "{stdout}"
    );
    let comms = lines_of(&stdout, "COMMS");
    assert!(
        comms
            .iter()
            .any(|l| l.contains("banner draft") && l.contains("/status/incidents/1")),
        "{stdout}"
    );
    let written = stdout
        .lines()
        .find_map(|l| l.strip_prefix("postmortem written: "))
        .expect("a postmortem path");
    let pm = std::fs::read_to_string(written).unwrap();
    assert!(pm.starts_with("# Postmortem: INC-1"), "{pm}");
    assert!(
        pm.contains("| Time to acknowledge (alert → someone on it) |"),
        "{pm}"
    );

    // PagerDuty's stand-in got the triggers and then the acknowledgement
    // of that one incident.
    let log = std::fs::read_to_string(data.join("deliveries.jsonl")).unwrap();
    let events: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|l: &Value| l["channel"] == "pagerduty")
        .map(|l| l["body"].clone())
        .collect();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["event_action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["trigger", "trigger", "acknowledge", "acknowledge"],
        "{log}"
    );
    for e in &events {
        assert_eq!(e["dedup_key"], "p-1");
        assert_eq!(e["routing_key"], "(redacted)", "no secret in the log");
    }
    assert_eq!(events[0]["payload"]["severity"], "critical");
}
