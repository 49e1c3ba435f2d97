//! First factors proven and waiting for the second: issued, burnt by wrong
//! codes, used once.

use chrono::{DateTime, Utc};
use entity::mfa_challenge;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

/// A challenge about to be issued.
pub struct NewChallenge<'a> {
    pub user_id: Uuid,
    pub token_hash: String,
    pub methods: &'a str,
    pub provider: Option<&'a str>,
    pub credential_version: i64,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn issue<C: ConnectionTrait>(db: &C, new: NewChallenge<'_>) -> Result<(), DbErr> {
    mfa_challenge::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(new.user_id),
        token_hash: Set(new.token_hash),
        methods: Set(new.methods.to_owned()),
        provider: Set(new.provider.map(str::to_owned)),
        credential_version: Set(new.credential_version),
        failures: Set(0),
        created_at: Set(new.now),
        expires_at: Set(new.expires_at),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The unused, unexpired challenge whose token hashes to `token_hash`.
pub async fn find_usable<C: ConnectionTrait>(
    db: &C,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<mfa_challenge::Model>, DbErr> {
    mfa_challenge::Entity::find()
        .filter(mfa_challenge::Column::TokenHash.eq(token_hash))
        .filter(mfa_challenge::Column::UsedAt.is_null())
        .filter(mfa_challenge::Column::ExpiresAt.gt(now))
        .one(db)
        .await
}

/// Counts a wrong code against challenge `id`; at `limit` it is used up.
pub async fn record_failure<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    limit: i32,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    mfa_challenge::Entity::update_many()
        .col_expr(
            mfa_challenge::Column::Failures,
            Expr::col(mfa_challenge::Column::Failures).add(1),
        )
        .filter(mfa_challenge::Column::Id.eq(id))
        .exec(db)
        .await?;
    mfa_challenge::Entity::update_many()
        .col_expr(mfa_challenge::Column::UsedAt, Expr::value(now))
        .filter(mfa_challenge::Column::Id.eq(id))
        .filter(mfa_challenge::Column::Failures.gte(limit))
        .exec(db)
        .await?;
    Ok(())
}

/// Uses challenge `id` up; whether it was still unused.
pub async fn take<C: ConnectionTrait>(db: &C, id: Uuid, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let taken = mfa_challenge::Entity::update_many()
        .col_expr(mfa_challenge::Column::UsedAt, Expr::value(now))
        .filter(mfa_challenge::Column::Id.eq(id))
        .filter(mfa_challenge::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Deletes challenges that expired before `cutoff`.
pub async fn delete_expired<C: ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(mfa_challenge::Entity::delete_many()
        .filter(mfa_challenge::Column::ExpiresAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
