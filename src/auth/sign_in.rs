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
    /// A passkey with user verification: two factors in one.
    Passkey(PasskeyUse),
}

/// How a passkey signed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasskeyUse {
    /// Backup eligible: a passkey synced across the user's devices (a
    /// software key, `swk`) rather than bound to one authenticator (`hwk`).
    pub synced: bool,
    /// The passkey was registered with the account, just now.
    pub new_account: bool,
}

impl PasskeyUse {
    fn key_amr(self) -> &'static str {
        if self.synced { "swk" } else { "hwk" }
    }
}

/// A second factor proven after the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondFactor {
    /// A code from an authenticator app.
    Totp,
    /// One of the account's recovery codes.
    RecoveryCode,
    /// One of the account's passkeys (`synced` as [`PasskeyUse::synced`]).
    Passkey { synced: bool },
}

impl SecondFactor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery_code",
            Self::Passkey { .. } => "passkey",
        }
    }

    /// Its RFC 8176 `amr` values: a one-time code (`otp`), or a key with
    /// the user verified by it.
    fn amr(self) -> &'static [&'static str] {
        match self {
            Self::Totp | Self::RecoveryCode => &["otp"],
            Self::Passkey { synced: true } => &["swk", "user"],
            Self::Passkey { synced: false } => &["hwk", "user"],
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
    /// the factor's (`otp`, or a key's) and `mfa`.
    pub fn amr(&self) -> Vec<&'static str> {
        let mut amr = self.method.amr();
        if let Some(second) = self.second {
            for value in second.amr().iter().copied().chain(["mfa"]) {
                if !amr.contains(&value) {
                    amr.push(value);
                }
            }
        }
        amr
    }
}

impl SignInMethod {
    /// The methods a pending second-factor challenge can follow (a new
    /// account and a passkey never need a second factor).
    const CHALLENGED: [Self; 3] = [Self::Password, Self::ResetLink, Self::Provider];

    /// Its name, as a pending second-factor challenge keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewAccount => "new_account",
            Self::Password => "password",
            Self::ResetLink => "reset_link",
            Self::Provider => "provider",
            Self::Passkey(_) => "passkey",
        }
    }

    /// A method a challenge stored by [`Self::as_str`].
    pub fn parse(stored: &str) -> Option<Self> {
        Self::CHALLENGED
            .into_iter()
            .find(|method| method.as_str() == stored)
    }

    /// Whether this proof is one factor, which a confirmed second factor
    /// must follow. A new account has none yet; a passkey with user
    /// verification is two.
    fn is_one_factor(self) -> bool {
        Self::CHALLENGED.contains(&self)
    }

    /// Its RFC 8176 `amr` values. A mailed link is a one-time secret sent
    /// out of band: `otp`. A passkey is a key (`hwk`, or `swk` when synced)
    /// and the user verified by it (`user`): `mfa`.
    pub fn amr(self) -> Vec<&'static str> {
        match self {
            Self::NewAccount | Self::Password => vec!["pwd"],
            Self::ResetLink => vec!["otp"],
            Self::Provider => vec!["fed"],
            Self::Passkey(key) => vec![key.key_amr(), "user", "mfa"],
        }
    }

    /// The audit event a sign-in this way records.
    pub(super) fn event(self) -> EventKind {
        match self {
            Self::NewAccount
            | Self::Passkey(PasskeyUse {
                new_account: true, ..
            }) => EventKind::Registered,
            Self::Password | Self::Provider | Self::Passkey(_) => EventKind::LoginSucceeded,
            Self::ResetLink => EventKind::PasswordReset,
        }
    }

    /// The audit detail of a sign-in this way, when the method says more
    /// than its event.
    pub(super) fn detail(self) -> Option<&'static str> {
        match self {
            Self::Passkey(_) => Some("passkey"),
            _ => None,
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
    /// What may follow: `TOTP`, `RECOVERY_CODE`, `PASSKEY`.
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
            && method.is_one_factor()
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
