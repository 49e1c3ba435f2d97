//! The one place where errors become GraphQL errors with a stable
//! `extensions.code`. Nothing internal reaches a client: unexpected errors
//! are logged here (inside the request's span, so with its request id) and
//! answered with an opaque message.

use std::borrow::Cow;
use std::collections::BTreeMap;

use async_graphql::{ErrorExtensions, ServerError, Value};
use uuid::Uuid;

use crate::auth::AuthError;

/// Stable error codes clients can rely on.
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const TOKEN_MISUSED: &str = "TOKEN_MISUSED";
    pub const INVALID_CREDENTIALS: &str = "INVALID_CREDENTIALS";
    pub const INVALID_REFRESH_TOKEN: &str = "INVALID_REFRESH_TOKEN";
    pub const EMAIL_TAKEN: &str = "EMAIL_TAKEN";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const TOO_MANY_REQUESTS: &str = "TOO_MANY_REQUESTS";
    pub const SERVER_BUSY: &str = "SERVER_BUSY";
    pub const REQUEST_TIMEOUT: &str = "REQUEST_TIMEOUT";
    pub const ORIGIN_NOT_ALLOWED: &str = "ORIGIN_NOT_ALLOWED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const ACCOUNT_DISABLED: &str = "ACCOUNT_DISABLED";
    pub const LAST_ADMIN: &str = "LAST_ADMIN";
    pub const EMAIL_NOT_VERIFIED: &str = "EMAIL_NOT_VERIFIED";
    pub const INVALID_TOKEN: &str = "INVALID_TOKEN";
    pub const PROVIDER_NOT_FOUND: &str = "PROVIDER_NOT_FOUND";
    pub const REDIRECT_NOT_ALLOWED: &str = "REDIRECT_NOT_ALLOWED";
    pub const PROVIDER_UNAVAILABLE: &str = "PROVIDER_UNAVAILABLE";
    pub const PROVIDER_REFUSED: &str = "PROVIDER_REFUSED";
    pub const PROVIDER_ANSWER_INVALID: &str = "PROVIDER_ANSWER_INVALID";
    pub const PROVIDER_EMAIL_MISSING: &str = "PROVIDER_EMAIL_MISSING";
    pub const ACCOUNT_EXISTS: &str = "ACCOUNT_EXISTS";
    pub const SIGN_UP_DISABLED: &str = "SIGN_UP_DISABLED";
    pub const IDENTITY_ALREADY_LINKED: &str = "IDENTITY_ALREADY_LINKED";
    pub const LAST_SIGN_IN_METHOD: &str = "LAST_SIGN_IN_METHOD";
    pub const RECENT_SIGN_IN_REQUIRED: &str = "RECENT_SIGN_IN_REQUIRED";
    pub const SECOND_FACTOR_REQUIRED: &str = "SECOND_FACTOR_REQUIRED";
    pub const INVALID_SECOND_FACTOR: &str = "INVALID_SECOND_FACTOR";
    pub const SECOND_FACTOR_EXISTS: &str = "SECOND_FACTOR_EXISTS";
    pub const SECOND_FACTOR_UNAVAILABLE: &str = "SECOND_FACTOR_UNAVAILABLE";
    pub const SECOND_FACTOR_NOT_FOUND: &str = "SECOND_FACTOR_NOT_FOUND";
    pub const PASSKEYS_UNAVAILABLE: &str = "PASSKEYS_UNAVAILABLE";
    pub const INVALID_PASSKEY_CHALLENGE: &str = "INVALID_PASSKEY_CHALLENGE";
    pub const INVALID_PASSKEY: &str = "INVALID_PASSKEY";
    pub const PASSKEY_EXISTS: &str = "PASSKEY_EXISTS";
    pub const PASSKEY_NOT_FOUND: &str = "PASSKEY_NOT_FOUND";
    // Refusals of the HTTP layer, before any GraphQL runs.
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    pub const BATCHING_NOT_SUPPORTED: &str = "BATCHING_NOT_SUPPORTED";
    pub const CORS_METHOD_NOT_ALLOWED: &str = "CORS_METHOD_NOT_ALLOWED";
    pub const CORS_HEADER_NOT_ALLOWED: &str = "CORS_HEADER_NOT_ALLOWED";
}

