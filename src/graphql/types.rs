//! The API's input and output types. Their doc comments are the schema's
//! descriptions, which code generators turn into editor hints.

use async_graphql::{Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};

use super::errors::FieldErrors;
use crate::auth::{AccessToken, Account, LogoutScope, Registration, SessionView, SignedIn};
use crate::config::PasswordPolicy;
use crate::domain::{Email, Password, UserName};

/// The `tokenType` of every token authql issues.
const TOKEN_TYPE: &str = "Bearer";

/// A registered user.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct User {
    /// The user's unique id (a UUID).
    pub id: ID,
    /// The display name given at registration.
    pub name: String,
    /// The e-mail address in its canonical spelling (lower-cased, the domain
    /// as its A-label).
    pub email: String,
    /// Whether the user confirmed the address by following a link mailed to
    /// it (`verifyEmail`, or a password reset).
    pub email_verified: bool,
    /// The roles granted to the user; every user has `user`.
    pub roles: Vec<String>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When an admin disabled the account; null while it is enabled.
    pub disabled_at: Option<DateTime<Utc>>,
}

impl From<Account> for User {
    fn from(account: Account) -> Self {
        Self {
            id: ID(account.id.to_string()),
            name: account.name,
            email: account.email,
            email_verified: account.email_verified,
            roles: account.roles,
            created_at: account.created_at,
            disabled_at: account.disabled_at,
        }
    }
}

/// Tokens issued by `register`, `login` and `refresh`.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// A short-lived JWT to send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub access_expires_in: i64,
    /// When the access token expires.
    pub access_token_expires_at: DateTime<Utc>,
    /// A single-use JWT for `refresh`; it is rotated on every use. Null when
    /// the server sends it only as an HttpOnly cookie
    /// (`AUTHQL_REFRESH_TOKEN_TRANSPORT=cookie`).
    pub refresh_token: Option<String>,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: i64,
    /// When the refresh token expires.
    pub refresh_token_expires_at: DateTime<Utc>,
    /// The signed-in user.
    pub user: User,
}

fn seconds_until(at: DateTime<Utc>) -> i64 {
    (at - Utc::now()).num_seconds().max(0)
}

impl From<SignedIn> for AuthPayload {
    fn from(signed_in: SignedIn) -> Self {
        Self {
            access_expires_in: seconds_until(signed_in.access.expires_at),
            access_token_expires_at: signed_in.access.expires_at,
            access_token: signed_in.access.token,
            token_type: TOKEN_TYPE,
            refresh_expires_in: seconds_until(signed_in.refresh_expires_at),
            refresh_token_expires_at: signed_in.refresh_expires_at,
            refresh_token: Some(signed_in.refresh_token),
            user: signed_in.account.into(),
        }
    }
}

/// A new access token for the current session, from `renewAccessToken`.
#[derive(SimpleObject)]
pub struct AccessTokenPayload {
    /// A short-lived JWT to send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub access_expires_in: i64,
    /// When the access token expires.
    pub access_token_expires_at: DateTime<Utc>,
}

impl From<AccessToken> for AccessTokenPayload {
    fn from(access: AccessToken) -> Self {
        Self {
            access_expires_in: seconds_until(access.expires_at),
            access_token_expires_at: access.expires_at,
            access_token: access.token,
            token_type: TOKEN_TYPE,
        }
    }
}

/// The result of `logout`.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// How many sessions this call ended (0 if it was already ended).
    pub revoked_sessions: i32,
}

/// A signed-in session: one per login.
#[derive(Clone, SimpleObject)]
pub struct Session {
    /// The session id (the `sid` claim of its tokens).
    pub id: ID,
    /// When the session began (the login).
    pub created_at: DateTime<Utc>,
    /// When its refresh token was last rotated.
    pub refreshed_at: DateTime<Utc>,
    /// When the session ends, however often it is refreshed.
    pub expires_at: DateTime<Utc>,
    /// When the session ends unless it is refreshed before
    /// (`AUTHQL_SESSION_IDLE_TIMEOUT` after the last refresh).
    pub idle_expires_at: DateTime<Utc>,
    /// The `User-Agent` of the login request.
    pub user_agent: Option<String>,
    /// The client IP address of the login request.
    pub ip: Option<String>,
    /// Whether this is the session of the access token making the request.
    pub current: bool,
}

impl From<SessionView> for Session {
    fn from(view: SessionView) -> Self {
        Self {
            id: ID(view.id.to_string()),
            created_at: view.created_at,
            refreshed_at: view.refreshed_at,
            expires_at: view.expires_at,
            idle_expires_at: view.idle_expires_at,
            user_agent: view.user_agent,
            ip: view.ip,
            current: view.current,
        }
    }
}

/// Which sessions `logout` ends.
#[derive(Enum, Clone, Copy, Default, PartialEq, Eq)]
#[graphql(name = "LogoutScope")]
pub enum LogoutScopeInput {
    /// This session only.
    #[default]
    Local,
    /// Every other session of the user; this one stays signed in.
    Others,
    /// Every session of the user, this one included.
    Global,
}

