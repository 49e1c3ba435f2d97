//! Hands one outbox mail to the SMTP server, or in development without one,
//! to the log.

use entity::outbox_mail;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Delivery, MailSettings};

/// Why a mail was not delivered this time.
#[derive(Debug)]
pub struct Undelivered {
    /// No retry can help (the mail itself is malformed).
    pub permanent: bool,
    /// For the log and `outbox.last_error`; never holds the mail's bodies.
    pub reason: String,
}

/// Delivers mail.
pub enum Postman {
    Smtp {
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        from: Mailbox,
    },
    /// Development without `AUTHQL_SMTP_URL`: the mail, links included, is
    /// logged at info level.
    Log,
}

impl std::fmt::Debug for Postman {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Smtp { .. } => "Postman::Smtp",
            Self::Log => "Postman::Log",
        })
    }
}

impl Postman {
    pub fn new(settings: &MailSettings) -> anyhow::Result<Self> {
        Ok(match &settings.delivery {
            Delivery::Smtp(url) => Self::Smtp {
                transport: Box::new(
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                        .map_err(|e| anyhow::anyhow!("AUTHQL_SMTP_URL: {e}"))?
                        .timeout(Some(settings.worker.send_timeout))
                        .build(),
                ),
                from: settings.from.clone(),
            },
            Delivery::Log => Self::Log,
        })
    }

    /// Sends `mail`: accepted by the SMTP server, or logged.
    pub async fn deliver(&self, mail: &outbox_mail::Model) -> Result<(), Undelivered> {
        let text = mail.text_body.clone().unwrap_or_default();
        let html = mail.html_body.clone().unwrap_or_default();
        match self {
            Self::Log => {
                tracing::info!(
                    to = %mail.recipient,
                    subject = %mail.subject,
                    kind = %mail.kind,
                    body = ?text,
                    "mail not sent (no AUTHQL_SMTP_URL in development); its text is on this line"
                );
                Ok(())
            }
            Self::Smtp { transport, from } => {
                let permanent = |reason: String| Undelivered {
                    permanent: true,
                    reason,
                };
                let to: Mailbox = mail
                    .recipient
                    .parse()
                    .map_err(|e| permanent(format!("bad recipient address: {e}")))?;
                // The outbox row's id: a mail sent twice (a crash between
                // the server's acceptance and our record of it) is one
                // message to the recipient's client.
                let domain = from.email.domain().to_owned();
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(mail.subject.clone())
                    .message_id(Some(format!("<{}@{domain}>", mail.id)))
                    .multipart(MultiPart::alternative_plain_html(text, html))
                    .map_err(|e| permanent(format!("cannot build the message: {e}")))?;
                transport
                    .send(message)
                    .await
                    .map(drop)
                    .map_err(|e| Undelivered {
                        permanent: false,
                        reason: one_line(&e.to_string()),
                    })
            }
        }
    }
}

/// `text` on one line and at most 500 characters, for `outbox.last_error`.
fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(500)
        .collect()
}
