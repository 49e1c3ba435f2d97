//! Sign-ins and links through a provider in flight. A flow is started,
//! answered by the provider once (its `state` used up), and completed by the
//! frontend once (its code used up); each step is one conditional statement,
//! so of two concurrent attempts one wins.

use chrono::{DateTime, Utc};
use entity::provider_flow;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

/// What a flow is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    SignIn,
    /// Linking an identity to the signed-in user who started it.
    Link,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::Link => "link",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [Self::SignIn, Self::Link]
            .into_iter()
            .find(|purpose| purpose.as_str() == stored)
    }
}

/// A flow about to start.
pub struct NewFlow<'a> {
    pub provider: &'a str,
    pub purpose: Purpose,
    pub state_hash: String,
    pub nonce: &'a str,
    pub provider_verifier: &'a str,
    pub code_challenge: &'a str,
    pub redirect_to: &'a str,
    /// For a link, who asks.
    pub user_id: Option<Uuid>,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn start<C: ConnectionTrait>(db: &C, new: NewFlow<'_>) -> Result<(), DbErr> {
    provider_flow::ActiveModel {
        id: Set(Uuid::new_v4()),
        provider: Set(new.provider.to_owned()),
        purpose: Set(new.purpose.as_str().to_owned()),
        state_hash: Set(new.state_hash),
        nonce: Set(Some(new.nonce.to_owned())),
        provider_verifier: Set(Some(new.provider_verifier.to_owned())),
        code_challenge: Set(new.code_challenge.to_owned()),
        redirect_to: Set(new.redirect_to.to_owned()),
        user_id: Set(new.user_id),
        code_hash: Set(None),
        subject: Set(None),
        email: Set(None),
        created_at: Set(new.now),
        expires_at: Set(new.expires_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Takes the flow of `provider` whose `state` hashes to `state_hash`, if it
/// is unanswered and unexpired: its secrets toward the provider are erased
/// in the same statement, so a replayed answer finds nothing. The row as it
/// was before.
pub async fn take_by_state<C: ConnectionTrait>(
    db: &C,
    provider: &str,
    state_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<provider_flow::Model>, DbErr> {
    let before = provider_flow::Entity::find()
        .filter(provider_flow::Column::StateHash.eq(state_hash))
        .filter(provider_flow::Column::Provider.eq(provider))
        .filter(provider_flow::Column::Nonce.is_not_null())
        .filter(provider_flow::Column::ExpiresAt.gt(now))
        .one(db)
        .await?;
    let Some(before) = before else {
        return Ok(None);
    };
    let taken = provider_flow::Entity::update_many()
        .col_expr(
            provider_flow::Column::Nonce,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            provider_flow::Column::ProviderVerifier,
            Expr::value(Option::<String>::None),
        )
        .filter(provider_flow::Column::Id.eq(before.id))
        .filter(provider_flow::Column::Nonce.is_not_null())
        .exec(db)
        .await?;
    Ok((taken.rows_affected == 1).then_some(before))
}

/// The provider's answer, to be completed by the frontend with `code_hash`'s
/// code before `expires_at`.
pub struct Answer<'a> {
    pub code_hash: String,
    /// Whom the flow signs in or links.
    pub user_id: Uuid,
    pub subject: &'a str,
    pub email: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
}

/// Records the provider's answer on flow `id`.
pub async fn answer<C: ConnectionTrait>(db: &C, id: Uuid, answer: Answer<'_>) -> Result<(), DbErr> {
    provider_flow::Entity::update_many()
        .col_expr(
            provider_flow::Column::CodeHash,
            Expr::value(answer.code_hash),
        )
        .col_expr(provider_flow::Column::UserId, Expr::value(answer.user_id))
        .col_expr(provider_flow::Column::Subject, Expr::value(answer.subject))
        .col_expr(provider_flow::Column::Email, Expr::value(answer.email))
        .col_expr(
            provider_flow::Column::ExpiresAt,
            Expr::value(answer.expires_at),
        )
        .filter(provider_flow::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes flow `id` (an answer that ended in an error).
pub async fn delete<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(), DbErr> {
    provider_flow::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Uses up the answered flow of `purpose` whose code hashes to `code_hash`,
/// if unexpired: it is deleted, whatever the frontend's verifier turns out
/// to be, so a code is tried once.
pub async fn take_by_code<C: ConnectionTrait>(
    db: &C,
    code_hash: &str,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<Option<provider_flow::Model>, DbErr> {
    let rows = provider_flow::Entity::delete_many()
        .filter(provider_flow::Column::CodeHash.eq(code_hash))
        .exec_with_returning(db)
        .await?;
    Ok(rows
        .into_iter()
        .next()
        .filter(|row| row.expires_at > now && Purpose::parse(&row.purpose) == Some(purpose)))
}

/// Deletes flows that expired before `cutoff`.
pub async fn delete_expired<C: ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(provider_flow::Entity::delete_many()
        .filter(provider_flow::Column::ExpiresAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
