//! Refresh-token rotation with a grace period and reuse detection.
//!
//! A refresh token is used once: the first caller marks it used with a
//! conditional update and gets its successor, in one transaction. What a
//! used token presented again gets depends on the reuse policy:
//!
//! - `forgiving` (the default) keeps the session through the races real
//!   clients produce. Within the grace period after its use, the token gets
//!   the session's newest pair: any number of tabs sharing one chain stay
//!   signed in however many rotations happened meanwhile. Later, a token
//!   whose successor was never used (the client never received the answer:
//!   a dropped connection, a killed app) gets that same successor again, for
//!   as long as the token itself is valid. A thief replaying it gains
//!   nothing the token did not already give.
//! - `strict`: within the grace period the direct successor, while it is
//!   itself unused.
//!
//! Anything else is a replay of a token whose chain has moved on: the whole
//! session is revoked. Pairs are signed deterministically from their rows,
//! so a replay returns the very same strings.

use anyhow::Context;
use chrono::{DateTime, Utc};
use entity::{refresh_token, session, user};
use sea_orm::TransactionTrait;

use super::audit::{Event, RefreshRefusal, Replay, Reuse};
use super::session_core::EndReason;
use super::tokens::{RefreshClaims, TokenError};
use super::{AuthError, AuthService, ClientInfo, SignedIn};
use crate::config::ReusePolicy;
use crate::store::sessions::Selection;
use crate::store::{self};

impl AuthService {
    /// Exchanges a refresh token for a new pair of the same session.
    pub async fn refresh(
        &self,
        token: Option<&str>,
        client: &ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        self.admit(client, "refresh").await?;
        let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
            return Err(AuthError::InvalidRefreshToken);
        };
        let claims = match self.keys.verify_refresh(token).await {
            Ok(claims) => claims,
            Err(TokenError::Misused) => return Err(AuthError::TokenMisused),
            Err(TokenError::Expired) => {
                // Expired tokens are genuine: worth a row in the audit trail.
                self.record(
                    &self.db,
                    client,
                    Event::RefreshRejected {
                        user_id: None,
                        session_id: None,
                        why: RefreshRefusal::Expired,
                    },
                )
                .await?;
                return Err(AuthError::InvalidRefreshToken);
            }
            Err(error) => {
                // Forged or garbled: log only, so junk cannot fill the table.
                tracing::info!(%error, "refresh token rejected");
                return Err(AuthError::InvalidRefreshToken);
            }
        };

        let now = Utc::now();
        let Some(mut row) = store::refresh_tokens::find(&self.reads, claims.common.jti)
            .await
            .context("cannot load the refresh token")?
            .filter(|row| {
                row.session_id == claims.common.sid
                    && row.user_id == claims.common.sub
                    && row.xpair == claims.xpair
            })
        else {
            return self.reject(&claims, RefreshRefusal::Unknown, client).await;
        };
        if row.revoked_at.is_some() {
            return self.reject(&claims, RefreshRefusal::Revoked, client).await;
        }
        let (session, user) = match store::sessions::find_with_user(&self.reads, row.session_id)
            .await
            .context("cannot load the session")?
        {
            None => {
                return self
                    .reject(&claims, RefreshRefusal::UnknownSessionOrUser, client)
                    .await;
            }
            Some((session, _)) if session.revoked_at.is_some() => {
                return self
                    .reject(&claims, RefreshRefusal::SessionRevoked, client)
                    .await;
            }
            Some((_, user)) if user.disabled_at.is_some() => {
                return self
                    .reject(&claims, RefreshRefusal::AccountDisabled, client)
                    .await;
            }
            Some((session, _)) if session.expires_at <= now => {
                return self
                    .reject(&claims, RefreshRefusal::SessionExpired, client)
                    .await;
            }
            Some((session, _)) if session.refreshed_at + self.lifetimes.session_idle <= now => {
                return self
                    .reject(&claims, RefreshRefusal::SessionIdle, client)
                    .await;
            }
            Some(found) => found,
        };

