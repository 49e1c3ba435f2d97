//! Signing in with a provider, and linking and unlinking providers.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::context;
use super::errors::{self, FieldErrors};
use super::guards::Authenticated;
use super::types::{AuthPayload, User};
use crate::auth::providers::{FlowStart, Identity, ProviderInfo, ProviderRedirect};
use crate::domain::CodeChallenge;

/// A provider users may sign in with, for drawing its button.
#[derive(SimpleObject)]
pub struct SignInProvider {
    /// The id used in `startProviderSignIn` and the callback path.
    pub id: String,
    /// The name to show ("Sign in with {name}").
    pub name: String,
}

impl From<ProviderInfo> for SignInProvider {
    fn from(info: ProviderInfo) -> Self {
        Self {
            id: info.id,
            name: info.name,
        }
    }
}

/// Where to send the browser to sign in at the provider.
#[derive(SimpleObject)]
pub struct ProviderRedirectPayload {
    /// The provider's authorization URL: navigate the browser there.
    pub authorization_url: String,
    /// When the flow expires if the provider has not answered.
    pub expires_at: DateTime<Utc>,
}

impl From<ProviderRedirect> for ProviderRedirectPayload {
    fn from(redirect: ProviderRedirect) -> Self {
        Self {
            authorization_url: redirect.authorization_url,
            expires_at: redirect.expires_at,
        }
    }
}

/// An account at a provider linked to the user.
#[derive(SimpleObject)]
#[graphql(name = "LinkedIdentity")]
pub struct LinkedIdentity {
    /// The provider's id.
    pub provider: String,
    /// The address the provider gave when it was linked.
    pub email: Option<String>,
    /// When it was linked.
    pub linked_at: DateTime<Utc>,
}

impl From<Identity> for LinkedIdentity {
    fn from(identity: Identity) -> Self {
        Self {
            provider: identity.provider,
            email: identity.email,
            linked_at: identity.linked_at,
        }
    }
}

/// Starts a flow through a provider.
#[derive(InputObject)]
pub struct StartProviderInput {
    /// The provider's id (from `signInProviders`).
    pub provider: String,
    /// Where the browser comes back to, with `code` (or `error`) in the
    /// query; must be allowed by `AUTHQL_REDIRECT_URLS`.
    pub redirect_to: String,
    /// The S256 PKCE challenge (base64url of SHA-256, 43 characters) of a
    /// verifier the frontend keeps until it completes the flow.
    pub code_challenge: String,
}

impl StartProviderInput {
    fn parse(&self) -> Result<FlowStart<'_>, FieldErrors> {
        let code_challenge = CodeChallenge::parse(self.code_challenge.trim()).ok_or_else(|| {
            let mut errors = FieldErrors::default();
            errors.add(
                "codeChallenge",
                "must be the S256 challenge: 43 characters of base64url",
            );
            errors
        })?;
        Ok(FlowStart {
            provider: self.provider.trim(),
            redirect_to: self.redirect_to.trim(),
            code_challenge,
        })
    }
}

/// Completes a flow through a provider.
#[derive(InputObject)]
pub struct CompleteProviderInput {
    /// The `code` the browser came back with (good once, for 60 seconds).
    pub code: String,
    /// The PKCE verifier whose challenge started the flow.
    pub code_verifier: String,
}

#[derive(Default)]
pub struct ProviderQuery;

#[Object]
impl ProviderQuery {
    /// The providers users may sign in with, in the configured order.
    async fn sign_in_providers(&self, ctx: &Context<'_>) -> errors::Result<Vec<SignInProvider>> {
        Ok(context::service(ctx)?
            .sign_in_providers()
            .into_iter()
            .map(SignInProvider::from)
            .collect())
    }
}

#[derive(Default)]
pub struct ProviderMutation;

#[Object]
impl ProviderMutation {
    /// Starts signing in (or up) with a provider: navigate the browser to
    /// `authorizationUrl`. It comes back to `redirectTo` with a one-time
    /// `code` for `completeProviderSignIn`, or with `error` (an error code).
    async fn start_provider_sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The provider, where to come back to, and the PKCE challenge.")]
        input: StartProviderInput,
    ) -> errors::Result<ProviderRedirectPayload> {
        let start = input.parse()?;
        let redirect = context::service(ctx)?
            .start_provider_sign_in(start, &context::client(ctx))
            .await?;
        Ok(redirect.into())
    }

    /// Trades the one-time code and the PKCE verifier for a session, as
    /// `login` does. A wrong verifier, an expired code or a second use is
    /// refused with `INVALID_TOKEN`.
    async fn complete_provider_sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The one-time code and the PKCE verifier.")] input: CompleteProviderInput,
    ) -> errors::Result<AuthPayload> {
        let outcome = context::service(ctx)?
            .complete_provider_sign_in(
                input.code.trim(),
                input.code_verifier.trim(),
                &context::client(ctx),
            )
            .await?;
        context::answer_sign_in(ctx, outcome)
    }

    /// Starts linking an account at a provider to the signed-in user.
    /// Requires an access token from a sign-in within the last 10 minutes
    /// (else `RECENT_SIGN_IN_REQUIRED`).
    #[graphql(guard = "Authenticated")]
    async fn start_provider_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The provider, where to come back to, and the PKCE challenge.")]
        input: StartProviderInput,
    ) -> errors::Result<ProviderRedirectPayload> {
        let principal = context::principal(ctx).await?;
        let service = context::service(ctx)?;
        service
            .admit(&context::client(ctx), "startProviderLink")
            .await?;
        let start = input.parse()?;
        Ok(service.start_provider_link(&principal, start).await?.into())
    }

    /// Links the account the provider vouched for to the signed-in user who
    /// started the flow. Refused with `IDENTITY_ALREADY_LINKED` when it is
    /// another user's.
    #[graphql(guard = "Authenticated")]
    async fn complete_provider_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The one-time code and the PKCE verifier.")] input: CompleteProviderInput,
    ) -> errors::Result<User> {
        let principal = context::principal(ctx).await?;
        let (service, client) = (context::service(ctx)?, context::client(ctx));
        service.admit(&client, "completeProviderLink").await?;
        let account = service
            .complete_provider_link(
                &principal,
                input.code.trim(),
                input.code_verifier.trim(),
                &client,
            )
            .await?;
        Ok(account.into())
    }

    /// Unlinks the signed-in user's account at `provider`. Refused with
    /// `LAST_SIGN_IN_METHOD` when the account has no password and no other
    /// provider. Requires a sign-in within the last 10 minutes.
    #[graphql(guard = "Authenticated")]
    async fn unlink_provider(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The provider's id.")] provider: String,
    ) -> errors::Result<User> {
        let principal = context::principal(ctx).await?;
        let (service, client) = (context::service(ctx)?, context::client(ctx));
        service.admit(&client, "unlinkProvider").await?;
        let account = service
            .unlink_provider(&principal, provider.trim(), &client)
            .await?;
        Ok(account.into())
    }
}
