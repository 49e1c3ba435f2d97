//! OpenID Connect providers (Google, Microsoft, GitLab, Apple, any other):
//! the authorization URL, and the answer's code traded for an ID token that
//! `openidconnect` verifies (signature through the provider's keys, `iss`,
//! `aud`, `azp`, `exp`, nonce), completed from the user info endpoint when
//! the token carries no address. Apple's particulars live here too: its
//! client secret is a JWT signed with the team's key, and it gives the
//! user's name only once, posted beside the code.

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use openidconnect::core::{CoreAuthenticationFlow, CoreIdTokenClaims, CoreUserInfoClaims};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, CsrfToken, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RequestTokenError, Scope, SignatureVerificationError,
    TokenResponse,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::ProvidedIdentity;
use super::outbound::Outbound;
use super::registry::{Answered, Provider, Unreachable, chain};
use crate::auth::AuthError;
use crate::auth::audit::ProviderFailure;
use crate::config::{ProviderKind, ResponseMode, pkcs8_der};

/// How long a client secret made for Apple is good for: one exchange.
const APPLE_SECRET_LIFETIME_SECS: i64 = 300;

pub(super) async fn authorization_url(
    provider: &Provider,
    outbound: &Outbound,
    state: String,
    challenge: PkceCodeChallenge,
    nonce: &Nonce,
) -> Result<url::Url, Unreachable> {
    let oidc = provider.client(outbound).await?;
    let nonce = nonce.clone();
    let mut request = oidc
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || CsrfToken::new(state),
            move || nonce,
        )
        .set_pkce_challenge(challenge)
        .add_scopes(
            provider
                .config
                .scopes
                .iter()
                .filter(|scope| scope.as_str() != "openid")
                .map(|scope| Scope::new(scope.clone())),
        );
    if provider.config.response_mode == ResponseMode::FormPost {
        request = request.add_extra_param("response_mode", "form_post");
    }
    Ok(request.url().0)
}

/// Logs why the provider could not be used: the user sees `PROVIDER_UNAVAILABLE`.
pub(super) fn unavailable(
    provider: &Provider,
    what: &str,
    error: String,
) -> (AuthError, ProviderFailure) {
    tracing::warn!(provider = %provider.config.id, what, %error, "provider unreachable");
    (AuthError::ProviderUnavailable, ProviderFailure::Unreachable)
}

/// Logs why the answer was refused: the user sees `PROVIDER_ANSWER_INVALID`.
pub(super) fn invalid(
    provider: &Provider,
    what: &str,
    error: String,
) -> (AuthError, ProviderFailure) {
    tracing::warn!(provider = %provider.config.id, what, %error, "provider answer invalid");
    (
        AuthError::ProviderAnswerInvalid,
        ProviderFailure::InvalidAnswer,
    )
}

/// Maps a failed code exchange: the provider's refusal, or no answer.
pub(super) fn exchange_failed<RE, T>(
    provider: &Provider,
    error: RequestTokenError<RE, T>,
) -> (AuthError, ProviderFailure)
where
    RE: std::error::Error + 'static,
    T: openidconnect::ErrorResponse + 'static,
{
    match error {
        RequestTokenError::ServerResponse(answer) => {
            tracing::info!(provider = %provider.config.id, error = %answer, "the provider refused the code");
            (AuthError::ProviderRefused, ProviderFailure::CodeRefused)
        }
        RequestTokenError::Request(error) => unavailable(provider, "token endpoint", chain(&error)),
        error => invalid(provider, "token endpoint", chain(&error)),
    }
}

