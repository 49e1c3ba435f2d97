//! The account's address: following a verification or e-mail change link,
//! asking for a new verification link, and asking to move the account to a
//! new address (confirmed by a link mailed to it).

use anyhow::Context;
use chrono::Utc;
use entity::user;
use sea_orm::TransactionTrait;

use super::audit::{Event, LinkRequest};
use super::mail_queue::{About, Cause, Queued};
use super::password_sign_in::Confirming;
use super::principal::Principal;
use super::session_core::{account_changed, retire_links};
use super::{Account, AuthError, AuthService, ClientInfo, UnauthenticatedReason};
use crate::domain::{Email, LinkToken, Password};
use crate::mail::MailKind;
use crate::store::account_tokens::Purpose;
use crate::store::{self};

impl AuthService {
    /// Follows a verification or e-mail change link: the account's address
    /// is confirmed, or replaced by the new one (which is then confirmed).
    pub async fn verify_email(
        &self,
        token: &LinkToken,
        client: &ClientInfo,
    ) -> Result<Account, AuthError> {
        self.admit(client, "verifyEmail").await?;
        let now = Utc::now();
        let mut tx = self.begin().await?;
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
        let (user, event) = match taken.purpose {
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
                    About {
                        new_email: Some(changed.email.as_str()),
                        ..About::default()
                    },
                    Cause {
                        user: &user,
                        client,
                        now,
                    },
                )
                .await?;
                (changed, Event::EmailChanged { user_id: user.id })
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
                (verified, Event::EmailVerified { user_id: user.id })
            }
        };
        // Instances reread the user (its address and `emailVerified`).
        account_changed(&mut tx, user.id, now).await?;
        self.record(&tx, client, event).await?;
        tx.commit("the verification").await?;
        if matches!(event, Event::EmailChanged { .. }) {
            self.mail_queued();
        }
        tracing::info!(user_id = %user.id, ?event, "address confirmed");
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
                About {
                    new_email: Some(new_email.as_str()),
                    ..About::default()
                },
                Cause {
                    user: &user,
                    client,
                    now,
                },
            )
            .await?;
        }
        let outcome = LinkRequest::from(queued);
        self.record(
            &tx,
            client,
            Event::EmailChangeRequested {
                user_id: user.id,
                session_id: principal.session_id,
                outcome,
            },
        )
        .await?;
        tx.commit()
            .await
            .context("cannot commit the e-mail change")?;
        self.mail_queued();
        tracing::info!(user_id = %user.id, ?outcome, "e-mail change requested");
        Ok(())
    }

    /// Mails `user` a new verification link in a transaction of its own,
    /// with `also` recorded in the audit trail beside it.
    pub(super) async fn mail_verification_link(
        &self,
        user: &user::Model,
        client: &ClientInfo,
        also: Option<Event<'_>>,
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
        if let Some(event) = also {
            self.record(&tx, client, event).await?;
        }
        tx.commit()
            .await
            .context("cannot commit the verification mail")?;
        self.mail_queued();
        Ok(())
    }
}
