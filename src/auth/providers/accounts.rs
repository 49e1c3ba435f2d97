//! Whose account a provider's answer signs in to: the linking rules, where
//! products get taken over.
//!
//! - A known (provider, subject) signs in to its user.
//! - Otherwise only an address the provider vouches for can match an
//!   account. A verified account gets the identity linked (and a notice).
//!   An account whose address was never verified is claimed: whoever
//!   registered the address without owning it loses it (its password is
//!   removed, its sessions and pending links end) before the link: the
//!   pre-account takeover defence.
//! - An address the provider does not vouch for never links: it makes a new
//!   account when free, and is refused with `ACCOUNT_EXISTS` otherwise.

use anyhow::Context;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::ProvidedIdentity;
use super::registry::Provider;
use crate::auth::audit::Event;
use crate::auth::mail_queue::{About, Cause};
use crate::auth::session_core::{EndReason, Unit, account_changed, end_sessions};
use crate::auth::{AuthError, AuthService, ClientInfo};
use crate::domain::{Email, Roles, UserName};
use crate::mail::MailKind;
use crate::store::sessions::Selection;
use crate::store::{self};

impl AuthService {
    /// The user `identity` signs in to, linked or made in `unit` as the
    /// rules say.
    pub(super) async fn resolve_account(
        &self,
        unit: &mut Unit,
        provider: &Provider,
        identity: &ProvidedIdentity,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<Uuid, AuthError> {
        let id = provider.config.id.as_str();
        if let Some(linked) = store::identities::find(&*unit, id, &identity.subject)
            .await
            .context("cannot look the identity up")?
        {
            return Ok(linked.user_id);
        }
        let email = identity
            .email
            .as_deref()
            .and_then(|raw| Email::parse(raw).ok())
            .ok_or(AuthError::ProviderEmailMissing)?;
        let existing = store::users::find_by_email(&*unit, email.as_str())
            .await
            .context("cannot look the address up")?;
        let Some(user) = existing else {
            return self
                .create_from_identity(unit, provider, identity, &email, client, now)
                .await;
        };
        if !identity.email_verified {
            return Err(AuthError::AccountExists);
        }
        if user.disabled_at.is_some() {
            return Err(AuthError::AccountDisabled);
        }
        let claimed = user.email_verified_at.is_none();
        let user = if claimed {
            // Nobody proved this address before: whoever registered it
            // loses the account's password, sessions and pending links.
            end_sessions(
                unit,
                Selection::AllOfUser {
                    user_id: user.id,
                    except: None,
                },
                EndReason::AccountClaimed,
                now,
            )
            .await?;
            store::users::set_password_hash(
                &*unit,
                user.id,
                store::users::NO_PASSWORD.to_owned(),
                now,
            )
            .await
            .context("cannot remove the password")?;
            let verified = store::users::set_email_verified(
                &*unit,
                user.id,
                &user.email,
                user.credential_version + 1,
                now,
            )
            .await
            .context("cannot mark the address verified")?
            .ok_or_else(|| anyhow::anyhow!("the account changed while it was claimed"))?;
            account_changed(unit, user.id, now).await?;
            verified
        } else {
            user
        };
        self.link_identity(unit, provider, identity, &user, client, now)
            .await?;
        self.record(
            &*unit,
            client,
            Event::IdentityLinked {
                user_id: user.id,
                provider: id,
                claimed,
            },
        )
        .await?;
        tracing::info!(user_id = %user.id, provider = id, claimed, "identity linked by a verified address");
        Ok(user.id)
    }

    /// Stores the link and queues the notice to the account's address.
    pub(super) async fn link_identity(
        &self,
        unit: &mut Unit,
        provider: &Provider,
        identity: &ProvidedIdentity,
        user: &entity::user::Model,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        store_link(unit, provider, identity, user.id, now).await?;
        self.queue_notice(
            &*unit,
            MailKind::IdentityLinked,
            &user.email,
            About {
                provider: Some(&provider.config.name),
                ..About::default()
            },
            Cause { user, client, now },
        )
        .await?;
        Ok(())
    }

    /// A new account for `identity`, with no password, its address verified
    /// when the provider vouches for it.
    async fn create_from_identity(
        &self,
        unit: &mut Unit,
        provider: &Provider,
        identity: &ProvidedIdentity,
        email: &Email,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<Uuid, AuthError> {
        if !provider.config.allow_sign_up {
            return Err(AuthError::SignUpClosed);
        }
        let local_part = email.as_str().split('@').next().unwrap_or_default();
        let name = identity
            .name
            .as_deref()
            .and_then(|name| UserName::parse(name).ok())
            .or_else(|| UserName::parse(local_part).ok())
            .ok_or(AuthError::ProviderEmailMissing)?;
        let user = store::users::insert(
            &*unit,
            store::users::NewUser {
                id: uuid::Uuid::new_v4(),
                name: name.as_str(),
                email: email.as_str(),
                password_hash: store::users::NO_PASSWORD.to_owned(),
                roles: Roles::default().into_vec(),
                email_verified_at: identity.email_verified.then_some(now),
                now,
            },
        )
        .await
        .map_err(|e| {
            if store::is_unique_violation(&e) {
                AuthError::AccountExists
            } else {
                AuthError::from(anyhow::Error::new(e).context("cannot insert the user"))
            }
        })?;
        store_link(unit, provider, identity, user.id, now).await?;
        self.record(
            &*unit,
            client,
            Event::Registered {
                user_id: user.id,
                provider: Some(&provider.config.id),
            },
        )
        .await?;
        tracing::info!(user_id = %user.id, provider = %provider.config.id, "account made from a provider's identity");
        Ok(user.id)
    }
}

/// Stores the link of `identity` to `user_id`; `IdentityTaken` when the
/// identity, or an identity of the user at that provider, is linked already.
async fn store_link(
    unit: &Unit,
    provider: &Provider,
    identity: &ProvidedIdentity,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    store::identities::link(
        unit,
        user_id,
        &provider.config.id,
        &identity.subject,
        identity.email.as_deref(),
        now,
    )
    .await
    .map(drop)
    .map_err(|e| {
        if store::is_unique_violation(&e) {
            AuthError::IdentityTaken
        } else {
            AuthError::from(anyhow::Error::new(e).context("cannot link the identity"))
        }
    })
}
