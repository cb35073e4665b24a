//! Player comms by email: the template's subject, plain text and HTML as
//! one multipart/alternative message to the players' list (the `to` of the
//! email notifier `[comms] email` names), over that notifier's SMTP.

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message as Mail, Tokio1Executor};
use serde_json::json;

use super::channel::Message;
use super::deliver::Delivered;
use crate::http::AppError;
use crate::notify::email::smtp;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Mailbox,
}

impl Mailer {
    pub fn new(cfg: &liveops_config::EmailConfig) -> Result<Mailer, String> {
        let (transport, from, to) = smtp(cfg)?;
        let to = to.ok_or("the comms email notifier needs a `to`")?;
        Ok(Mailer {
            transport,
            from,
            to,
        })
    }

    pub async fn send(&self, n: u64, m: &Message) -> Result<Delivered, AppError> {
        let subject = m.part("subject").replace(['\r', '\n'], " ");
        let id = format!(
            "<INC-{n}.comms.{}@{}>",
            liveops_protocol::time::now_ms(),
            self.from.email.domain()
        );
        let mail = Mail::builder()
            .from(self.from.clone())
            .to(self.to.clone())
            .subject(subject)
            .message_id(Some(id))
            .multipart(MultiPart::alternative_plain_html(
                m.part("text").to_owned(),
                m.part("html").to_owned(),
            ))
            .map_err(|e| AppError::Internal(format!("cannot build the comms email: {e}")))?;
        match self.transport.send(mail).await {
            Ok(_) => Ok(Delivered {
                note: format!(" (mailed to {})", self.to.email),
                detail: json!({"mailed": self.to.email.to_string()}),
            }),
            Err(e) => Err(AppError::BadGateway(format!(
                "the SMTP server did not take the email: {}",
                crate::notify::retry::error_chain(&e)
            ))),
        }
    }
}
