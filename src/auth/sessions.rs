//! Ending a session, and renewing an access token within one.

use anyhow::Context;
use chrono::Utc;
use uuid::Uuid;

use super::principal::Principal;
use super::service::{AccessToken, AuthService, ClientInfo};
use super::tokens::{Grant, TokenError};
use super::{AuthError, UnauthenticatedReason};
use crate::store::{self, events::EventKind};

/// `sessions.revoked_reason` after a logout.
pub const LOGOUT_REASON: &str = "logout";

impl AuthService {
    /// Ends the session named by the request's access token or, when the
    /// request has none that is usable, by `refresh_token`. Returns how many
    /// sessions this call revoked.
    pub async fn logout(
        &self,
        authenticated: Result<Principal, AuthError>,
        refresh_token: Option<&str>,
        client: &ClientInfo,
    ) -> Result<u64, AuthError> {
        let refresh_token = refresh_token.map(str::trim).filter(|t| !t.is_empty());
        let (user_id, session_id) = match (authenticated, refresh_token) {
            (Ok(principal), _) => (principal.user_id, principal.session_id),
            (Err(AuthError::Unauthenticated(_)), Some(token)) => {
                self.session_of_refresh_token(token).await?
            }
            (Err(error), _) => return Err(error),
        };
        let revoked = self
            .revoke_session(session_id, LOGOUT_REASON, Utc::now())
            .await?;
        self.record(
            &self.db,
            EventKind::Logout,
            Some(user_id),
            Some(session_id),
            client,
            None,
        )
        .await?;
        tracing::info!(%user_id, %session_id, "logged out");
        Ok(u64::from(revoked))
    }

    /// The live session a refresh token belongs to (used or not: any token
    /// the session was issued can end it).
    async fn session_of_refresh_token(&self, token: &str) -> Result<(Uuid, Uuid), AuthError> {
        let claims = self.keys.verify_refresh(token).await.map_err(|e| match e {
            TokenError::Misused => AuthError::TokenMisused,
            _ => AuthError::InvalidRefreshToken,
        })?;
        let known = store::refresh_tokens::find(&self.db, claims.common.jti)
            .await
            .context("cannot load the refresh token")?
            .is_some_and(|row| row.session_id == claims.common.sid && row.revoked_at.is_none());
        if !known {
            return Err(AuthError::InvalidRefreshToken);
        }
        Ok((claims.common.sub, claims.common.sid))
    }

    /// A new access token for the principal's session (the Symfony seed's
    /// refresh). It never outlives the session's current refresh token.
    pub async fn renew_access_token(
        &self,
        principal: &Principal,
    ) -> Result<AccessToken, AuthError> {
        let revoked = AuthError::Unauthenticated(UnauthenticatedReason::Revoked);
        let session = store::sessions::find(&self.db, principal.session_id)
            .await
            .context("cannot load the session")?
            .filter(|session| session.revoked_at.is_none())
            .ok_or(revoked)?;
        let current = store::refresh_tokens::find_current_for_session(&self.db, session.id)
            .await
            .context("cannot load the session's refresh token")?
            .ok_or(AuthError::Unauthenticated(UnauthenticatedReason::Revoked))?;
        let now = Utc::now();
        let issued_at = super::service::whole_seconds(now);
        let expires_at = (issued_at + self.lifetimes.access)
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
            token: self.keys.issue_access(&grant, &principal.roles)?,
            expires_at,
        })
    }
}
