//! Adding a passkey: to the signed-in user's account (after a recent
//! sign-in), or with a new account that has no password.
//!
//! Passkeys are asked for as discoverable credentials (so that a sign-in
//! needs no address) with user verification required (so that one is two
//! factors) and no attestation; the account's passkeys are excluded, so one
//! authenticator is not registered twice. The WebAuthn user handle is the
//! user's id: random, and no personal data.

use anyhow::Context;
use chrono::{DateTime, Utc};
use entity::user;
use uuid::Uuid;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Credential, Passkey, PasskeyRegistration,
    RegisterPublicKeyCredential,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::ceremony::{About as CeremonyAbout, Purpose, answer_of, refusal, state_of};
use super::{PasskeyChallenge, PasskeyView, credential_hash};
use crate::auth::audit::Event;
use crate::auth::mail_queue::{About, Cause};
use crate::auth::principal::Principal;
use crate::auth::session_core::Unit;
use crate::auth::sign_in::{PasskeyUse, SignInMethod, SignInOutcome};
use crate::auth::{AuthError, AuthService, ClientInfo};
use crate::domain::{Email, PasskeyName, Roles, UserName};
use crate::mail::MailKind;
use crate::store::account_tokens::Purpose as LinkPurpose;
use crate::store::passkeys::NewPasskey;
use crate::store::{self};

impl AuthService {
    /// Begins adding a passkey to the signed-in user's account.
    pub async fn start_passkey_registration(
        &self,
        principal: &Principal,
    ) -> Result<PasskeyChallenge, AuthError> {
        let webauthn = self.passkeys.webauthn()?;
        self.require_recent_sign_in(principal)?;
        let user = store::users::find(&self.reads, principal.user_id)
            .await
            .context("cannot load the user")?
            .ok_or(AuthError::Unauthenticated(
                crate::auth::UnauthenticatedReason::Revoked,
            ))?;
        let existing = store::passkeys::of_user(&self.reads, user.id)
            .await
            .context("cannot list the passkeys")?
            .iter()
            .map(passkey_of)
            .collect::<anyhow::Result<Vec<Passkey>>>()?;
        let exclude = existing.iter().map(|key| key.cred_id().clone()).collect();
        let (mut options, state) = webauthn
            .start_passkey_registration(user.id, &user.email, &user.name, Some(exclude))
            .map_err(|e| anyhow::anyhow!("cannot start a passkey registration: {e}"))?;
        discoverable(&mut options);
        self.begin_ceremony(
            Purpose::Register,
            CeremonyAbout {
                user_id: Some(user.id),
                ..CeremonyAbout::default()
            },
            &state,
            &options.public_key,
        )
        .await
    }

    /// Finishes adding a passkey named `name` to the signed-in user's
    /// account with the browser's answer `credential`.
    pub async fn finish_passkey_registration(
        &self,
        principal: &Principal,
        challenge_id: &str,
        credential: serde_json::Value,
        name: PasskeyName,
        client: &ClientInfo,
    ) -> Result<PasskeyView, AuthError> {
        let now = Utc::now();
        self.passkeys.webauthn()?;
        let ceremony = self
            .take_ceremony(challenge_id, Purpose::Register, now)
            .await?;
        if ceremony.user_id != Some(principal.user_id) {
            return Err(AuthError::PasskeyChallengeInvalid);
        }
        let passkey = self.verify_registration(&ceremony, credential, Some(principal.user_id))?;
        let user = store::users::find(&self.db, principal.user_id)
            .await
            .context("cannot load the user")?
            .ok_or(AuthError::PasskeyChallengeInvalid)?;
        let unit = self.begin().await?;
        let row = self
            .store_passkey(
                &unit,
                &user,
                &passkey,
                &name,
                Some(principal.session_id),
                client,
                now,
            )
            .await?;
        unit.commit("the new passkey").await?;
        self.mail_queued();
        tracing::info!(user_id = %user.id, passkey_id = %row.id, "passkey added");
        Ok(row.into())
    }

    /// Begins a new account with a passkey alone.
    pub async fn start_passkey_sign_up(
        &self,
        name: &UserName,
        email: &Email,
        client: &ClientInfo,
    ) -> Result<PasskeyChallenge, AuthError> {
        let webauthn = self.passkeys.webauthn()?;
        self.admit(client, "startPasskeySignUp").await?;
        if store::users::find_by_email(&self.reads, email.as_str())
            .await
            .context("cannot look the e-mail address up")?
            .is_some()
        {
            return Err(AuthError::EmailTaken);
        }
        // The account's id to be: the user handle the passkey keeps.
        let id = Uuid::new_v4();
        let (mut options, state) = webauthn
            .start_passkey_registration(id, email.as_str(), name.as_str(), None)
            .map_err(|e| anyhow::anyhow!("cannot start a passkey registration: {e}"))?;
        discoverable(&mut options);
        self.begin_ceremony(
            Purpose::SignUp,
            CeremonyAbout {
                user_id: Some(id),
                email: Some(email.as_str()),
                name: Some(name.as_str()),
                mfa_challenge_id: None,
            },
            &state,
            &options.public_key,
        )
        .await
    }

