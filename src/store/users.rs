use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::page;
use crate::domain::{Page, Slice};

/// What `users.password_hash` holds for an account without a password
/// (made through a provider, or claimed from someone who registered an
/// address they did not own). Never a PHC string, so nothing verifies
/// against it; logins are checked against the fallback hash instead.
pub const NO_PASSWORD: &str = "!";

/// The user's password hash, or `None` when the account has no password.
pub fn password_of(user: &user::Model) -> Option<&str> {
    Some(user.password_hash.as_str()).filter(|hash| *hash != NO_PASSWORD)
}

/// A user about to be inserted.
pub struct NewUser<'a> {
    /// The new user's id (a random v4; a passkey sign-up's is chosen
    /// before the account exists, as the passkey's user handle).
    pub id: Uuid,
    pub name: &'a str,
    pub email: &'a str,
    pub password_hash: String,
    pub roles: Vec<String>,
    /// Set when the address counts as verified from the start.
    pub email_verified_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

pub async fn insert<C: ConnectionTrait>(db: &C, new: NewUser<'_>) -> Result<user::Model, DbErr> {
    user::ActiveModel {
        id: Set(new.id),
        name: Set(new.name.to_owned()),
        email: Set(new.email.to_owned()),
        password_hash: Set(new.password_hash),
        roles: Set(user::Roles(new.roles)),
        created_at: Set(new.now),
        updated_at: Set(new.now),
        disabled_at: Set(None),
        email_verified_at: Set(new.email_verified_at),
        credential_version: Set(0),
    }
    .insert(db)
    .await
}

/// Looks a user up by an e-mail address already trimmed and lower-cased.
pub async fn find_by_email<C: ConnectionTrait>(
    db: &C,
    email: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await
}

pub async fn find<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id(id).one(db).await
}

/// Replaces the user's password hash.
pub async fn set_password_hash<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks the user's address `email` verified now, while the account still
/// has that address and `credential_version`: the updated user, or `None`.
/// The condition is evaluated on the row itself, so a recovery committed
/// concurrently (which moves the version on) wins over the link.
pub async fn set_email_verified<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    email: &str,
    credential_version: i64,
    now: DateTime<Utc>,
) -> Result<Option<user::Model>, DbErr> {
    let updated = user::Entity::update_many()
        .col_expr(user::Column::EmailVerifiedAt, Expr::value(now))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::Email.eq(email))
        .filter(user::Column::CredentialVersion.eq(credential_version))
        .exec_with_returning(db)
        .await?;
    Ok(updated.into_iter().next())
}

/// Replaces the user's address with `email` (canonical), verified now,
/// while the account still has `credential_version`; `None` when it has
/// another. Fails on the unique index if another account has the address.
pub async fn set_email<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    email: &str,
    credential_version: i64,
    now: DateTime<Utc>,
) -> Result<Option<user::Model>, DbErr> {
    let updated = user::Entity::update_many()
        .col_expr(user::Column::Email, Expr::value(email))
        .col_expr(user::Column::EmailVerifiedAt, Expr::value(now))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::CredentialVersion.eq(credential_version))
        .exec_with_returning(db)
        .await?;
    Ok(updated.into_iter().next())
}

/// Rewrites the user's address in another spelling of the same mailbox
/// (its canonical one); fails on the unique index if another account has
/// that spelling already.
pub async fn respell_email<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(user::Column::Email, Expr::value(email))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Moves the user's credential version on: every mailed link issued before
/// stops working.
pub async fn advance_credential_version<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(
            user::Column::CredentialVersion,
            Expr::col(user::Column::CredentialVersion).add(1),
        )
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Replaces the user's roles; the updated user, or `None` when there is none.
pub async fn set_roles<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    roles: Vec<String>,
    now: DateTime<Utc>,
) -> Result<Option<user::Model>, DbErr> {
    let updated = user::Entity::update_many()
        .col_expr(user::Column::Roles, Expr::value(user::Roles(roles)))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .exec_with_returning(db)
        .await?;
    Ok(updated.into_iter().next())
}

/// How many enabled users hold `role` (a name of `a-z 0-9 _ - : .`, so matching its
/// quoted form in the stored JSON array is exact on both backends).
pub async fn count_with_role<C: ConnectionTrait>(db: &C, role: &str) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    use sea_orm::sea_query::ExprTrait;
    user::Entity::find()
        .filter(user::Column::DisabledAt.is_null())
        .filter(Expr::cust("CAST(roles AS TEXT)").like(format!("%\"{role}\"%")))
        .count(db)
        .await
}

/// Disables (`Some(now)`) or enables (`None`) the user; the updated user, or
/// `None` when there is none.
pub async fn set_disabled<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    disabled_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<user::Model>, DbErr> {
    let updated = user::Entity::update_many()
        .col_expr(user::Column::DisabledAt, Expr::value(disabled_at))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .exec_with_returning(db)
        .await?;
    Ok(updated.into_iter().next())
}

/// A page of users, newest first; with `search`, only those whose name or
/// e-mail address contains it (case-insensitively; `%` and `_` match
/// themselves).
pub async fn list<C: ConnectionTrait>(
    db: &C,
    search: Option<&str>,
    page: Page,
) -> Result<Slice<user::Model>, DbErr> {
    let mut select = user::Entity::find();
    if let Some(search) = search {
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        let like = || LikeExpr::new(pattern.clone()).escape('\\');
        select = select.filter(
            Condition::any()
                .add(Expr::expr(Func::lower(Expr::col(user::Column::Name))).like(like()))
                .add(Expr::col(user::Column::Email).like(like())),
        );
    }
    page::read(db, select, "users", page).await
}

/// `text` with LIKE's wildcards and its escape character escaped.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_wildcards_match_themselves() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(escape_like("ada"), "ada");
    }
}
