//! Whether a session is still live, asked on every authenticated request,
//! together with its user (one joined query).
//!
//! Access tokens are stateless JWTs, so logout could not end them without a
//! look-up. Each session's status is read from the database once and kept
//! until the revocation feed ([`super::feed`]) says it changed, or the
//! session expires: the guarded path costs a memory look-up whatever the
//! number of sessions, and a revocation anywhere reaches this instance as
//! soon as the feed does.
//!
//! Two rules keep the cache honest:
//! - An answer read from the database is kept only if no feed change was
//!   applied while it was being read (a generation count, compared under a
//!   lock the feed's writer takes), so a stale read never outlives the change
//!   that made it stale.
//! - Fail closed: while the feed has not been read for longer than its bound
//!   ([`FeedState::is_stale`]), nothing cached is trusted and every request
//!   asks the database (or fails if it cannot).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use moka::sync::Cache;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::Account;
use crate::store;
use crate::store::revocations::Revoked;

/// How many session statuses an instance keeps.
const CAPACITY: u64 = 200_000;
/// A status unused for this long is dropped (and read again when needed).
const IDLE: Duration = Duration::from_secs(3600);

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

/// How far this instance has followed the revocation feed, and when it last
/// caught up.
#[derive(Debug)]
pub struct FeedState {
    /// The newest feed position applied.
    position: AtomicI64,
    /// Bumped whenever changes are applied.
    generation: AtomicU64,
    /// When the feed was last read to its end, in ms since `epoch`.
    caught_up_ms: AtomicU64,
    epoch: Instant,
    stale_after: Duration,
}

impl FeedState {
    pub fn new(position: i64, stale_after: Duration) -> Self {
        Self {
            position: AtomicI64::new(position),
            generation: AtomicU64::new(0),
            caught_up_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            stale_after,
        }
    }

    pub fn position(&self) -> i64 {
        self.position.load(Ordering::Acquire)
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Records that the feed was read to its end at `position`.
    pub fn caught_up(&self, position: i64) {
        self.position.store(position, Ordering::Release);
        self.caught_up_ms
            .store(self.elapsed_ms(), Ordering::Release);
    }

    /// How long since the feed was last read to its end.
    pub fn behind(&self) -> Duration {
        Duration::from_millis(
            self.elapsed_ms()
                .saturating_sub(self.caught_up_ms.load(Ordering::Acquire)),
        )
    }

    /// Whether the feed has not been read for longer than the bound: cached
    /// statuses may have missed a revocation.
    pub fn is_stale(&self) -> bool {
        self.behind() > self.stale_after
    }
}

#[derive(Clone, Debug)]
pub struct SessionStatusCache {
    cache: Cache<Uuid, SessionStatus>,
    feed: Arc<FeedState>,
    /// Held for reading while a status read from the database is stored,
    /// for writing while feed changes are applied.
    applying: Arc<RwLock<()>>,
}

impl SessionStatusCache {
    pub fn new(feed: Arc<FeedState>) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_idle(IDLE)
                .build(),
            feed,
            applying: Arc::default(),
        }
    }

    pub fn feed(&self) -> &Arc<FeedState> {
        &self.feed
    }

    pub async fn status(
        &self,
        db: &DatabaseConnection,
        session_id: Uuid,
    ) -> anyhow::Result<SessionStatus> {
        if self.feed.is_stale() {
            // Fail closed: the database decides, every time.
            return read(db, session_id).await;
        }
        if let Some(status) = self.cache.get(&session_id) {
            return Ok(status);
        }
        let generation = self.feed.generation.load(Ordering::Acquire);
        let status = read(db, session_id).await?;
        let _reading = self.applying.read().unwrap_or_else(|p| p.into_inner());
        if self.feed.generation.load(Ordering::Acquire) == generation {
            self.cache.insert(session_id, status.clone());
        }
        Ok(status)
    }

    /// Applies changes read from the feed, or made by this instance.
    pub fn apply(&self, changes: &[Revoked]) {
        let _applying = self.applying.write().unwrap_or_else(|p| p.into_inner());
        for change in changes {
            match change {
                Revoked::Session(id) => self.cache.insert(*id, SessionStatus::Revoked),
                Revoked::User(user_id) => {
                    let stale: Vec<Uuid> = self
                        .cache
                        .iter()
                        .filter(|(_, status)| {
                            matches!(status, SessionStatus::Live { account, .. } if account.id == *user_id)
                        })
                        .map(|(id, _)| *id)
                        .collect();
                    for id in stale {
                        self.cache.invalidate(&id);
                    }
                }
                Revoked::Key(_) => {}
            }
        }
        self.feed.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Forgets every status (after the feed could not be followed).
    pub fn clear(&self) {
        let _applying = self.applying.write().unwrap_or_else(|p| p.into_inner());
        self.cache.invalidate_all();
        self.feed.generation.fetch_add(1, Ordering::AcqRel);
    }
}

async fn read(db: &DatabaseConnection, session_id: Uuid) -> anyhow::Result<SessionStatus> {
    let found = store::sessions::find_with_user(db, session_id)
        .await
        .context("cannot read the session's status")?;
    Ok(match found {
        Some((session, user)) if session.revoked_at.is_none() && user.disabled_at.is_none() => {
            SessionStatus::Live {
                expires_at: session.expires_at,
                account: Arc::new(user.into()),
            }
        }
        // Revoked, deleted, or its user is gone or disabled.
        _ => SessionStatus::Revoked,
    })
}
