//! Whether a session is still live, asked on every authenticated request,
//! together with its user (one joined query).
//!
//! Access tokens are stateless JWTs, so logout could not end them without a
//! look-up. The answer is cached per session for [`PROPAGATION`]: a revocation
//! made on this instance is written into the cache at once, and one made on
//! another instance is seen here once the cached answer expires, well within
//! the promised second.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use moka::sync::Cache;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::Account;
use crate::store;

/// How long a cached "live" answer is trusted.
pub const PROPAGATION: Duration = Duration::from_millis(500);

/// A session's status, with its user as read in the same query: guarded
/// fields such as `me` answer from it without another round trip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    Live {
        expires_at: DateTime<Utc>,
        account: Arc<Account>,
    },
    Revoked,
}

#[derive(Clone, Debug)]
pub struct SessionStatusCache {
    cache: Cache<Uuid, SessionStatus>,
}

impl Default for SessionStatusCache {
    fn default() -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(PROPAGATION)
                .build(),
        }
    }
}

impl SessionStatusCache {
    pub async fn status(
        &self,
        db: &DatabaseConnection,
        session_id: Uuid,
    ) -> anyhow::Result<SessionStatus> {
        if let Some(status) = self.cache.get(&session_id) {
            return Ok(status);
        }
        let found = store::sessions::find_with_user(db, session_id)
            .await
            .context("cannot read the session's status")?;
        let status = match found {
            Some((session, user)) if session.revoked_at.is_none() && user.disabled_at.is_none() => {
                SessionStatus::Live {
                    expires_at: session.expires_at,
                    account: Arc::new(user.into()),
                }
            }
            // Revoked, deleted, or its user is gone.
            _ => SessionStatus::Revoked,
        };
        self.cache.insert(session_id, status.clone());
        Ok(status)
    }

    /// Records a revocation made by this instance so it takes effect at once.
    pub fn mark_revoked(&self, session_id: Uuid) {
        self.cache.insert(session_id, SessionStatus::Revoked);
    }
}
