//! The provider's answer at `/auth/callback/{provider}`: the flow's `state`
//! is used up, the code exchanged, the ID token verified, the account found
//! or made, and the browser sent back with a one-time code.

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use entity::provider_flow;
use serde::Deserialize;
use url::Url;
use zeroize::Zeroizing;

use super::registry::{Answered, Provider};
use crate::auth::audit::{Event, ProviderFailure};
use crate::auth::{AuthError, AuthService, ClientInfo};
use crate::domain::LinkToken;
use crate::store::provider_flows::{Answer, Purpose};
use crate::store::{self};

/// How long the frontend has to trade the one-time code.
const CODE_LIFETIME: TimeDelta = TimeDelta::seconds(60);

/// What a provider sends back, in the query or (`form_post`) in the body.
#[derive(Default, Deserialize)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    /// Apple's first answer to a user: their name, as JSON.
    pub user: Option<String>,
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callback")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// Where the browser goes after the callback.
pub enum Landing {
    /// Back to the frontend with the one-time code.
    Back {
        redirect_to: Url,
        code: Zeroizing<String>,
    },
    /// Back to the frontend with the error's code.
    Failed { redirect_to: Url, error: AuthError },
    /// No flow matches (a forged, replayed or expired `state`, an unknown
    /// provider): there is nowhere trusted to send the browser.
    Nowhere(AuthError),
}

/// The one-time code is never shown.
impl std::fmt::Debug for Landing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Back { redirect_to, .. } => f
                .debug_struct("Back")
                .field("redirect_to", &redirect_to.as_str())
                .field("code", &"<hidden>")
                .finish(),
            Self::Failed { redirect_to, error } => f
                .debug_struct("Failed")
                .field("redirect_to", &redirect_to.as_str())
                .field("error", error)
                .finish(),
            Self::Nowhere(error) => f.debug_tuple("Nowhere").field(error).finish(),
        }
    }
}

impl AuthService {
    /// Takes the provider's answer for the flow its `state` names.
    pub async fn provider_callback(
        &self,
        provider_id: &str,
        callback: Callback,
        client: &ClientInfo,
    ) -> Landing {
        let Some(provider) = self.providers.get(provider_id) else {
            return Landing::Nowhere(AuthError::UnknownProvider);
        };
        let Some(state) = callback.state.as_deref().and_then(LinkToken::parse) else {
            tracing::info!(provider = provider_id, "callback refused: no state");
            return Landing::Nowhere(AuthError::InvalidToken);
        };
        let now = Utc::now();
        let flow = match store::provider_flows::take_by_state(
            &self.db,
            &provider.config.id,
            &state.hash(),
            now,
        )
        .await
        {
            Ok(Some(flow)) => flow,
            Ok(None) => {
                tracing::info!(
                    provider = provider_id,
                    "callback refused: unknown, used or expired state"
                );
                return Landing::Nowhere(AuthError::InvalidToken);
            }
            Err(error) => {
                return Landing::Nowhere(AuthError::from(
                    anyhow::Error::new(error).context("cannot take the flow"),
                ));
            }
        };
        let Ok(redirect_to) = Url::parse(&flow.redirect_to) else {
            return Landing::Nowhere(AuthError::InvalidToken);
        };
        match self
            .take_answer(&provider, &flow, callback, client, now)
            .await
        {
            Ok(code) => Landing::Back { redirect_to, code },
            Err((error, why)) => {
                if let Err(failure) = store::provider_flows::delete(&self.db, flow.id).await {
                    tracing::warn!(error = %failure, "cannot delete a failed flow");
                }
                let event = Event::ProviderSignInFailed {
                    user_id: flow.user_id,
                    provider: &provider.config.id,
                    why,
                };
                if let Err(failure) = self.record(&self.db, client, event).await {
                    tracing::warn!(error = %failure, "cannot record a failed provider answer");
                }
                tracing::info!(
                    provider = provider_id,
                    why = why.as_str(),
                    "provider answer refused"
                );
                Landing::Failed { redirect_to, error }
            }
        }
    }

    /// Checks the answer and records it on the flow; the one-time code.
    async fn take_answer(
        &self,
        provider: &Provider,
        flow: &provider_flow::Model,
        callback: Callback,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<Zeroizing<String>, (AuthError, ProviderFailure)> {
        if let Some(error) = callback.error.as_deref() {
            let known = [
                "access_denied",
                "login_required",
                "consent_required",
                "interaction_required",
                "temporarily_unavailable",
                "server_error",
            ];
            let said = known.into_iter().find(|k| *k == error).unwrap_or("other");
            tracing::info!(provider = %provider.config.id, error = said, "the provider refused");
            return Err((AuthError::ProviderRefused, ProviderFailure::Refused));
        }
        let code = callback
            .code
            .ok_or((AuthError::ProviderAnswerInvalid, ProviderFailure::NoCode))?;
        let (Some(nonce), Some(verifier)) = (&flow.nonce, &flow.provider_verifier) else {
            return Err((
                AuthError::ProviderAnswerInvalid,
                ProviderFailure::InvalidAnswer,
            ));
        };
        let identity = provider
            .identify(
                &self.providers.outbound,
                Answered {
                    code,
                    verifier,
                    nonce,
                    user: callback.user.as_deref(),
                },
            )
            .await?;
        let purpose = Purpose::parse(&flow.purpose)
            .ok_or((AuthError::InvalidToken, ProviderFailure::Unexpected))?;
        let expected = |e: AuthError| {
            let why = match &e {
                AuthError::AccountExists => ProviderFailure::AccountExists,
                AuthError::SignUpClosed => ProviderFailure::SignUpClosed,
                AuthError::IdentityTaken => ProviderFailure::IdentityTaken,
                AuthError::ProviderEmailMissing => ProviderFailure::NoEmail,
                AuthError::AccountDisabled => ProviderFailure::AccountDisabled,
                _ => ProviderFailure::Unexpected,
            };
            (e, why)
        };
        let mut unit = self.begin().await.map_err(|e| expected(e.into()))?;
        let user_id = match purpose {
            Purpose::SignIn => self
                .resolve_account(&mut unit, provider, &identity, client, now)
                .await
                .map_err(expected)?,
            Purpose::Link => {
                let owner = flow
                    .user_id
                    .ok_or((AuthError::InvalidToken, ProviderFailure::Unexpected))?;
                let linked = store::identities::find(&unit, &provider.config.id, &identity.subject)
                    .await
                    .context("cannot look the identity up")
                    .map_err(|e| expected(e.into()))?;
                if linked.is_some_and(|linked| linked.user_id != owner) {
                    return Err(expected(AuthError::IdentityTaken));
                }
                owner
            }
        };
        let code = LinkToken::generate().map_err(|e| expected(e.into()))?;
        store::provider_flows::answer(
            &unit,
            flow.id,
            Answer {
                code_hash: code.hash(),
                user_id,
                subject: &identity.subject,
                email: identity.email.as_deref(),
                expires_at: now + CODE_LIFETIME,
            },
        )
        .await
        .context("cannot record the answer")
        .map_err(|e| expected(e.into()))?;
        unit.commit("the provider's answer")
            .await
            .map_err(|e| expected(e.into()))?;
        self.mail_queued();
        Ok(code.expose())
    }
}
