use chrono::{DateTime, Utc};
use entity::auth_event;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use uuid::Uuid;

/// What happened, as stored in `auth_events.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Registered,
    LoginSucceeded,
    LoginFailed,
    Refreshed,
    RefreshRejected,
    RefreshTokenReused,
    Logout,
    /// A credential request refused by a throttle (per account or per IP).
    LoginThrottled,
    /// A session ended by its owner from another session (`revokeSession`).
    SessionRevoked,
    PasswordChanged,
    /// An admin set a user's roles.
    RolesChanged,
    UserDisabled,
    UserEnabled,
    /// `changePassword` with a wrong current password.
    PasswordChangeFailed,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::Refreshed => "refreshed",
            Self::RefreshRejected => "refresh_rejected",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::Logout => "logout",
            Self::LoginThrottled => "login_throttled",
            Self::SessionRevoked => "session_revoked",
            Self::PasswordChanged => "password_changed",
            Self::RolesChanged => "roles_changed",
            Self::UserDisabled => "user_disabled",
            Self::UserEnabled => "user_enabled",
            Self::PasswordChangeFailed => "password_change_failed",
        }
    }
}

/// One audit record.
pub struct NewEvent<'a> {
    pub kind: EventKind,
    pub user_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub now: DateTime<Utc>,
}

pub async fn record<C: ConnectionTrait>(db: &C, event: NewEvent<'_>) -> Result<(), DbErr> {
    auth_event::ActiveModel {
        id: Set(Uuid::new_v4()),
        kind: Set(event.kind.as_str().to_owned()),
        user_id: Set(event.user_id),
        session_id: Set(event.session_id),
        ip: Set(event.ip.map(str::to_owned)),
        user_agent: Set(event.user_agent.map(str::to_owned)),
        detail: Set(event.detail.map(str::to_owned)),
        created_at: Set(event.now),
    }
    .insert(db)
    .await?;
    Ok(())
}
