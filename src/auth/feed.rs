//! Following the revocation feed: every change that must reach other
//! instances' access-token checks (a session ended, a user changed, a key
//! retired) is a row appended in the transaction of the change
//! ([`crate::store::revocations`]). Each instance reads the rows after the
//! last position it applied: one indexed query per interval whatever the
//! number of sessions, and at once when PostgreSQL notifies a commit.
//!
//! An instance that cannot read the feed for longer than its bound stops
//! trusting its cached statuses (see [`super::status_cache`]) and says so in
//! the log; once it reads the feed again it drops every cached status, so
//! nothing it missed (rows cleaned up meanwhile included) survives.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::Notify;

use super::keys::Keyring;
use super::session_core::{Change, SessionNews};
use super::status_cache::{FeedState, SessionStatusCache};
use crate::config::FeedSettings;
use crate::store::revocations::{self, Revoked};

/// Rows read per query while catching up.
const BATCH: u64 = 1000;

/// The follower of one instance.
pub struct RevocationFeed {
    db: DatabaseConnection,
    news: SessionNews,
    keyring: Arc<Keyring>,
    poll_interval: Duration,
    /// The database URL, for PostgreSQL's `LISTEN`.
    listen_url: Option<String>,
}

impl RevocationFeed {
    /// A follower from the feed's end now (this instance has cached nothing
    /// yet, so nothing before it matters), and the session news (status
    /// cache and listeners) it tells of every change it reads.
    pub async fn start(
        db: DatabaseConnection,
        keyring: Arc<Keyring>,
        settings: FeedSettings,
        database_url: &str,
    ) -> anyhow::Result<(Self, SessionNews)> {
        let position = revocations::newest(&db)
            .await
            .context("cannot read the revocation feed")?;
        let news = SessionNews::new(SessionStatusCache::new(Arc::new(FeedState::new(
            position,
            settings.stale_after,
        ))));
        let listen_url =
            (db.get_database_backend() == DbBackend::Postgres).then(|| database_url.to_owned());
        let feed = Self {
            db,
            news: news.clone(),
            keyring,
            poll_interval: settings.poll_interval,
            listen_url,
        };
        Ok((feed, news))
    }

    /// Follows the feed until dropped.
    pub async fn follow(self) {
        let committed = Arc::new(Notify::new());
        // Ends with this future (the server stopping).
        let _listener = self
            .listen_url
            .clone()
            .map(|url| AbortOnDrop(tokio::spawn(listen(url, Arc::clone(&committed)))));
        let mut ticks = tokio::time::interval(self.poll_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let state = Arc::clone(self.news.statuses().feed());
        let mut failing = false;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = committed.notified() => {}
            }
            let was_stale = state.is_stale();
            match self.catch_up(&state).await {
                Ok(()) => {
                    if was_stale {
                        self.news.forget_statuses();
                        tracing::warn!(
                            "the revocation feed is readable again; cached session statuses were dropped"
                        );
                    }
                    failing = false;
                }
                Err(error) => {
                    if !failing && state.is_stale() {
                        failing = true;
                        tracing::error!(
                            error = format!("{error:#}"),
                            behind = ?state.behind(),
                            "cannot read the revocation feed: every request is checked against the database until it can"
                        );
                    }
                }
            }
        }
    }

    /// Reads and applies every row after the applied position.
    async fn catch_up(&self, state: &FeedState) -> anyhow::Result<()> {
        let mut position = state.position();
        loop {
            let rows = revocations::after(&self.db, position, BATCH)
                .await
                .context("cannot read the revocation feed")?;
            let Some(last) = rows.last() else {
                state.caught_up(position);
                return Ok(());
            };
            position = last.position;
            let changes: Vec<Revoked> = rows.iter().filter_map(Revoked::from_row).collect();
            let retired_a_key = changes.iter().any(|c| matches!(c, Revoked::Key(_)));
            if !changes.is_empty() {
                self.news.announce(Change::FromFeed(changes.into()));
            }
            if retired_a_key && let Err(error) = self.keyring.reload().await {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "cannot reload the signing keys after a retirement"
                );
            }
            if (rows.len() as u64) < BATCH {
                state.caught_up(position);
                return Ok(());
            }
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Wakes the follower whenever a transaction that appended to the feed
/// commits (PostgreSQL `LISTEN`); polling remains the safety net.
async fn listen(url: String, committed: Arc<Notify>) {
    use sea_orm::sqlx::postgres::PgListener;
    loop {
        let lost: Result<std::convert::Infallible, sea_orm::sqlx::Error> = async {
            let mut listener = PgListener::connect(&url).await?;
            listener.listen(revocations::CHANNEL).await?;
            loop {
                listener.recv().await?;
                committed.notify_one();
            }
        }
        .await;
        let Err(error) = lost;
        tracing::debug!(%error, "revocation feed listener lost; reconnecting");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
