use chrono::{DateTime, Utc};
use entity::refresh_token;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use uuid::Uuid;

pub async fn insert<C: ConnectionTrait>(
    db: &C,
    row: refresh_token::Model,
) -> Result<refresh_token::Model, DbErr> {
    refresh_token::ActiveModel {
        jti: Set(row.jti),
        xpair: Set(row.xpair),
        session_id: Set(row.session_id),
        user_id: Set(row.user_id),
        parent_jti: Set(row.parent_jti),
        issued_at: Set(row.issued_at),
        expires_at: Set(row.expires_at),
        access_expires_at: Set(row.access_expires_at),
        used_at: Set(row.used_at),
        revoked_at: Set(row.revoked_at),
    }
    .insert(db)
    .await
}

pub async fn find<C: ConnectionTrait>(
    db: &C,
    jti: Uuid,
) -> Result<Option<refresh_token::Model>, DbErr> {
    refresh_token::Entity::find_by_id(jti).one(db).await
}

/// Marks an unused, unrevoked token used. A conditional update, never
/// read-then-write: of any number of concurrent callers exactly one gets `true`.
pub async fn mark_used<C: ConnectionTrait>(
    db: &C,
    jti: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Jti.eq(jti))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The token that `parent` was rotated into.
pub async fn find_successor<C: ConnectionTrait>(
    db: &C,
    parent: Uuid,
) -> Result<Option<refresh_token::Model>, DbErr> {
    refresh_token::Entity::find()
        .filter(refresh_token::Column::ParentJti.eq(parent))
        .one(db)
        .await
}

/// The session's live refresh token: unused, unrevoked, latest expiry first.
pub async fn find_current_for_session<C: ConnectionTrait>(
    db: &C,
    session_id: Uuid,
) -> Result<Option<refresh_token::Model>, DbErr> {
    refresh_token::Entity::find()
        .filter(refresh_token::Column::SessionId.eq(session_id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .order_by_desc(refresh_token::Column::ExpiresAt)
        .one(db)
        .await
}

/// Revokes every not yet revoked token of the sessions; returns how many.
pub async fn revoke_for_sessions<C: ConnectionTrait>(
    db: &C,
    session_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    if session_ids.is_empty() {
        return Ok(0);
    }
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::SessionId.is_in(session_ids.iter().copied()))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
