//! Trading the one-time code for what the flow was for: a session, or the
//! identity linked to the signed-in user; and unlinking.

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use entity::provider_flow;

use super::flow::{FlowStart, ProviderRedirect};
use crate::auth::audit::Event;
use crate::auth::principal::Principal;
use crate::auth::session_core::Unit;
use crate::auth::sign_in::{Proof, SignInMethod, SignInOutcome};
use crate::auth::{Account, AuthError, AuthService, ClientInfo};
use crate::domain::{CodeChallenge, LinkToken};
use crate::store::provider_flows::Purpose;
use crate::store::{self};

/// How recent a sign-in must be to link or unlink a provider.
pub(in crate::auth) const RECENT_SIGN_IN: TimeDelta = TimeDelta::minutes(10);

/// An account at a provider linked to a user, as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub provider: String,
    pub email: Option<String>,
    pub linked_at: DateTime<Utc>,
}

impl AuthService {
    /// Uses up the flow of `purpose` whose one-time code is `code`, if the
    /// frontend's `verifier` meets its challenge. A wrong verifier uses the
    /// code up too.
    async fn take_completed(
        &self,
        unit: &mut Unit,
        code: &str,
        verifier: &str,
        purpose: Purpose,
        now: DateTime<Utc>,
    ) -> Result<Option<provider_flow::Model>, AuthError> {
        let Some(code) = LinkToken::parse(code) else {
            return Ok(None);
        };
        let flow = store::provider_flows::take_by_code(&*unit, &code.hash(), purpose, now)
            .await
            .context("cannot take the flow")?;
        Ok(flow.filter(|flow| {
            CodeChallenge::from_stored(flow.code_challenge.clone()).is_met_by(verifier)
        }))
    }

    /// Signs in the user a provider vouched for, given the one-time code
    /// and the verifier of the challenge the flow started with.
    pub async fn complete_provider_sign_in(
        &self,
        code: &str,
        verifier: &str,
        client: &ClientInfo,
    ) -> Result<SignInOutcome, AuthError> {
        self.admit(client, "completeProviderSignIn").await?;
        let now = Utc::now();
        let mut unit = self.begin().await?;
        let flow = self
            .take_completed(&mut unit, code, verifier, Purpose::SignIn, now)
            .await?;
        let Some((flow, user_id)) = flow.and_then(|flow| Some((flow.clone(), flow.user_id?)))
        else {
            // The code is used up even when the verifier was wrong.
            unit.commit("a refused provider code").await?;
            tracing::info!(
                "provider sign-in refused: unknown, used or expired code, or wrong verifier"
            );
            return Err(AuthError::InvalidToken);
        };
        let user = store::users::find(&unit, user_id)
            .await
            .context("cannot load the user")?
            .ok_or(AuthError::InvalidToken)?;
        if user.disabled_at.is_some() {
            unit.commit("a refused provider code").await?;
            return Err(AuthError::AccountDisabled);
        }
        if self.mail.require_verified_email() && user.email_verified_at.is_none() {
            unit.commit("a refused provider code").await?;
            self.mail_verification_link(&user, client, None).await?;
            return Err(AuthError::EmailNotVerified);
        }
        if let Some(subject) = &flow.subject
            && let Some(identity) = store::identities::find(&unit, &flow.provider, subject)
                .await
                .context("cannot look the identity up")?
        {
            store::identities::touch(&unit, identity.id, now)
                .await
                .context("cannot record the identity's use")?;
        }
        let proof = Proof {
            method: SignInMethod::Provider,
            provider: Some(&flow.provider),
            second: None,
        };
        let outcome = self.sign_in(&mut unit, user, proof, client, now).await?;
        unit.commit("the provider sign-in").await?;
        Ok(outcome)
    }

    /// Refuses unless `principal` signed in within [`RECENT_SIGN_IN`].
    pub(in crate::auth) fn require_recent_sign_in(
        &self,
        principal: &Principal,
    ) -> Result<(), AuthError> {
        match principal.authenticated_at {
            Some(at) if Utc::now() - at <= RECENT_SIGN_IN => Ok(()),
            _ => Err(AuthError::RecentSignInRequired),
        }
    }

