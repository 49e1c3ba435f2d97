//! Issuing within a session: the row of each new refresh token with the
//! expiries of its pair, reissuing a pair (rotation and a password change),
//! signing a pair, and renewing an access token alone.

use anyhow::Context;
use chrono::{DateTime, Utc};
use entity::{refresh_token, session, user};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::auth::sign_in::known_method;
use crate::auth::tokens::{Authentication, Grant};
use crate::auth::{AccessToken, AuthError, AuthService, SignedIn, UnauthenticatedReason};
use crate::store::{self};

/// How many access lifetimes after a session's last refresh a renewed
/// access token may reach.
pub const RENEWAL_REACH: i32 = 2;

/// `at` without its fraction of a second, as JWT times are.
pub fn whole_seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

/// What a session's access tokens say of how its user proved who they are.
fn authentication(session: &session::Model) -> Authentication {
    Authentication {
        methods: session
            .auth_methods
            .split(' ')
            .filter_map(known_method)
            .collect(),
        at: session.authenticated_at.unwrap_or(session.created_at),
    }
}

impl AuthService {
    /// The row of a new refresh token for `session`, with the expiries of the
    /// pair: the refresh token never outlives the session or its idle
    /// timeout, nor the access token its refresh token. Times are whole
    /// seconds, as in the JWTs.
    pub(in crate::auth) fn next_refresh_row(
        &self,
        session: &session::Model,
        parent: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> refresh_token::Model {
        let issued_at = whole_seconds(now);
        let expires_at = whole_seconds(
            (issued_at + self.lifetimes.refresh.min(self.lifetimes.session_idle))
                .min(session.expires_at),
        );
        let access_expires_at = (issued_at + self.lifetimes.access).min(expires_at);
        refresh_token::Model {
            jti: Uuid::new_v4(),
            xpair: Uuid::new_v4(),
            session_id: session.id,
            user_id: session.user_id,
            parent_jti: parent,
            issued_at,
            expires_at,
            access_expires_at,
            used_at: None,
            revoked_at: None,
        }
    }

    /// Stores the next refresh token of `session` (the successor of
    /// `parent`, if any) and marks the session refreshed, in the caller's
    /// transaction: rotation and a password change both continue a session
    /// this way. The caller has retired the tokens before it.
    pub(in crate::auth) async fn reissue<C: ConnectionTrait>(
        &self,
        db: &C,
        session: &session::Model,
        parent: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<refresh_token::Model> {
        let next = self.next_refresh_row(session, parent, now);
        let next = store::refresh_tokens::insert(db, next)
            .await
            .context("cannot store the refresh token")?;
        store::sessions::mark_refreshed(db, session.id, now)
            .await
            .context("cannot update the session")?;
        Ok(next)
    }

    /// Signs the pair a refresh token row of `session` describes.
    /// Deterministic while the signing key is the same: the same row and
    /// roles give the very same two strings (Ed25519, RFC 6979 ECDSA,
    /// PKCS#1 v1.5 and HMAC all are).
    pub(in crate::auth) fn sign_pair(
        &self,
        row: &refresh_token::Model,
        session: &session::Model,
        user: user::Model,
    ) -> anyhow::Result<SignedIn> {
        let grant = |jti, expires_at| Grant {
            user_id: row.user_id,
            session_id: row.session_id,
            jti,
            issued_at: row.issued_at,
            expires_at,
        };
        let access = grant(row.xpair, row.access_expires_at);
        let refresh = grant(row.jti, row.expires_at);
        Ok(SignedIn {
            access: AccessToken {
                token: self
                    .keys
                    .issue_access(&access, &authentication(session), &user.roles.0)?,
                expires_at: row.access_expires_at,
            },
            refresh_token: self.keys.issue_refresh(&refresh, row.xpair)?,
            refresh_expires_at: row.expires_at,
            account: user.into(),
        })
    }

    /// A new access token for the session `session_id` (the Symfony seed's
    /// refresh). It never outlives the session's current refresh token, nor
    /// the session's last refresh by more than [`RENEWAL_REACH`] access
    /// lifetimes: past that the caller must refresh (`UNAUTHENTICATED`,
    /// reason `expired`).
    pub(in crate::auth) async fn renew_access(
        &self,
        session_id: Uuid,
    ) -> Result<AccessToken, AuthError> {
        let revoked = AuthError::Unauthenticated(UnauthenticatedReason::Revoked);
        // The user is read afresh: its roles now go into the new token.
        let (session, user) = store::sessions::find_with_user(&self.reads, session_id)
            .await
            .context("cannot load the session")?
            .filter(|(session, _)| session.revoked_at.is_none())
            .ok_or(revoked.clone())?;
        let current = store::refresh_tokens::find_current_for_session(&self.reads, session.id)
            .await
            .context("cannot load the session's refresh token")?
            .ok_or(revoked)?;
        let now = Utc::now();
        let issued_at = whole_seconds(now);
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
            user_id: session.user_id,
            session_id: session.id,
            jti: Uuid::new_v4(),
            issued_at,
            expires_at,
        };
        Ok(AccessToken {
            // The roles the database grants now, not those of the old token.
            token: self
                .keys
                .issue_access(&grant, &authentication(&session), &user.roles.0)?,
            expires_at,
        })
    }
}