        if row.used_at.is_none() {
            if let Some(signed_in) = self.rotate(&row, &session, &user, client, now).await? {
                return Ok(signed_in);
            }
            // Another request rotated it first: decide on the row as it is now.
            row = store::refresh_tokens::find(&self.reads, claims.common.jti)
                .await
                .context("cannot reload the refresh token")?
                .context("a refresh token row vanished during rotation")?;
        }
        self.replay_or_revoke(&claims, row, &session, user, client, now)
            .await
    }

    /// Marks `row` used and issues its successor, in one transaction; `None`
    /// when a concurrent request marked it first.
    async fn rotate(
        &self,
        row: &refresh_token::Model,
        session: &session::Model,
        user: &user::Model,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<Option<SignedIn>, AuthError> {
        let tx = self
            .db
            .begin()
            .await
            .context("cannot begin a transaction")?;
        // The first statement writes, so SQLite takes its write lock here and
        // concurrent rotations queue instead of failing on a lock upgrade.
        if !store::refresh_tokens::mark_used(&tx, row.jti, now)
            .await
            .context("cannot mark the refresh token used")?
        {
            tx.rollback().await.context("cannot roll back")?;
            return Ok(None);
        }
        let next = self.reissue(&tx, session, Some(row.jti), now).await?;
        self.record(
            &tx,
            client,
            Event::Refreshed {
                user_id: user.id,
                session_id: session.id,
                replay: None,
            },
        )
        .await?;
        tx.commit().await.context("cannot commit the rotation")?;
        // Signed after the commit, so the writer is not held meanwhile. Were
        // signing to fail, the client's retry of the same token would get
        // this successor (see the reuse policy).
        Ok(Some(self.sign_pair(&next, session, user.clone())?))
    }

    /// A used token presented again: the pair the reuse policy allows, or
    /// reuse, which revokes the session.
    async fn replay_or_revoke(
        &self,
        claims: &RefreshClaims,
        row: refresh_token::Model,
        session: &session::Model,
        user: user::Model,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<SignedIn, AuthError> {
        if row.revoked_at.is_some() {
            return self.reject(claims, RefreshRefusal::Revoked, client).await;
        }
        if let Some((replayed, replay)) = self.replay(&row, now).await? {
            self.record(
                &self.db,
                client,
                Event::Refreshed {
                    user_id: row.user_id,
                    session_id: row.session_id,
                    replay: Some(replay),
                },
            )
            .await?;
            return Ok(self.sign_pair(&replayed, session, user)?);
        }

        self.end_sessions(
            Selection::One(row.session_id),
            EndReason::RefreshTokenReused,
            now,
        )
        .await?;
        self.record(
            &self.db,
            client,
            Event::RefreshTokenReused {
                user_id: row.user_id,
                session_id: row.session_id,
                seen: if self.within_grace(&row, now) {
                    Reuse::SuccessorAlreadyUsed
                } else {
                    Reuse::AfterGrace
                },
            },
        )
        .await?;
        tracing::warn!(
            user_id = %row.user_id,
            session_id = %row.session_id,
            jti = %row.jti,
            "refresh token reuse detected: session revoked"
        );
        Err(AuthError::InvalidRefreshToken)
    }

    /// The row whose pair a used token `row` may get again, with the audit
    /// detail saying why; `None` when presenting it is reuse.
    async fn replay(
        &self,
        row: &refresh_token::Model,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<(refresh_token::Model, Replay)>> {
        /// Which row of the chain a replay may get.
        enum Answer {
            Newest,
            Successor,
        }
        let (answer, detail) = match (self.policy.reuse, self.within_grace(row, now)) {
            (ReusePolicy::Forgiving, true) => (Answer::Newest, Replay::NewestWithinGrace),
            (ReusePolicy::Forgiving, false) if row.expires_at > now => {
                (Answer::Successor, Replay::SuccessorNeverUsed)
            }
            (ReusePolicy::Strict, true) => (Answer::Successor, Replay::RetryWithinGrace),
            (ReusePolicy::Forgiving | ReusePolicy::Strict, _) => return Ok(None),
        };
        let found = match answer {
            Answer::Newest => {
                store::refresh_tokens::find_current_for_session(&self.reads, row.session_id).await
            }
            Answer::Successor => store::refresh_tokens::find_successor(&self.reads, row.jti).await,
        }
        .context("cannot load the refresh token to answer with")?;
        // Only a token nobody has used (or revoked) yet can be handed out.
        Ok(found
            .filter(|r| r.used_at.is_none() && r.revoked_at.is_none())
            .map(|r| (r, detail)))
    }

    fn within_grace(&self, row: &refresh_token::Model, now: DateTime<Utc>) -> bool {
        row.used_at
            .is_some_and(|used_at| now - used_at <= self.lifetimes.reuse_grace)
    }

    /// Records why a genuine refresh token was refused and refuses it.
    async fn reject(
        &self,
        claims: &RefreshClaims,
        why: RefreshRefusal,
        client: &ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        self.record(
            &self.db,
            client,
            Event::RefreshRejected {
                user_id: Some(claims.common.sub),
                session_id: Some(claims.common.sid),
                why,
            },
        )
        .await?;
        tracing::info!(user_id = %claims.common.sub, session_id = %claims.common.sid, ?why, "refresh token rejected");
        Err(AuthError::InvalidRefreshToken)
    }
}
