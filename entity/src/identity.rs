use sea_orm::entity::prelude::*;

/// An account at a sign-in provider, linked to a user.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// The provider's id in `AUTHQL_PROVIDERS`.
    pub provider: String,
    /// The account's id at the provider (`sub`), unique per provider.
    pub subject: String,
    /// The address the provider gave when it was linked.
    pub email: Option<String>,
    pub linked_at: DateTimeUtc,
    pub last_sign_in_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