impl From<LogoutScopeInput> for LogoutScope {
    fn from(scope: LogoutScopeInput) -> Self {
        match scope {
            LogoutScopeInput::Local => Self::Local,
            LogoutScopeInput::Others => Self::Others,
            LogoutScopeInput::Global => Self::Global,
        }
    }
}

/// The current and the new password, for `changePassword`.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The password the account has now.
    pub current_password: String,
    /// The new password, held to the same policy as at registration.
    pub new_password: String,
}

impl ChangePasswordInput {
    /// Parses both passwords; the new one is judged knowing `account`'s name
    /// and e-mail.
    pub fn parse(
        self,
        policy: &PasswordPolicy,
        account: &Account,
    ) -> Result<(Password, Password), FieldErrors> {
        let mut errors = FieldErrors::default();
        let current = Password::candidate(self.current_password)
            .map_err(|m| errors.add("currentPassword", m))
            .ok();
        let new = Password::parse(
            self.new_password,
            policy.min_score,
            &[account.name.as_str(), account.email.as_str()],
        )
        .map_err(|m| errors.add("newPassword", m))
        .ok();
        match (current, new) {
            (Some(current), Some(new)) if errors.is_empty() => Ok((current, new)),
            _ => Err(errors),
        }
    }
}

/// A new account's details.
#[derive(InputObject)]
pub struct RegisterInput {
    /// Display name, 1 to 255 characters after trimming, at least one of them
    /// visible; characters that hide or reorder text (bidi controls,
    /// zero-width characters) and more than 4 accents on one letter are
    /// refused.
    pub name: String,
    /// E-mail address, at most 255 characters, stored in one spelling per
    /// mailbox: the domain as its A-label (IDN), the local part lower-cased
    /// and NFKC-normalised, unneeded quotes dropped. A local part that needs
    /// quotes or has characters beyond ASCII is refused.
    pub email: String,
    /// Password, 8 to 128 characters, hard to guess: a strength estimator
    /// (zxcvbn) that knows the name and e-mail must score it at least
    /// `AUTHQL_PASSWORD_MIN_SCORE` (3 of 4 by default).
    pub password: String,
    /// Must equal `password`.
    pub password_confirmation: String,
}

impl RegisterInput {
    /// Parses every field, reporting all offending fields at once.
    pub fn parse(self, policy: &PasswordPolicy) -> Result<Registration, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = UserName::parse(&self.name)
            .map_err(|m| errors.add("name", m))
            .ok();
        let email = Email::parse(&self.email)
            .map_err(|m| errors.add("email", m))
            .ok();
        let matches = self.password == self.password_confirmation;
        let password = Password::parse(
            self.password,
            policy.min_score,
            &[self.name.as_str(), self.email.as_str()],
        )
        .map_err(|m| errors.add("password", m))
        .ok();
        if !matches {
            errors.add("passwordConfirmation", "must equal the password");
        }
        match (name, email, password) {
            (Some(name), Some(email), Some(password)) if errors.is_empty() => Ok(Registration {
                name,
                email,
                password,
            }),
            _ => Err(errors),
        }
    }
}

/// Credentials for `login`.
#[derive(InputObject)]
pub struct LoginInput {
    /// The e-mail address, matched trimmed and case-insensitively.
    pub email: String,
    /// The password.
    pub password: String,
}

impl LoginInput {
    pub fn parse(self) -> Result<(String, Password), FieldErrors> {
        let mut errors = FieldErrors::default();
        if self.email.trim().is_empty() {
            errors.add("email", "must not be empty");
        }
        let password = Password::candidate(self.password)
            .map_err(|m| errors.add("password", m))
            .ok();
        match password {
            Some(password) if errors.is_empty() => Ok((self.email, password)),
            _ => Err(errors),
        }
    }
}

/// A reset link's token and the new password, for `resetPassword`.
#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// The token from the reset link (the `{token}` of `AUTHQL_RESET_URL`).
    pub token: String,
    /// The new password, held to the same policy as at registration.
    pub new_password: String,
}

/// The new address and the current password, for `changeEmail`.
#[derive(InputObject)]
pub struct ChangeEmailInput {
    /// The address to move the account to; it takes effect when the link
    /// mailed to it is followed.
    pub new_email: String,
    /// The account's current password.
    pub password: String,
}

impl ChangeEmailInput {
    pub fn parse(self) -> Result<(Email, Password), FieldErrors> {
        let mut errors = FieldErrors::default();
        let email = Email::parse(&self.new_email)
            .map_err(|m| errors.add("newEmail", m))
            .ok();
        let password = Password::candidate(self.password)
            .map_err(|m| errors.add("password", m))
            .ok();
        match (email, password) {
            (Some(email), Some(password)) if errors.is_empty() => Ok((email, password)),
            _ => Err(errors),
        }
    }
}
