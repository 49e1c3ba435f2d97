//! How the process hears of changes to sessions and accounts: each change,
//! made here (at commit) or read from the revocation feed, is applied to
//! this instance's status cache and then published to in-process listeners,
//! in one place ([`SessionNews::announce`]).

use std::sync::Arc;

use tokio::sync::broadcast;
use uuid::Uuid;

use super::ending::EndReason;
use crate::auth::status_cache::SessionStatusCache;
use crate::store::revocations::Revoked;

/// How many changes a slow listener may fall behind before it misses some
/// (it is then told how many, by [`broadcast::error::RecvError::Lagged`]).
const BACKLOG: usize = 1024;

/// A change to sessions or accounts that this process has heard of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A session was opened here.
    SessionOpened { user_id: Uuid, session_id: Uuid },
    /// Sessions were ended here, and why.
    SessionsEnded {
        sessions: Arc<[Uuid]>,
        reason: EndReason,
    },
    /// A user's account was changed here (roles, disabled, address): what
    /// is cached of its sessions is stale.
    AccountChanged { user_id: Uuid },
    /// Changes read from the revocation feed: other instances', and this
    /// instance's own again.
    FromFeed(Arc<[Revoked]>),
}

impl Change {
    /// What the status cache must forget or mark.
    fn revoked(&self) -> Vec<Revoked> {
        match self {
            Self::SessionOpened { .. } => Vec::new(),
            Self::SessionsEnded { sessions, .. } => {
                sessions.iter().copied().map(Revoked::Session).collect()
            }
            Self::AccountChanged { user_id } => vec![Revoked::User(*user_id)],
            Self::FromFeed(changes) => changes.to_vec(),
        }
    }
}

/// The status cache and the listeners of this process, told of every
/// change in the same step.
#[derive(Clone, Debug)]
pub struct SessionNews {
    statuses: SessionStatusCache,
    listeners: broadcast::Sender<Change>,
}

impl SessionNews {
    pub fn new(statuses: SessionStatusCache) -> Self {
        Self {
            statuses,
            listeners: broadcast::Sender::new(BACKLOG),
        }
    }

    /// The cache of session statuses that every authenticated request asks.
    pub fn statuses(&self) -> &SessionStatusCache {
        &self.statuses
    }

    /// Every change announced from now on, in order.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.listeners.subscribe()
    }

    /// Applies `change` to the status cache, then publishes it. Changes made
    /// here come through [`super::Unit::commit`]; the feed's through
    /// [`Change::FromFeed`].
    pub fn announce(&self, change: Change) {
        let revoked = change.revoked();
        if !revoked.is_empty() {
            self.statuses.apply(&revoked);
        }
        // No listener is not an error.
        let _ = self.listeners.send(change);
    }

    /// Forgets every cached status (after the feed could not be followed).
    pub fn forget_statuses(&self) {
        self.statuses.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::status_cache::FeedState;

    #[tokio::test]
    async fn listeners_hear_every_change_in_order() {
        let news = SessionNews::new(SessionStatusCache::new(Arc::new(FeedState::new(
            0,
            std::time::Duration::from_secs(5),
        ))));
        let mut heard = news.subscribe();
        let session = Uuid::new_v4();
        let user_id = Uuid::new_v4();
        news.announce(Change::SessionOpened {
            user_id,
            session_id: session,
        });
        news.announce(Change::SessionsEnded {
            sessions: Arc::from([session]),
            reason: EndReason::Logout,
        });
        assert_eq!(
            heard.recv().await.ok(),
            Some(Change::SessionOpened {
                user_id,
                session_id: session
            })
        );
        assert_eq!(
            heard.recv().await.ok(),
            Some(Change::SessionsEnded {
                sessions: Arc::from([session]),
                reason: EndReason::Logout,
            })
        );
    }
}