/// The message every unexpected error is answered with.
pub const INTERNAL_MESSAGE: &str = "Internal server error";

/// Offending input fields (by their GraphQL name) and what is wrong with each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<&'static str, Cow<'static, str>>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<Cow<'static, str>>) {
        self.0.entry(field).or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn to_value(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(field, message)| {
                    (
                        async_graphql::Name::new(*field),
                        Value::from(message.as_ref()),
                    )
                })
                .collect(),
        )
    }
}

/// What every resolver returns: its value, or an [`ApiError`] (an
/// [`AuthError`] or [`FieldErrors`] converts with `?`).
pub type Result<T> = std::result::Result<T, ApiError>;

/// Every error a resolver can answer with.
#[derive(Debug)]
pub enum ApiError {
    Auth(AuthError),
    BadUserInput(FieldErrors),
    /// `EMAIL_TAKEN`, naming the input field that held the address.
    EmailTaken(FieldErrors),
    /// A refresh cookie sent from an origin not trusted with credentials.
    ForeignOrigin,
    /// A resolver's context lacks what the server always provides.
    Misconfigured(&'static str),
    /// The first factor is proven; the second must follow with the
    /// challenge's `mfaToken` (no session is open).
    SecondFactorRequired(crate::auth::SecondFactorChallenge),
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        Self::Auth(error)
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        Self::BadUserInput(errors)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        error.extend()
    }
}

fn coded(message: &str, code: &'static str) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
}

/// The stable code of each refusal: the GraphQL errors' `extensions.code`,
/// and the `error` a provider's callback sends the browser back with.
pub fn code_of(error: &AuthError) -> &'static str {
    match error {
        AuthError::Unauthenticated(_) => code::UNAUTHENTICATED,
        AuthError::Forbidden(_) => code::FORBIDDEN,
        AuthError::LastAdmin => code::LAST_ADMIN,
        AuthError::TokenMisused => code::TOKEN_MISUSED,
        AuthError::InvalidCredentials | AuthError::WrongPassword { .. } => {
            code::INVALID_CREDENTIALS
        }
        AuthError::AccountDisabled => code::ACCOUNT_DISABLED,
        AuthError::EmailNotVerified => code::EMAIL_NOT_VERIFIED,
        AuthError::InvalidToken => code::INVALID_TOKEN,
        AuthError::InvalidRefreshToken => code::INVALID_REFRESH_TOKEN,
        AuthError::EmailTaken => code::EMAIL_TAKEN,
        AuthError::Throttled { .. } => code::TOO_MANY_REQUESTS,
        AuthError::Busy { .. } => code::SERVER_BUSY,
        AuthError::UnknownProvider => code::PROVIDER_NOT_FOUND,
        AuthError::RedirectNotAllowed => code::REDIRECT_NOT_ALLOWED,
        AuthError::ProviderUnavailable => code::PROVIDER_UNAVAILABLE,
        AuthError::ProviderRefused => code::PROVIDER_REFUSED,
        AuthError::ProviderAnswerInvalid => code::PROVIDER_ANSWER_INVALID,
        AuthError::ProviderEmailMissing => code::PROVIDER_EMAIL_MISSING,
        AuthError::AccountExists => code::ACCOUNT_EXISTS,
        AuthError::SignUpClosed => code::SIGN_UP_DISABLED,
        AuthError::IdentityTaken => code::IDENTITY_ALREADY_LINKED,
        AuthError::LastSignInMethod => code::LAST_SIGN_IN_METHOD,
        AuthError::RecentSignInRequired => code::RECENT_SIGN_IN_REQUIRED,
        AuthError::WrongSecondFactor => code::INVALID_SECOND_FACTOR,
        AuthError::SecondFactorExists => code::SECOND_FACTOR_EXISTS,
        AuthError::SecondFactorUnavailable => code::SECOND_FACTOR_UNAVAILABLE,
        AuthError::NoSecondFactor => code::SECOND_FACTOR_NOT_FOUND,
        AuthError::AdminNeedsSecondFactor => code::FORBIDDEN,
        AuthError::PasskeysUnavailable => code::PASSKEYS_UNAVAILABLE,
        AuthError::PasskeyChallengeInvalid => code::INVALID_PASSKEY_CHALLENGE,
        AuthError::InvalidPasskey { .. } => code::INVALID_PASSKEY,
        AuthError::PasskeyExists => code::PASSKEY_EXISTS,
        AuthError::NoPasskey => code::PASSKEY_NOT_FOUND,
        AuthError::Unexpected(_) => code::INTERNAL_SERVER_ERROR,
    }
}

