//! Starting a flow through a provider.

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use openidconnect::{Nonce, PkceCodeChallenge};
use url::Url;
use uuid::Uuid;

use super::registry::chain;
use crate::auth::{AuthError, AuthService, ClientInfo};
use crate::domain::{CodeChallenge, LinkToken};
use crate::store::provider_flows::{NewFlow, Purpose};
use crate::store::{self};

/// How long a started flow waits for the provider's answer.
const FLOW_LIFETIME: TimeDelta = TimeDelta::minutes(10);

/// What the frontend asks for.
#[derive(Debug)]
pub struct FlowStart<'a> {
    pub provider: &'a str,
    pub redirect_to: &'a str,
    pub code_challenge: CodeChallenge,
}

/// Where to send the browser.
#[derive(Clone)]
pub struct ProviderRedirect {
    /// Holds the flow's `state` and nonce.
    pub authorization_url: String,
    pub expires_at: DateTime<Utc>,
}

/// The URL carries the flow's `state`: never shown.
impl std::fmt::Debug for ProviderRedirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderRedirect")
            .field("authorization_url", &"<hidden>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl AuthService {
    /// Starts a sign-in through a provider.
    pub async fn start_provider_sign_in(
        &self,
        start: FlowStart<'_>,
        client: &ClientInfo,
    ) -> Result<ProviderRedirect, AuthError> {
        self.admit(client, "startProviderSignIn").await?;
        self.start_flow(start, Purpose::SignIn, None).await
    }

    /// Starts linking a provider's account to `user_id`, who signed in
    /// within the last minutes (the caller checked).
    pub(in crate::auth) async fn start_flow(
        &self,
        start: FlowStart<'_>,
        purpose: Purpose,
        user_id: Option<Uuid>,
    ) -> Result<ProviderRedirect, AuthError> {
        let provider = self
            .providers
            .get(start.provider)
            .ok_or(AuthError::UnknownProvider)?;
        let redirect_to = Url::parse(start.redirect_to)
            .ok()
            .filter(|url| self.providers.redirects.allows(url))
            .ok_or(AuthError::RedirectNotAllowed)?;
        let state = LinkToken::generate()?;
        let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = Nonce::new_random();
        let url = provider
            .authorization_url(
                &self.providers.outbound,
                state.expose().to_string(),
                pkce_challenge,
                &nonce,
            )
            .await
            .map_err(|e| {
                tracing::warn!(provider = %provider.config.id, error = %chain(&e), "provider unreachable");
                AuthError::ProviderUnavailable
            })?;
        let now = Utc::now();
        let expires_at = now + FLOW_LIFETIME;
        store::provider_flows::start(
            &self.db,
            NewFlow {
                provider: &provider.config.id,
                purpose,
                state_hash: state.hash(),
                nonce: nonce.secret(),
                provider_verifier: pkce_verifier.secret(),
                code_challenge: start.code_challenge.as_str(),
                redirect_to: redirect_to.as_str(),
                user_id,
                now,
                expires_at,
            },
        )
        .await
        .context("cannot store the flow")?;
        tracing::info!(provider = %provider.config.id, purpose = purpose.as_str(), ?user_id, "provider flow started");
        Ok(ProviderRedirect {
            authorization_url: url.to_string(),
            expires_at,
        })
    }
}
