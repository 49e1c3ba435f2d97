//! What an admin may do to other accounts: look one up, set its roles, end
//! its sessions. Callers are checked for the admin role by the GraphQL guard;
//! these functions only do the work and record it.

use anyhow::Context;
use chrono::Utc;
use uuid::Uuid;

use super::AuthError;
use super::principal::Principal;
use super::service::{Account, AuthService, ClientInfo, end_sessions};
use crate::domain::{ADMIN_ROLE, Roles};
use crate::store::sessions::Selection;
use crate::store::{self, events::EventKind};

/// `sessions.revoked_reason` when their user was disabled.
pub const USER_DISABLED_REASON: &str = "user_disabled";
/// `sessions.revoked_reason` when an admin ended them.
pub const REVOKED_BY_ADMIN_REASON: &str = "revoked_by_admin";

impl AuthService {
    /// The account with `id`, if any.
    pub async fn account(&self, id: Uuid) -> Result<Option<Account>, AuthError> {
        Ok(store::users::find(&self.db, id)
            .await
            .context("cannot load the user")?
            .map(Account::from))
    }

    /// Replaces the roles of user `id`; `None` when there is no such user.
    /// Refused with `LastAdmin` when it would leave nobody with the admin
    /// role. The new roles are in the user's next access token.
    pub async fn set_user_roles(
        &self,
        admin: &Principal,
        id: Uuid,
        roles: Roles,
        client: &ClientInfo,
    ) -> Result<Option<Account>, AuthError> {
        let detail = roles.clone().into_vec().join(",");
        // Under one lock: two admins demoting each other at once must not
        // both see the other still an admin.
        let tx = store::begin_locked(&self.db, store::Lock::Roles).await?;
        let Some(user) = store::users::set_roles(&tx, id, roles.into_vec(), Utc::now())
            .await
            .context("cannot store the roles")?
        else {
            tx.rollback().await.context("cannot roll back")?;
            return Ok(None);
        };
        if !an_admin_remains(&tx).await? {
            tx.rollback().await.context("cannot roll back")?;
            return Err(AuthError::LastAdmin);
        }
        self.record(
            &tx,
            EventKind::RolesChanged,
            Some(user.id),
            None,
            client,
            Some(&detail),
        )
        .await?;
        tx.commit().await.context("cannot commit the roles")?;
        tracing::info!(admin = %admin.user_id, user_id = %user.id, roles = detail, "roles changed");
        Ok(Some(user.into()))
    }

    /// Ends every session of user `id`; returns how many.
    pub async fn revoke_user_sessions(
        &self,
        admin: &Principal,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<u64, AuthError> {
        let revoked = self
            .revoke_sessions(
                Selection::AllOfUser {
                    user_id: id,
                    except: None,
                },
                REVOKED_BY_ADMIN_REASON,
                Utc::now(),
            )
            .await?;
        if !revoked.is_empty() {
            self.record(
                &self.db,
                EventKind::SessionRevoked,
                Some(id),
                None,
                client,
                Some("by_admin"),
            )
            .await?;
        }
        tracing::info!(admin = %admin.user_id, user_id = %id, revoked = revoked.len(), "sessions revoked by an admin");
        Ok(revoked.len() as u64)
    }

    /// Disables user `id`: every session ends (access tokens included, on
    /// every instance within the session-status cache's 500 ms), and logins
    /// with the right password answer `ACCOUNT_DISABLED`. `None` when there
    /// is no such user; `LastAdmin` when no enabled admin would remain.
    pub async fn disable_user(
        &self,
        admin: &Principal,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<Option<Account>, AuthError> {
        let now = Utc::now();
        let tx = store::begin_locked(&self.db, store::Lock::Roles).await?;
        let Some(user) = store::users::set_disabled(&tx, id, Some(now), now)
            .await
            .context("cannot disable the user")?
        else {
            tx.rollback().await.context("cannot roll back")?;
            return Ok(None);
        };
        if !an_admin_remains(&tx).await? {
            tx.rollback().await.context("cannot roll back")?;
            return Err(AuthError::LastAdmin);
        }
        let revoked = end_sessions(
            &tx,
            Selection::AllOfUser {
                user_id: id,
                except: None,
            },
            USER_DISABLED_REASON,
            now,
        )
        .await?;
        self.record(&tx, EventKind::UserDisabled, Some(id), None, client, None)
            .await?;
        tx.commit().await.context("cannot commit the disabling")?;
        self.sessions_ended(&revoked);
        tracing::info!(admin = %admin.user_id, user_id = %id, ended_sessions = revoked.len(), "user disabled");
        Ok(Some(user.into()))
    }

    /// Enables user `id` again; `None` when there is no such user.
    pub async fn enable_user(
        &self,
        admin: &Principal,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<Option<Account>, AuthError> {
        let now = Utc::now();
        let tx = store::begin_locked(&self.db, store::Lock::Roles).await?;
        let Some(user) = store::users::set_disabled(&tx, id, None, now)
            .await
            .context("cannot enable the user")?
        else {
            tx.rollback().await.context("cannot roll back")?;
            return Ok(None);
        };
        self.record(&tx, EventKind::UserEnabled, Some(id), None, client, None)
            .await?;
        tx.commit().await.context("cannot commit the enabling")?;
        tracing::info!(admin = %admin.user_id, user_id = %id, "user enabled");
        Ok(Some(user.into()))
    }
}

/// Whether an enabled user with the admin role remains, as `tx` sees it
/// (under [`store::Lock::Roles`], so no concurrent change slips past).
async fn an_admin_remains(tx: &sea_orm::DatabaseTransaction) -> anyhow::Result<bool> {
    let admins = store::users::count_with_role(tx, ADMIN_ROLE)
        .await
        .context("cannot count the admins")?;
    Ok(admins > 0)
}
