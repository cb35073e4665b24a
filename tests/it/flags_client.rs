//! The Rust flag client against the real `liveops-agent` binary: built
//! before the agent is up (defaults, then the first snapshot), it follows
//! edits of the flag file with no call but reads, keeps serving while the
//! agent is killed, and resyncs (to a file edited meanwhile) once the agent
//! is back. Also the agent process and the flag file `ofrep_python` uses.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use liveops_client::flags::{FlagClient, FlagValue, Reason};

use crate::support::*;

/// A flag file with a flag of each type: a kill switch with a player rule,
/// an integer with a rule for world `w1`, a float and a string.
pub fn flag_file(attacks: bool, max_offers: i64, banner: &str) -> String {
    let flag = |key: &str, kind: &str, default: &str| {
        format!(
            "[flag.\"{key}\"]\ndescription = \"d\"\nsystem = \"s\"\nkind = \"{kind}\"\n\
             owner = \"it\"\ndefault = {default}\nfail_safe = {default}\n\
             blast_radius = \"b\"\ntakes_effect = \"t\"\nrollback = \"r\"\n\n"
        )
    };
    [
        flag("combat.attacks", "kill_switch", &attacks.to_string()),
        "[[flag.\"combat.attacks\".rule]]\nplayer = \"p-vip\"\nvalue = true\n\n".into(),
        flag("trade.max_offers", "ops", &max_offers.to_string()),
        "[[flag.\"trade.max_offers\".rule]]\nworld = \"w1\"\nvalue = 5\n\n".into(),
        flag("economy.tax_rate", "ops", "0.05"),
        flag("events.banner", "ops", &format!("\"{banner}\"")),
    ]
    .concat()
}

/// Replaces the file as editors do (write aside, rename over), so the agent
/// never reads half a file.
pub fn write_flags(path: &Path, text: &str) {
    let aside = path.with_extension("toml.tmp");
    std::fs::write(&aside, text).unwrap();
    std::fs::rename(&aside, path).unwrap();
}

/// A `liveops-agent` process for world `w1` serving `flags` on `http`;
/// killed (SIGKILL, no goodbye) on drop.
pub struct AgentProcess {
    child: Child,
    pub url: String,
}

impl AgentProcess {
    /// Starts the agent and waits until it serves its flag snapshot.
    pub async fn start(dir: &Path, flags: &Path, http: SocketAddr) -> AgentProcess {
        let bin = built(&["liveops-agent"]).join("liveops-agent");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("agent.log"))
            .unwrap();
        let child = Command::new(bin)
            .args(["--world", "w1", "--statsd-udp", "127.0.0.1:0"])
            // Nothing listens there: reports are spooled, overrides absent.
            .args(["--collector", "http://127.0.0.1:9"])
            .arg("--http")
            .arg(http.to_string())
            .arg("--data-dir")
            .arg(dir.join("agent-data"))
            .arg("--flags")
            .arg(flags)
            .env_remove("LIVEOPS_AGENT_CONFIG")
            .env_remove("LIVEOPS_COLLECTOR")
            .env_remove("LIVEOPS_AGENT_TOKEN")
            .env_remove("LIVEOPS_AGENT_FLAGS")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting liveops-agent");
        let mut agent = AgentProcess {
            child,
            url: format!("http://{http}"),
        };
        let snapshot = format!("{}{}", agent.url, liveops_protocol::flags::SNAPSHOT_PATH);
        let log = dir.join("agent.log");
        eventually(Duration::from_secs(20), "the agent to serve flags", || {
            let exited = agent.child.try_wait().unwrap();
            let (snapshot, log) = (snapshot.clone(), log.clone());
            async move {
                if let Some(status) = exited {
                    let log = std::fs::read_to_string(&log).unwrap_or_default();
                    panic!("liveops-agent exited ({status}):\n{log}");
                }
                try_get_json(&snapshot).await.map(drop)
            }
        })
        .await;
        agent
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port to give an agent, so that a restart can reuse it.
pub fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind(any_port()).unwrap();
    l.local_addr().unwrap()
}

pub fn flags_path(dir: &Path) -> PathBuf {
    dir.join("flags.toml")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_client_follows_file_edits_and_agent_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let flags = flags_path(dir.path());
    write_flags(&flags, &flag_file(true, 20, "Welcome"));
    let http = free_port();

    // Built before the agent exists: reads serve the caller's defaults.
    let client = FlagClient::builder(format!("http://{http}"))
        .world("w1")
        .build()
        .unwrap();
    let world = client.world_context().clone();
    let vip = client.context().player("p-vip").build();
    let in_w2 = liveops_client::flags::ContextBuilder::new()
        .world("w2")
        .build();
    assert!(!client.wait_ready(Duration::from_millis(200)));
    assert_eq!(client.int("trade.max_offers", &world, -1), -1);

    let agent = AgentProcess::start(dir.path(), &flags, http).await;
    assert!(
        client.wait_ready(Duration::from_secs(10)),
        "{:?}",
        client.status()
    );
    assert!(client.bool("combat.attacks", &world, false));
    assert_eq!(client.int("trade.max_offers", &world, -1), 5, "w1's rule");
    assert_eq!(client.int("trade.max_offers", &in_w2, -1), 20);
    assert_eq!(client.float("economy.tax_rate", &world, 0.0), 0.05);
    assert_eq!(client.string("events.banner", &world, ""), "Welcome");
    let d = client.details("combat.attacks", &vip).unwrap();
    assert_eq!(
        (d.value, d.reason),
        (FlagValue::Bool(true), Reason::TargetingMatch)
    );
    assert_eq!(
        client.details("no.such", &world).unwrap_err().code(),
        "FLAG_NOT_FOUND"
    );

    // Kill switch thrown in the file; the test only reads from here on.
    let edited = Instant::now();
    write_flags(&flags, &flag_file(false, 12, "Welcome"));
    eventually(
        Duration::from_secs(3),
        "the edit to reach the client",
        || {
            let ok = !client.bool("combat.attacks", &world, true)
                && client.int("trade.max_offers", &in_w2, -1) == 12;
            async move { ok.then_some(()).ok_or_else(|| "old values".to_owned()) }
        },
    )
    .await;
    eprintln!("file edit seen by the client after {:?}", edited.elapsed());
    assert!(
        client.bool("combat.attacks", &vip, false),
        "the player rule stays"
    );

    drop(agent);
    eventually(
        Duration::from_secs(5),
        "the client to see the agent gone",
        || {
            let up = client.status().connected;
            async move { (!up).then_some(()).ok_or_else(|| "connected".to_owned()) }
        },
    )
    .await;
    assert!(
        !client.bool("combat.attacks", &world, true),
        "last snapshot kept"
    );

    write_flags(&flags, &flag_file(false, 12, "Back soon"));
    let _agent = AgentProcess::start(dir.path(), &flags, http).await;
    eventually(Duration::from_secs(10), "the client to resync", || {
        let banner = client.string("events.banner", &world, "");
        let status = client.status();
        let ok = banner == "Back soon" && status.connected;
        async move { ok.then_some(()).ok_or(format!("{banner:?}, {status:?}")) }
    })
    .await;
    assert!(client.status().snapshots >= 3, "{:?}", client.status());
    assert_eq!(client.int("trade.max_offers", &in_w2, -1), 12);
}
