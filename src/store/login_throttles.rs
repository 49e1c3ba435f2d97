use chrono::{DateTime, Utc};
use entity::login_throttle;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

pub async fn find<C: ConnectionTrait>(
    db: &C,
    key: &str,
) -> Result<Option<login_throttle::Model>, DbErr> {
    login_throttle::Entity::find_by_id(key.to_owned())
        .one(db)
        .await
}

/// Counts one failure: one statement (an upsert incrementing in place), so
/// concurrent failures on any number of instances are all counted.
pub async fn record_failure<C: ConnectionTrait>(
    db: &C,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    login_throttle::Entity::insert(login_throttle::ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(1),
        last_failed_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(login_throttle::Column::Key)
            .value(
                login_throttle::Column::Failures,
                Expr::col((login_throttle::Entity, login_throttle::Column::Failures)).add(1),
            )
            .value(login_throttle::Column::LastFailedAt, Expr::value(now))
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Forgets the failures after a successful login.
pub async fn reset<C: ConnectionTrait>(db: &C, key: &str) -> Result<(), DbErr> {
    login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}
