//! JSON lines to a file or stdout, one delivery per line, flushed as it
//! happens so a `tail -f` (or a test) sees a page the moment it fires.
//!
//! The line is the alert's own object (`status`, `labels`, `annotations`,
//! `startsAt`, … as before pages existed) with the page's fields beside it,
//! so readers of the old line keep working. The generic webhook posts the
//! same object.

use std::path::PathBuf;

use liveops_protocol::{Delivery, Notice, Notification, PageAction, Recipient, Severity};
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::Ctx;

pub enum Target {
    File(PathBuf),
    Stdout,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    #[serde(flatten)]
    alert: &'a Notification,
    page_id: &'a str,
    action: PageAction,
    severity: Severity,
    team: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a Recipient>,
    attempt: u32,
    page_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    notice: Option<&'a Notice>,
}

/// The JSON object of one delivery, as the file line and webhook body.
pub(crate) fn line(d: &Delivery) -> Vec<u8> {
    let line = Line {
        alert: &d.alert,
        page_id: &d.page_id,
        action: d.action,
        severity: d.severity,
        team: &d.team,
        to: d.to.as_ref(),
        attempt: d.attempt,
        page_url: &d.page_url,
        notice: d.notice.as_ref(),
    };
    // Maps of strings and plain fields: serialising cannot fail.
    serde_json::to_vec(&line).unwrap_or_default()
}

pub async fn run(target: Target, ctx: Ctx, mut rx: mpsc::Receiver<Delivery>) {
    let mut out: Box<dyn tokio::io::AsyncWrite + Unpin + Send> = match &target {
        Target::Stdout => Box::new(tokio::io::stdout()),
        Target::File(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                let _ = tokio::fs::create_dir_all(dir).await;
            }
            match tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .await
            {
                Ok(f) => Box::new(f),
                Err(e) => {
                    let why = format!("cannot open {}: {e}", path.display());
                    while let Some(d) = rx.recv().await {
                        ctx.done(&d, Err(why.clone()));
                    }
                    return;
                }
            }
        }
    };
    while let Some(d) = rx.recv().await {
        let mut bytes = line(&d);
        bytes.push(b'\n');
        let written = async {
            out.write_all(&bytes).await?;
            out.flush().await
        };
        let result = written.await.map_err(|e| format!("cannot write: {e}"));
        ctx.done(&d, result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::direct::tests::delivery;

    #[test]
    fn the_line_keeps_the_alert_at_the_top_with_the_page_beside_it() {
        let d = delivery();
        let v: serde_json::Value = serde_json::from_slice(&line(&d)).unwrap();
        assert_eq!(v["status"], "firing");
        assert_eq!(v["labels"]["alertname"], "TickStalled");
        assert_eq!(v["annotations"]["owner"], "platform-oncall");
        assert!(v["startsAt"].is_string());
        assert_eq!(v["generatorURL"], "http://127.0.0.1:9470");
        assert_eq!(v["pageId"], d.page_id);
        assert_eq!(v["action"], "trigger");
        assert_eq!(v["severity"], "SEV2");
        assert_eq!(v["team"], "platform-oncall");
        assert_eq!(v["attempt"], 1);
        assert_eq!(v["pageUrl"], d.page_url);
        assert!(v.get("to").is_none());
        // Old readers still read it as a notification.
        let n: Notification = serde_json::from_value(v).unwrap();
        assert_eq!(n, d.alert);
    }
}
