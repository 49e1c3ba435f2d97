//! Ending sessions: the session rows, every refresh token of them, and,
//! through the revocation feed and the status cache, every access token of
//! them, on every instance.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::news::Change;
use super::unit::Unit;
use crate::auth::AuthService;
use crate::store::account_tokens::Purpose;
use crate::store::revocations::Revoked;
use crate::store::sessions::Selection;
use crate::store::{self};

/// Why sessions ended: `sessions.revoked_reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// A logout of any scope.
    Logout,
    /// Its owner ended it from another session.
    RevokedByOwner,
    /// An admin (or the operator) ended them.
    RevokedByAdmin,
    /// Their user was disabled.
    UserDisabled,
    /// The password was changed (every session but the one changing it).
    PasswordChanged,
    /// The password was reset from a mailed link.
    PasswordReset,
    /// A refresh token of the session was used again after its chain moved on.
    RefreshTokenReused,
    /// The oldest sessions beyond `AUTHQL_MAX_SESSIONS_PER_USER`.
    SessionLimit,
    /// The address's owner proved it through a provider, and the account,
    /// whose address nobody had confirmed, became theirs.
    AccountClaimed,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::RevokedByOwner => "revoked_by_owner",
            Self::RevokedByAdmin => "revoked_by_admin",
            Self::UserDisabled => "user_disabled",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::SessionLimit => "session_limit",
            Self::AccountClaimed => "account_claimed",
        }
    }
}

/// Ends the selected sessions in `unit` and announces them on the
/// revocation feed; this instance applies and publishes the change when the
/// unit commits. Returns how many sessions this call ended.
///
/// Ending all of a user's sessions (or all but the caller's) is a recovery
/// step: logout everywhere, a password changed or reset, an admin ending
/// them or disabling the account. It also retires the user's pending mailed
/// links ([`retire_links`]), so a link someone asked for while they held the
/// account cannot take it back afterwards.
pub async fn end_sessions(
    unit: &mut Unit,
    selection: Selection,
    reason: EndReason,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    if let Selection::AllOfUser { user_id, .. } = selection {
        retire_links(unit, user_id, now).await?;
    }
    let ended = store::sessions::revoke(unit, selection, reason.as_str(), now)
        .await
        .context("cannot revoke sessions")?;
    if ended.is_empty() {
        return Ok(0);
    }
    store::refresh_tokens::revoke_for_sessions(unit, &ended, now)
        .await
        .context("cannot revoke the sessions' refresh tokens")?;
    // Other instances stop the sessions' access tokens when they read this.
    let announced: Vec<Revoked> = ended.iter().copied().map(Revoked::Session).collect();
    store::revocations::append(unit, &announced, now)
        .await
        .context("cannot append to the revocation feed")?;
    let count = ended.len();
    unit.announce(Change::SessionsEnded {
        sessions: Arc::from(ended),
        reason,
    });
    Ok(count)
}

/// Announces that user `user_id`'s account changed (roles, disabled,
/// address): other instances reread it from the feed, this one when `unit`
/// commits.
pub async fn account_changed(
    unit: &mut Unit,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    store::revocations::append(unit, &[Revoked::User(user_id)], now)
        .await
        .context("cannot append to the revocation feed")?;
    unit.announce(Change::AccountChanged { user_id });
    Ok(())
}

/// Retires every pending link mailed for `user_id` (address change,
/// verification, reset): they are marked used, and the account's credential
/// version moves on, so a link issued concurrently under the old version is
/// refused too when it is followed. Every recovery step and an address
/// change call it.
pub async fn retire_links<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    store::users::advance_credential_version(db, user_id)
        .await
        .context("cannot advance the credential version")?;
    store::account_tokens::retire(db, user_id, &Purpose::ALL, now)
        .await
        .context("cannot retire the user's links")?;
    Ok(())
}

impl AuthService {
    /// Ends the selected sessions in a transaction of their own; returns how
    /// many this call ended.
    pub async fn end_sessions(
        &self,
        selection: Selection,
        reason: EndReason,
        now: DateTime<Utc>,
    ) -> anyhow::Result<usize> {
        let mut unit = self.begin().await?;
        let ended = end_sessions(&mut unit, selection, reason, now).await?;
        unit.commit("the revocation").await?;
        Ok(ended)
    }
}
