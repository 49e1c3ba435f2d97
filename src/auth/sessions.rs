//! A user's own sessions: seeing them, ending them (logout of any scope,
//! one session by its owner), and renewing the access token of one.

use anyhow::Context;
use chrono::Utc;
use entity::session;
use uuid::Uuid;

use super::audit::Event;
use super::principal::Principal;
use super::session_core::EndReason;
use super::tokens::TokenError;
use super::{AccessToken, AuthError, AuthService, ClientInfo, SessionView, UnauthenticatedReason};
use crate::domain::{Page, Slice};
use crate::store::sessions::Selection;
use crate::store::{self};

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
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Others => "others",
            Self::Global => "global",
        }
    }
}

impl AuthService {
    /// The session the principal's access token belongs to.
    pub async fn session(&self, principal: &Principal) -> Result<SessionView, AuthError> {
        store::sessions::find(&self.reads, principal.session_id)
            .await
            .context("cannot load the session")?
            .map(|session| self.view(session, principal))
            .ok_or(AuthError::Unauthenticated(UnauthenticatedReason::Revoked))
    }

    /// A page of the principal's user's live sessions, newest first.
    pub async fn sessions(
        &self,
        principal: &Principal,
        page: Page,
    ) -> Result<Slice<SessionView>, AuthError> {
        let now = Utc::now();
        let sessions = store::sessions::list_live(
            &self.reads,
            principal.user_id,
            now,
            now - self.lifetimes.session_idle,
            page,
        )
        .await
        .context("cannot list the sessions")?;
        Ok(sessions.map(|session| self.view(session, principal)))
    }

    fn view(&self, session: session::Model, principal: &Principal) -> SessionView {
        SessionView {
            id: session.id,
            created_at: session.created_at,
            refreshed_at: session.refreshed_at,
            idle_expires_at: (session.refreshed_at + self.lifetimes.session_idle)
                .min(session.expires_at),
            expires_at: session.expires_at,
            user_agent: session.user_agent,
            ip: session.ip,
            current: session.id == principal.session_id,
        }
    }

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
            .end_sessions(selection, EndReason::Logout, Utc::now())
            .await?;
        self.record(
            &self.db,
            client,
            Event::LoggedOut {
                user_id,
                session_id,
                scope,
            },
        )
        .await?;
        tracing::info!(%user_id, %session_id, scope = scope.as_str(), revoked, "logged out");
        Ok(revoked as u64)
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
            .end_sessions(
                Selection::OneOfUser {
                    user_id: principal.user_id,
                    id: session_id,
                },
                EndReason::RevokedByOwner,
                Utc::now(),
            )
            .await?;
        if revoked == 0 {
            return Ok(false);
        }
        self.record(
            &self.db,
            client,
            Event::SessionRevoked {
                user_id: principal.user_id,
                session_id,
            },
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
    /// refresh); see [`super::session_core::RENEWAL_REACH`].
    pub async fn renew_access_token(
        &self,
        principal: &Principal,
    ) -> Result<AccessToken, AuthError> {
        self.renew_access(principal.session_id).await
    }
}
