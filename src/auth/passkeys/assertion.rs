//! Signing in with a passkey: usernameless (the authenticator offers what
//! it holds and says whose it is), for an address (its passkeys are
//! offered), or as the second step of a two-step sign-in.
//!
//! A sign-in by an address that has no passkey (or no account) is answered
//! like one that has: with decoy credential ids derived from the address
//! under the server's secret (`webauthn-rs`'s generator), the same on every
//! call and instance, so the answer does not tell whether the address has
//! an account or passkeys.

use anyhow::Context;
use chrono::{DateTime, Utc};
use entity::{mfa_challenge, passkey_ceremony};
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PublicKeyCredential,
};
use webauthn_rs_proto::AllowCredentials;

use super::PasskeyStart;
use super::ceremony::{About as CeremonyAbout, Purpose, answer_of, refusal, state_of};
use super::registration::passkey_of;
use super::{PasskeyChallenge, credential_hash};
use crate::auth::audit::Event;
use crate::auth::session_core::Unit;
use crate::auth::sign_in::{PasskeyUse, Proof, SecondFactor, SignInMethod, SignInOutcome};
use crate::auth::{AuthError, AuthService, ClientInfo};
use crate::domain::Email;
use crate::store::{self};

/// A browser's answer to a passkey ceremony: the ceremony's id and the
/// `credential.toJSON()` of `navigator.credentials.get`.
pub struct PasskeyAssertion {
    pub challenge_id: String,
    pub credential: serde_json::Value,
}

impl std::fmt::Debug for PasskeyAssertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyAssertion")
            .field("challenge_id", &self.challenge_id)
            .finish_non_exhaustive()
    }
}

/// A verified answer: the passkey as stored, and what the check found.
struct Verified {
    row: entity::passkey::Model,
    passkey: Passkey,
    result: AuthenticationResult,
}

/// A passkey answer checked as a second factor, its use not yet recorded.
pub(in crate::auth) struct VerifiedPasskey(Verified);

impl AuthService {
    /// Begins a passkey sign-in as `start` says.
    pub async fn start_passkey_sign_in(
        &self,
        start: PasskeyStart<'_>,
        client: &ClientInfo,
    ) -> Result<PasskeyChallenge, AuthError> {
        let webauthn = self.passkeys.webauthn()?;
        self.admit(client, "startPasskeySignIn").await?;
        match start {
            PasskeyStart::Discoverable => {
                let (options, state) = webauthn
                    .start_discoverable_authentication()
                    .map_err(|e| anyhow::anyhow!("cannot start a passkey sign-in: {e}"))?;
                self.begin_ceremony(
                    Purpose::SignIn,
                    CeremonyAbout::default(),
                    &state,
                    &options.public_key,
                )
                .await
            }
            PasskeyStart::Email(raw) => {
                // An address that cannot be an account's is a decoy's.
                let email = Email::parse(raw)
                    .map(|email| email.as_str().to_owned())
                    .unwrap_or_else(|_| raw.trim().to_lowercase());
                let user = store::users::find_by_email(&self.reads, &email)
                    .await
                    .context("cannot look the e-mail address up")?
                    .filter(|user| user.disabled_at.is_none());
                let passkeys = match &user {
                    Some(user) => self.passkeys_of(user.id).await?,
                    None => Vec::new(),
                };
                let about = CeremonyAbout {
                    user_id: user.as_ref().map(|user| user.id),
                    email: Some(&email),
                    ..CeremonyAbout::default()
                };
                if passkeys.is_empty() {
                    return self.start_decoy(&email, about).await;
                }
                let (mut options, state) = webauthn
                    .start_passkey_authentication(&passkeys)
                    .map_err(|e| anyhow::anyhow!("cannot start a passkey sign-in: {e}"))?;
                // As a decoy's: no transports, which decoys cannot have.
                for allowed in &mut options.public_key.allow_credentials {
                    allowed.transports = None;
                }
                self.begin_ceremony(Purpose::SignIn, about, &state, &options.public_key)
                    .await
            }
            PasskeyStart::SecondFactor { mfa_token } => {
                let challenge = self.usable_challenge(mfa_token).await?;
                let passkeys = self.passkeys_of(challenge.user_id).await?;
                if passkeys.is_empty() {
                    return Err(AuthError::NoPasskey);
                }
                let (options, state) = webauthn
                    .start_passkey_authentication(&passkeys)
                    .map_err(|e| anyhow::anyhow!("cannot start a passkey check: {e}"))?;
                self.begin_ceremony(
                    Purpose::SecondFactor,
                    CeremonyAbout {
                        user_id: Some(challenge.user_id),
                        mfa_challenge_id: Some(challenge.id),
                        ..CeremonyAbout::default()
                    },
                    &state,
                    &options.public_key,
                )
                .await
            }
        }
    }

