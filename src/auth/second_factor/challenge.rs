//! The two steps of a sign-in with a second factor. The front door, asked to
//! sign in a user with a confirmed factor by a method that proves one factor,
//! issues a challenge instead of a session; `verifySecondFactor` checks a
//! code against it and opens the session through the front door.
//!
//! Limits: 5 wrong codes use a challenge up; 10 wrong codes for an account
//! lock its second-factor checks for 15 minutes (in the database, so on
//! every instance).

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use entity::user;

use super::enrollment::{binding, unix_seconds};
use super::{recovery, totp};
use crate::auth::audit::Event;
use crate::auth::mail_queue::{About, Cause};
use crate::auth::passkeys::PasskeyAssertion;
use crate::auth::session_core::Unit;
use crate::auth::sign_in::{
    Proof, SecondFactor, SecondFactorChallenge, SignInMethod, SignInOutcome,
};
use crate::auth::{AuthError, AuthService, ClientInfo};
use crate::domain::LinkToken;
use crate::mail::MailKind;
use crate::store::mfa_challenges::NewChallenge;
use crate::store::{self};

/// How long a challenge waits for its second factor.
const CHALLENGE_LIFETIME: TimeDelta = TimeDelta::minutes(5);
/// Wrong codes that use a challenge up.
const CHALLENGE_FAILURES: i32 = 5;
/// Wrong codes that lock an account's second-factor checks.
const ACCOUNT_FAILURES: i32 = 10;
const LOCK: TimeDelta = TimeDelta::minutes(15);

/// What a user gives as their second factor.
pub enum SecondFactorCode {
    Totp(String),
    Recovery(String),
    /// A passkey's answer to the ceremony `startPasskeySignIn(mfaToken)`
    /// began.
    Passkey(PasskeyAssertion),
}

impl std::fmt::Debug for SecondFactorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Totp(_) => "Totp(<hidden>)",
            Self::Recovery(_) => "Recovery(<hidden>)",
            Self::Passkey(_) => "Passkey",
        })
    }
}

impl AuthService {
    /// Issues the challenge of a two-step sign-in for `user`, who proved
    /// `proof`, in `unit`.
    pub(in crate::auth) async fn challenge(
        &self,
        unit: &mut Unit,
        user: &user::Model,
        proof: Proof<'_>,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<SecondFactorChallenge, AuthError> {
        let token = LinkToken::generate()?;
        let expires_at = now + CHALLENGE_LIFETIME;
        // As the account is in this unit: a reset moved it on already.
        let credential_version = store::users::find(&*unit, user.id)
            .await
            .context("cannot load the user")?
            .map_or(user.credential_version, |current| {
                current.credential_version
            });
        store::mfa_challenges::issue(
            &*unit,
            NewChallenge {
                user_id: user.id,
                token_hash: token.hash(),
                methods: proof.method.as_str(),
                provider: proof.provider,
                credential_version,
                now,
                expires_at,
            },
        )
        .await
        .context("cannot store the challenge")?;
        self.record(
            &*unit,
            client,
            Event::SecondFactorRequested {
                user_id: user.id,
                method: proof.method,
            },
        )
        .await?;
        tracing::info!(user_id = %user.id, method = proof.method.as_str(), "second factor required");
        let mut factors = vec!["TOTP", "RECOVERY_CODE"];
        if self.passkeys.enabled()
            && store::passkeys::count(&*unit, user.id)
                .await
                .context("cannot count the passkeys")?
                > 0
        {
            factors.push("PASSKEY");
        }
        Ok(SecondFactorChallenge {
            mfa_token: token.expose(),
            factors,
            expires_at,
        })
    }

    /// The unused, unexpired challenge of `mfa_token`, if its account's
    /// credentials did not change since.
    pub(in crate::auth) async fn usable_challenge(
        &self,
        mfa_token: &str,
    ) -> Result<entity::mfa_challenge::Model, AuthError> {
        let token = LinkToken::parse(mfa_token).ok_or(AuthError::InvalidToken)?;
        let challenge = store::mfa_challenges::find_usable(&self.db, &token.hash(), Utc::now())
            .await
            .context("cannot load the challenge")?
            .ok_or(AuthError::InvalidToken)?;
        store::users::find(&self.db, challenge.user_id)
            .await
            .context("cannot load the user")?
            .filter(|user| user.credential_version == challenge.credential_version)
            .ok_or(AuthError::InvalidToken)?;
        Ok(challenge)
    }

