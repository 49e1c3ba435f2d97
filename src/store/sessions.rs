use chrono::{DateTime, Utc};
use entity::{session, user};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, Order, QueryFilter, Set,
};
use uuid::Uuid;

use super::page;
use crate::domain::{Page, Slice};

/// A session about to be inserted.
pub struct NewSession {
    pub user_id: Uuid,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// RFC 8176 `amr` values, space-separated.
    pub auth_methods: String,
    pub authenticated_at: DateTime<Utc>,
}

pub async fn insert<C: ConnectionTrait>(db: &C, new: NewSession) -> Result<session::Model, DbErr> {
    session::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(new.user_id),
        created_at: Set(new.now),
        refreshed_at: Set(new.now),
        expires_at: Set(new.expires_at),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        user_agent: Set(new.user_agent),
        ip: Set(new.ip),
        auth_methods: Set(new.auth_methods),
        authenticated_at: Set(Some(new.authenticated_at)),
    }
    .insert(db)
    .await
}

pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<session::Model>, DbErr> {
    session::Entity::find_by_id(id).one(db).await
}

/// The session and its user, in one query.
pub async fn find_with_user<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<(session::Model, user::Model)>, DbErr> {
    let found = session::Entity::find_by_id(id)
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(session, user)| Some((session, user?))))
}

pub async fn mark_refreshed<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::RefreshedAt, Expr::value(now))
        .filter(session::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A page of the user's live sessions, newest first: not revoked, not past
/// their end, refreshed since `idle_since`.
pub async fn list_live<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    now: DateTime<Utc>,
    idle_since: DateTime<Utc>,
    page: Page,
) -> Result<Slice<session::Model>, DbErr> {
    let select = session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .filter(session::Column::RefreshedAt.gt(idle_since));
    page::read(db, select, "sessions", page).await
}

/// Which sessions a revocation ends.
#[derive(Clone, Copy, Debug)]
pub enum Selection {
    One(Uuid),
    /// One session, only if it is this user's.
    OneOfUser {
        user_id: Uuid,
        id: Uuid,
    },
    /// Every session of the user, but `except`.
    AllOfUser {
        user_id: Uuid,
        except: Option<Uuid>,
    },
    /// The user's sessions older than their newest `keep` unrevoked ones.
    OldestOfUser {
        user_id: Uuid,
        keep: u64,
    },
}

/// Revokes the selected sessions not revoked yet, in one conditional
/// update; returns the ids this call revoked.
pub async fn revoke<C: ConnectionTrait>(
    db: &C,
    selection: Selection,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, DbErr> {
    let update = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(session::Column::RevokedAt.is_null());
    let update = match selection {
        Selection::One(id) => update.filter(session::Column::Id.eq(id)),
        Selection::OneOfUser { user_id, id } => update
            .filter(session::Column::Id.eq(id))
            .filter(session::Column::UserId.eq(user_id)),
        Selection::AllOfUser { user_id, except } => {
            let update = update.filter(session::Column::UserId.eq(user_id));
            match except {
                Some(id) => update.filter(session::Column::Id.ne(id)),
                None => update,
            }
        }
        Selection::OldestOfUser { user_id, keep } => {
            let newest = Query::select()
                .column(session::Column::Id)
                .from(session::Entity)
                .and_where(Expr::col(session::Column::UserId).eq(user_id))
                .and_where(Expr::col(session::Column::RevokedAt).is_null())
                .order_by(session::Column::CreatedAt, Order::Desc)
                .order_by(session::Column::Id, Order::Desc)
                .limit(keep)
                .to_owned();
            update
                .filter(session::Column::UserId.eq(user_id))
                .filter(session::Column::Id.not_in_subquery(newest))
        }
    };
    let revoked = update.exec_with_returning(db).await?;
    Ok(revoked.into_iter().map(|session| session.id).collect())
}