pub(super) async fn identify(
    provider: &Provider,
    outbound: &Outbound,
    answered: Answered<'_>,
) -> Result<ProvidedIdentity, (AuthError, ProviderFailure)> {
    let oidc = provider
        .client(outbound)
        .await
        .map_err(|e| unavailable(provider, "discovery", chain(&e)))?;
    let tokens = oidc
        .exchange_code(AuthorizationCode::new(answered.code))
        .map_err(|e| invalid(provider, "token endpoint", chain(&e)))?
        .set_pkce_verifier(PkceCodeVerifier::new(answered.verifier.to_owned()))
        .request_async(outbound)
        .await
        .map_err(|e| exchange_failed(provider, e))?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| invalid(provider, "token endpoint", "no ID token".into()))?;
    let nonce = Nonce::new(answered.nonce.to_owned());
    let claims: CoreIdTokenClaims = match id_token.claims(&oidc.id_token_verifier(), &nonce) {
        Ok(claims) => claims.clone(),
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => {
            // The provider rotated its keys: fetch them once, verify again.
            let fresh = provider
                .client_with_fresh_keys(outbound)
                .await
                .map_err(|e| unavailable(provider, "key set", chain(&e)))?
                .ok_or_else(|| invalid(provider, "ID token", "signed by an unknown key".into()))?;
            id_token
                .claims(&fresh.id_token_verifier(), &nonce)
                .map_err(|e| invalid(provider, "ID token", chain(&e)))?
                .clone()
        }
        Err(error) => return Err(invalid(provider, "ID token", chain(&error))),
    };
    let mut identity = ProvidedIdentity {
        subject: claims.subject().to_string(),
        email: claims.email().map(|email| email.to_lowercase()),
        email_verified: claims.email_verified().unwrap_or(false),
        name: claims
            .name()
            .and_then(|name| name.get(None))
            .map(|name| name.to_string()),
    };
    if identity.email.is_none() && oidc.user_info_url().is_some() {
        let info: CoreUserInfoClaims = oidc
            .user_info(
                tokens.access_token().clone(),
                Some(claims.subject().clone()),
            )
            .map_err(|e| invalid(provider, "user info", chain(&e)))?
            .request_async(outbound)
            .await
            .map_err(|e| invalid(provider, "user info", chain(&e)))?;
        identity.email = info.email().map(|email| email.to_lowercase());
        identity.email_verified = info.email_verified().unwrap_or(false);
        if identity.name.is_none() {
            identity.name = info
                .name()
                .and_then(|name| name.get(None))
                .map(|name| name.to_string());
        }
    }
    if provider.config.kind == ProviderKind::Apple && identity.name.is_none() {
        identity.name = answered.user.and_then(apple_name);
    }
    Ok(identity)
}

/// The claims of the client secret Apple asks for.
#[derive(Serialize)]
struct AppleSecretClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

/// Apple's client secret: an ES256 JWT from the team (`iss`) for the client
/// (`sub`) to Apple (`aud`, its issuer), signed with the key `key_id`.
pub(super) fn apple_client_secret(
    team_id: &str,
    key_id: &str,
    private_key: &SecretString,
    client_id: &str,
    audience: &str,
) -> anyhow::Result<String> {
    let der = pkcs8_der(private_key.expose_secret())
        .ok_or_else(|| anyhow::anyhow!("the key is not a PEM PRIVATE KEY"))?;
    let key = EncodingKey::from_ec_der(&der);
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key_id.to_owned());
    let now = Utc::now().timestamp();
    let claims = AppleSecretClaims {
        iss: team_id,
        sub: client_id,
        aud: audience,
        iat: now,
        exp: now + APPLE_SECRET_LIFETIME_SECS,
    };
    Ok(jsonwebtoken::encode(&header, &claims, &key)?)
}

/// The name in Apple's `user` (`{"name":{"firstName":…,"lastName":…}}`),
/// given on a user's first sign-in only. Unverified: used only as a new
/// account's display name.
fn apple_name(user: &str) -> Option<String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Name {
        first_name: Option<String>,
        last_name: Option<String>,
    }
    #[derive(Deserialize)]
    struct User {
        name: Option<Name>,
    }
    let name = serde_json::from_str::<User>(user).ok()?.name?;
    let full = [name.first_name, name.last_name]
        .into_iter()
        .flatten()
        .map(|part| part.trim().to_owned())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!full.is_empty()).then_some(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apples_user_gives_a_name_or_nothing() {
        assert_eq!(
            apple_name(r#"{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"x@y"}"#)
                .as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(apple_name(r#"{"email":"x@y"}"#), None);
        assert_eq!(apple_name("not json"), None);
    }
}
