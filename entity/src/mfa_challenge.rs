use sea_orm::entity::prelude::*;

/// A first factor proven, waiting for the second.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mfa_challenges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// SHA-256 (hex) of the `mfaToken`.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The first factor's `amr` values, space-separated.
    pub methods: String,
    /// The provider, when the first factor was one.
    pub provider: Option<String>,
    /// The account's credential version when the first factor was proven.
    pub credential_version: i64,
    /// Wrong codes given with it.
    pub failures: i32,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
