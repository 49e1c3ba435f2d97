use sea_orm::entity::prelude::*;

/// A token signing key. Its schedule: published from `created_at`, signs
/// from `starts_signing_at` until `stops_signing_at` (open: until the next
/// rotation), verifies until `expires_at`, then is deleted. A retired key is
/// trusted no more and its private key is erased.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    /// The RFC 7638 thumbprint of the public key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// `EdDSA`, `ES256` or `RS256`.
    pub algorithm: String,
    /// The public key as a JWK (JSON).
    #[sea_orm(column_type = "Text")]
    pub public_jwk: String,
    /// The private key sealed by the master key; `None` once retired.
    pub private_key: Option<Vec<u8>>,
    pub created_at: DateTimeUtc,
    pub starts_signing_at: DateTimeUtc,
    pub stops_signing_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    pub retired_at: Option<DateTimeUtc>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_key", &"<hidden>")
            .field("starts_signing_at", &self.starts_signing_at)
            .field("stops_signing_at", &self.stops_signing_at)
            .field("expires_at", &self.expires_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
