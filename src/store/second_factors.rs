//! Second factors: enrolled pending, confirmed once, and each accepted code's
//! time step recorded by one conditional update, so a code is good once
//! however many requests carry it at the same moment.

use chrono::{DateTime, Utc};
use entity::second_factor;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

/// A factor about to be enrolled.
pub struct NewFactor {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: &'static str,
    pub secret: Vec<u8>,
    pub now: DateTime<Utc>,
    pub pending_until: DateTime<Utc>,
}

/// Stores a pending factor; the user's other pending ones are dropped.
pub async fn enroll<C: ConnectionTrait>(db: &C, new: NewFactor) -> Result<(), DbErr> {
    second_factor::Entity::delete_many()
        .filter(second_factor::Column::UserId.eq(new.user_id))
        .filter(second_factor::Column::ConfirmedAt.is_null())
        .exec(db)
        .await?;
    second_factor::ActiveModel {
        id: Set(new.id),
        user_id: Set(new.user_id),
        kind: Set(new.kind.to_owned()),
        secret: Set(new.secret),
        created_at: Set(new.now),
        confirmed_at: Set(None),
        pending_until: Set(Some(new.pending_until)),
        last_used_at: Set(None),
        last_used_step: Set(None),
        failures: Set(0),
        locked_until: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The user's pending factor `id`, if it has not expired.
pub async fn find_pending<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<second_factor::Model>, DbErr> {
    second_factor::Entity::find_by_id(id)
        .filter(second_factor::Column::UserId.eq(user_id))
        .filter(second_factor::Column::ConfirmedAt.is_null())
        .filter(second_factor::Column::PendingUntil.gt(now))
        .one(db)
        .await
}

/// The user's confirmed factors, oldest first.
pub async fn confirmed<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<Vec<second_factor::Model>, DbErr> {
    second_factor::Entity::find()
        .filter(second_factor::Column::UserId.eq(user_id))
        .filter(second_factor::Column::ConfirmedAt.is_not_null())
        .order_by_asc(second_factor::Column::CreatedAt)
        .all(db)
        .await
}

/// Whether the user has a confirmed factor.
pub async fn has_confirmed<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<bool, DbErr> {
    Ok(!confirmed(db, user_id).await?.is_empty())
}

/// Uses time step `step` of factor `id`: true when no code of this step or a
/// later one was accepted before (one conditional update decides).
/// `confirm` also confirms a pending factor.
pub async fn use_step<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    step: i64,
    confirm: bool,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut update = second_factor::Entity::update_many()
        .col_expr(second_factor::Column::LastUsedStep, Expr::value(step))
        .col_expr(second_factor::Column::LastUsedAt, Expr::value(now))
        .col_expr(second_factor::Column::Failures, Expr::value(0))
        .filter(second_factor::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(second_factor::Column::LastUsedStep.is_null())
                .add(second_factor::Column::LastUsedStep.lt(step)),
        );
    if confirm {
        update = update
            .col_expr(second_factor::Column::ConfirmedAt, Expr::value(now))
            .col_expr(
                second_factor::Column::PendingUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            );
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// Records a recovery code's use on the account's factors (a right code
/// resets the failures).
pub async fn clear_failures<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<(), DbErr> {
    second_factor::Entity::update_many()
        .col_expr(second_factor::Column::Failures, Expr::value(0))
        .filter(second_factor::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Counts a wrong code against the user's confirmed factors; when they
/// reach `limit`, second-factor checks are locked until `lock_until` (and
/// the count starts again). Returns the lock, if one is set now.
pub async fn record_failure<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    limit: i32,
    lock_until: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    second_factor::Entity::update_many()
        .col_expr(
            second_factor::Column::Failures,
            Expr::col(second_factor::Column::Failures).add(1),
        )
        .filter(second_factor::Column::UserId.eq(user_id))
        .filter(second_factor::Column::ConfirmedAt.is_not_null())
        .exec(db)
        .await?;
    let locked = second_factor::Entity::update_many()
        .col_expr(second_factor::Column::LockedUntil, Expr::value(lock_until))
        .col_expr(second_factor::Column::Failures, Expr::value(0))
        .filter(second_factor::Column::UserId.eq(user_id))
        .filter(second_factor::Column::ConfirmedAt.is_not_null())
        .filter(second_factor::Column::Failures.gte(limit))
        .exec(db)
        .await?;
    Ok((locked.rows_affected > 0).then_some(lock_until))
}

/// Until when the user's second-factor checks are locked, if they are.
pub async fn locked_until<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(confirmed(db, user_id)
        .await?
        .into_iter()
        .filter_map(|factor| factor.locked_until)
        .filter(|until| *until > now)
        .max())
}

/// Removes the user's factor `id`; whether there was one.
pub async fn remove<C: ConnectionTrait>(db: &C, user_id: Uuid, id: Uuid) -> Result<bool, DbErr> {
    let removed = second_factor::Entity::delete_many()
        .filter(second_factor::Column::UserId.eq(user_id))
        .filter(second_factor::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(removed.rows_affected > 0)
}

/// Removes every factor of the user, pending or confirmed; how many.
pub async fn remove_all<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<u64, DbErr> {
    Ok(second_factor::Entity::delete_many()
        .filter(second_factor::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Deletes pending factors nobody confirmed in time.
pub async fn delete_expired_pending<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(second_factor::Entity::delete_many()
        .filter(second_factor::Column::ConfirmedAt.is_null())
        .filter(second_factor::Column::PendingUntil.lt(now))
        .exec(db)
        .await?
        .rows_affected)
}
