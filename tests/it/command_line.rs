//! The binaries' flags and environment variables are checked like the
//! config file's keys: a bad value exits 2 before anything starts, naming
//! the flag or variable, together with the file's own errors.

use std::process::Command;
use std::time::Duration;

use crate::support::*;

const ENV: &[&str] = &[
    "LIVEOPS_AGENT_CONFIG",
    "LIVEOPS_COLLECTOR",
    "LIVEOPS_AGENT_TOKEN",
    "LIVEOPS_AGENT_FLAGS",
    "LIVEOPS_COLLECTOR_CONFIG",
];

/// `bin` with none of the liveops variables of the test's environment.
fn clean(bin: std::path::PathBuf) -> Command {
    let mut cmd = Command::new(bin);
    for var in ENV {
        cmd.env_remove(var);
    }
    cmd
}

async fn refused(cmd: Command, dir: &std::path::Path) -> String {
    let out = run(cmd, Duration::from_secs(20), dir).await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    stderr
}

#[tokio::test]
async fn bad_flags_and_variables_exit_2_naming_them_with_the_files_errors() {
    let bin = built(&["liveops-agent", "liveops-collector"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agent.toml");
    std::fs::write(
        &file,
        "[health]\nprobe_interval = \"1s\"\nprobe_timeout = \"2s\"\n",
    )
    .unwrap();

    let mut agent = clean(bin.join("liveops-agent"));
    agent
        .args(["--world", "eu 1", "--data-dir"])
        .arg(dir.path().join("agent"))
        .arg("--config")
        .arg(&file)
        .env("LIVEOPS_COLLECTOR", "127.0.0.1:9470");
    let stderr = refused(agent, dir.path()).await;
    assert_eq!(
        stderr.trim_end(),
        format!(
            "--world: world `eu 1` must be 1–64 characters of letters, digits, `-`, `_` or `.`\n\
             LIVEOPS_COLLECTOR: collector: `127.0.0.1:9470` is not an http:// or https:// URL\n\
             {}:1:1: probe_timeout must not be longer than probe_interval",
            file.display()
        )
    );
    assert!(
        !dir.path().join("agent").exists(),
        "refused before starting"
    );

    let mut collector = clean(bin.join("liveops-collector"));
    collector
        .args(["--listen", "nonsense", "--data-dir"])
        .arg(dir.path().join("collector"));
    let stderr = refused(collector, dir.path()).await;
    assert_eq!(
        stderr.trim_end(),
        "--listen: listen: `nonsense` is not an address; write IP:PORT, e.g. \"127.0.0.1:8125\""
    );
    let mut collector = clean(bin.join("liveops-collector"));
    collector
        .env("LIVEOPS_COLLECTOR_CONFIG", dir.path().join("none.toml"))
        .env("LIVEOPS_AGENT_TOKEN", " ");
    let stderr = refused(collector, dir.path()).await;
    assert!(
        stderr.contains("none.toml: cannot read (named by LIVEOPS_COLLECTOR_CONFIG): "),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("LIVEOPS_AGENT_TOKEN: agent token must not be empty\n"),
        "{stderr}"
    );
}
