use sea_orm::entity::prelude::*;

/// The revocation feed: one row per change that other instances' access-token
/// checks must hear of, in commit order.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revocations")]
pub struct Model {
    /// Monotonic: rows are appended one transaction at a time.
    #[sea_orm(primary_key)]
    pub position: i64,
    /// `session`, `user` or `key`.
    pub kind: String,
    /// The session id, the user id, or the key's kid.
    pub subject: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
