//! WebAuthn ceremonies between their start and their finish: stored, and
//! taken once.

use chrono::{DateTime, Utc};
use entity::passkey_ceremony;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

/// A ceremony about to start.
pub struct NewCeremony<'a> {
    pub id: Uuid,
    pub purpose: &'static str,
    pub user_id: Option<Uuid>,
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
    pub mfa_challenge_id: Option<Uuid>,
    pub state: String,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn start<C: ConnectionTrait>(db: &C, new: NewCeremony<'_>) -> Result<(), DbErr> {
    passkey_ceremony::ActiveModel {
        id: Set(new.id),
        purpose: Set(new.purpose.to_owned()),
        user_id: Set(new.user_id),
        email: Set(new.email.map(str::to_owned)),
        name: Set(new.name.map(str::to_owned)),
        mfa_challenge_id: Set(new.mfa_challenge_id),
        state: Set(new.state),
        created_at: Set(new.now),
        expires_at: Set(new.expires_at),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Takes ceremony `id` of `purpose` if it is unused and unexpired: one
/// conditional update decides, so it is finished once however many requests
/// carry it.
pub async fn take<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<Option<passkey_ceremony::Model>, DbErr> {
    let taken = passkey_ceremony::Entity::update_many()
        .col_expr(passkey_ceremony::Column::UsedAt, Expr::value(now))
        .filter(passkey_ceremony::Column::Id.eq(id))
        .filter(passkey_ceremony::Column::Purpose.eq(purpose))
        .filter(passkey_ceremony::Column::UsedAt.is_null())
        .filter(passkey_ceremony::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    if taken.rows_affected != 1 {
        return Ok(None);
    }
    passkey_ceremony::Entity::find_by_id(id).one(db).await
}

/// Deletes ceremonies that expired before `cutoff`.
pub async fn delete_expired<C: ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(passkey_ceremony::Entity::delete_many()
        .filter(passkey_ceremony::Column::ExpiresAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
