use sea_orm::entity::prelude::*;

/// Every refresh token ever issued, keyed by its `jti`. A used or revoked row
/// stays until the token has expired: it is the blacklist.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub jti: Uuid,
    /// The `jti` of the access token issued together with this refresh token.
    #[sea_orm(unique)]
    pub xpair: Uuid,
    pub session_id: Uuid,
    pub user_id: Uuid,
    /// The refresh token this one was rotated from; `None` for a login's first.
    pub parent_jti: Option<Uuid>,
    pub issued_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Expiry of the paired access token, so a retry within the grace period
    /// can be answered with the very same pair.
    pub access_expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::session::Entity",
        from = "Column::SessionId",
        to = "super::session::Column::Id",
        on_delete = "Cascade"
    )]
    Session,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
