//! Email over SMTP (`lettre`): a plain-text message with every page field
//! and link. The trigger's `Message-ID` is made from the page id, and
//! acknowledge, resolve and repeats answer it (`In-Reply-To`,
//! `References`, the same subject after `Re: `), so a mail client threads
//! the whole page. Transient SMTP errors (4xx, network, TLS) are retried;
//! a permanent one (5xx: unknown mailbox, relaying denied) is final.

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use liveops_config::{EmailConfig, RetryConfig, StartTls};
use liveops_protocol::{Delivery, PageAction};

use super::retry::{Outcome, Schedule, deliver, error_chain};
use super::text::{person, runbook, truncate, verdict, what};
use super::{Carrier, Ctx};

/// Subjects longer than this are cut (RFC 5322 suggests 78 per line;
/// clients show about this much).
const SUBJECT_MAX: usize = 200;

pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Option<Mailbox>,
    /// The domain of message ids: the sender's.
    domain: String,
    retry: RetryConfig,
}

impl Email {
    /// The transport for `cfg`; an error (an address lettre cannot parse)
    /// names the key, never the password.
    pub fn new(cfg: &EmailConfig) -> Result<Email, String> {
        let (transport, from, to) = smtp(cfg)?;
        Ok(Email {
            transport,
            domain: from.email.domain().to_owned(),
            from,
            to,
            retry: cfg.retry,
        })
    }

    fn message(&self, d: &Delivery) -> Result<Message, String> {
        let to = match d.to.as_ref().and_then(|r| r.address.as_deref()) {
            Some(a) => a
                .parse::<Mailbox>()
                .map_err(|e| format!("recipient `{a}` is not an address: {e}"))?,
            None => self
                .to
                .clone()
                .ok_or("no recipient: the delivery names none and the notifier sets no `to`")?,
        };
        let (id, thread) = ids(d, &self.domain);
        let mut m = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject(d))
            .message_id(Some(id))
            .header(ContentType::TEXT_PLAIN);
        if let Some(t) = thread {
            m = m.in_reply_to(t.clone()).references(t);
        }
        m.body(body(d))
            .map_err(|e| format!("cannot build the message: {e}"))
    }
}