    /// Finishes a sign-up with a passkey: the account (with no password,
    /// its address to be confirmed by mail as usual) and its first passkey,
    /// signed in with it.
    pub async fn finish_passkey_sign_up(
        &self,
        challenge_id: &str,
        credential: serde_json::Value,
        client: &ClientInfo,
    ) -> Result<SignInOutcome, AuthError> {
        self.passkeys.webauthn()?;
        self.admit(client, "finishPasskeySignUp").await?;
        let now = Utc::now();
        let ceremony = self
            .take_ceremony(challenge_id, Purpose::SignUp, now)
            .await?;
        let (Some(id), Some(email), Some(name)) = (
            ceremony.user_id,
            ceremony.email.clone(),
            ceremony.name.clone(),
        ) else {
            return Err(AuthError::PasskeyChallengeInvalid);
        };
        let passkey = self.verify_registration(&ceremony, credential, None)?;
        let mut unit = self.begin().await?;
        let user = store::users::insert(
            &unit,
            store::users::NewUser {
                id,
                name: &name,
                email: &email,
                password_hash: store::users::NO_PASSWORD.to_owned(),
                roles: Roles::default().into_vec(),
                email_verified_at: None,
                now,
            },
        )
        .await
        .map_err(|e| {
            if store::is_unique_violation(&e) {
                AuthError::EmailTaken
            } else {
                AuthError::from(anyhow::Error::new(e).context("cannot insert the user"))
            }
        })?;
        self.store_passkey(
            &unit,
            &user,
            &passkey,
            &PasskeyName::unnamed(),
            None,
            client,
            now,
        )
        .await?;
        self.queue_link(
            &unit,
            LinkPurpose::VerifyEmail,
            &user.email,
            Cause {
                user: &user,
                client,
                now,
            },
        )
        .await?;
        if self.mail.require_verified_email() {
            self.record(
                &unit,
                client,
                Event::Registered {
                    user_id: user.id,
                    provider: Some("passkey"),
                },
            )
            .await?;
            unit.commit("the passkey sign-up").await?;
            self.mail_queued();
            tracing::info!(user_id = %user.id, "signed up with a passkey; the address must be confirmed before sign-in");
            return Err(AuthError::EmailNotVerified);
        }
        let method = SignInMethod::Passkey(PasskeyUse {
            synced: Credential::from(passkey).backup_eligible,
            new_account: true,
        });
        let outcome = self
            .sign_in(&mut unit, user, method.into(), client, now)
            .await?;
        unit.commit("the passkey sign-up").await?;
        self.mail_queued();
        Ok(outcome)
    }

    /// Checks the browser's answer to a registration ceremony; refusals are
    /// logged (with `user_id`, when known).
    fn verify_registration(
        &self,
        ceremony: &entity::passkey_ceremony::Model,
        credential: serde_json::Value,
        user_id: Option<Uuid>,
    ) -> Result<Passkey, AuthError> {
        let webauthn = self.passkeys.webauthn()?;
        let state: PasskeyRegistration = state_of(ceremony)?;
        let answer: RegisterPublicKeyCredential = answer_of(credential)?;
        webauthn
            .finish_passkey_registration(&answer, &state)
            .map_err(|error| {
                let reason = refusal(&error);
                tracing::info!(user_id = ?user_id, reason, %error, "passkey registration refused");
                AuthError::InvalidPasskey { reason }
            })
    }

    /// Stores `user`'s new `passkey`, audits it and tells their address.
    #[allow(clippy::too_many_arguments)]
    async fn store_passkey(
        &self,
        unit: &Unit,
        user: &user::Model,
        passkey: &Passkey,
        name: &PasskeyName,
        session_id: Option<Uuid>,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<entity::passkey::Model, AuthError> {
        let credential = Credential::from(passkey.clone());
        let row = store::passkeys::add(
            unit,
            NewPasskey {
                id: Uuid::new_v4(),
                user_id: user.id,
                credential_hash: credential_hash(passkey.cred_id()),
                name: name.as_str(),
                credential: serde_json::to_string(passkey).context("cannot write the passkey")?,
                backed_up: credential.backup_state,
                now,
            },
        )
        .await
        .map_err(|e| {
            if store::is_unique_violation(&e) {
                AuthError::PasskeyExists
            } else {
                AuthError::from(anyhow::Error::new(e).context("cannot store the passkey"))
            }
        })?;
        self.record(
            unit,
            client,
            Event::PasskeyAdded {
                user_id: user.id,
                session_id,
            },
        )
        .await?;
        self.queue_notice(
            unit,
            MailKind::PasskeyAdded,
            &user.email,
            About {
                passkey: Some(name.as_str()),
                ..About::default()
            },
            Cause { user, client, now },
        )
        .await?;
        Ok(row)
    }
}

/// Asks for a discoverable credential (a resident key): a sign-in can then
/// start with no address. `webauthn-rs` leaves residence to the
/// authenticator; its checks of the answer do not depend on it.
fn discoverable(options: &mut CreationChallengeResponse) {
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
    }
}

/// A stored passkey as `webauthn-rs` keeps it.
pub(super) fn passkey_of(row: &entity::passkey::Model) -> anyhow::Result<Passkey> {
    serde_json::from_str(&row.credential).context("a stored passkey does not read back")
}
