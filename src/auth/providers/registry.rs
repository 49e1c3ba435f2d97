//! The configured providers and what authql knows of each: its discovery
//! document and key set, fetched on first use, kept for an hour, and the
//! key set fetched again when an ID token names a key it does not hold (the
//! provider rotated its keys), at most once a second.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{CoreClient, CoreClientAuthMethod, CoreProviderMetadata};
use openidconnect::{
    AuthType, ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    JsonWebKeySet, Nonce, PkceCodeChallenge, RedirectUrl,
};
use secrecy::ExposeSecret;
use tokio::sync::Mutex;

use super::ProvidedIdentity;
use super::outbound::Outbound;
use crate::auth::AuthError;
use crate::auth::audit::ProviderFailure;
use crate::config::{self, Protocol, ProviderConfig, ProviderSettings, RedirectAllowList};

/// How long a discovery document is trusted before it is fetched again.
const METADATA_LIFETIME: Duration = Duration::from_secs(3600);
/// The shortest time between two fetches of a key set: an ID token naming
/// unknown keys cannot make authql hammer the provider.
const KEY_REFETCH_INTERVAL: Duration = Duration::from_secs(1);
/// After a failed discovery, how long requests fail at once instead of each
/// waiting out the timeout again (they would queue behind one another).
const FAILURE_MEMORY: Duration = Duration::from_secs(5);

/// A client built from a discovery document: its authorization endpoint is
/// set; its token and user info endpoints are as the document says.
pub(in crate::auth) type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a provider could not be used; never shown to clients.
#[derive(Debug, thiserror::Error)]
pub enum Unreachable {
    #[error("discovery failed: {0}")]
    Discovery(String),
    #[error("the key set could not be fetched: {0}")]
    Keys(String),
    #[error("the client secret could not be made: {0}")]
    Secret(String),
}

/// The provider's answer as the callback took it, with the flow's secrets.
pub(in crate::auth) struct Answered<'a> {
    pub code: String,
    /// authql's PKCE verifier toward the provider.
    pub verifier: &'a str,
    pub nonce: &'a str,
    /// Apple's `user` (JSON with the name), on a user's first sign-in.
    pub user: Option<&'a str>,
}

impl Provider {
    /// The provider's authorization URL for a flow with `state`, authql's
    /// PKCE `challenge` and (OpenID Connect) `nonce`.
    pub async fn authorization_url(
        &self,
        outbound: &Outbound,
        state: String,
        challenge: PkceCodeChallenge,
        nonce: &Nonce,
    ) -> Result<url::Url, Unreachable> {
        match &self.config.protocol {
            Protocol::OpenIdConnect { .. } => {
                super::oidc::authorization_url(self, outbound, state, challenge, nonce).await
            }
            Protocol::Github { web, .. } => {
                super::github::authorization_url(self, web, state, challenge)
            }
        }
    }

    /// Trades the answer's code and returns whom the provider vouches for.
    pub async fn identify(
        &self,
        outbound: &Outbound,
        answered: Answered<'_>,
    ) -> Result<ProvidedIdentity, (AuthError, ProviderFailure)> {
        match &self.config.protocol {
            Protocol::OpenIdConnect { .. } => super::oidc::identify(self, outbound, answered).await,
            Protocol::Github { web, api } => {
                super::github::identify(self, outbound, web, api, answered).await
            }
        }
    }
}

/// A provider as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderInfo {
    pub id: String,
    pub name: String,
}

struct Known {
    metadata: CoreProviderMetadata,
    /// When to fetch the document again.
    stale_at: Instant,
    keys_fetched_at: Instant,
}

/// What authql knows of a provider.
#[derive(Default)]
struct State {
    known: Option<Known>,
    /// When the last discovery failed.
    failed_at: Option<Instant>,
}

/// One configured provider.
pub(in crate::auth) struct Provider {
    pub config: ProviderConfig,
    pub callback: RedirectUrl,
    state: Mutex<State>,
}

