//! GitHub: plain OAuth 2 (no ID token), then its REST API says who the user
//! is (`/user`) and which addresses GitHub verified (`/user/emails`); only
//! the verified primary address counts as vouched for.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use openidconnect::http::{Method, Request, StatusCode, header};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::ProvidedIdentity;
use super::oidc::{exchange_failed, invalid, unavailable};
use super::outbound::Outbound;
use super::registry::{Answered, Provider, Unreachable, chain};
use crate::auth::AuthError;
use crate::auth::audit::ProviderFailure;
use crate::config::ClientSecret as ConfiguredSecret;

fn endpoint(base: &Url, path: &str) -> Result<Url, url::ParseError> {
    Url::parse(&format!("{}{path}", base.as_str().trim_end_matches('/')))
}

pub(super) fn authorization_url(
    provider: &Provider,
    web: &Url,
    state: String,
    challenge: PkceCodeChallenge,
) -> Result<Url, Unreachable> {
    let auth = endpoint(web, "/login/oauth/authorize")
        .map_err(|e| Unreachable::Discovery(e.to_string()))?;
    let (url, _) = BasicClient::new(ClientId::new(provider.config.client_id.clone()))
        .set_auth_uri(AuthUrl::from_url(auth))
        .set_redirect_uri(provider.callback.clone())
        .authorize_url(move || CsrfToken::new(state))
        .add_scopes(
            provider
                .config
                .scopes
                .iter()
                .map(|scope| Scope::new(scope.clone())),
        )
        .set_pkce_challenge(challenge)
        .url();
    Ok(url)
}

#[derive(Deserialize)]
struct GithubUser {
    id: u64,
    login: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct GithubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

pub(super) async fn identify(
    provider: &Provider,
    outbound: &Outbound,
    web: &Url,
    api: &Url,
    answered: Answered<'_>,
) -> Result<ProvidedIdentity, (AuthError, ProviderFailure)> {
    let ConfiguredSecret::Static(secret) = &provider.config.client_secret else {
        return Err(invalid(
            provider,
            "configuration",
            "GitHub takes a client secret".into(),
        ));
    };
    let token_url = endpoint(web, "/login/oauth/access_token")
        .map_err(|e| invalid(provider, "token endpoint", e.to_string()))?;
    let client = BasicClient::new(ClientId::new(provider.config.client_id.clone()))
        .set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()))
        .set_token_uri(TokenUrl::from_url(token_url))
        .set_redirect_uri(provider.callback.clone())
        // GitHub reads the client's credentials from the form.
        .set_auth_type(AuthType::RequestBody);
    let tokens = match client
        .exchange_code(AuthorizationCode::new(answered.code))
        .set_pkce_verifier(PkceCodeVerifier::new(answered.verifier.to_owned()))
        .request_async(outbound)
        .await
    {
        Ok(tokens) => tokens,
        // GitHub answers a refused code with 200 and `{"error": …}`.
        Err(RequestTokenError::Parse(_, body))
            if serde_json::from_slice::<serde_json::Value>(&body)
                .is_ok_and(|answer| answer.get("error").is_some()) =>
        {
            tracing::info!(provider = %provider.config.id, "GitHub refused the code");
            return Err((AuthError::ProviderRefused, ProviderFailure::CodeRefused));
        }
        Err(error) => return Err(exchange_failed(provider, error)),
    };
    let bearer = tokens.access_token().secret();
    let user: GithubUser = get(provider, outbound, api, "/user", bearer).await?;
    let emails: Vec<GithubEmail> = get(provider, outbound, api, "/user/emails", bearer).await?;
    let primary = emails.into_iter().find(|email| email.primary);
    Ok(ProvidedIdentity {
        subject: user.id.to_string(),
        email_verified: primary.as_ref().is_some_and(|email| email.verified),
        email: primary.map(|email| email.email.to_lowercase()),
        name: user
            .name
            .filter(|name| !name.trim().is_empty())
            .or(Some(user.login)),
    })
}

/// `GET {api}{path}` with the user's token, as JSON.
async fn get<T: DeserializeOwned>(
    provider: &Provider,
    outbound: &Outbound,
    api: &Url,
    path: &str,
    bearer: &str,
) -> Result<T, (AuthError, ProviderFailure)> {
    let url = endpoint(api, path).map_err(|e| invalid(provider, path, e.to_string()))?;
    let request = Request::builder()
        .method(Method::GET)
        .uri(url.as_str())
        .header(header::ACCEPT, "application/vnd.github+json")
        .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
        .header("x-github-api-version", "2022-11-28")
        .body(Vec::new())
        .map_err(|e| invalid(provider, path, e.to_string()))?;
    let response = outbound
        .send(request)
        .await
        .map_err(|e| unavailable(provider, path, chain(&e)))?;
    if response.status() != StatusCode::OK {
        return Err(invalid(
            provider,
            path,
            format!("HTTP {}", response.status()),
        ));
    }
    serde_json::from_slice(response.body()).map_err(|e| invalid(provider, path, e.to_string()))
}
