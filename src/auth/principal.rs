use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::status_cache::SessionStatus;
use super::tokens::{AccessClaims, TokenError};
use super::{Account, AuthError, AuthService, UnauthenticatedReason};

/// The credential a request carried in its `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub enum Bearer {
    Missing,
    /// A header that is not of the form `Bearer <token>`.
    Malformed,
    Token(String),
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => f.write_str("Missing"),
            Self::Malformed => f.write_str("Malformed"),
            Self::Token(_) => f.write_str("Token(<hidden>)"),
        }
    }
}

impl Bearer {
    /// Reads an `Authorization` header value (scheme case-insensitive).
    pub fn from_header(value: Option<&str>) -> Self {
        let Some(value) = value else {
            return Self::Missing;
        };
        match value.trim().split_once(' ') {
            Some((scheme, token))
                if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
            {
                Self::Token(token.trim().to_owned())
            }
            _ => Self::Malformed,
        }
    }
}

/// A request's credential and, once asked, who it authenticates: computed at
/// most once per request, and only when a field needs it, so public fields
/// never pay for (or fail on) a bad `Authorization` header.
pub struct RequestCredentials {
    bearer: Bearer,
    outcome: OnceCell<Result<Principal, AuthError>>,
}

impl std::fmt::Debug for RequestCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestCredentials")
            .field("bearer", &self.bearer)
            .field("outcome", &self.outcome.get())
            .finish()
    }
}

impl RequestCredentials {
    pub fn new(bearer: Bearer) -> Self {
        Self {
            bearer,
            outcome: OnceCell::new(),
        }
    }

    pub async fn principal(&self, service: &AuthService) -> Result<Principal, AuthError> {
        self.outcome
            .get_or_init(|| service.authenticate(&self.bearer))
            .await
            .clone()
    }
}

/// The signed-in user behind a request: built once per request from a
/// verified access token whose session is still live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The user as read with the session's status, kept current by the
    /// revocation feed (see [`super::status_cache`]).
    pub account: Arc<Account>,
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub access_jti: Uuid,
    pub roles: Vec<String>,
    pub expires_at: DateTime<Utc>,
    /// When the session's user proved who they are (`auth_time`); `None`
    /// for tokens issued before authql recorded it.
    pub authenticated_at: Option<DateTime<Utc>>,
    /// Whether the session's sign-in included a second factor (`aal2`).
    pub aal2: bool,
}

impl Principal {
    pub(super) fn from_claims(claims: &AccessClaims, account: Arc<Account>) -> Self {
        Self {
            account,
            user_id: claims.common.sub,
            session_id: claims.common.sid,
            access_jti: claims.common.jti,
            expires_at: DateTime::from_timestamp(claims.common.exp, 0).unwrap_or_default(),
            roles: claims.roles.clone(),
            authenticated_at: (claims.auth_time > 0)
                .then(|| DateTime::from_timestamp(claims.auth_time, 0))
                .flatten(),
            aal2: claims.aal == "aal2",
        }
    }

    /// Whether the token carries `role` and the database still grants it: a
    /// role granted since the token was issued counts from the next token, a
    /// role taken away stops counting at once.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role) && self.account.roles.iter().any(|r| r == role)
    }

    pub fn is_admin(&self) -> bool {
        self.has_role(crate::domain::ADMIN_ROLE)
    }
}

impl AuthService {
    /// Turns the request's bearer credential into a principal: a valid access
    /// token whose session is live.
    pub async fn authenticate(&self, bearer: &Bearer) -> Result<Principal, AuthError> {
        let token = match bearer {
            Bearer::Missing => {
                return Err(AuthError::Unauthenticated(UnauthenticatedReason::Missing));
            }
            Bearer::Malformed => {
                return Err(AuthError::Unauthenticated(UnauthenticatedReason::Malformed));
            }
            Bearer::Token(token) => token,
        };
        let claims = self
            .keys
            .verify_access(token)
            .await
            .map_err(access_token_error)?;
        match self
            .news
            .statuses()
            .status(&self.reads, claims.common.sid)
            .await?
        {
            SessionStatus::Revoked => {
                Err(AuthError::Unauthenticated(UnauthenticatedReason::Revoked))
            }
            SessionStatus::Live { expires_at, .. } if expires_at <= Utc::now() => {
                Err(AuthError::Unauthenticated(UnauthenticatedReason::Expired))
            }
            // A token whose `sub` is not the session's user is not ours to honour.
            SessionStatus::Live { account, .. } if account.id != claims.common.sub => {
                Err(AuthError::Unauthenticated(UnauthenticatedReason::Invalid))
            }
            SessionStatus::Live { account, .. } => Ok(Principal::from_claims(&claims, account)),
        }
    }
}

/// How a token failure reads to a client of a guarded field.
fn access_token_error(error: TokenError) -> AuthError {
    match error {
        TokenError::Malformed => AuthError::Unauthenticated(UnauthenticatedReason::Malformed),
        TokenError::Invalid => AuthError::Unauthenticated(UnauthenticatedReason::Invalid),
        TokenError::Expired => AuthError::Unauthenticated(UnauthenticatedReason::Expired),
        TokenError::Misused => AuthError::TokenMisused,
    }
}

#[cfg(test)]
mod tests {
    use super::Bearer;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(
            Bearer::from_header(Some("bearer abc")),
            Bearer::Token("abc".into())
        );
        assert_eq!(
            Bearer::from_header(Some("Bearer  abc ")),
            Bearer::Token("abc".into())
        );
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_malformed() {
        assert_eq!(Bearer::from_header(Some("Basic abc")), Bearer::Malformed);
        assert_eq!(Bearer::from_header(Some("Bearer ")), Bearer::Malformed);
        assert_eq!(Bearer::from_header(Some("abc")), Bearer::Malformed);
        assert_eq!(Bearer::from_header(None), Bearer::Missing);
    }
}
