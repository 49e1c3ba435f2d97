use sea_orm::entity::prelude::*;

/// A user's passkey (a WebAuthn credential).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkeys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// SHA-256 (hex) of the credential id: how an assertion finds it.
    pub credential_hash: String,
    /// The user's name for it ("YubiKey", "Work laptop").
    pub name: String,
    /// The credential as webauthn-rs keeps it (JSON): its id, public key,
    /// sign counter and flags. Public data: nothing here signs anything.
    pub credential: String,
    /// Whether the authenticator said it is backed up (a synced passkey).
    pub backed_up: bool,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
