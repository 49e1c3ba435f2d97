//! A passkey's life after it was added: listed, renamed, removed by its
//! user (after a recent sign-in, never the account's last way in) or by an
//! admin.

use anyhow::Context;
use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::PasskeyView;
use crate::auth::audit::{Action, Actor, Event};
use crate::auth::mail_queue::{About, Cause};
use crate::auth::principal::Principal;
use crate::auth::session_core::Unit;
use crate::auth::{Account, AuthError, AuthService, ClientInfo};
use crate::domain::PasskeyName;
use crate::mail::MailKind;
use crate::store::{self};

impl AuthService {
    /// The user's passkeys, oldest first.
    pub async fn passkeys(&self, user_id: Uuid) -> Result<Vec<PasskeyView>, AuthError> {
        Ok(store::passkeys::of_user(&self.reads, user_id)
            .await
            .context("cannot list the passkeys")?
            .into_iter()
            .map(PasskeyView::from)
            .collect())
    }

    /// Renames the signed-in user's passkey `id`.
    pub async fn rename_passkey(
        &self,
        principal: &Principal,
        id: Uuid,
        name: PasskeyName,
    ) -> Result<PasskeyView, AuthError> {
        let row = store::passkeys::rename(&self.db, principal.user_id, id, name.as_str())
            .await
            .context("cannot rename the passkey")?
            .ok_or(AuthError::NoPasskey)?;
        Ok(row.into())
    }

    /// Removes the signed-in user's passkey `id`, unless it is the
    /// account's last way to sign in.
    pub async fn remove_passkey(
        &self,
        principal: &Principal,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<Account, AuthError> {
        self.require_recent_sign_in(principal)?;
        let now = Utc::now();
        let unit = self.begin().await?;
        let user = store::users::find(&unit, principal.user_id)
            .await
            .context("cannot load the user")?
            .ok_or(AuthError::NoPasskey)?;
        let Some(removed) = store::passkeys::of_user(&unit, user.id)
            .await
            .context("cannot list the passkeys")?
            .into_iter()
            .find(|row| row.id == id)
        else {
            return Err(AuthError::NoPasskey);
        };
        if ways_in(&unit, &user).await? <= 1 {
            return Err(AuthError::LastSignInMethod);
        }
        if !store::passkeys::remove(&unit, user.id, id)
            .await
            .context("cannot remove the passkey")?
        {
            return Err(AuthError::NoPasskey);
        }
        self.record(
            &unit,
            client,
            Event::PasskeyRemoved {
                user_id: user.id,
                session_id: principal.session_id,
            },
        )
        .await?;
        self.notice_passkey_removed(&unit, &user, &removed.name, client, now)
            .await?;
        unit.commit("the passkey's removal").await?;
        self.mail_queued();
        tracing::info!(user_id = %user.id, passkey_id = %id, "passkey removed");
        Ok(user.into())
    }

    /// Removes user `user_id`'s passkey `id` for `actor` (support for a
    /// lost device): audited as the actor's and mailed. `None` when the user
    /// has no such passkey. An account left with no way in is recovered by
    /// a password reset.
    pub async fn remove_user_passkey(
        &self,
        actor: Actor,
        user_id: Uuid,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<Option<Account>, AuthError> {
        let now = Utc::now();
        let unit = self.begin().await?;
        let Some(user) = store::users::find(&unit, user_id)
            .await
            .context("cannot load the user")?
        else {
            return Ok(None);
        };
        let Some(removed) = store::passkeys::of_user(&unit, user.id)
            .await
            .context("cannot list the passkeys")?
            .into_iter()
            .find(|row| row.id == id)
        else {
            return Ok(None);
        };
        store::passkeys::remove(&unit, user.id, id)
            .await
            .context("cannot remove the passkey")?;
        self.record_by(&unit, actor, user.id, client, Action::RemovedPasskey)
            .await?;
        self.notice_passkey_removed(&unit, &user, &removed.name, client, now)
            .await?;
        unit.commit("the passkey's removal").await?;
        self.mail_queued();
        tracing::info!(%actor, user_id = %user.id, passkey_id = %id, "passkey removed");
        Ok(Some(user.into()))
    }

    async fn notice_passkey_removed(
        &self,
        unit: &Unit,
        user: &user::Model,
        name: &str,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        self.queue_notice(
            unit,
            MailKind::PasskeyRemoved,
            &user.email,
            About {
                passkey: Some(name),
                ..About::default()
            },
            Cause { user, client, now },
        )
        .await
    }
}

/// How many ways `user` has to sign in on their own: a password, each
/// linked provider account, each passkey.
pub(in crate::auth) async fn ways_in<C: ConnectionTrait>(
    db: &C,
    user: &user::Model,
) -> anyhow::Result<u64> {
    let password = u64::from(store::users::password_of(user).is_some());
    let identities = store::identities::of_user(db, user.id)
        .await
        .context("cannot list the identities")?
        .len() as u64;
    let passkeys = store::passkeys::count(db, user.id)
        .await
        .context("cannot count the passkeys")?;
    Ok(password + identities + passkeys)
}
