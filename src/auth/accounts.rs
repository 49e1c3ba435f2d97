//! Register and login, each opening a new session; changing the password.

use anyhow::Context;
use chrono::Utc;
use sea_orm::TransactionTrait;

use super::audit::Actor;
use super::mailer::Cause;
use super::principal::Principal;
use super::service::{
    Account, Admitted, AuthService, ClientInfo, Registration, SignedIn, end_sessions,
};
use super::throttle::{Standing, ThrottleKey};
use super::{AuthError, UnauthenticatedReason};
use crate::domain::{Email, Password, Roles};
use crate::mail::MailKind;
use crate::store::account_tokens::Purpose;
use crate::store::sessions::Selection;
use crate::store::{self, events::EventKind};

/// `sessions.revoked_reason` of the sessions a password change ends.
pub const PASSWORD_CHANGED_REASON: &str = "password_changed";

/// What a signed-in user confirms with their password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Confirming {
    PasswordChange,
    EmailChange,
}

/// Whether a new account's address counts as verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verified {
    Yes,
    No,
}

/// A password checked under the account throttle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Checked {
    /// Not checked: the address must wait this many seconds.
    Throttled(u64),
    Wrong,
    Right,
}

impl AuthService {
    /// Checks `password` against `hash` (`None`: an unknown account, checked
    /// against a fallback so it takes as long), unless `key` must wait.
    /// A failure is counted; a success forgets earlier failures (no write
    /// when there were none).
    async fn check_password(
        &self,
        key: &ThrottleKey,
        password: &Password,
        hash: Option<&str>,
    ) -> Result<Checked, AuthError> {
        let standing = self.throttle.standing(&self.reads, key, Utc::now()).await?;
        if let Standing::Waiting(retry_after) = standing {
            return Ok(Checked::Throttled(retry_after));
        }
        if !self.hasher.verify(password, hash).await? {
            self.throttle
                .record_failure(&self.db, key, Utc::now())
                .await?;
            return Ok(Checked::Wrong);
        }
        if standing != Standing::Clear {
            self.throttle.reset(&self.db, key).await?;
        }
        Ok(Checked::Right)
    }

    /// Creates the account and signs it in.
    pub async fn register(
        &self,
        _admitted: Admitted,
        registration: Registration,
        client: &ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let (tx, user) = self
            .insert_account(&registration, Roles::default(), Verified::No)
            .await?;
        let now = Utc::now();
        self.queue_link(
            &tx,
            Purpose::VerifyEmail,
            &user.email,
            Cause {
                user: &user,
                client,
                now,
            },
        )
        .await?;
        if self.mail.require_verified_email() {
            // The account exists; it signs in once its address is confirmed.
            self.record(
                &tx,
                EventKind::Registered,
                Some(user.id),
                None,
                client,
                None,
            )
            .await?;
            tx.commit()
                .await
                .context("cannot commit the registration")?;
            self.mail_queued();
            tracing::info!(user_id = %user.id, "registered; the address must be confirmed before login");
            return Err(AuthError::EmailNotVerified);
        }
        let (signed_in, crowded_out) = self
            .start_session(&tx, user, client, EventKind::Registered, now)
            .await?;
        tx.commit()
            .await
            .context("cannot commit the registration")?;
        self.sessions_ended(&crowded_out);
        self.mail_queued();
        Ok(signed_in)
    }

    /// Creates an account with `roles` for `actor` (the operator CLI), with
    /// no session.
    pub async fn create_account(
        &self,
        actor: Actor,
        registration: Registration,
        roles: Roles,
        client: &ClientInfo,
    ) -> Result<Account, AuthError> {
        // The operator vouches for the address.
        let (tx, user) = self
            .insert_account(&registration, roles, Verified::Yes)
            .await?;
        self.record_by(&tx, actor, EventKind::Registered, user.id, client, None)
            .await?;
        tx.commit().await.context("cannot commit the new account")?;
        tracing::info!(%actor, user_id = %user.id, "account created");
        Ok(user.into())
    }