    /// A sign-in for an address with no passkey: decoy credentials, and a
    /// ceremony no answer can finish.
    async fn start_decoy(
        &self,
        email: &str,
        about: CeremonyAbout<'_>,
    ) -> Result<PasskeyChallenge, AuthError> {
        let webauthn = self.passkeys.webauthn()?;
        let (mut options, state) = webauthn
            .start_discoverable_authentication()
            .map_err(|e| anyhow::anyhow!("cannot start a passkey sign-in: {e}"))?;
        let decoys = self
            .passkeys
            .decoys
            .generate(email.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot make decoy credentials: {e}"))?;
        options.public_key.allow_credentials = decoys
            .into_iter()
            .map(|id| AllowCredentials {
                type_: "public-key".to_owned(),
                id,
                transports: None,
            })
            .collect();
        // As a real account's options: no extensions.
        options.public_key.extensions = None;
        self.begin_ceremony(
            Purpose::SignIn,
            CeremonyAbout {
                // No account's passkey can finish it.
                user_id: None,
                ..about
            },
            &state,
            &options.public_key,
        )
        .await
    }

    /// Finishes a passkey sign-in with the browser's answer.
    pub async fn finish_passkey_sign_in(
        &self,
        assertion: PasskeyAssertion,
        client: &ClientInfo,
    ) -> Result<SignInOutcome, AuthError> {
        self.passkeys.webauthn()?;
        self.admit(client, "finishPasskeySignIn").await?;
        let now = Utc::now();
        let ceremony = self
            .take_ceremony(&assertion.challenge_id, Purpose::SignIn, now)
            .await?;
        let verified = match self
            .verify_assertion(&ceremony, assertion.credential)
            .await?
        {
            Ok(verified) => verified,
            Err(refused) => return Err(self.refused(refused, client).await?),
        };
        let mut unit = self.begin().await?;
        let synced = self.record_passkey_use(&unit, &verified, now).await?;
        let user = store::users::find(&unit, verified.row.user_id)
            .await
            .context("cannot load the user")?
            .ok_or(AuthError::InvalidPasskey {
                reason: "unknown_credential",
            })?;
        if user.disabled_at.is_some() {
            return Err(AuthError::AccountDisabled);
        }
        if self.mail.require_verified_email() && user.email_verified_at.is_none() {
            unit.rollback().await?;
            self.mail_verification_link(&user, client, None).await?;
            return Err(AuthError::EmailNotVerified);
        }
        let method = SignInMethod::Passkey(PasskeyUse {
            synced,
            new_account: false,
        });
        let outcome = self
            .sign_in(&mut unit, user, Proof::from(method), client, now)
            .await?;
        unit.commit("the passkey sign-in").await?;
        Ok(outcome)
    }

    /// The second step of a two-step sign-in with a passkey: takes the
    /// ceremony begun for `challenge` and checks the answer to it. Done
    /// before the sign-in's unit of work begins (the ceremony is taken on
    /// its own; on SQLite the unit holds the one writer). `Err` is the
    /// refusal's reason.
    pub(in crate::auth) async fn check_passkey_factor(
        &self,
        challenge: &mfa_challenge::Model,
        assertion: &PasskeyAssertion,
        now: DateTime<Utc>,
    ) -> Result<Result<VerifiedPasskey, &'static str>, AuthError> {
        self.passkeys.webauthn()?;
        let ceremony = self
            .take_ceremony(&assertion.challenge_id, Purpose::SecondFactor, now)
            .await?;
        if ceremony.mfa_challenge_id != Some(challenge.id) {
            return Err(AuthError::PasskeyChallengeInvalid);
        }
        Ok(self
            .verify_assertion(&ceremony, assertion.credential.clone())
            .await?
            .map(VerifiedPasskey)
            .map_err(|refused| refused.reason))
    }

    /// Records the checked passkey's use in the sign-in's `unit`: the
    /// second factor it is.
    pub(in crate::auth) async fn use_passkey_factor(
        &self,
        unit: &Unit,
        verified: &VerifiedPasskey,
        now: DateTime<Utc>,
    ) -> Result<SecondFactor, AuthError> {
        let synced = self.record_passkey_use(unit, &verified.0, now).await?;
        Ok(SecondFactor::Passkey { synced })
    }