    /// Starts linking a provider's account to the signed-in user.
    pub async fn start_provider_link(
        &self,
        principal: &Principal,
        start: FlowStart<'_>,
    ) -> Result<ProviderRedirect, AuthError> {
        self.require_recent_sign_in(principal)?;
        self.start_flow(start, Purpose::Link, Some(principal.user_id))
            .await
    }

    /// Links the identity a provider vouched for to the signed-in user who
    /// started the flow.
    pub async fn complete_provider_link(
        &self,
        principal: &Principal,
        code: &str,
        verifier: &str,
        client: &ClientInfo,
    ) -> Result<Account, AuthError> {
        let now = Utc::now();
        let mut unit = self.begin().await?;
        let flow = self
            .take_completed(&mut unit, code, verifier, Purpose::Link, now)
            .await?
            .filter(|flow| flow.user_id == Some(principal.user_id));
        let Some((flow, subject)) = flow.and_then(|flow| Some((flow.clone(), flow.subject?)))
        else {
            unit.commit("a refused provider code").await?;
            return Err(AuthError::InvalidToken);
        };
        let provider = self
            .providers
            .get(&flow.provider)
            .ok_or(AuthError::UnknownProvider)?;
        let user = store::users::find(&unit, principal.user_id)
            .await
            .context("cannot load the user")?
            .ok_or(AuthError::InvalidToken)?;
        let identity = super::ProvidedIdentity {
            subject,
            email: flow.email.clone(),
            email_verified: false,
            name: None,
        };
        self.link_identity(&mut unit, &provider, &identity, &user, client, now)
            .await?;
        self.record(
            &unit,
            client,
            Event::IdentityLinked {
                user_id: user.id,
                provider: &provider.config.id,
                claimed: false,
            },
        )
        .await?;
        unit.commit("the link").await?;
        self.mail_queued();
        tracing::info!(user_id = %user.id, provider = %provider.config.id, "identity linked");
        Ok(user.into())
    }

    /// Unlinks the signed-in user's identity at `provider`, unless it is
    /// their last way to sign in.
    pub async fn unlink_provider(
        &self,
        principal: &Principal,
        provider: &str,
        client: &ClientInfo,
    ) -> Result<Account, AuthError> {
        self.require_recent_sign_in(principal)?;
        let unit = self.begin().await?;
        let user = store::users::find(&unit, principal.user_id)
            .await
            .context("cannot load the user")?
            .ok_or(AuthError::Unauthenticated(
                crate::auth::UnauthenticatedReason::Revoked,
            ))?;
        let identities = store::identities::of_user(&unit, user.id)
            .await
            .context("cannot list the identities")?;
        if !identities
            .iter()
            .any(|identity| identity.provider == provider)
        {
            return Err(AuthError::UnknownProvider);
        }
        if crate::auth::passkeys::ways_in(&unit, &user).await? <= 1 {
            return Err(AuthError::LastSignInMethod);
        }
        store::identities::unlink(&unit, user.id, provider)
            .await
            .context("cannot unlink the identity")?;
        self.record(
            &unit,
            client,
            Event::IdentityUnlinked {
                user_id: user.id,
                session_id: principal.session_id,
                provider,
            },
        )
        .await?;
        unit.commit("the unlink").await?;
        tracing::info!(user_id = %user.id, provider, "identity unlinked");
        Ok(user.into())
    }

    /// The user's linked identities, oldest first.
    pub async fn identities(&self, user_id: uuid::Uuid) -> Result<Vec<Identity>, AuthError> {
        let rows = store::identities::of_user(&self.reads, user_id)
            .await
            .context("cannot list the identities")?;
        Ok(rows
            .into_iter()
            .map(|row| Identity {
                provider: row.provider,
                email: row.email,
                linked_at: row.linked_at,
            })
            .collect())
    }

    /// The providers users may sign in with.
    pub fn sign_in_providers(&self) -> Vec<super::ProviderInfo> {
        self.providers.list()
    }
}
