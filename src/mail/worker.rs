//! The outbox worker: on every instance, claims due mail one at a time,
//! delivers it, and records the outcome: sent, due again after a backoff, or
//! given up on after `AUTHQL_MAIL_MAX_ATTEMPTS`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use entity::outbox_mail;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use super::postman::{Postman, Undelivered};
use crate::config::WorkerSettings;
use crate::store;
use crate::store::outbox::Failed;

/// How much longer than `AUTHQL_MAIL_SEND_TIMEOUT` a claim lasts.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// `outbox.kind` of a password reset request: the request is recorded as it
/// came, the same for every address, and expanded here.
pub const PASSWORD_RESET_REQUEST: &str = "password_reset_request";

/// What the outbox holds that is not a letter yet: a request whose mail
/// depends on what the database says (whether the address has an account,
/// the sending limits). The auth layer expands it, in a transaction that
/// also marks the row handled ([`crate::store::outbox::mark_handled`]).
pub trait Requests: Send + Sync {
    fn expand<'a>(
        &'a self,
        request: &'a outbox_mail::Model,
    ) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>>;
}

/// Sends the outbox's mail.
pub struct MailWorker {
    db: DatabaseConnection,
    postman: Postman,
    settings: WorkerSettings,
    /// Rung when this instance queued mail, so it goes at once.
    wake: Arc<Notify>,
    /// Expands requests ([`PASSWORD_RESET_REQUEST`]).
    requests: Arc<dyn Requests>,
}

impl MailWorker {
    pub fn new(
        db: DatabaseConnection,
        postman: Postman,
        settings: WorkerSettings,
        wake: Arc<Notify>,
        requests: Arc<dyn Requests>,
    ) -> Self {
        Self {
            db,
            postman,
            settings,
            wake,
            requests,
        }
    }

    /// Works until aborted: whenever woken, and every poll interval for
    /// mail queued by other instances or due again.
    pub async fn run(self) {
        loop {
            loop {
                match self.send_one().await {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(error) => {
                        tracing::warn!(
                            error = format!("{error:#}"),
                            "the mail outbox cannot be read; retrying"
                        );
                        break;
                    }
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
    }

    /// Claims and handles one due mail; `false` when none is due.
    async fn send_one(&self) -> anyhow::Result<bool> {
        let now = Utc::now();
        // Longer than one SMTP conversation may take; a worker that dies
        // mid-conversation leaves the mail to another after this.
        let lease = TimeDelta::from_std(self.settings.send_timeout + LEASE_MARGIN)?;
        let Some(mail) = store::outbox::claim(&self.db, now, now + lease, 1)
            .await?
            .into_iter()
            .next()
        else {
            return Ok(false);
        };
        // A request is expanded instead of delivered; its expansion marks it
        // handled in its own transaction. Either fails and retries alike.
        let request = mail.kind == PASSWORD_RESET_REQUEST;
        let attempt = if request {
            self.requests
                .expand(&mail)
                .await
                .map_err(|error| Undelivered {
                    permanent: false,
                    reason: format!("{error:#}"),
                })
        } else {
            self.postman.deliver(&mail).await
        };
        match attempt {
            Ok(()) if request => {}
            Ok(()) => {
                store::outbox::mark_sent(&self.db, mail.id, Utc::now()).await?;
                tracing::info!(mail_id = %mail.id, kind = %mail.kind, attempts = mail.attempts, "mail sent");
            }
            Err(Undelivered { permanent, reason })
                if permanent || mail.attempts >= self.settings.max_attempts as i32 =>
            {
                store::outbox::release(&self.db, mail.id, Failed::GivenUp(Utc::now()), &reason)
                    .await?;
                tracing::error!(mail_id = %mail.id, kind = %mail.kind, attempts = mail.attempts, reason, "mail given up on; see `authql mail list`");
            }
            Err(Undelivered { reason, .. }) => {
                let delay = self.backoff(mail.attempts);
                let at = Utc::now() + TimeDelta::from_std(delay)?;
                store::outbox::release(&self.db, mail.id, Failed::RetryAt(at), &reason).await?;
                tracing::warn!(mail_id = %mail.id, kind = %mail.kind, attempts = mail.attempts, retry_in = ?delay, reason, "mail not sent; will retry");
            }
        }
        Ok(true)
    }

    /// The wait after `attempts` failures: the retry delay, doubled per
    /// further failure, at most the maximum.
    fn backoff(&self, attempts: i32) -> Duration {
        let doublings = attempts.clamp(1, 20) as u32 - 1;
        self.settings
            .retry_delay
            .saturating_mul(1 << doublings)
            .min(self.settings.max_retry_delay)
    }
}
