//! Proving who you are with a reset link: asking for one (recorded as it
//! came, expanded by the outbox worker so that neither the answer nor its
//! timing says whether an account has the address), and following it to
//! set a new password, which ends every session and signs in anew. A link's
//! token is issued and its mail queued in one transaction; using it is one
//! conditional update, so a link works once.

use anyhow::Context;
use chrono::Utc;
use entity::outbox_mail;
use sea_orm::TransactionTrait;

use super::audit::{Event, LinkRequest};
use super::mail_queue::{Cause, Queued};
use super::session_core::{EndReason, end_sessions};
use super::sign_in::{SignInMethod, SignInOutcome};
use super::throttle::ThrottleKey;
use super::{Account, Admitted, AuthError, AuthService, ClientInfo};
use crate::domain::{Email, LinkToken, Password};
use crate::mail::{PASSWORD_RESET_REQUEST, Requests};
use crate::store::account_tokens::Purpose;
use crate::store::outbox::NewRequest;
use crate::store::sessions::Selection;
use crate::store::{self};

impl AuthService {
    /// Asks for a reset link to `email`. The request is recorded as it came
    /// (one insert, the same for every address, so neither the answer nor
    /// its timing says whether an account has the address); the outbox
    /// worker then looks the address up and, for an enabled account within
    /// the sending limits, mails the link ([`Self::expand_reset_request`]),
    /// within `AUTHQL_MAIL_POLL_INTERVAL`.
    pub async fn request_password_reset(
        &self,
        email: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        self.admit(client, "requestPasswordReset").await?;
        store::outbox::enqueue_request(
            &self.db,
            NewRequest {
                kind: PASSWORD_RESET_REQUEST,
                recipient: Email::normalize_for_lookup(email),
                ip: client.ip.clone(),
                user_agent: client.user_agent.clone(),
                now: Utc::now(),
            },
        )
        .await
        .context("cannot record the reset request")?;
        // The worker is not woken: expanding a registered address's request
        // takes longer than an unknown one's, and done at once it would slow
        // this answer on a busy core. It runs at the next poll instead
        // (`AUTHQL_MAIL_POLL_INTERVAL`), apart from the request.
        Ok(())
    }

    /// Expands a recorded reset request: the address is looked up and, for
    /// an enabled account, a link is issued and queued within the sending
    /// limits; the request is audited and marked handled, all in one
    /// transaction (a request another worker handled meanwhile is left).
    pub async fn expand_reset_request(&self, request: &outbox_mail::Model) -> anyhow::Result<()> {
        let client = ClientInfo {
            ip: request.ip.clone(),
            user_agent: request.user_agent.clone(),
        };
        let now = Utc::now();
        let tx = self
            .db
            .begin()
            .await
            .context("cannot begin a transaction")?;
        if !store::outbox::mark_handled(&tx, request.id, now)
            .await
            .context("cannot mark the reset request handled")?
        {
            return Ok(());
        }
        let user = store::users::find_by_email(&tx, &request.recipient)
            .await
            .context("cannot look the user up")?;
        let queued = match &user {
            Some(user) if user.disabled_at.is_none() => {
                let cause = Cause {
                    user,
                    client: &client,
                    now,
                };
                Some(
                    self.queue_link(&tx, Purpose::PasswordReset, &user.email, cause)
                        .await?,
                )
            }
            _ => None,
        };
        let outcome = match (&user, queued) {
            (None, _) => LinkRequest::UnknownEmail,
            (Some(_), None) => LinkRequest::AccountDisabled,
            (Some(_), Some(queued)) => queued.into(),
        };
        let user_id = user.as_ref().map(|u| u.id);
        self.record(
            &tx,
            &client,
            Event::PasswordResetRequested { user_id, outcome },
        )
        .await?;
        tx.commit()
            .await
            .context("cannot commit the reset request")?;
        if queued == Some(Queued::Sent) {
            self.mail_queued();
        }
        tracing::info!(?user_id, ?outcome, "password reset requested");
        Ok(())
    }

    /// The account a reset token is for, while it is usable: the new
    /// password is judged knowing its name and address.
    pub async fn password_reset_account(&self, token: &LinkToken) -> Result<Account, AuthError> {
        let taken = store::account_tokens::find_usable(
            &self.reads,
            &token.hash(),
            &[Purpose::PasswordReset],
            Utc::now(),
        )
        .await
        .context("cannot look the token up")?
        .ok_or(AuthError::InvalidToken)?;
        let user = store::users::find(&self.reads, taken.user_id)
            .await
            .context("cannot load the user")?
            .filter(|user| user.email == taken.email)
            .ok_or(AuthError::InvalidToken)?;
        Ok(user.into())
    }

    /// Sets a new password from a reset link: the token is used up, every
    /// session of the user ends, the address counts as verified (the link
    /// reached it), a notice goes to it, and a new session begins.
    pub async fn reset_password(
        &self,
        _admitted: Admitted,
        token: &LinkToken,
        new: &Password,
        client: &ClientInfo,
    ) -> Result<SignInOutcome, AuthError> {
        let password_hash = self.hasher.hash(new).await?;
        let now = Utc::now();
        let mut tx = self.begin().await?;
        let taken = store::account_tokens::take(&tx, &token.hash(), &[Purpose::PasswordReset], now)
            .await
            .context("cannot use the token")?
            .ok_or(AuthError::InvalidToken)?;
        let user = store::users::find(&tx, taken.user_id)
            .await
            .context("cannot load the user")?
            .filter(|user| user.email == taken.email)
            .ok_or(AuthError::InvalidToken)?;
        // Returning drops the transaction: the token stays unused.
        if user.disabled_at.is_some() {
            return Err(AuthError::AccountDisabled);
        }
        let user = match user.email_verified_at {
            Some(_) => user,
            None => store::users::set_email_verified(
                &tx,
                user.id,
                &taken.email,
                taken.credential_version,
                now,
            )
            .await
            .context("cannot mark the address verified")?
            .ok_or(AuthError::InvalidToken)?,
        };
        let ended = end_sessions(
            &mut tx,
            Selection::AllOfUser {
                user_id: user.id,
                except: None,
            },
            EndReason::PasswordReset,
            now,
        )
        .await?;
        let user = self
            .replace_password(&tx, user, password_hash, client, now)
            .await?;
        let email = user.email.clone();
        let user_id = user.id;
        let outcome = self
            .sign_in(&mut tx, user, SignInMethod::ResetLink.into(), client, now)
            .await?;
        tx.commit("the password reset").await?;
        self.mail_queued();
        // The reset proves the mailbox; earlier failed guesses are forgotten.
        self.throttle
            .reset(&self.db, &ThrottleKey::for_email(&email))
            .await?;
        tracing::info!(%user_id, ended_sessions = ended, "password reset");
        Ok(outcome)
    }
}

impl Requests for AuthService {
    fn expand<'a>(
        &'a self,
        request: &'a outbox_mail::Model,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send + 'a>> {
        Box::pin(self.expand_reset_request(request))
    }
}