    /// Hashes the password and inserts the user, its address `verified` or
    /// not, in a transaction the caller completes; `EmailTaken` when the
    /// address is registered already.
    async fn insert_account(
        &self,
        registration: &Registration,
        roles: Roles,
        verified: Verified,
    ) -> Result<(sea_orm::DatabaseTransaction, entity::user::Model), AuthError> {
        let email = registration.email.as_str();
        // Spares the hash for the common case; the unique index decides races.
        if store::users::find_by_email(&self.reads, email)
            .await
            .context("cannot look the e-mail address up")?
            .is_some()
        {
            return Err(AuthError::EmailTaken);
        }
        let password_hash = self.hasher.hash(&registration.password).await?;
        let tx = self
            .db
            .begin()
            .await
            .context("cannot begin a transaction")?;
        let now = Utc::now();
        let user = store::users::insert(
            &tx,
            store::users::NewUser {
                name: registration.name.as_str(),
                email,
                password_hash,
                roles: roles.into_vec(),
                email_verified_at: (verified == Verified::Yes).then_some(now),
                now,
            },
        )
        .await
        .map_err(|e| {
            if store::is_unique_violation(&e) {
                AuthError::EmailTaken
            } else {
                AuthError::from(anyhow::Error::new(e).context("cannot insert the user"))
            }
        })?;
        Ok((tx, user))
    }

    /// Checks the credentials and opens a new session. An unknown e-mail and
    /// a wrong password answer alike, after the same amount of work. An
    /// address whose attempts are throttled is refused before any hashing,
    /// with the same answer whether the password was right or not.
    pub async fn login(
        &self,
        email: &str,
        password: &Password,
        client: &ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        self.admit(client, "login").await?;
        let email = Email::normalize_for_lookup(email);
        let key = ThrottleKey::for_email(&email);
        let user = store::users::find_by_email(&self.reads, &email)
            .await
            .context("cannot look the user up")?;
        let checked = self
            .check_password(
                &key,
                password,
                user.as_ref().map(|u| u.password_hash.as_str()),
            )
            .await?;
        if let Checked::Throttled(retry_after) = checked {
            let user_id = user.as_ref().map(|u| u.id);
            self.record(
                &self.db,
                EventKind::LoginThrottled,
                user_id,
                None,
                client,
                Some("account"),
            )
            .await?;
            tracing::info!(?user_id, retry_after, "login throttled");
            return Err(AuthError::Throttled { retry_after });
        }
        let user = match user {
            Some(user) if checked == Checked::Right => user,
            other => {
                let detail = if other.is_some() {
                    "wrong_password"
                } else {
                    "unknown_email"
                };
                let user_id = other.map(|u| u.id);
                self.record(
                    &self.db,
                    EventKind::LoginFailed,
                    user_id,
                    None,
                    client,
                    Some(detail),
                )
                .await?;
                tracing::info!(?user_id, detail, "login failed");
                return Err(AuthError::InvalidCredentials);
            }
        };
        // Said only after the right password, so it reveals nothing to a guesser.
        if user.disabled_at.is_some() {
            self.record(
                &self.db,
                EventKind::LoginFailed,
                Some(user.id),
                None,
                client,
                Some("account_disabled"),
            )
            .await?;
            tracing::info!(user_id = %user.id, "login refused: account disabled");
            return Err(AuthError::AccountDisabled);
        }
        if self.mail.require_verified_email() && user.email_verified_at.is_none() {
            return Err(self.refuse_unverified(user, client).await?);
        }

        let now = Utc::now();
        let tx = self
            .db
            .begin()
            .await
            .context("cannot begin a transaction")?;
        let (signed_in, crowded_out) = self
            .start_session(&tx, user, client, EventKind::LoginSucceeded, now)
            .await?;
        tx.commit().await.context("cannot commit the login")?;
        self.sessions_ended(&crowded_out);
        Ok(signed_in)
    }

