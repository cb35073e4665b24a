//! A real OpenFeature SDK against the real agent: the Python SDK with its
//! OFREP provider (`ofrep_client.py`) evaluates a kill switch, a player
//! rule, a world rule (named in the context, and the agent's own world
//! when the context names none), an integer, a float, a string, a missing
//! flag and a type mismatch on a `liveops-agent` serving a flag file.
//! And every kind of OFREP answer the agent gives is checked against the
//! protocol's schema (`ofrep_schema.json`) with Python's `jsonschema`.

mod schema;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::flags_client::{AgentProcess, flag_file, flags_path, free_port, write_flags};
use crate::support::*;

/// What the provider package is imported as.
const PROVIDER: &str = "openfeature.contrib.provider.ofrep";
/// What the schema check imports: the validator, and the `uri` format
/// checker it uses when this package is there.
const VALIDATOR: &str = "jsonschema, rfc3986_validator";

/// A Python that can import `modules` (the OFREP provider here; the
/// iCalendar and SMTP tests use it too): `$LIVEOPS_PYTHON`, else the
/// workspace's `.venv`, created or topped up from
/// `tests/python-requirements.txt`. Never skips: without the packages the test fails and says how
/// to get them.
pub(crate) fn python(modules: &str) -> PathBuf {
    let venv = workspace().join(".venv");
    let venv_python = venv.join("bin/python");
    let imports = |python: &Path| {
        Command::new(python)
            .args(["-c", &format!("import {modules}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if let Some(p) = std::env::var_os("LIVEOPS_PYTHON").map(PathBuf::from) {
        assert!(
            imports(&p),
            "LIVEOPS_PYTHON={} cannot import {modules}",
            p.display()
        );
        return p;
    }
    // Twice: the DogStatsD test may be creating the same venv right now,
    // and a pip run that lost that race succeeds when run again.
    for _ in 0..2 {
        if imports(&venv_python) {
            return venv_python;
        }
        eprintln!(
            "installing tests/python-requirements.txt into {}",
            venv.display()
        );
        if !venv_python.exists() {
            let _ = Command::new("python3")
                .arg("-m")
                .arg("venv")
                .arg(&venv)
                .status();
        }
        let _ = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(workspace().join("tests/python-requirements.txt"))
            .status();
    }
    assert!(
        imports(&venv_python),
        "this test needs {modules} for Python; from the workspace root: python3 -m venv .venv \
         && .venv/bin/pip install -r tests/python-requirements.txt (or point LIVEOPS_PYTHON at \
         a Python that has them)"
    );
    venv_python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openfeature_python_sdk_evaluates_flags_over_ofrep() {
    let python = tokio::task::spawn_blocking(|| python(PROVIDER))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let flags = flags_path(dir.path());
    write_flags(&flags, &flag_file(false, 20, "Welcome"));
    let agent = AgentProcess::start(dir.path(), &flags, free_port()).await;

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("it/ofrep_client.py");
    let mut cmd = Command::new(python);
    cmd.arg(script).arg(&agent.url);
    let out = run(cmd, std::time::Duration::from_secs(60), dir.path()).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ofrep_client.py failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_str(&stdout).expect("one JSON object");

    let ok = |value: Value, reason: &str, variant: &str| json!({"value": value, "reason": reason, "variant": variant, "error_code": null});
    let error = |value: Value, code: &str| json!({"value": value, "reason": "ERROR", "variant": null, "error_code": code});
    let want = json!({
        "kill_switch": ok(json!(false), "DEFAULT", "default"),
        "player_rule": ok(json!(true), "TARGETING_MATCH", "rule-1"),
        "world_rule": ok(json!(5), "TARGETING_MATCH", "rule-1"),
        "agent_world": ok(json!(5), "TARGETING_MATCH", "rule-1"),
        "integer": ok(json!(20), "DEFAULT", "default"),
        "float": ok(json!(0.05), "STATIC", "default"),
        "string": ok(json!("Welcome"), "STATIC", "default"),
        "missing": error(json!(true), "FLAG_NOT_FOUND"),
        "type_mismatch": error(json!(7), "TYPE_MISMATCH"),
    });
    for (case, want) in want.as_object().unwrap() {
        assert_eq!(&got[case], want, "case {case}; all: {got:#}");
    }
}
