use sea_orm::entity::prelude::*;

/// A sign-in or link through a provider, from its start to its completion.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "provider_flows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub provider: String,
    /// `sign_in` or `link`.
    pub purpose: String,
    /// SHA-256 (hex) of the `state` sent to the provider.
    #[sea_orm(unique)]
    pub state_hash: String,
    /// The nonce the ID token must carry (until the provider answers).
    pub nonce: Option<String>,
    /// authql's PKCE verifier toward the provider (until it answers).
    pub provider_verifier: Option<String>,
    /// The frontend's S256 PKCE challenge, which its verifier must meet.
    pub code_challenge: String,
    /// Where the browser is sent back to.
    pub redirect_to: String,
    /// The user: for a link, who started it; for a sign-in, once the
    /// provider answered, whom it signs in.
    pub user_id: Option<Uuid>,
    /// SHA-256 (hex) of the one-time code handed back to the frontend, once
    /// the provider answered.
    #[sea_orm(unique)]
    pub code_hash: Option<String>,
    /// The provider's account, once it answered.
    pub subject: Option<String>,
    pub email: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

/// The nonce and the verifier are secrets for as long as the flow lives.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderFlow")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("purpose", &self.purpose)
            .field("redirect_to", &self.redirect_to)
            .field("user_id", &self.user_id)
            .field("subject", &self.subject)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