/// What a client is told of each refusal.
fn message_of(error: &AuthError) -> &'static str {
    match error {
        AuthError::Unauthenticated(_) => "Authentication required",
        AuthError::Forbidden(_) => "This field requires another role",
        AuthError::AccountDisabled => "This account is disabled",
        AuthError::LastAdmin => "The last admin cannot lose the admin role",
        AuthError::TokenMisused => "A token of the wrong kind was used here",
        AuthError::InvalidCredentials => "Invalid e-mail or password",
        AuthError::WrongPassword { .. } => "The password is wrong",
        AuthError::EmailNotVerified => {
            "Confirm your e-mail address first: follow the link we sent to it"
        }
        AuthError::InvalidToken => "This link is invalid, used or expired; ask for a new one",
        AuthError::InvalidRefreshToken => "Invalid refresh token",
        AuthError::EmailTaken => "This e-mail address is already registered",
        AuthError::Throttled { .. } => "Too many attempts; try again later",
        AuthError::Busy { .. } => "The server is busy; try again shortly",
        AuthError::UnknownProvider => "No such sign-in provider",
        AuthError::RedirectNotAllowed => {
            "This redirect is not allowed; add it to AUTHQL_REDIRECT_URLS"
        }
        AuthError::ProviderUnavailable => "The provider cannot be reached; try again later",
        AuthError::ProviderRefused => "The provider did not sign you in",
        AuthError::ProviderAnswerInvalid => "The provider's answer could not be verified",
        AuthError::ProviderEmailMissing => "The provider gave no usable e-mail address",
        AuthError::AccountExists => {
            "An account with this address exists: sign in to it and link the provider"
        }
        AuthError::SignUpClosed => "New accounts cannot be made with this provider",
        AuthError::IdentityTaken => "This provider account is linked to another user",
        AuthError::LastSignInMethod => "This is the account's last way to sign in",
        AuthError::RecentSignInRequired => "Sign in again to do this",
        AuthError::WrongSecondFactor => "The code is wrong or was used already",
        AuthError::SecondFactorExists => "An authenticator app is set up already",
        AuthError::NoSecondFactor => "No such second factor",
        AuthError::AdminNeedsSecondFactor => {
            "Admin fields need a sign-in with a second factor: sign in again with your authenticator app"
        }
        AuthError::SecondFactorUnavailable => {
            "Two-step sign-in needs AUTHQL_MASTER_KEY (not available with HS256)"
        }
        AuthError::PasskeysUnavailable => "Passkeys are not turned on on this server",
        AuthError::PasskeyChallengeInvalid => {
            "This passkey challenge is unknown, used or expired; start again"
        }
        AuthError::InvalidPasskey { .. } => "The passkey's answer was refused",
        AuthError::PasskeyExists => "This passkey is registered already",
        AuthError::NoPasskey => "No such passkey",
        AuthError::Unexpected(_) => INTERNAL_MESSAGE,
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        match self {
            Self::Auth(AuthError::EmailTaken) => {
                let mut fields = FieldErrors::default();
                fields.add("email", "is already registered");
                Self::EmailTaken(fields).extend()
            }
            Self::Auth(error) => {
                if let AuthError::Unexpected(error) = error {
                    tracing::error!(error = format!("{error:#}"), "unexpected error");
                }
                let coded = coded(message_of(error), code_of(error));
                match *error {
                    AuthError::Unauthenticated(reason) => {
                        coded.extend_with(|_, e| e.set("reason", reason.as_str()))
                    }
                    AuthError::Forbidden(role) => {
                        coded.extend_with(|_, e| e.set("requiredRole", role))
                    }
                    AuthError::AdminNeedsSecondFactor => {
                        coded.extend_with(|_, e| e.set("reason", "second_factor_required"))
                    }
                    AuthError::InvalidPasskey { reason } => {
                        coded.extend_with(|_, e| e.set("reason", reason))
                    }
                    AuthError::WrongPassword { field } => {
                        let mut fields = FieldErrors::default();
                        fields.add(field, "is wrong");
                        coded.extend_with(|_, e| e.set("fields", fields.to_value()))
                    }
                    AuthError::Throttled { retry_after } | AuthError::Busy { retry_after } => {
                        coded.extend_with(|_, e| e.set("retryAfter", retry_after))
                    }
                    _ => coded,
                }
            }
            Self::EmailTaken(fields) => coded(
                "This e-mail address is already registered",
                code::EMAIL_TAKEN,
            )
            .extend_with(|_, e| e.set("fields", fields.to_value())),
            Self::ForeignOrigin => coded(
                "The refresh cookie is not accepted from this origin; add it to AUTHQL_CORS_ORIGINS",
                code::ORIGIN_NOT_ALLOWED,
            ),
            Self::BadUserInput(fields) => coded("Invalid input", code::BAD_USER_INPUT)
                .extend_with(|_, e| e.set("fields", fields.to_value())),
            Self::Misconfigured(what) => {
                tracing::error!(what, "resolver context is missing server data");
                coded(INTERNAL_MESSAGE, code::INTERNAL_SERVER_ERROR)
            }
            Self::SecondFactorRequired(challenge) => {
                let token = challenge.mfa_token.to_string();
                let factors: Vec<Value> =
                    challenge.factors.iter().map(|f| Value::from(*f)).collect();
                let expires_at = challenge.expires_at.to_rfc3339();
                coded(
                    "A second factor is required: call verifySecondFactor with the mfaToken",
                    code::SECOND_FACTOR_REQUIRED,
                )
                .extend_with(move |_, e| {
                    e.set("mfaToken", token.clone());
                    e.set("factors", Value::List(factors.clone()));
                    e.set("expiresAt", expires_at.clone());
                })
            }
        }
    }
}

