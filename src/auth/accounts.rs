//! Register and login: each opens a new session.

use anyhow::Context;
use chrono::Utc;
use sea_orm::TransactionTrait;

use super::AuthError;
use super::service::{AuthService, ClientInfo, Registration, SignedIn};
use super::throttle::{Standing, ThrottleKey};
use crate::domain::{DEFAULT_ROLE, Email, Password};
use crate::store::{self, events::EventKind};

impl AuthService {
    /// Creates the account and signs it in.
    pub async fn register(
        &self,
        registration: Registration,
        client: &ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        self.admit(client, "register").await?;
        let email = registration.email.as_str();
        // Spares the hash for the common case; the unique index decides races.
        if store::users::find_by_email(&self.db, email)
            .await
            .context("cannot look the e-mail address up")?
            .is_some()
        {
            return Err(AuthError::EmailTaken);
        }
        let password_hash = self.hasher.hash(&registration.password).await?;

        let now = Utc::now();
        let tx = self
            .db
            .begin()
            .await
            .context("cannot begin a transaction")?;
        let user = store::users::insert(
            &tx,
            store::users::NewUser {
                name: registration.name.as_str(),
                email,
                password_hash,
                roles: vec![DEFAULT_ROLE.to_owned()],
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
        let signed_in = self
            .start_session(&tx, user, client, EventKind::Registered, now)
            .await?;
        tx.commit()
            .await
            .context("cannot commit the registration")?;
        Ok(signed_in)
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
        let user = store::users::find_by_email(&self.db, &email)
            .await
            .context("cannot look the user up")?;
        let standing = self.throttle.standing(&self.db, &key, Utc::now()).await?;
        if let Standing::Waiting(retry_after) = standing {
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
        let verified = self
            .hasher
            .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        let user = match user {
            Some(user) if verified => user,
            other => {
                self.throttle
                    .record_failure(&self.db, &key, Utc::now())
                    .await?;
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
        // Most logins have no failures to forget: no write for them.
        if standing != Standing::Clear {
            self.throttle.reset(&self.db, &key).await?;
        }

        let now = Utc::now();
        let tx = self
            .db
            .begin()
            .await
            .context("cannot begin a transaction")?;
        let signed_in = self
            .start_session(&tx, user, client, EventKind::LoginSucceeded, now)
            .await?;
        tx.commit().await.context("cannot commit the login")?;
        Ok(signed_in)
    }
}
