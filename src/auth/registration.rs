//! Creating accounts: registration through the API (which signs the new
//! account in) and accounts the operator creates.

use anyhow::Context;
use chrono::Utc;

use super::audit::{Action, Actor, Event};
use super::mail_queue::Cause;
use super::session_core::Unit;
use super::sign_in::{SignInMethod, SignInOutcome};
use super::{Account, Admitted, AuthError, AuthService, ClientInfo, Registration};
use crate::domain::Roles;
use crate::store::account_tokens::Purpose;
use crate::store::{self};

/// Whether a new account's address counts as verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verified {
    Yes,
    No,
}

impl AuthService {
    /// Creates the account and signs it in.
    pub async fn register(
        &self,
        _admitted: Admitted,
        registration: Registration,
        client: &ClientInfo,
    ) -> Result<SignInOutcome, AuthError> {
        let (mut tx, user) = self
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
                client,
                Event::Registered {
                    user_id: user.id,
                    provider: None,
                },
            )
            .await?;
            tx.commit("the registration").await?;
            self.mail_queued();
            tracing::info!(user_id = %user.id, "registered; the address must be confirmed before login");
            return Err(AuthError::EmailNotVerified);
        }
        let outcome = self
            .sign_in(&mut tx, user, SignInMethod::NewAccount.into(), client, now)
            .await?;
        tx.commit("the registration").await?;
        self.mail_queued();
        Ok(outcome)
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
        self.record_by(&tx, actor, user.id, client, Action::CreatedAccount)
            .await?;
        tx.commit("the new account").await?;
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
    ) -> Result<(Unit, entity::user::Model), AuthError> {
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
        let tx = self.begin().await?;
        let now = Utc::now();
        let user = store::users::insert(
            &tx,
            store::users::NewUser {
                id: uuid::Uuid::new_v4(),
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
}
