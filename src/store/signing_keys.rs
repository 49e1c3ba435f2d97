//! The signing keys every instance shares.

use chrono::{DateTime, Utc};
use entity::signing_key;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, Set,
};

/// Every key, oldest first.
pub async fn all<C: ConnectionTrait>(db: &C) -> Result<Vec<signing_key::Model>, DbErr> {
    signing_key::Entity::find()
        .order_by_asc(signing_key::Column::StartsSigningAt)
        .order_by_asc(signing_key::Column::CreatedAt)
        .all(db)
        .await
}

pub async fn insert<C: ConnectionTrait>(
    db: &C,
    key: signing_key::Model,
) -> Result<signing_key::Model, DbErr> {
    key.into_active_model().insert(db).await
}

/// Ends `kid`'s signing at `stops` and its trust at `expires`.
pub async fn schedule_end<C: ConnectionTrait>(
    db: &C,
    kid: &str,
    stops: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<(), DbErr> {
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::StopsSigningAt, Expr::value(stops))
        .col_expr(signing_key::Column::ExpiresAt, Expr::value(expires))
        .filter(signing_key::Column::Kid.eq(kid))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks `kid` retired and erases its private key; the row is deleted after
/// `expires`. `false` if no such key is in use.
pub async fn retire<C: ConnectionTrait>(
    db: &C,
    kid: &str,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(key) = signing_key::Entity::find_by_id(kid.to_owned())
        .filter(signing_key::Column::RetiredAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    let stops = key.stops_signing_at.map_or(now, |s| s.min(now));
    let mut active = key.into_active_model();
    active.private_key = Set(None);
    active.retired_at = Set(Some(now));
    active.stops_signing_at = Set(Some(stops));
    active.expires_at = Set(Some(expires));
    active.update(db).await?;
    Ok(true)
}

/// Deletes keys whose every token has expired (retired keys included).
pub async fn delete_expired<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(signing_key::Entity::delete_many()
        .filter(signing_key::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected)
}
