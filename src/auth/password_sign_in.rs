//! Proving who you are with a password: login, and the password a
//! signed-in user confirms a change with, both checked under the account
//! throttle.

use anyhow::Context;
use chrono::Utc;

use super::audit::{Event, LoginFailure, Throttle};
use super::principal::Principal;
use super::sign_in::{SignInMethod, SignInOutcome};
use super::throttle::{Standing, ThrottleKey};
use super::{AuthError, AuthService, ClientInfo};
use crate::domain::{Email, Password};
use crate::store::{self};

/// What a signed-in user confirms with their password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirming {
    PasswordChange,
    EmailChange,
}

impl Confirming {
    /// The field's name, as the audit trail and the log say it.
    pub(super) fn action(self) -> &'static str {
        match self {
            Self::PasswordChange => "change_password",
            Self::EmailChange => "change_email",
        }
    }

    /// The input field that holds the password.
    fn field(self) -> &'static str {
        match self {
            Self::PasswordChange => "currentPassword",
            Self::EmailChange => "password",
        }
    }
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

    /// Checks the credentials and opens a new session. An unknown e-mail and
    /// a wrong password answer alike, after the same amount of work. An
    /// address whose attempts are throttled is refused before any hashing,
    /// with the same answer whether the password was right or not.
    pub async fn login(
        &self,
        email: &str,
        password: &Password,
        client: &ClientInfo,
    ) -> Result<SignInOutcome, AuthError> {
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
                user.as_ref().and_then(store::users::password_of),
            )
            .await?;
        if let Checked::Throttled(retry_after) = checked {
            let user_id = user.as_ref().map(|u| u.id);
            self.record(
                &self.db,
                client,
                Event::Throttled {
                    user_id,
                    session_id: None,
                    by: Throttle::Account,
                },
            )
            .await?;
            tracing::info!(?user_id, retry_after, "login throttled");
            return Err(AuthError::Throttled { retry_after });
        }
        let user = match user {
            Some(user) if checked == Checked::Right => user,
            other => {
                let why = if other.is_some() {
                    LoginFailure::WrongPassword
                } else {
                    LoginFailure::UnknownEmail
                };
                let user_id = other.map(|u| u.id);
                self.record(&self.db, client, Event::LoginFailed { user_id, why })
                    .await?;
                tracing::info!(?user_id, ?why, "login failed");
                return Err(AuthError::InvalidCredentials);
            }
        };
        // Said only after the right password, so it reveals nothing to a guesser.
        if user.disabled_at.is_some() {
            self.record(
                &self.db,
                client,
                Event::LoginFailed {
                    user_id: Some(user.id),
                    why: LoginFailure::AccountDisabled,
                },
            )
            .await?;
            tracing::info!(user_id = %user.id, "login refused: account disabled");
            return Err(AuthError::AccountDisabled);
        }
        if self.mail.require_verified_email() && user.email_verified_at.is_none() {
            return Err(self.refuse_unverified(user, client).await?);
        }

        let mut tx = self.begin().await?;
        let outcome = self
            .sign_in(
                &mut tx,
                user,
                SignInMethod::Password.into(),
                client,
                Utc::now(),
            )
            .await?;
        tx.commit("the login").await?;
        Ok(outcome)
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
            .check_password(&key, password, store::users::password_of(user))
            .await?;
        match checked {
            Checked::Right => Ok(()),
            Checked::Throttled(retry_after) => {
                self.record(
                    &self.db,
                    client,
                    Event::Throttled {
                        user_id: Some(user.id),
                        session_id: Some(principal.session_id),
                        by: Throttle::Confirming(confirming),
                    },
                )
                .await?;
                Err(AuthError::Throttled { retry_after })
            }
            Checked::Wrong => {
                self.record(
                    &self.db,
                    client,
                    Event::WrongPassword {
                        user_id: user.id,
                        session_id: principal.session_id,
                        confirming,
                    },
                )
                .await?;
                tracing::info!(user_id = %user.id, action = confirming.action(), "refused: wrong password");
                Err(AuthError::WrongPassword {
                    field: confirming.field(),
                })
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
            Some(Event::LoginFailed {
                user_id: Some(user.id),
                why: LoginFailure::EmailNotVerified,
            }),
        )
        .await?;
        tracing::info!(user_id = %user.id, "login refused: address not verified");
        Ok(AuthError::EmailNotVerified)
    }
}
