//! The kinds of event the audit trail records.

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
    /// `requestPasswordReset`; the detail says whether a link was sent.
    PasswordResetRequested,
    /// A password set from a reset link.
    PasswordReset,
    /// The address was confirmed from a verification link.
    EmailVerified,
    /// `changeEmail`: a confirmation link went to the new address.
    EmailChangeRequested,
    /// A new address was confirmed and replaced the old one.
    EmailChanged,
    /// A mail was not sent: too many to one address or from one IP.
    MailLimited,
    /// An account at a sign-in provider was linked (the detail names it).
    IdentityLinked,
    IdentityUnlinked,
    /// A provider's answer was refused (`provider:why`).
    ProviderSignInFailed,
    /// Two-step sign-in was turned on (an authenticator app confirmed).
    SecondFactorAdded,
    /// A first factor was proven; the second was asked for.
    SecondFactorRequired,
    /// A wrong second-factor code (`locked` when it locked the checks).
    SecondFactorFailed,
    /// A second factor was removed (by the user, or reset by an admin).
    SecondFactorRemoved,
    /// A passkey was added to the account.
    PasskeyAdded,
    /// A passkey was removed (by the user, or by an admin).
    PasskeyRemoved,
    /// A passkey's answer was refused (the detail says why).
    PasskeySignInFailed,
}

impl EventKind {
    /// Every kind this version knows, for reading the trail back.
    pub const ALL: [Self; 30] = [
        Self::Registered,
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::Refreshed,
        Self::RefreshRejected,
        Self::RefreshTokenReused,
        Self::Logout,
        Self::LoginThrottled,
        Self::SessionRevoked,
        Self::PasswordChanged,
        Self::RolesChanged,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::PasswordChangeFailed,
        Self::PasswordResetRequested,
        Self::PasswordReset,
        Self::EmailVerified,
        Self::EmailChangeRequested,
        Self::EmailChanged,
        Self::MailLimited,
        Self::IdentityLinked,
        Self::IdentityUnlinked,
        Self::ProviderSignInFailed,
        Self::SecondFactorAdded,
        Self::SecondFactorRequired,
        Self::SecondFactorFailed,
        Self::SecondFactorRemoved,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
        Self::PasskeySignInFailed,
    ];

    /// The kind stored as `name`; `None` for a kind this version does not
    /// know (written by a newer instance).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

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
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::EmailVerified => "email_verified",
            Self::EmailChangeRequested => "email_change_requested",
            Self::EmailChanged => "email_changed",
            Self::MailLimited => "mail_limited",
            Self::IdentityLinked => "identity_linked",
            Self::IdentityUnlinked => "identity_unlinked",
            Self::ProviderSignInFailed => "provider_sign_in_failed",
            Self::SecondFactorAdded => "second_factor_added",
            Self::SecondFactorRequired => "second_factor_required",
            Self::SecondFactorFailed => "second_factor_failed",
            Self::SecondFactorRemoved => "second_factor_removed",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
            Self::PasskeySignInFailed => "passkey_sign_in_failed",
        }
    }
}
