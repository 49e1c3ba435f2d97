//! Accounts at sign-in providers linked to users.

use chrono::{DateTime, Utc};
use entity::identity;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use uuid::Uuid;

/// The identity `subject` at `provider`, whoever it is linked to.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    provider: &str,
    subject: &str,
) -> Result<Option<identity::Model>, DbErr> {
    identity::Entity::find()
        .filter(identity::Column::Provider.eq(provider))
        .filter(identity::Column::Subject.eq(subject))
        .one(db)
        .await
}

/// The user's identities, oldest link first.
pub async fn of_user<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<Vec<identity::Model>, DbErr> {
    identity::Entity::find()
        .filter(identity::Column::UserId.eq(user_id))
        .order_by_asc(identity::Column::LinkedAt)
        .all(db)
        .await
}

/// Links `subject` at `provider` to `user_id`. Fails on a unique index when
/// the subject is linked already, or the user has an identity there.
pub async fn link<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    provider: &str,
    subject: &str,
    email: Option<&str>,
    now: DateTime<Utc>,
) -> Result<identity::Model, DbErr> {
    identity::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user_id),
        provider: Set(provider.to_owned()),
        subject: Set(subject.to_owned()),
        email: Set(email.map(str::to_owned)),
        linked_at: Set(now),
        last_sign_in_at: Set(None),
    }
    .insert(db)
    .await
}

/// Records a sign-in through the identity.
pub async fn touch<C: ConnectionTrait>(db: &C, id: Uuid, now: DateTime<Utc>) -> Result<(), DbErr> {
    identity::Entity::update_many()
        .col_expr(identity::Column::LastSignInAt, Expr::value(now))
        .filter(identity::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Unlinks the user's identity at `provider`; whether there was one.
pub async fn unlink<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    provider: &str,
) -> Result<bool, DbErr> {
    let deleted = identity::Entity::delete_many()
        .filter(identity::Column::UserId.eq(user_id))
        .filter(identity::Column::Provider.eq(provider))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}
