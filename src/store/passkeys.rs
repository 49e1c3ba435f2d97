//! Passkeys: stored when registered, found by their credential id, their
//! sign counter moved on by each use.

use chrono::{DateTime, Utc};
use entity::passkey;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

/// A passkey about to be stored.
pub struct NewPasskey<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub credential_hash: String,
    pub name: &'a str,
    pub credential: String,
    pub backed_up: bool,
    pub now: DateTime<Utc>,
}

/// Stores a passkey; a credential id registered before (to any account) is
/// a unique violation.
pub async fn add<C: ConnectionTrait>(db: &C, new: NewPasskey<'_>) -> Result<passkey::Model, DbErr> {
    passkey::ActiveModel {
        id: Set(new.id),
        user_id: Set(new.user_id),
        credential_hash: Set(new.credential_hash),
        name: Set(new.name.to_owned()),
        credential: Set(new.credential),
        backed_up: Set(new.backed_up),
        created_at: Set(new.now),
        last_used_at: Set(None),
    }
    .insert(db)
    .await
}

/// The user's passkeys, oldest first.
pub async fn of_user<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<Vec<passkey::Model>, DbErr> {
    passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user_id))
        .order_by_asc(passkey::Column::CreatedAt)
        .order_by_asc(passkey::Column::Id)
        .all(db)
        .await
}

/// How many passkeys the user has.
pub async fn count<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<u64, DbErr> {
    passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user_id))
        .count(db)
        .await
}

/// The passkey whose credential id hashes to `credential_hash`.
pub async fn find_by_credential<C: ConnectionTrait>(
    db: &C,
    credential_hash: &str,
) -> Result<Option<passkey::Model>, DbErr> {
    passkey::Entity::find()
        .filter(passkey::Column::CredentialHash.eq(credential_hash))
        .one(db)
        .await
}

/// Records a use of passkey `id`: its credential as it now stands (the
/// counter moved on) and whether it is backed up. Only if the stored
/// credential is still `before`, so two assertions racing with one counter
/// cannot both move it.
pub async fn record_use<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    before: &str,
    credential: String,
    backed_up: bool,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let updated = passkey::Entity::update_many()
        .col_expr(passkey::Column::Credential, Expr::value(credential))
        .col_expr(passkey::Column::BackedUp, Expr::value(backed_up))
        .col_expr(passkey::Column::LastUsedAt, Expr::value(now))
        .filter(passkey::Column::Id.eq(id))
        .filter(passkey::Column::Credential.eq(before))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Renames the user's passkey `id`; `None` when they have no such passkey.
pub async fn rename<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    id: Uuid,
    name: &str,
) -> Result<Option<passkey::Model>, DbErr> {
    let updated = passkey::Entity::update_many()
        .col_expr(passkey::Column::Name, Expr::value(name))
        .filter(passkey::Column::Id.eq(id))
        .filter(passkey::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Ok(None);
    }
    passkey::Entity::find_by_id(id).one(db).await
}

/// Removes the user's passkey `id`; whether there was one.
pub async fn remove<C: ConnectionTrait>(db: &C, user_id: Uuid, id: Uuid) -> Result<bool, DbErr> {
    let removed = passkey::Entity::delete_many()
        .filter(passkey::Column::Id.eq(id))
        .filter(passkey::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(removed.rows_affected == 1)
}
