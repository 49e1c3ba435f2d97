//! Deleting rows long past their expiry. Plain conditional deletes: running
//! on every instance at once is safe, each row goes exactly once.

use chrono::{DateTime, Utc};
use entity::{login_throttle, refresh_token, session};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// What one cleanup removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deleted {
    pub sessions: u64,
    pub refresh_tokens: u64,
    pub login_throttles: u64,
    pub revocations: u64,
}

/// Deletes refresh tokens and sessions that expired before `cutoff`, and
/// login throttles whose last failure was before it. A used
/// refresh token is kept until then: until it expires it is the blacklist.
pub async fn delete_expired<C: ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
) -> Result<Deleted, DbErr> {
    let refresh_tokens = refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::ExpiresAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected;
    // A session's refresh tokens never outlive it, so none remain; the
    // foreign key cascades anyway.
    let sessions = session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected;
    // Failures of logins last tried before the cutoff are forgotten.
    let login_throttles = login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::LastFailedAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected;
    // Followers read the feed within seconds; an instance that fell further
    // behind reloads everything instead (see auth::feed).
    let revocations = super::revocations::delete_before(db, cutoff).await?;
    Ok(Deleted {
        sessions,
        refresh_tokens,
        login_throttles,
        revocations,
    })
}
