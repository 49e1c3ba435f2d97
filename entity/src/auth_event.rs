use sea_orm::entity::prelude::*;

/// The audit trail: one row per security-relevant event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `registered`, `login_succeeded`, `login_failed`, `refreshed`,
    /// `refresh_token_reused`, `logout`, ...
    pub kind: String,
    pub user_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Why, for failures: never shown to clients.
    pub detail: Option<String>,
    /// Who caused the event when not its user: an admin's user id, or
    /// `operator` (the CLI).
    pub actor: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
