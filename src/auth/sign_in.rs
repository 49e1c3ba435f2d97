//! The one front door for signing in. Every way of proving who you are
//! (a password, a reset link; later a second factor, a passkey, a provider,
//! an e-mail link) ends in [`AuthService::sign_in`], which decides what the
//! proof is worth and opens the session.

use chrono::{DateTime, Utc};
use entity::user;

use super::audit::Event;
use super::session_core::Unit;
use super::{AuthError, AuthService, ClientInfo, SignedIn};
use crate::domain::EventKind;

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

/// A sign-in method and, for [`SignInMethod::Provider`], which provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proof<'a> {
    pub method: SignInMethod,
    pub provider: Option<&'a str>,
}

impl From<SignInMethod> for Proof<'static> {
    fn from(method: SignInMethod) -> Self {
        Self {
            method,
            provider: None,
        }
    }
}

impl SignInMethod {
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
        let opened = self
            .open_session(unit, user.id, method.amr(), client, now)
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
