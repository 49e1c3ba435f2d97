//! The one front door for signing in. Every way of proving who you are
//! (a password, a reset link; later a second factor, a passkey, a provider,
//! an e-mail link) ends in [`AuthService::sign_in`], which decides what the
//! proof is worth and opens the session.

use chrono::{DateTime, Utc};
use entity::user;

use anyhow::Context;

use super::audit::Event;
use super::session_core::Unit;
use super::{AuthError, AuthService, ClientInfo, SignedIn};
use crate::domain::EventKind;
use crate::store::{self};

/// How a user proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInMethod {
    /// The password they chose for a new account.
    NewAccount,
    /// The account's password.
    Password,
    /// A password reset link mailed to the account's address, with the new
    /// password set through it.
    ResetLink,
    /// An account at a sign-in provider (OpenID Connect).
    Provider,
}

/// A second factor proven after the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondFactor {
    /// A code from an authenticator app.
    Totp,
    /// One of the account's recovery codes.
    RecoveryCode,
}

impl SecondFactor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery_code",
        }
    }
}

/// What a user proved: a sign-in method (for [`SignInMethod::Provider`],
/// which provider), and a second factor when one followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proof<'a> {
    pub method: SignInMethod,
    pub provider: Option<&'a str>,
    pub second: Option<SecondFactor>,
}

impl From<SignInMethod> for Proof<'static> {
    fn from(method: SignInMethod) -> Self {
        Self {
            method,
            provider: None,
            second: None,
        }
    }
}

impl Proof<'_> {
    /// Its RFC 8176 `amr` values: the method's, then, after a second factor,
    /// `otp` (a one-time code) and `mfa`.
    pub fn amr(&self) -> Vec<&'static str> {
        let mut amr = self.method.amr().to_vec();
        if self.second.is_some() {
            for value in ["otp", "mfa"] {
                if !amr.contains(&value) {
                    amr.push(value);
                }
            }
        }
        amr
    }
}

impl SignInMethod {
    const ALL: [Self; 4] = [
        Self::NewAccount,
        Self::Password,
        Self::ResetLink,
        Self::Provider,
    ];

    /// Its name, as a pending second-factor challenge keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewAccount => "new_account",
            Self::Password => "password",
            Self::ResetLink => "reset_link",
            Self::Provider => "provider",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|method| method.as_str() == stored)
    }

    /// Its RFC 8176 `amr` values. A mailed link is a one-time secret sent
    /// out of band: `otp`.
    pub fn amr(self) -> &'static [&'static str] {
        match self {
            Self::NewAccount | Self::Password => &["pwd"],
            Self::ResetLink => &["otp"],
            Self::Provider => &["fed"],
        }
    }

    /// The audit event a sign-in this way records.
    pub(super) fn event(self) -> EventKind {
        match self {
            Self::NewAccount => EventKind::Registered,
            Self::Password | Self::Provider => EventKind::LoginSucceeded,
            Self::ResetLink => EventKind::PasswordReset,
        }
    }
}

/// The RFC 8176 values authql writes, as static strings: how a stored
/// session's methods are read back. Unknown values are dropped.
pub(super) fn known_method(value: &str) -> Option<&'static str> {
    const KNOWN: [&str; 7] = ["pwd", "otp", "mfa", "hwk", "swk", "user", "fed"];
    KNOWN.into_iter().find(|known| *known == value)
}

/// What a proof of identity is worth.
#[derive(Debug)]
#[must_use]
pub enum SignInOutcome {
    /// A session is open; here is its first pair.
    SignedIn(SignedIn),
    /// The account has two-step sign-in: the first factor is proven, the
    /// second must follow with this challenge. No session is open.
    SecondFactorRequired(SecondFactorChallenge),
}

/// The first step of a two-step sign-in, as the client is told it.
pub struct SecondFactorChallenge {
    /// Opaque, single use, minutes long; only its hash is stored.
    pub mfa_token: zeroize::Zeroizing<String>,
    /// What may follow: `TOTP`, `RECOVERY_CODE`.
    pub factors: Vec<&'static str>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for SecondFactorChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondFactorChallenge")
            .field("mfa_token", &"<hidden>")
            .field("factors", &self.factors)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl AuthService {
    /// Signs `user` in, who proved who they are by `proof`, in `unit`: the
    /// session opens (its row records the method and the time), the audit
    /// trail records the sign-in, and the first pair is signed. The caller
    /// commits `unit`; its other sessions crowded out by the per-user limit
    /// end with it. A disabled account is refused whatever the proof.
    pub(super) async fn sign_in(
        &self,
        unit: &mut Unit,
        user: user::Model,
        proof: Proof<'_>,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<SignInOutcome, AuthError> {
        let method = proof.method;
        if user.disabled_at.is_some() {
            return Err(AuthError::AccountDisabled);
        }
        // A new account has no second factor: no query on the sign-up path.
        if proof.second.is_none()
            && method != SignInMethod::NewAccount
            && store::second_factors::has_confirmed(&*unit, user.id)
                .await
                .context("cannot look the second factors up")?
        {
            let challenge = self.challenge(unit, &user, proof, client, now).await?;
            return Ok(SignInOutcome::SecondFactorRequired(challenge));
        }
        let opened = self
            .open_session(unit, user.id, &proof.amr(), client, now)
            .await?;
        self.record(
            unit,
            client,
            Event::SignedIn {
                user_id: user.id,
                session_id: opened.session.id,
                proof,
            },
        )
        .await?;
        tracing::info!(
            user_id = %user.id,
            session_id = %opened.session.id,
            event = method.event().as_str(),
            crowded_out = opened.crowded_out,
            "session started"
        );
        let signed_in = self.sign_pair(&opened.first, &opened.session, user)?;
        Ok(SignInOutcome::SignedIn(signed_in))
    }
}
