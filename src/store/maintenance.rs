//! Deleting rows long past their expiry. Plain conditional deletes: running
//! on every instance at once is safe, each row goes exactly once.

use chrono::{DateTime, TimeDelta, Utc};
use entity::{login_throttle, refresh_token, session};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// What one cleanup removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deleted {
    pub sessions: u64,
    pub refresh_tokens: u64,
    pub login_throttles: u64,
    pub revocations: u64,
    pub link_tokens: u64,
    pub sent_mails: u64,
    pub provider_flows: u64,
    /// Second-factor challenges and enrolments no one finished in time.
    pub mfa_challenges: u64,
    /// Passkey ceremonies no one finished in time.
    pub passkey_ceremonies: u64,
}

/// Deletes refresh tokens, sessions and link tokens that expired before
/// `cutoff`, login throttles whose last failure was before it, and mail sent
/// before it (but never in the last hour). A used
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
    let link_tokens = super::account_tokens::delete_expired(db, cutoff).await?;
    // The sending limits count the last hour's mail: it is always kept.
    // Mail given up on is kept for operators.
    let sent_cutoff = cutoff.min(Utc::now() - TimeDelta::hours(1));
    let sent_mails = super::outbox::delete_sent_before(db, sent_cutoff).await?;
    // A flow through a provider is of no use once expired.
    let provider_flows = super::provider_flows::delete_expired(db, Utc::now()).await?;
    let mfa_challenges = super::mfa_challenges::delete_expired(db, Utc::now()).await?
        + super::second_factors::delete_expired_pending(db, Utc::now()).await?;
    let passkey_ceremonies = super::passkey_ceremonies::delete_expired(db, Utc::now()).await?;
    Ok(Deleted {
        mfa_challenges,
        passkey_ceremonies,
        provider_flows,
        sessions,
        refresh_tokens,
        login_throttles,
        revocations,
        link_tokens,
        sent_mails,
    })
}