    /// Checks `credential` against `ceremony`: the passkey must be one the
    /// ceremony is for (the account's, when it names one; else the one the
    /// authenticator says whose it is), and `webauthn-rs` must accept the
    /// answer. The inner `Err` is a refusal.
    async fn verify_assertion(
        &self,
        ceremony: &passkey_ceremony::Model,
        credential: serde_json::Value,
    ) -> Result<Result<Verified, Refused>, AuthError> {
        let webauthn = self.passkeys.webauthn()?;
        let refuse = |user_id, reason| Ok(Err(Refused { user_id, reason }));
        let Ok(answer) = answer_of::<PublicKeyCredential>(credential) else {
            return refuse(ceremony.user_id, "malformed");
        };
        let Some(row) = store::passkeys::find_by_credential(
            &self.db,
            &credential_hash(answer.get_credential_id()),
        )
        .await
        .context("cannot look the passkey up")?
        else {
            return refuse(ceremony.user_id, "unknown_credential");
        };
        let by_account = ceremony.email.is_some() || ceremony.mfa_challenge_id.is_some();
        if by_account && ceremony.user_id != Some(row.user_id) {
            return refuse(ceremony.user_id, "other_user");
        }
        let passkey = passkey_of(&row)?;
        let result = if by_account {
            let state: PasskeyAuthentication = state_of(ceremony)?;
            webauthn.finish_passkey_authentication(&answer, &state)
        } else {
            let state: DiscoverableAuthentication = state_of(ceremony)?;
            // The user handle the authenticator returned must be the
            // passkey's owner's id.
            match webauthn.identify_discoverable_authentication(&answer) {
                Ok((handle, _)) if handle == row.user_id => {
                    webauthn.finish_discoverable_authentication_v2(&answer, state, &passkey)
                }
                Ok(_) => return refuse(Some(row.user_id), "other_user"),
                Err(error) => Err(error),
            }
        };
        let result = match result {
            Ok(result) => result,
            Err(error) => {
                let reason = refusal(&error);
                tracing::info!(user_id = %row.user_id, reason, %error, "passkey answer refused");
                return refuse(Some(row.user_id), reason);
            }
        };
        if !result.user_verified() {
            return refuse(Some(row.user_id), "user_verification");
        }
        Ok(Ok(Verified {
            row,
            passkey,
            result,
        }))
    }

    /// Records a verified use of a passkey in `unit`: its counter and
    /// backup state as the answer says, and when. Whether it is synced.
    async fn record_passkey_use(
        &self,
        unit: &Unit,
        verified: &Verified,
        now: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        let mut passkey = verified.passkey.clone();
        passkey.update_credential(&verified.result);
        let credential = serde_json::to_string(&passkey).context("cannot write the passkey")?;
        // Conditional on the stored credential: of two answers racing with
        // one counter value, one moves it on and the other is refused.
        if !store::passkeys::record_use(
            unit,
            verified.row.id,
            &verified.row.credential,
            credential,
            verified.result.backup_state(),
            now,
        )
        .await
        .context("cannot record the passkey's use")?
        {
            return Err(AuthError::InvalidPasskey { reason: "counter" });
        }
        Ok(verified.result.backup_eligible())
    }

    /// Audits a refused answer and says what the client is told.
    async fn refused(&self, refused: Refused, client: &ClientInfo) -> Result<AuthError, AuthError> {
        self.record(
            &self.db,
            client,
            Event::PasskeyRefused {
                user_id: refused.user_id,
                reason: refused.reason,
            },
        )
        .await?;
        Ok(AuthError::InvalidPasskey {
            reason: refused.reason,
        })
    }

    /// The user's passkeys, as `webauthn-rs` keeps them.
    async fn passkeys_of(&self, user_id: uuid::Uuid) -> Result<Vec<Passkey>, AuthError> {
        Ok(store::passkeys::of_user(&self.reads, user_id)
            .await
            .context("cannot list the passkeys")?
            .iter()
            .map(passkey_of)
            .collect::<anyhow::Result<Vec<Passkey>>>()?)
    }
}

/// A refused answer: whose passkey it claimed to be, and why.
struct Refused {
    user_id: Option<uuid::Uuid>,
    reason: &'static str,
}
