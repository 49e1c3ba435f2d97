//! Whether a session is still live, asked on every authenticated request.
//!
//! Access tokens are stateless JWTs, so logout could not end them without a
//! look-up. The answer is cached per session for [`PROPAGATION`]: a revocation
//! made on this instance is written into the cache at once, and one made on
//! another instance is seen here once the cached answer expires, well within
//! the promised second.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use moka::sync::Cache;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::store;

/// How long a cached "live" answer is trusted.
pub const PROPAGATION: Duration = Duration::from_millis(500);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    Live { expires_at: DateTime<Utc> },
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
        let session = store::sessions::find(db, session_id)
            .await
            .context("cannot read the session's status")?;
        let status = match session {
            Some(session) if session.revoked_at.is_none() => SessionStatus::Live {
                expires_at: session.expires_at,
            },
            _ => SessionStatus::Revoked,
        };
        self.cache.insert(session_id, status);
        Ok(status)
    }

    /// Records a revocation made by this instance so it takes effect at once.
    pub fn mark_revoked(&self, session_id: Uuid) {
        self.cache.insert(session_id, SessionStatus::Revoked);
    }
}
