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

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        match self {
            Self::Auth(AuthError::Unauthenticated(reason)) => {
                let reason = reason.as_str();
                coded("Authentication required", code::UNAUTHENTICATED)
                    .extend_with(|_, e| e.set("reason", reason))
            }
            Self::Auth(AuthError::Forbidden(role)) => {
                let role = *role;
                coded("This field requires another role", code::FORBIDDEN)
                    .extend_with(|_, e| e.set("requiredRole", role))
            }
            Self::Auth(AuthError::AccountDisabled) => {
                coded("This account is disabled", code::ACCOUNT_DISABLED)
            }
            Self::Auth(AuthError::LastAdmin) => coded(
                "The last admin cannot lose the admin role",
                code::LAST_ADMIN,
            ),
            Self::Auth(AuthError::TokenMisused) => coded(
                "A token of the wrong kind was used here",
                code::TOKEN_MISUSED,
            ),
            Self::Auth(AuthError::InvalidCredentials) => {
                coded("Invalid e-mail or password", code::INVALID_CREDENTIALS)
            }
            Self::Auth(AuthError::WrongPassword { field }) => {
                let mut fields = FieldErrors::default();
                fields.add(field, "is wrong");
                coded("The password is wrong", code::INVALID_CREDENTIALS)
                    .extend_with(|_, e| e.set("fields", fields.to_value()))
            }
            Self::Auth(AuthError::EmailNotVerified) => coded(
                "Confirm your e-mail address first: follow the link we sent to it",
                code::EMAIL_NOT_VERIFIED,
            ),
            Self::Auth(AuthError::InvalidToken) => coded(
                "This link is invalid, used or expired; ask for a new one",
                code::INVALID_TOKEN,
            ),
            Self::Auth(AuthError::InvalidRefreshToken) => {
                coded("Invalid refresh token", code::INVALID_REFRESH_TOKEN)
            }
            Self::Auth(AuthError::EmailTaken) => {
                let mut fields = FieldErrors::default();
                fields.add("email", "is already registered");
                Self::EmailTaken(fields).extend()
            }
            Self::EmailTaken(fields) => coded(
                "This e-mail address is already registered",
                code::EMAIL_TAKEN,
            )
            .extend_with(|_, e| e.set("fields", fields.to_value())),
            Self::Auth(AuthError::Throttled { retry_after }) => {
                let retry_after = *retry_after;
                coded(
                    "Too many attempts; try again later",
                    code::TOO_MANY_REQUESTS,
                )
                .extend_with(|_, e| e.set("retryAfter", retry_after))
            }
            Self::Auth(AuthError::Busy { retry_after }) => {
                let retry_after = *retry_after;
                coded("The server is busy; try again shortly", code::SERVER_BUSY)
                    .extend_with(|_, e| e.set("retryAfter", retry_after))
            }
            Self::ForeignOrigin => coded(
                "The refresh cookie is not accepted from this origin; add it to AUTHQL_CORS_ORIGINS",
                code::ORIGIN_NOT_ALLOWED,
            ),
            Self::BadUserInput(fields) => coded("Invalid input", code::BAD_USER_INPUT)
                .extend_with(|_, e| e.set("fields", fields.to_value())),
            Self::Auth(AuthError::Unexpected(error)) => {
                tracing::error!(error = format!("{error:#}"), "unexpected error");
                coded(INTERNAL_MESSAGE, code::INTERNAL_SERVER_ERROR)
            }
            Self::Misconfigured(what) => {
                tracing::error!(what, "resolver context is missing server data");
                coded(INTERNAL_MESSAGE, code::INTERNAL_SERVER_ERROR)
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
