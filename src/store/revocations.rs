//! The revocation feed's rows: appended in the transaction of the change they
//! announce, read by position.

use chrono::{DateTime, Utc};
use entity::revocation;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

/// The PostgreSQL channel a commit of new rows is announced on.
pub const CHANNEL: &str = "authql_revocations";

/// What a feed row says has changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revoked {
    /// A session ended: its access tokens stop.
    Session(uuid::Uuid),
    /// A user changed (roles, disabled, password): what instances cached of
    /// the user's sessions is stale.
    User(uuid::Uuid),
    /// A signing key was retired: instances reload their keys.
    Key(String),
}

impl Revoked {
    fn kind(&self) -> &'static str {
        match self {
            Self::Session(_) => "session",
            Self::User(_) => "user",
            Self::Key(_) => "key",
        }
    }

    fn subject(&self) -> String {
        match self {
            Self::Session(id) | Self::User(id) => id.to_string(),
            Self::Key(kid) => kid.clone(),
        }
    }

    /// The change a row records; `None` for a row this version cannot read.
    pub fn from_row(row: &revocation::Model) -> Option<Self> {
        match row.kind.as_str() {
            "session" => row.subject.parse().ok().map(Self::Session),
            "user" => row.subject.parse().ok().map(Self::User),
            "key" => Some(Self::Key(row.subject.clone())),
            _ => None,
        }
    }
}

/// Appends `changes` to the feed in the caller's transaction `tx`. On
/// PostgreSQL appenders take turns (a transaction-long advisory lock), so
/// positions become visible in order and a follower never skips a row that
/// commits late; the commit also notifies [`CHANNEL`]. SQLite has one
/// writer at a time anyway.
pub async fn append<C: ConnectionTrait>(
    tx: &C,
    changes: &[Revoked],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if changes.is_empty() {
        return Ok(());
    }
    if tx.get_database_backend() == DbBackend::Postgres {
        tx.execute_unprepared(&format!(
            "SELECT pg_advisory_xact_lock({})",
            super::Lock::Revocations.key()
        ))
        .await?;
        tx.execute_unprepared(&format!("SELECT pg_notify('{CHANNEL}', '')"))
            .await?;
    }
    revocation::Entity::insert_many(changes.iter().map(|change| revocation::ActiveModel {
        position: sea_orm::NotSet,
        kind: Set(change.kind().to_owned()),
        subject: Set(change.subject()),
        created_at: Set(now),
    }))
    .exec(tx)
    .await?;
    Ok(())
}

/// Up to `limit` rows after `position`, oldest first.
pub async fn after<C: ConnectionTrait>(
    db: &C,
    position: i64,
    limit: u64,
) -> Result<Vec<revocation::Model>, DbErr> {
    revocation::Entity::find()
        .filter(revocation::Column::Position.gt(position))
        .order_by_asc(revocation::Column::Position)
        .limit(limit)
        .all(db)
        .await
}

/// The newest position (0 for an empty feed).
pub async fn newest<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    let newest: Option<Option<i64>> = revocation::Entity::find()
        .select_only()
        .expr(Func::max(Expr::col(revocation::Column::Position)))
        .into_tuple()
        .one(db)
        .await?;
    Ok(newest.flatten().unwrap_or(0))
}

/// Deletes rows older than `cutoff`; how many.
pub async fn delete_before<C: ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(revocation::Entity::delete_many()
        .filter(revocation::Column::CreatedAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
