//! The account flows that go through the user's mailbox: password reset,
//! address verification and e-mail change. Each link's token is issued and
//! its mail queued in the transaction of the request; using a token is one
//! conditional update, so a link works once.

use anyhow::Context;
use chrono::Utc;
use entity::{outbox_mail, user};
use sea_orm::TransactionTrait;

use super::accounts::Confirming;
use super::mailer::{Cause, Queued};
use super::principal::Principal;
use super::service::{
    Account, Admitted, AuthService, ClientInfo, SignedIn, end_sessions, retire_links,
};
use super::throttle::ThrottleKey;
use super::{AuthError, UnauthenticatedReason};
use crate::domain::{Email, LinkToken, Password};
use crate::mail::{MailKind, PASSWORD_RESET_REQUEST, Requests};
use crate::store::account_tokens::Purpose;
use crate::store::events::EventKind;
use crate::store::outbox::NewRequest;
use crate::store::revocations::Revoked;
use crate::store::sessions::Selection;
use crate::store::{self};

/// `sessions.revoked_reason` of the sessions a password reset ends.
pub const PASSWORD_RESET_REASON: &str = "password_reset";

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
        let detail = match (&user, queued) {
            (None, _) => "unknown_email",
            (Some(_), None) => "account_disabled",
            (Some(_), Some(Queued::Sent)) => "sent",
            (Some(_), Some(Queued::Limited)) => "limited",
        };
        let user_id = user.as_ref().map(|u| u.id);
        self.record(
            &tx,
            EventKind::PasswordResetRequested,
            user_id,
            None,
            &client,
            Some(detail),
        )
        .await?;
        tx.commit()
            .await
            .context("cannot commit the reset request")?;
        if queued == Some(Queued::Sent) {
            self.mail_queued();
        }
        tracing::info!(?user_id, detail, "password reset requested");
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
    ) -> Result<SignedIn, AuthError> {
        let password_hash = self.hasher.hash(new).await?;
        let now = Utc::now();
        let tx = self
            .db
            .begin()
            .await
            .context("cannot begin a transaction")?;
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
        store::users::set_password_hash(&tx, user.id, password_hash.clone(), now)
            .await
            .context("cannot store the new password hash")?;
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
            &tx,
            Selection::AllOfUser {
                user_id: user.id,
                except: None,
            },
            PASSWORD_RESET_REASON,
            now,
        )
        .await?;
        self.queue_notice(
            &tx,
            MailKind::PasswordChanged,
            &user.email,
            None,
            Cause {
                user: &user,
                client,
                now,
            },
        )
        .await?;
        let user = user::Model {
            password_hash,
            ..user
        };
        let (signed_in, crowded_out) = self
            .start_session(&tx, user.clone(), client, EventKind::PasswordReset, now)
            .await?;
        tx.commit()
            .await
            .context("cannot commit the password reset")?;
        self.sessions_ended(&ended);
        self.sessions_ended(&crowded_out);
        self.mail_queued();
        // The reset proves the mailbox; earlier failed guesses are forgotten.
        self.throttle
            .reset(&self.db, &ThrottleKey::for_email(&user.email))
            .await?;
        tracing::info!(user_id = %user.id, ended_sessions = ended.len(), "password reset");
        Ok(signed_in)
    }

    /// Follows a verification or e-mail change link: the account's address
    /// is confirmed, or replaced by the new one (which is then confirmed).
    pub async fn verify_email(
        &self,
        token: &LinkToken,
        client: &ClientInfo,
    ) -> Result<Account, AuthError> {
        self.admit(client, "verifyEmail").await?;
        let now = Utc::now();
        let tx = self
            .db
            .begin()
            .await
            .context("cannot begin a transaction")?;
        let taken = store::account_tokens::take(
            &tx,
            &token.hash(),
            &[Purpose::VerifyEmail, Purpose::ChangeEmail],
            now,
        )
        .await
        .context("cannot use the token")?
        .ok_or(AuthError::InvalidToken)?;
        let user = store::users::find(&tx, taken.user_id)
            .await
            .context("cannot load the user")?
            .ok_or(AuthError::InvalidToken)?;
        // Returning drops the transaction: the token stays unused.
        if user.disabled_at.is_some() {
            return Err(AuthError::AccountDisabled);
        }
        // Both updates hold only while the account still has the credential
        // version the link was issued under, checked on the row itself: a
        // recovery committed meanwhile wins over the link.
        let (user, kind) = match taken.purpose {
            Purpose::ChangeEmail => {
                // An error returns before the commit: dropping the
                // transaction rolls it back, the token's use included.
                let changed = store::users::set_email(
                    &tx,
                    user.id,
                    &taken.email,
                    taken.credential_version,
                    now,
                )
                .await
                .map_err(|e| {
                    if store::is_unique_violation(&e) {
                        AuthError::EmailTaken
                    } else {
                        anyhow::Error::new(e)
                            .context("cannot change the address")
                            .into()
                    }
                })?
                .ok_or(AuthError::InvalidToken)?;
                // Every other link stops working (those sent to the old
                // address above all); the old address is told.
                retire_links(&tx, user.id, now).await?;
                self.queue_notice(
                    &tx,
                    MailKind::EmailChanged,
                    &user.email,
                    Some(changed.email.as_str()),
                    Cause {
                        user: &user,
                        client,
                        now,
                    },
                )
                .await?;
                (changed, EventKind::EmailChanged)
            }
            _ => {
                // `None`: sent to an address the account no longer has.
                let verified = store::users::set_email_verified(
                    &tx,
                    user.id,
                    &taken.email,
                    taken.credential_version,
                    now,
                )
                .await
                .context("cannot mark the address verified")?
                .ok_or(AuthError::InvalidToken)?;
                (verified, EventKind::EmailVerified)
            }
        };
        // Instances reread the user (its address and `emailVerified`).
        store::revocations::append(&tx, &[Revoked::User(user.id)], now)
            .await
            .context("cannot append to the revocation feed")?;
        self.record(&tx, kind, Some(user.id), None, client, None)
            .await?;
        tx.commit()
            .await
            .context("cannot commit the verification")?;
        self.sessions.apply(&[Revoked::User(user.id)]);
        if kind == EventKind::EmailChanged {
            self.mail_queued();
        }
        tracing::info!(user_id = %user.id, event = kind.as_str(), "address confirmed");
        Ok(user.into())
    }

    /// Sends the principal a new verification link; `false` when the
    /// address is verified already. A limited request answers `true` too.
    pub async fn resend_verification_email(
        &self,
        principal: &Principal,
        client: &ClientInfo,
    ) -> Result<bool, AuthError> {
        let user = store::users::find(&self.reads, principal.user_id)
            .await
            .context("cannot load the user")?
            .ok_or(AuthError::Unauthenticated(UnauthenticatedReason::Revoked))?;
        if user.email_verified_at.is_some() {
            return Ok(false);
        }
        self.mail_verification_link(&user, client, None).await?;
        Ok(true)
    }

    /// Asks to move the principal's account to `new_email`, after checking
    /// its password (throttled as logins are): a confirmation link goes to
    /// the new address and a notice to the current one. The address changes
    /// when the link is followed.
    pub async fn change_email(
        &self,
        principal: &Principal,
        new_email: &Email,
        password: &Password,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        self.admit(client, "changeEmail").await?;
        let user = store::users::find(&self.db, principal.user_id)
            .await
            .context("cannot load the user")?
            .ok_or(AuthError::Unauthenticated(UnauthenticatedReason::Revoked))?;
        self.confirm_password(principal, &user, password, Confirming::EmailChange, client)
            .await?;
        if store::users::find_by_email(&self.reads, new_email.as_str())
            .await
            .context("cannot look the address up")?
            .is_some()
        {
            return Err(AuthError::EmailTaken);
        }
        let now = Utc::now();
        let tx = self
            .db
            .begin()
            .await
            .context("cannot begin a transaction")?;
        let queued = self
            .queue_link(
                &tx,
                Purpose::ChangeEmail,
                new_email.as_str(),
                Cause {
                    user: &user,
                    client,
                    now,
                },
            )
            .await?;
        if queued == Queued::Sent {
            self.queue_notice(
                &tx,
                MailKind::EmailChangeNotice,
                &user.email,
                Some(new_email.as_str()),
                Cause {
                    user: &user,
                    client,
                    now,
                },
            )
            .await?;
        }
        let detail = match queued {
            Queued::Sent => "sent",
            Queued::Limited => "limited",
        };
        self.record(
            &tx,
            EventKind::EmailChangeRequested,
            Some(user.id),
            Some(principal.session_id),
            client,
            Some(detail),
        )
        .await?;
        tx.commit()
            .await
            .context("cannot commit the e-mail change")?;
        self.mail_queued();
        tracing::info!(user_id = %user.id, detail, "e-mail change requested");
        Ok(())
    }

    /// Mails `user` a new verification link in a transaction of its own,
    /// with `also` recorded in the audit trail beside it.
    pub(super) async fn mail_verification_link(
        &self,
        user: &user::Model,
        client: &ClientInfo,
        also: Option<(EventKind, &str)>,
    ) -> Result<(), AuthError> {
        let now = Utc::now();
        let tx = self
            .db
            .begin()
            .await
            .context("cannot begin a transaction")?;
        self.queue_link(
            &tx,
            Purpose::VerifyEmail,
            &user.email,
            Cause { user, client, now },
        )
        .await?;
        if let Some((kind, detail)) = also {
            self.record(&tx, kind, Some(user.id), None, client, Some(detail))
                .await?;
        }
        tx.commit()
            .await
            .context("cannot commit the verification mail")?;
        self.mail_queued();
        Ok(())
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
