use sea_orm::entity::prelude::*;

/// A WebAuthn ceremony between its start and its finish.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkey_ceremonies")]
pub struct Model {
    /// The `challengeId` the client finishes it with.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `register`, `sign_up`, `sign_in` or `second_factor`.
    pub purpose: String,
    /// Whose: the registering user, the account a sign-in by address is
    /// for, the id a sign-up will create; `None` for a usernameless sign-in.
    pub user_id: Option<Uuid>,
    /// A sign-up's address.
    pub email: Option<String>,
    /// A sign-up's name.
    pub name: Option<String>,
    /// A second factor's two-step sign-in challenge.
    pub mfa_challenge_id: Option<Uuid>,
    /// webauthn-rs's ceremony state (JSON), holding the challenge.
    pub state: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