/// An email notifier's SMTP transport, sender and default recipient (also
/// what player comms by email are sent with); an error names the key,
/// never the password.
pub(crate) fn smtp(
    cfg: &EmailConfig,
) -> Result<(AsyncSmtpTransport<Tokio1Executor>, Mailbox, Option<Mailbox>), String> {
    let from = cfg
        .from
        .parse::<Mailbox>()
        .map_err(|e| format!("from: `{}` is not an address: {e}", cfg.from))?;
    let to = match &cfg.to {
        Some(t) => Some(
            t.parse::<Mailbox>()
                .map_err(|e| format!("to: `{t}` is not an address: {e}"))?,
        ),
        None => None,
    };
    let tls = || {
        TlsParameters::new(cfg.host.clone())
            .map_err(|e| format!("TLS for {}: {}", cfg.host, error_chain(&e)))
    };
    let tls = match cfg.starttls {
        StartTls::Off => Tls::None,
        StartTls::Opportunistic => Tls::Opportunistic(tls()?),
        StartTls::Required => Tls::Required(tls()?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host)
        .port(cfg.port)
        .tls(tls)
        .timeout(Some(cfg.retry.timeout));
    if let (Some(user), Some(password)) = (&cfg.username, &cfg.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    Ok((builder.build(), from, to))
}

impl Carrier for Email {
    async fn carry(&self, ctx: &Ctx, d: &Delivery) -> Result<(), String> {
        let message = self.message(d)?;
        deliver(ctx, Schedule::new(self.retry, None), || async {
            match self.transport.send(message.clone()).await {
                Ok(_) => Outcome::Delivered,
                Err(e) if e.is_permanent() => {
                    Outcome::Refused(format!("SMTP server refused: {}", error_chain(&e)))
                }
                Err(e) => Outcome::Failed {
                    why: format!("SMTP: {}", error_chain(&e)),
                    retry_after: None,
                },
            }
        })
        .await
    }
}

/// `[SEV2] TickStalled w2: summary`; every later message of the page is
/// `Re: ` the same, as clients thread by subject too.
pub(crate) fn subject(d: &Delivery) -> String {
    let s = format!("[{}] {}: {}", d.severity, what(d), d.summary());
    // A header is one line: the summary is text from rules, but be sure.
    let s = truncate(&s.replace(['\r', '\n'], " "), SUBJECT_MAX).into_owned();
    if d.action == PageAction::Trigger && d.attempt <= 1 {
        s
    } else {
        format!("Re: {s}")
    }
}

/// This message's id, and the trigger's it answers (if it is not the trigger).
pub(crate) fn ids(d: &Delivery, domain: &str) -> (String, Option<String>) {
    let root = format!("<{}@{domain}>", d.page_id);
    if d.action == PageAction::Trigger && d.attempt <= 1 {
        (root, None)
    } else {
        let action = verdict(d).unwrap_or("repeat");
        (
            format!(
                "<{}.{action}.{}.{}@{domain}>",
                d.page_id, d.attempt, d.at_ms
            ),
            Some(root),
        )
    }
}

pub(crate) fn body(d: &Delivery) -> String {
    let mut out = String::new();
    let head = match verdict(d) {
        Some(word) => format!("{} {} {}", d.severity, what(d), word.to_uppercase()),
        None => format!("{} {}", d.severity, what(d)),
    };
    out.push_str(&format!("{head}\n\n{}\n", d.summary()));
    if let Some(desc) = d
        .alert
        .annotations
        .get("description")
        .filter(|s| !s.is_empty())
    {
        out.push_str(&format!("\n{desc}\n"));
    }
    out.push('\n');
    let mut row = |k: &str, v: &str| out.push_str(&format!("{k:<10} {v}\n"));
    row("Severity:", d.severity.as_str());
    row("World:", d.alert.label("world").unwrap_or("fleet"));
    row("Owner:", &d.team);
    if let Some(p) = person(d) {
        row("Paged:", p);
    }
    row("Attempt:", &d.attempt.to_string());
    row("Started:", &d.alert.starts_at);
    if let Some(end) = &d.alert.ends_at {
        row("Ended:", end);
    }
    row("Page id:", &d.page_id);
    out.push('\n');
    if let Some(r) = runbook(d) {
        out.push_str(&format!("Runbook: {r}\n"));
    }
    out.push_str(&format!("Page:    {}\n", d.page_url));
    out.push_str(&format!("Alert:   {}\n", d.alert.generator_url));
    out.push_str("\nLabels:\n");
    for (k, v) in &d.alert.labels {
        out.push_str(&format!("  {k}={v}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::direct::tests::delivery;

    #[test]
    fn ack_resolve_and_repeats_thread_under_the_trigger() {
        let mut d = delivery();
        let (id, thread) = ids(&d, "example.com");
        assert_eq!(id, format!("<{}@example.com>", d.page_id));
        assert_eq!(thread, None);
        assert_eq!(
            subject(&d),
            "[SEV2] TickStalled w2: w2 is not ticking: last tick 1.1 s ago"
        );
        for (action, attempt) in [
            (PageAction::Trigger, 2),
            (PageAction::Acknowledge, 1),
            (PageAction::Resolve, 1),
        ] {
            d.action = action;
            d.attempt = attempt;
            let (own, thread) = ids(&d, "example.com");
            assert_ne!(own, id);
            assert_eq!(thread.as_deref(), Some(id.as_str()));
            assert_eq!(
                subject(&d),
                "Re: [SEV2] TickStalled w2: w2 is not ticking: last tick 1.1 s ago"
            );
        }
    }

    #[test]
    fn the_body_has_every_field_and_link_and_the_subject_is_one_line() {
        let mut d = delivery();
        d.alert.annotations.insert(
            "summary".into(),
            format!("two\r\nlines {}", "ä".repeat(400)),
        );
        let s = subject(&d);
        assert!(!s.contains(['\r', '\n']));
        assert!(s.chars().count() <= SUBJECT_MAX && s.ends_with('…'));
        let b = body(&delivery());
        for want in [
            "SEV2 TickStalled w2",
            "Owner:     platform-oncall",
            "Runbook: http://127.0.0.1:9470/runbooks/uptime",
            "/api/v1/pages/",
            "alertname=TickStalled",
        ] {
            assert!(b.contains(want), "{want} in\n{b}");
        }
    }
}