    /// Checks `code` against the challenge of `mfa_token` and signs the user
    /// in with both factors.
    pub async fn verify_second_factor(
        &self,
        mfa_token: &str,
        code: SecondFactorCode,
        client: &ClientInfo,
    ) -> Result<SignInOutcome, AuthError> {
        self.admit(client, "verifySecondFactor").await?;
        let now = Utc::now();
        let token = LinkToken::parse(mfa_token).ok_or(AuthError::InvalidToken)?;
        let challenge = store::mfa_challenges::find_usable(&self.db, &token.hash(), now)
            .await
            .context("cannot load the challenge")?
            .ok_or(AuthError::InvalidToken)?;
        let user = store::users::find(&self.db, challenge.user_id)
            .await
            .context("cannot load the user")?
            .filter(|user| user.credential_version == challenge.credential_version)
            .ok_or(AuthError::InvalidToken)?;
        if let Some(until) = store::second_factors::locked_until(&self.db, user.id, now)
            .await
            .context("cannot read the lock")?
        {
            return Err(throttled(until, now));
        }
        let factors = store::second_factors::confirmed(&self.db, user.id)
            .await
            .context("cannot load the factors")?;
        let method = SignInMethod::parse(&challenge.methods).ok_or(AuthError::InvalidToken)?;
        // A passkey's ceremony is taken and its answer checked before the
        // unit begins; its use is recorded in it.
        let passkey = match &code {
            SecondFactorCode::Passkey(assertion) => Some(
                self.check_passkey_factor(&challenge, assertion, now)
                    .await?,
            ),
            _ => None,
        };
        let mut unit = self.begin().await?;
        let mut refusal = None;
        let second = match code {
            SecondFactorCode::Totp(code) => {
                let code = &code;
                let mut accepted = false;
                for factor in &factors {
                    let Some(sealer) = self.second_factors.sealer.as_ref() else {
                        break;
                    };
                    let secret = sealer
                        .open_bound(&factor.secret, &binding(factor.id, factor.user_id))
                        .context("a factor's secret does not open with the master key")?;
                    let generator = totp::generator(&secret)?;
                    if let Some(step) = totp::matched_step(&generator, code, unix_seconds(now))
                        && store::second_factors::use_step(&unit, factor.id, step, false, now)
                            .await
                            .context("cannot use the code's time step")?
                    {
                        accepted = true;
                        break;
                    }
                }
                accepted.then_some(SecondFactor::Totp)
            }
            SecondFactorCode::Recovery(code) => {
                store::recovery_codes::take(&unit, user.id, &recovery::hash(&code), now)
                    .await
                    .context("cannot use the recovery code")?
                    .then_some(SecondFactor::RecoveryCode)
            }
            SecondFactorCode::Passkey(_) => match passkey {
                Some(Ok(verified)) => Some(self.use_passkey_factor(&unit, &verified, now).await?),
                Some(Err(reason)) => {
                    refusal = Some(reason);
                    None
                }
                None => None,
            },
        };
        let Some(second) = second else {
            unit.rollback().await?;
            store::mfa_challenges::record_failure(&self.db, challenge.id, CHALLENGE_FAILURES, now)
                .await
                .context("cannot count the failure")?;
            let locked = store::second_factors::record_failure(
                &self.db,
                user.id,
                ACCOUNT_FAILURES,
                now + LOCK,
            )
            .await
            .context("cannot count the failure")?;
            self.record(
                &self.db,
                client,
                Event::SecondFactorFailed {
                    user_id: user.id,
                    locked: locked.is_some(),
                },
            )
            .await?;
            tracing::info!(user_id = %user.id, locked = locked.is_some(), "wrong second factor");
            return Err(match (locked, refusal) {
                (Some(until), _) => throttled(until, now),
                (None, Some(reason)) => AuthError::InvalidPasskey { reason },
                (None, None) => AuthError::WrongSecondFactor,
            });
        };
        if !store::mfa_challenges::take(&unit, challenge.id, now)
            .await
            .context("cannot use the challenge")?
        {
            return Err(AuthError::InvalidToken);
        }
        store::second_factors::clear_failures(&unit, user.id)
            .await
            .context("cannot clear the failures")?;
        if second == SecondFactor::RecoveryCode {
            let codes_left = store::recovery_codes::left(&unit, user.id)
                .await
                .context("cannot count the recovery codes")?;
            self.queue_notice(
                &unit,
                MailKind::RecoveryCodeUsed,
                &user.email,
                About {
                    codes_left: Some(codes_left),
                    ..About::default()
                },
                Cause {
                    user: &user,
                    client,
                    now,
                },
            )
            .await?;
        }
        let proof = Proof {
            method,
            provider: challenge.provider.as_deref(),
            second: Some(second),
        };
        let outcome = self.sign_in(&mut unit, user, proof, client, now).await?;
        unit.commit("the second factor").await?;
        self.mail_queued();
        Ok(outcome)
    }
}

fn throttled(until: DateTime<Utc>, now: DateTime<Utc>) -> AuthError {
    AuthError::Throttled {
        retry_after: u64::try_from((until - now).num_seconds().max(1)).unwrap_or(1),
    }
}
