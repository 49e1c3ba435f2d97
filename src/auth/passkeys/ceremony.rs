//! A WebAuthn ceremony between its start and its finish. Its state (which
//! holds the challenge) is `webauthn-rs`'s, kept in the database: any
//! instance can finish it, it lives five minutes, and it is finished once
//! (one conditional update takes it, whatever the answer then proves), so a
//! replayed answer meets a used ceremony and an answer to another ceremony
//! meets a challenge it does not sign.

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use entity::passkey_ceremony;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;
use webauthn_rs::prelude::WebauthnError;

use super::PasskeyChallenge;
use crate::auth::{AuthError, AuthService};
use crate::store::passkey_ceremonies::NewCeremony;
use crate::store::{self};

/// How long a ceremony waits for the authenticator's answer.
pub(super) const LIFETIME: TimeDelta = TimeDelta::minutes(5);
/// The same, as the options' `timeout` tells the browser.
pub(super) const LIFETIME_STD: std::time::Duration = std::time::Duration::from_secs(300);

/// What a ceremony is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    /// A signed-in user adds a passkey.
    Register,
    /// A new account with a passkey alone.
    SignUp,
    /// Signing in with a passkey.
    SignIn,
    /// A passkey as the second step of a two-step sign-in.
    SecondFactor,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::SignUp => "sign_up",
            Self::SignIn => "sign_in",
            Self::SecondFactor => "second_factor",
        }
    }
}

/// Who and what a ceremony is about, besides its state.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct About<'a> {
    pub user_id: Option<Uuid>,
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
    pub mfa_challenge_id: Option<Uuid>,
}

/// Every `reason` an `INVALID_PASSKEY` can carry.
pub const REFUSALS: [&str; 11] = [
    "malformed",
    "challenge",
    "origin",
    "rp_id",
    "user_presence",
    "user_verification",
    "signature",
    "counter",
    "unknown_credential",
    "other_user",
    "invalid",
];

/// What `webauthn-rs`'s refusal is called in [`REFUSALS`].
pub(super) fn refusal(error: &WebauthnError) -> &'static str {
    use WebauthnError as E;
    match error {
        E::MismatchedChallenge | E::ChallengeNotFound => "challenge",
        E::InvalidRPOrigin | E::CredentialCrossOrigin => "origin",
        E::InvalidRPIDHash => "rp_id",
        E::UserNotPresent => "user_presence",
        E::UserNotVerified | E::InconsistentUserVerificationPolicy => "user_verification",
        E::AuthenticationFailure | E::SignatureInvalid => "signature",
        E::CredentialPossibleCompromise | E::CredentialCounterUpdateFailure => "counter",
        E::CredentialNotFound | E::CredentialExcludedFromRequest => "unknown_credential",
        E::ParseCBORFailure(_)
        | E::ParseJSONFailure(_)
        | E::ParseNOMFailure
        | E::ParseInsufficientBytesAvailable
        | E::InvalidClientDataType
        | E::InvalidUserUniqueId
        | E::MissingAttestationCredentialData
        | E::COSEKeyInvalidCBORValue
        | E::COSEKeyInvalidType
        | E::COSEKeyInvalidAlgorithm => "malformed",
        _ => "invalid",
    }
}

impl AuthService {
    /// Stores a ceremony of `purpose` with `state`, and answers the browser
    /// `options` (the `publicKey` member).
    pub(super) async fn begin_ceremony(
        &self,
        purpose: Purpose,
        about: About<'_>,
        state: &impl Serialize,
        options: &impl Serialize,
    ) -> Result<PasskeyChallenge, AuthError> {
        let now = Utc::now();
        let id = Uuid::new_v4();
        let expires_at = now + LIFETIME;
        store::passkey_ceremonies::start(
            &self.db,
            NewCeremony {
                id,
                purpose: purpose.as_str(),
                user_id: about.user_id,
                email: about.email,
                name: about.name,
                mfa_challenge_id: about.mfa_challenge_id,
                state: serde_json::to_string(state).context("cannot keep the ceremony's state")?,
                now,
                expires_at,
            },
        )
        .await
        .context("cannot store the ceremony")?;
        Ok(PasskeyChallenge {
            challenge_id: id,
            options: serde_json::to_value(options).context("cannot write the options")?,
            expires_at,
        })
    }

    /// Takes the ceremony `challenge_id` of `purpose` (committed at once: a
    /// ceremony is finished once, whatever the answer proves).
    pub(super) async fn take_ceremony(
        &self,
        challenge_id: &str,
        purpose: Purpose,
        now: DateTime<Utc>,
    ) -> Result<passkey_ceremony::Model, AuthError> {
        let id = Uuid::parse_str(challenge_id).map_err(|_| AuthError::PasskeyChallengeInvalid)?;
        store::passkey_ceremonies::take(&self.db, id, purpose.as_str(), now)
            .await
            .context("cannot take the ceremony")?
            .ok_or(AuthError::PasskeyChallengeInvalid)
    }
}

/// The state a ceremony was stored with.
pub(super) fn state_of<T: DeserializeOwned>(
    ceremony: &passkey_ceremony::Model,
) -> anyhow::Result<T> {
    serde_json::from_str(&ceremony.state).context("a ceremony's state does not read back")
}

/// The browser's answer (`credential.toJSON()`) as `webauthn-rs` reads it.
pub(super) fn answer_of<T: DeserializeOwned>(
    credential: serde_json::Value,
) -> Result<T, AuthError> {
    serde_json::from_value(credential).map_err(|_| AuthError::InvalidPasskey {
        reason: "malformed",
    })
}