fn error_code(error: &ServerError) -> Option<String> {
    match error.extensions.as_ref()?.get("code")? {
        Value::String(code) => Some(code.clone()),
        _ => None,
    }
}

/// Gives every error of a response its code: ours keep theirs; the rest
/// (async-graphql's parse, validation and input-coercion errors, and anything
/// unexpected) get one here, so every code is decided in this module.
pub fn classify(
    error: &mut ServerError,
    request_error: bool,
    parse_failed: bool,
    request_id: Uuid,
) {
    let code = match error_code(error) {
        Some(code) => code,
        None if parse_failed => code::GRAPHQL_PARSE_FAILED.to_owned(),
        None if request_error => code::GRAPHQL_VALIDATION_FAILED.to_owned(),
        // async-graphql's own input coercion (a variable of the wrong shape):
        // its message quotes the value, which may be a password, so neither
        // the client's copy nor the log keeps more than the expected type.
        None if error.message.starts_with("Failed to parse \"")
            || error.message.starts_with("Expected input type \"") =>
        {
            let expected = error
                .message
                .split('"')
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            error.message = format!("Invalid input: expected {expected}");
            error.source = None;
            code::BAD_USER_INPUT.to_owned()
        }
        None => {
            // Only errors we did not raise reach here; their text may quote
            // input, so it is not logged.
            tracing::error!(path = ?error.path, "uncoded error during execution");
            error.message = INTERNAL_MESSAGE.to_owned();
            error.source = None;
            code::INTERNAL_SERVER_ERROR.to_owned()
        }
    };
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if code == code::INTERNAL_SERVER_ERROR {
        extensions.set("requestId", request_id.to_string());
    }
    extensions.set("code", code);
}
