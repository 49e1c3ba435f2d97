use sea_orm::entity::prelude::*;

/// A user's second factor (an authenticator app's TOTP secret).
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "second_factors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// `totp`.
    pub kind: String,
    /// The secret, sealed under the master key (nonce and ciphertext).
    pub secret: Vec<u8>,
    pub created_at: DateTimeUtc,
    /// When the user confirmed it with a code; `None` while pending.
    pub confirmed_at: Option<DateTimeUtc>,
    /// Until when a pending factor may be confirmed.
    pub pending_until: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    /// The last time step whose code was accepted: no code of it or before
    /// it is accepted again.
    pub last_used_step: Option<i64>,
    /// Wrong codes since the last right one.
    pub failures: i32,
    /// Second-factor checks of the account are refused until then.
    pub locked_until: Option<DateTimeUtc>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondFactor")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("kind", &self.kind)
            .field("secret", &"<hidden>")
            .field("confirmed_at", &self.confirmed_at)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
