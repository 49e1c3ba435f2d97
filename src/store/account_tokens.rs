//! Tokens of links mailed to users, kept as hashes: issued (superseding the
//! user's older ones of the same purpose) and taken at most once.

use chrono::{DateTime, Utc};
use entity::{account_token, user};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

/// What a link is for; a token of one purpose is refused for another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    PasswordReset,
    /// Confirms the account's current address.
    VerifyEmail,
    /// Confirms a new address, which replaces the current one.
    ChangeEmail,
}

impl Purpose {
    pub const ALL: [Self; 3] = [Self::PasswordReset, Self::VerifyEmail, Self::ChangeEmail];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::VerifyEmail => "verify_email",
            Self::ChangeEmail => "change_email",
        }
    }

    fn parse(stored: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|purpose| purpose.as_str() == stored)
    }
}

/// A token about to be issued.
pub struct NewToken<'a> {
    pub user_id: Uuid,
    pub purpose: Purpose,
    pub token_hash: String,
    /// The address the link goes to.
    pub email: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The account's credential version now.
    pub credential_version: i64,
}

/// A token taken for use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taken {
    pub user_id: Uuid,
    pub purpose: Purpose,
    pub email: String,
    /// The account's credential version when the link was issued (equal to
    /// the account's when it was taken).
    pub credential_version: i64,
}

/// Stores a new token; the user's unused tokens of the same purpose stop
/// working (a newer link supersedes older ones).
pub async fn issue<C: ConnectionTrait>(db: &C, new: NewToken<'_>) -> Result<(), DbErr> {
    retire(db, new.user_id, &[new.purpose], new.now).await?;
    account_token::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(new.user_id),
        purpose: Set(new.purpose.as_str().to_owned()),
        token_hash: Set(new.token_hash),
        email: Set(new.email.to_owned()),
        created_at: Set(new.now),
        expires_at: Set(new.expires_at),
        used_at: Set(None),
        credential_version: Set(new.credential_version),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Makes the user's unused tokens of `purposes` unusable.
pub async fn retire<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    purposes: &[Purpose],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, Expr::value(now))
        .filter(account_token::Column::UserId.eq(user_id))
        .filter(account_token::Column::Purpose.is_in(purposes.iter().map(|p| p.as_str())))
        .filter(account_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Whether the link was issued under the account's current credential
/// version: a recovery since then retired it.
fn issued_under_current_credentials() -> sea_orm::sea_query::SimpleExpr {
    account_token::Column::CredentialVersion.in_subquery(
        Query::select()
            .column(user::Column::CredentialVersion)
            .from(user::Entity)
            .and_where(
                Expr::col((user::Entity, user::Column::Id))
                    .equals((account_token::Entity, account_token::Column::UserId)),
            )
            .to_owned(),
    )
}

/// The token with `token_hash` if it is one of `purposes`, unused,
/// unexpired and issued under the account's current credential version; it
/// stays usable.
pub async fn find_usable<C: ConnectionTrait>(
    db: &C,
    token_hash: &str,
    purposes: &[Purpose],
    now: DateTime<Utc>,
) -> Result<Option<Taken>, DbErr> {
    let row = account_token::Entity::find()
        .filter(account_token::Column::TokenHash.eq(token_hash))
        .filter(account_token::Column::Purpose.is_in(purposes.iter().map(|p| p.as_str())))
        .filter(account_token::Column::UsedAt.is_null())
        .filter(account_token::Column::ExpiresAt.gt(now))
        .filter(issued_under_current_credentials())
        .one(db)
        .await?;
    Ok(row.and_then(taken))
}

/// Uses the token with `token_hash` if it is one of `purposes`, unused,
/// unexpired and issued under the account's current credential version:
/// one conditional update, so of two concurrent uses one wins.
pub async fn take<C: ConnectionTrait>(
    db: &C,
    token_hash: &str,
    purposes: &[Purpose],
    now: DateTime<Utc>,
) -> Result<Option<Taken>, DbErr> {
    let rows = account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, Expr::value(now))
        .filter(account_token::Column::TokenHash.eq(token_hash))
        .filter(account_token::Column::Purpose.is_in(purposes.iter().map(|p| p.as_str())))
        .filter(account_token::Column::UsedAt.is_null())
        .filter(account_token::Column::ExpiresAt.gt(now))
        .filter(issued_under_current_credentials())
        .exec_with_returning(db)
        .await?;
    Ok(rows.into_iter().next().and_then(taken))
}

fn taken(row: account_token::Model) -> Option<Taken> {
    Some(Taken {
        purpose: Purpose::parse(&row.purpose)?,
        user_id: row.user_id,
        email: row.email,
        credential_version: row.credential_version,
    })
}

/// Deletes tokens that expired before `cutoff`.
pub async fn delete_expired<C: ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(account_token::Entity::delete_many()
        .filter(account_token::Column::ExpiresAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