impl Provider {
    /// Its metadata, fetched when unknown or older than an hour. When a
    /// refetch fails the metadata held is used a while longer; when there is
    /// none, requests within a few seconds of a failure fail at once.
    async fn metadata(&self, outbound: &Outbound) -> Result<CoreProviderMetadata, Unreachable> {
        let mut state = self.state.lock().await;
        if let Some(known) = state.known.as_ref()
            && Instant::now() < known.stale_at
        {
            return Ok(known.metadata.clone());
        }
        if state.known.is_none()
            && state
                .failed_at
                .is_some_and(|at| at.elapsed() < FAILURE_MEMORY)
        {
            return Err(Unreachable::Discovery("failed moments ago".into()));
        }
        let Protocol::OpenIdConnect { issuer } = &self.config.protocol else {
            return Err(Unreachable::Discovery(
                "not an OpenID Connect provider".into(),
            ));
        };
        let fetched = match IssuerUrl::new(issuer.clone()) {
            Ok(issuer) => CoreProviderMetadata::discover_async(issuer, outbound)
                .await
                .map_err(|e| Unreachable::Discovery(chain(&e))),
            Err(e) => Err(Unreachable::Discovery(e.to_string())),
        };
        let now = Instant::now();
        match (fetched, state.known.as_mut()) {
            (Ok(metadata), _) => {
                state.known = Some(Known {
                    metadata: metadata.clone(),
                    stale_at: now + METADATA_LIFETIME,
                    keys_fetched_at: now,
                });
                state.failed_at = None;
                Ok(metadata)
            }
            (Err(error), Some(stale)) => {
                tracing::warn!(provider = %self.config.id, %error, "discovery failed; using the document held");
                // Tried again at the next interval, not at every request.
                stale.stale_at = now + FAILURE_MEMORY;
                Ok(stale.metadata.clone())
            }
            (Err(error), None) => {
                state.failed_at = Some(now);
                Err(error)
            }
        }
    }

    /// An OpenID Connect client for this provider from its current
    /// metadata.
    pub async fn client(&self, outbound: &Outbound) -> Result<OidcClient, Unreachable> {
        let metadata = self.metadata(outbound).await?;
        self.client_from(metadata)
    }

    fn client_from(&self, metadata: CoreProviderMetadata) -> Result<OidcClient, Unreachable> {
        let secret = match &self.config.client_secret {
            config::ClientSecret::Static(secret) => secret.expose_secret().to_owned(),
            config::ClientSecret::AppleKey {
                team_id,
                key_id,
                private_key,
            } => super::oidc::apple_client_secret(
                team_id,
                key_id,
                private_key,
                &self.config.client_id,
                metadata.issuer().as_str(),
            )
            .map_err(|e| Unreachable::Secret(format!("{e:#}")))?,
        };
        // The client's credentials go in the form when the provider takes
        // only that (Apple), in the Authorization header otherwise.
        let post_only = metadata
            .token_endpoint_auth_methods_supported()
            .is_some_and(|methods| {
                methods.contains(&CoreClientAuthMethod::ClientSecretPost)
                    && !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
            });
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(self.callback.clone());
        Ok(if post_only {
            client.set_auth_type(AuthType::RequestBody)
        } else {
            client
        })
    }

    /// A client with the provider's key set fetched again, unless it was
    /// fetched within the last second; `None` when nothing was fetched.
    pub async fn client_with_fresh_keys(
        &self,
        outbound: &Outbound,
    ) -> Result<Option<OidcClient>, Unreachable> {
        let mut state = self.state.lock().await;
        let Some(current) = state.known.as_mut() else {
            return Ok(None);
        };
        if current.keys_fetched_at.elapsed() < KEY_REFETCH_INTERVAL {
            return Ok(None);
        }
        let keys = JsonWebKeySet::fetch_async(current.metadata.jwks_uri(), outbound)
            .await
            .map_err(|e| Unreachable::Keys(chain(&e)))?;
        current.metadata = current.metadata.clone().set_jwks(keys);
        current.keys_fetched_at = Instant::now();
        let metadata = current.metadata.clone();
        drop(state);
        self.client_from(metadata).map(Some)
    }
}

/// An error and its causes on one line, for the log.
pub(super) fn chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

/// Every configured provider, and where browsers may return to.
pub struct Providers {
    pub(in crate::auth) outbound: Outbound,
    providers: Vec<Arc<Provider>>,
    pub(in crate::auth) redirects: RedirectAllowList,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers")
            .field("count", &self.providers.len())
            .finish_non_exhaustive()
    }
}

impl Providers {
    pub fn new(settings: &ProviderSettings) -> anyhow::Result<Self> {
        let providers = settings
            .providers
            .iter()
            .map(|config| {
                let callback = settings
                    .callback_url(&config.id)
                    .ok_or_else(|| anyhow::anyhow!("AUTHQL_PUBLIC_URL is not set"))?;
                Ok(Arc::new(Provider {
                    config: config.clone(),
                    callback: RedirectUrl::from_url(callback),
                    state: Mutex::new(State::default()),
                }))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            outbound: Outbound::new(settings.timeout)?,
            providers,
            redirects: settings.redirect_urls.clone(),
        })
    }

    /// The provider with `id`.
    pub(in crate::auth) fn get(&self, id: &str) -> Option<Arc<Provider>> {
        self.providers
            .iter()
            .find(|provider| provider.config.id == id)
            .cloned()
    }

    /// The providers, in the configured order.
    pub fn list(&self) -> Vec<ProviderInfo> {
        self.providers
            .iter()
            .map(|provider| ProviderInfo {
                id: provider.config.id.clone(),
                name: provider.config.name.clone(),
            })
            .collect()
    }
}
