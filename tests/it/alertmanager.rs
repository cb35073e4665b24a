//! A real Alertmanager 0.25 (Debian `prometheus-alertmanager`) on
//! loopback, clustering off, routing every alert at once to one webhook:
//! the receiver of liveops' own alerts in `channels`, and the sender of
//! alerts into liveops in `paging::alertmanager`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::{eventually, http, terminate};

const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Alertmanager {
    child: Child,
    pub url: String,
}

impl Alertmanager {
    /// Starts it with its state and log under `dir`, delivering to `hook`
    /// (with `token` as its bearer token, read from a file as the README
    /// shows), and waits until it is ready.
    pub async fn start(dir: &Path, hook: &str, token: Option<&str>) -> Alertmanager {
        assert!(
            Path::new(ALERTMANAGER).exists(),
            "this test needs Alertmanager 0.25 at {ALERTMANAGER}: apt-get install prometheus-alertmanager"
        );
        let auth = match token {
            Some(t) => {
                let file = dir.join("alertmanager-token");
                std::fs::write(&file, t).unwrap();
                format!(
                    "        http_config:\n          authorization:\n            credentials_file: '{}'\n",
                    file.display()
                )
            }
            None => String::new(),
        };
        let config = dir.join("alertmanager.yml");
        std::fs::write(
            &config,
            format!(
                "route:\n  receiver: hook\n  group_by: ['alertname', 'world']\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\n\
                 receivers:\n  - name: hook\n    webhook_configs:\n      - url: '{hook}'\n        send_resolved: true\n{auth}"
            ),
        )
        .unwrap();
        let port = free_port();
        let child = Command::new(ALERTMANAGER)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", dir.join("am-data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // Its links name this address, not the machine's host name.
            .arg(format!("--web.external-url=http://127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("alertmanager.log")).unwrap())
            .spawn()
            .expect("starting Alertmanager");
        let am = Alertmanager {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let ready = format!("{}/-/ready", am.url);
        eventually(Duration::from_secs(20), "Alertmanager ready", || {
            let ready = ready.clone();
            async move {
                match http().get(&ready).send().await {
                    Ok(r) if r.status().is_success() => Ok(()),
                    Ok(r) => Err(r.status().to_string()),
                    Err(e) => Err(e.to_string()),
                }
            }
        })
        .await;
        am
    }

    /// Posts `alerts` (a JSON array of postable alerts) to its API, as
    /// Prometheus does.
    pub async fn post(&self, alerts: &Value) {
        let resp = http()
            .post(format!("{}/api/v2/alerts", self.url))
            .json(alerts)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        terminate(&mut self.child, "alertmanager");
    }
}
