use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A registered account. `Debug` hides the password hash.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// Stored trimmed and lower-cased, so the unique index is case-insensitive.
    #[sea_orm(unique)]
    pub email: String,
    /// argon2id hash in PHC string format.
    pub password_hash: String,
    pub roles: Roles,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Set while an admin has disabled the account.
    pub disabled_at: Option<DateTimeUtc>,
    /// When the user last proved they read the current address's mail.
    pub email_verified_at: Option<DateTimeUtc>,
    /// Goes up at every credential or recovery event; mailed links issued
    /// under an older version are refused.
    pub credential_version: i64,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("email", &self.email)
            .field("password_hash", &"<hidden>")
            .field("roles", &self.roles)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("disabled_at", &self.disabled_at)
            .field("email_verified_at", &self.email_verified_at)
            .field("credential_version", &self.credential_version)
            .finish()
    }
}

/// The roles granted to a user, stored as a JSON array of strings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct Roles(pub Vec<String>);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