    /// Checks the password a signed-in user confirms a change with
    /// (throttled as logins are); a wrong one is recorded as `confirming`'s
    /// failure.
    pub(super) async fn confirm_password(
        &self,
        principal: &Principal,
        user: &entity::user::Model,
        password: &Password,
        confirming: Confirming,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let key = ThrottleKey::for_email(&user.email);
        let checked = self
            .check_password(&key, password, Some(user.password_hash.as_str()))
            .await?;
        let (action, failed, field) = match confirming {
            Confirming::PasswordChange => (
                "change_password",
                EventKind::PasswordChangeFailed,
                "currentPassword",
            ),
            Confirming::EmailChange => {
                ("change_email", EventKind::EmailChangeRequested, "password")
            }
        };
        match checked {
            Checked::Right => Ok(()),
            Checked::Throttled(retry_after) => {
                self.record(
                    &self.db,
                    EventKind::LoginThrottled,
                    Some(user.id),
                    Some(principal.session_id),
                    client,
                    Some(action),
                )
                .await?;
                Err(AuthError::Throttled { retry_after })
            }
            Checked::Wrong => {
                self.record(
                    &self.db,
                    failed,
                    Some(user.id),
                    Some(principal.session_id),
                    client,
                    Some("wrong_password"),
                )
                .await?;
                tracing::info!(user_id = %user.id, action, "refused: wrong password");
                Err(AuthError::WrongPassword { field })
            }
        }
    }

    /// Refuses the login of `user`, whose address is not confirmed: a fresh
    /// link goes to it (within the sending limits), since the right
    /// password was given.
    async fn refuse_unverified(
        &self,
        user: entity::user::Model,
        client: &ClientInfo,
    ) -> Result<AuthError, AuthError> {
        self.mail_verification_link(
            &user,
            client,
            Some((EventKind::LoginFailed, "email_not_verified")),
        )
        .await?;
        tracing::info!(user_id = %user.id, "login refused: address not verified");
        Ok(AuthError::EmailNotVerified)
    }

    /// Replaces the password of the principal's user after checking the
    /// current one (throttled as logins are), ends every other session of
    /// the user, and returns a fresh pair for this session: the old refresh
    /// token of this session stops working too.
    pub async fn change_password(
        &self,
        _admitted: Admitted,
        principal: &Principal,
        current: &Password,
        new: &Password,
        client: &ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let gone = AuthError::Unauthenticated(UnauthenticatedReason::Revoked);
        let user = store::users::find(&self.db, principal.user_id)
            .await
            .context("cannot load the user")?
            .ok_or(gone.clone())?;
        self.confirm_password(
            principal,
            &user,
            current,
            Confirming::PasswordChange,
            client,
        )
        .await?;
        let password_hash = self.hasher.hash(new).await?;

        let now = Utc::now();
        let tx = self
            .db
            .begin()
            .await
            .context("cannot begin a transaction")?;
        // The first statement writes: SQLite takes its write lock here.
        store::users::set_password_hash(&tx, user.id, password_hash.clone(), now)
            .await
            .context("cannot store the new password hash")?;
        let session = store::sessions::find(&tx, principal.session_id)
            .await
            .context("cannot load the session")?
            .filter(|session| session.revoked_at.is_none() && session.expires_at > now)
            .ok_or(gone)?;
        let others = end_sessions(
            &tx,
            Selection::AllOfUser {
                user_id: user.id,
                except: Some(session.id),
            },
            PASSWORD_CHANGED_REASON,
            now,
        )
        .await?;
        // This session's own earlier refresh tokens end; a fresh one begins.
        store::refresh_tokens::revoke_for_sessions(&tx, &[session.id], now)
            .await
            .context("cannot revoke the session's refresh tokens")?;
        let row = self.next_refresh_row(&session, None, now);
        let row = store::refresh_tokens::insert(&tx, row)
            .await
            .context("cannot store the refresh token")?;
        store::sessions::mark_refreshed(&tx, session.id, now)
            .await
            .context("cannot update the session")?;
        self.record(
            &tx,
            EventKind::PasswordChanged,
            Some(user.id),
            Some(session.id),
            client,
            None,
        )
        .await?;
        // Links asked for before stopped working with the other sessions
        // (`end_sessions`); the owner is told.
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
        let user = entity::user::Model {
            password_hash,
            ..user
        };
        let signed_in = self.sign_pair(&row, user)?;
        tx.commit()
            .await
            .context("cannot commit the password change")?;
        self.sessions_ended(&others);
        self.mail_queued();
        tracing::info!(user_id = %row.user_id, ended_sessions = others.len(), "password changed");
        Ok(signed_in)
    }
}
