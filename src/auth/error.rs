use std::sync::Arc;

/// Why a guarded field has no usable access token; shown to clients as
/// `extensions.reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnauthenticatedReason {
    /// No `Authorization` header.
    Missing,
    /// A header that is not `Bearer <jwt>`, or a token that is not a JWT.
    Malformed,
    /// Bad signature, algorithm, issuer, audience or claims.
    Invalid,
    Expired,
    /// The session was logged out or revoked.
    Revoked,
}

impl UnauthenticatedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Invalid => "invalid",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

/// Everything authentication can refuse, plus the unexpected. Cloneable so a
/// request's authentication outcome can be computed once and asked again.
#[derive(Clone, Debug, thiserror::Error)]
pub enum AuthError {
    #[error("not authenticated ({})", .0.as_str())]
    Unauthenticated(UnauthenticatedReason),
    /// Authenticated, but without the role the field requires.
    #[error("the {0} role is required")]
    Forbidden(&'static str),
    /// The change would leave no user with the admin role.
    #[error("the last admin cannot lose the admin role")]
    LastAdmin,
    #[error("a token of the wrong kind was used")]
    TokenMisused,
    #[error("invalid e-mail or password")]
    InvalidCredentials,
    /// The password was right, but an admin disabled the account.
    #[error("the account is disabled")]
    AccountDisabled,
    /// The password a signed-in user confirmed a change with is wrong;
    /// `field` names the input that held it.
    #[error("the password is wrong")]
    WrongPassword { field: &'static str },
    /// The password was right, but the address must be confirmed first
    /// (`AUTHQL_REQUIRE_VERIFIED_EMAIL`).
    #[error("the e-mail address is not verified")]
    EmailNotVerified,
    /// A link's token that is unknown, used, expired, superseded or of
    /// another purpose.
    #[error("invalid or expired token")]
    InvalidToken,
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    #[error("the e-mail address is already registered")]
    EmailTaken,
    /// Too many attempts (for this account or from this address): try again
    /// after `retry_after` seconds. Says nothing about the credentials.
    #[error("throttled for {retry_after} s")]
    Throttled { retry_after: u64 },
    /// Too many credential checks are already waiting for a hashing worker.
    #[error("the password hashers are saturated")]
    Busy { retry_after: u64 },
    /// No sign-in provider has that id.
    #[error("no such provider")]
    UnknownProvider,
    /// The browser may not be sent there (`AUTHQL_REDIRECT_URLS`).
    #[error("the redirect is not allowed")]
    RedirectNotAllowed,
    /// The provider did not answer in time, or could not be reached.
    #[error("the provider is unavailable")]
    ProviderUnavailable,
    /// The provider said no: the user cancelled, or it refused the code.
    #[error("the provider refused")]
    ProviderRefused,
    /// The provider's answer did not verify (ID token, nonce, audience…).
    #[error("the provider's answer is invalid")]
    ProviderAnswerInvalid,
    /// The provider gave no address for a new account.
    #[error("the provider gave no usable e-mail address")]
    ProviderEmailMissing,
    /// An address the provider does not vouch for belongs to an account:
    /// sign in and link instead.
    #[error("an account with this address exists")]
    AccountExists,
    /// New accounts through this provider are turned off.
    #[error("sign-up through this provider is disabled")]
    SignUpClosed,
    /// The provider's account is linked to another user, or the user has
    /// another account at that provider linked.
    #[error("the identity is linked already")]
    IdentityTaken,
    /// Unlinking would leave the account no way to sign in.
    #[error("the last way to sign in cannot be removed")]
    LastSignInMethod,
    /// The change needs a sign-in within the last minutes.
    #[error("a recent sign-in is required")]
    RecentSignInRequired,
    /// A wrong (or used) second-factor code.
    #[error("the second factor is wrong")]
    WrongSecondFactor,
    /// The account has an authenticator app already.
    #[error("a second factor is enrolled already")]
    SecondFactorExists,
    /// The user has no such second factor.
    #[error("no such second factor")]
    NoSecondFactor,
    /// An admin field, for an admin whose session has no second factor
    /// (`AUTHQL_ADMIN_REQUIRES_SECOND_FACTOR`).
    #[error("admin fields need a sign-in with a second factor")]
    AdminNeedsSecondFactor,
    /// Second factors need a master key to seal their secrets (not HS256).
    #[error("second factors are not available on this server")]
    SecondFactorUnavailable,
    /// Passkeys are off (`AUTHQL_PASSKEYS`).
    #[error("passkeys are not available on this server")]
    PasskeysUnavailable,
    /// A passkey ceremony that is unknown, finished already, expired, or
    /// not the caller's.
    #[error("the passkey challenge is unknown, used or expired")]
    PasskeyChallengeInvalid,
    /// The authenticator's answer did not verify; `reason` is one of
    /// [`crate::auth::passkeys::REFUSALS`].
    #[error("the passkey was refused ({reason})")]
    InvalidPasskey { reason: &'static str },
    /// The credential is registered already (to this or another account).
    #[error("the passkey is registered already")]
    PasskeyExists,
    /// The user has no such passkey (or none at all).
    #[error("no such passkey")]
    NoPasskey,

    /// A failure of ours (database, signing…): logged, never shown.
    #[error("{0:#}")]
    Unexpected(Arc<anyhow::Error>),
}

impl From<anyhow::Error> for AuthError {
    fn from(error: anyhow::Error) -> Self {
        Self::Unexpected(Arc::new(error))
    }
}
