use sea_orm::entity::prelude::*;

/// The token of a link mailed to a user, kept only as a hash.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// `password_reset`, `verify_email` or `change_email`.
    pub purpose: String,
    /// SHA-256 (hex) of the token's 32 random bytes.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The address the link was mailed to (for `change_email`, the new one).
    pub email: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// When it was used, or superseded by a newer one.
    pub used_at: Option<DateTimeUtc>,
    /// The account's credential version when the link was issued: the link
    /// is refused once the account's has moved on.
    pub credential_version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
