//! The values every flow of `auth` shares and the API layer reads: who a
//! request came from, an account and a session as shown, and a token pair.

use chrono::{DateTime, Utc};
use entity::user;
use uuid::Uuid;

use crate::domain::{Email, Password, UserName};

/// Where a request came from, for sessions and the audit trail.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A new account's details, already parsed.
pub struct Registration {
    pub name: UserName,
    pub email: Email,
    pub password: Password,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// A user as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub roles: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// When an admin disabled the account, while it is disabled.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Whether the user followed a link mailed to the current address.
    pub email_verified: bool,
}

impl From<user::Model> for Account {
    fn from(user: user::Model) -> Self {
        Self {
            id: user.id,
            name: user.name,
            email: user.email,
            roles: user.roles.0,
            created_at: user.created_at,
            disabled_at: user.disabled_at,
            email_verified: user.email_verified_at.is_some(),
        }
    }
}

/// A session as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionView {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub refreshed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When it ends unless refreshed before (the idle timeout).
    pub idle_expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// Whether it is the session of the request's access token.
    pub current: bool,
}

/// An access token and when it expires.
#[derive(Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"<hidden>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The answer to a sign-in and to a refresh: a token pair and its user.
#[derive(Clone)]
pub struct SignedIn {
    pub access: AccessToken,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub account: Account,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("access", &self.access)
            .field("refresh_token", &"<hidden>")
            .field("refresh_expires_at", &self.refresh_expires_at)
            .field("account", &self.account.id)
            .finish()
    }
}
