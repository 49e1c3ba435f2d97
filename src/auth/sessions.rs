//! Ending sessions (logout of any scope, one session by its owner), and
//! renewing an access token within one.

use anyhow::Context;
use chrono::Utc;
use uuid::Uuid;

use super::principal::Principal;
use super::service::{AccessToken, AuthService, ClientInfo};
use super::tokens::{Grant, TokenError};
use super::{AuthError, UnauthenticatedReason};
use crate::store::sessions::Selection;
use crate::store::{self, events::EventKind};

/// `sessions.revoked_reason` after a logout.
pub const LOGOUT_REASON: &str = "logout";
/// `sessions.revoked_reason` when its owner ended it from another session.
pub const REVOKED_BY_OWNER_REASON: &str = "revoked_by_owner";

/// How many access lifetimes after a session's last refresh a renewed
/// access token may reach.
pub const RENEWAL_REACH: i32 = 2;

/// Which of the user's sessions a logout ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogoutScope {
    /// The session of the request.
    #[default]
    Local,
    /// Every other session of the user.
    Others,
    /// Every session of the user, this one included.
    Global,
}

impl LogoutScope {
    fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Others => "others",
            Self::Global => "global",
        }
    }
}

impl AuthService {
    /// Ends the sessions `scope` names, relative to the session of the
    /// request's access token or, when the request has none that is usable,
    /// of `refresh_token`. Returns how many sessions this call revoked.
    pub async fn logout(
        &self,
        authenticated: Result<Principal, AuthError>,
        refresh_token: Option<&str>,
        scope: LogoutScope,
        client: &ClientInfo,
    ) -> Result<u64, AuthError> {
        let refresh_token = refresh_token.map(str::trim).filter(|t| !t.is_empty());
        let (user_id, session_id) = match (authenticated, refresh_token) {
            (Ok(principal), _) => (principal.user_id, principal.session_id),
            (Err(AuthError::Unauthenticated(_)), Some(token)) => {
                let (user_id, session_id, current) = self.session_of_refresh_token(token).await?;
                // A used refresh token may be one a thief kept: it proves
                // nothing beyond its own session, which it may still end.
                if !current && scope != LogoutScope::Local {
                    return Err(AuthError::InvalidRefreshToken);
                }
                (user_id, session_id)
            }
            (Err(error), _) => return Err(error),
        };
        let selection = match scope {
            LogoutScope::Local => Selection::One(session_id),
            LogoutScope::Others => Selection::AllOfUser {
                user_id,
                except: Some(session_id),
            },
            LogoutScope::Global => Selection::AllOfUser {
                user_id,
                except: None,
            },
        };
        let revoked = self
            .revoke_sessions(selection, LOGOUT_REASON, Utc::now())
            .await?;
        self.record(
            &self.db,
            EventKind::Logout,
            Some(user_id),
            Some(session_id),
            client,
            Some(scope.as_str()),
        )
        .await?;
        tracing::info!(%user_id, %session_id, scope = scope.as_str(), revoked = revoked.len(), "logged out");
        Ok(revoked.len() as u64)
    }

    /// Ends one of the principal's user's sessions. `false` when it is not a
    /// live session of theirs: another user's session answers as an unknown
    /// id does.
    pub async fn revoke_own_session(
        &self,
        principal: &Principal,
        session_id: Uuid,
        client: &ClientInfo,
    ) -> Result<bool, AuthError> {
        let revoked = self
            .revoke_sessions(
                Selection::OneOfUser {
                    user_id: principal.user_id,
                    id: session_id,
                },
                REVOKED_BY_OWNER_REASON,
                Utc::now(),
            )
            .await?;
        if revoked.is_empty() {
            return Ok(false);
        }
        self.record(
            &self.db,
            EventKind::SessionRevoked,
            Some(principal.user_id),
            Some(session_id),
            client,
            None,
        )
        .await?;
        tracing::info!(user_id = %principal.user_id, %session_id, "session revoked by its owner");
        Ok(true)
    }

    /// The live session a refresh token belongs to (used or not: any token
    /// the session was issued can end it), as `(user, session, current)`,
    /// where `current` says the token is still unused.
    async fn session_of_refresh_token(&self, token: &str) -> Result<(Uuid, Uuid, bool), AuthError> {
        let claims = self.keys.verify_refresh(token).await.map_err(|e| match e {
            TokenError::Misused => AuthError::TokenMisused,
            _ => AuthError::InvalidRefreshToken,
        })?;
        let row = store::refresh_tokens::find(&self.reads, claims.common.jti)
            .await
            .context("cannot load the refresh token")?
            .filter(|row| row.session_id == claims.common.sid && row.revoked_at.is_none())
            .ok_or(AuthError::InvalidRefreshToken)?;
        Ok((claims.common.sub, claims.common.sid, row.used_at.is_none()))
    }

    /// A new access token for the principal's session (the Symfony seed's
    /// refresh). It never outlives the session's current refresh token, nor
    /// the session's last refresh by more than [`RENEWAL_REACH`] access
    /// lifetimes: past that the caller must refresh (`UNAUTHENTICATED`,
    /// reason `expired`).
    pub async fn renew_access_token(
        &self,
        principal: &Principal,
    ) -> Result<AccessToken, AuthError> {
        let revoked = AuthError::Unauthenticated(UnauthenticatedReason::Revoked);
        // The user is read afresh: its roles now go into the new token.
        let (session, user) = store::sessions::find_with_user(&self.reads, principal.session_id)
            .await
            .context("cannot load the session")?
            .filter(|(session, _)| session.revoked_at.is_none())
            .ok_or(revoked)?;
        let current = store::refresh_tokens::find_current_for_session(&self.reads, session.id)
            .await
            .context("cannot load the session's refresh token")?
            .ok_or(AuthError::Unauthenticated(UnauthenticatedReason::Revoked))?;
        let now = Utc::now();
        let issued_at = super::service::whole_seconds(now);
        // Renewal needs no refresh token, so it must not keep a stolen
        // access token alive by itself: no renewed token outlives the
        // session's last refresh by more than two access lifetimes.
        let expires_at = (issued_at + self.lifetimes.access)
            .min(current.issued_at + self.lifetimes.access * RENEWAL_REACH)
            .min(current.expires_at)
            .min(session.expires_at);
        if expires_at <= now {
            return Err(AuthError::Unauthenticated(UnauthenticatedReason::Expired));
        }
        let grant = Grant {
            user_id: principal.user_id,
            session_id: session.id,
            jti: Uuid::new_v4(),
            issued_at,
            expires_at,
        };
        Ok(AccessToken {
            // The roles the database grants now, not those of the old token.
            token: self.keys.issue_access(&grant, &user.roles.0)?,
            expires_at,
        })
    }
}
