//! Passkeys (WebAuthn, through kanidm's `webauthn-rs`): a way to sign in on
//! its own (a key and the user verified by it are two factors), a way to
//! sign up with no password, and a second factor after a password.
//!
//! - `ceremony.rs`: a ceremony's state between its start and its finish,
//!   in the database (any instance finishes what another started), good
//!   once for five minutes; what a refused answer is called.
//! - `registration.rs`: adding a passkey to an account, and a new account
//!   with a passkey alone.
//! - `assertion.rs`: signing in (by address, or usernameless) and the
//!   passkey as a second factor's check.
//! - `management.rs`: listing, renaming and removing, for the user and for
//!   admins; how many ways into an account are left.
//!
//! Every check of an answer (challenge, origin, relying-party id, flags,
//! signature, counter) is `webauthn-rs`'s; authql decides whose passkey it
//! is and what signing in with it is worth.

mod assertion;
mod ceremony;
mod management;
mod registration;

use chrono::{DateTime, Utc};
use uuid::Uuid;
use webauthn_rs::fake::{FakePasskeyDistribution, WebauthnFakeCredentialGenerator};
use webauthn_rs::prelude::{Webauthn, WebauthnBuilder};

pub use assertion::PasskeyAssertion;
pub use ceremony::REFUSALS;
pub(in crate::auth) use management::ways_in;

use super::AuthError;
use crate::config::PasskeySettings;

/// The relying party, and the decoys a sign-in by an address without
/// passkeys is answered with.
pub struct Passkeys {
    webauthn: Option<Webauthn>,
    decoys: WebauthnFakeCredentialGenerator<FakePasskeyDistribution>,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkeys")
            .field("on", &self.webauthn.is_some())
            .finish_non_exhaustive()
    }
}

impl Passkeys {
    /// The relying party of `settings` (`None`: passkeys are off).
    /// `decoy_key` (32 bytes, derived from the server's secret) makes an
    /// unknown address's decoy credentials the same on every instance and
    /// every call, as a real account's are.
    pub fn new(settings: Option<&PasskeySettings>, decoy_key: &[u8; 32]) -> anyhow::Result<Self> {
        let webauthn = settings.map(build).transpose()?;
        let decoys = WebauthnFakeCredentialGenerator::new(decoy_key)
            .map_err(|e| anyhow::anyhow!("cannot set the passkey decoys up: {e}"))?;
        Ok(Self { webauthn, decoys })
    }

    fn webauthn(&self) -> Result<&Webauthn, AuthError> {
        self.webauthn.as_ref().ok_or(AuthError::PasskeysUnavailable)
    }

    /// Whether passkeys are on.
    pub fn enabled(&self) -> bool {
        self.webauthn.is_some()
    }
}

fn build(settings: &PasskeySettings) -> anyhow::Result<Webauthn> {
    let (first, others) = settings
        .origins
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("passkeys need at least one origin"))?;
    let mut builder = WebauthnBuilder::new(&settings.rp_id, first)
        .map_err(|e| anyhow::anyhow!("the passkey relying party is invalid: {e}"))?
        .rp_name(&settings.rp_name)
        .allow_any_port(settings.any_port)
        .timeout(ceremony::LIFETIME_STD);
    for origin in others {
        builder = builder.append_allowed_origin(origin);
    }
    builder
        .build()
        .map_err(|e| anyhow::anyhow!("the passkey relying party is invalid: {e}"))
}

/// A ceremony begun: what the browser needs to go on.
#[derive(Clone, Debug)]
pub struct PasskeyChallenge {
    /// Finishes the ceremony (any instance); good once.
    pub challenge_id: Uuid,
    /// The `publicKey` member of `navigator.credentials.create`'s or
    /// `.get`'s options, in its JSON form
    /// (`PublicKeyCredential.parseCreationOptionsFromJSON` /
    /// `parseRequestOptionsFromJSON`).
    pub options: serde_json::Value,
    pub expires_at: DateTime<Utc>,
}

/// A passkey as its user (and admins) see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyView {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether the authenticator says it is backed up (synced).
    pub backed_up: bool,
}

impl From<entity::passkey::Model> for PasskeyView {
    fn from(row: entity::passkey::Model) -> Self {
        Self {
            id: row.id,
            name: row.name,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            backed_up: row.backed_up,
        }
    }
}

/// How a passkey sign-in starts.
#[derive(Clone, Copy)]
pub enum PasskeyStart<'a> {
    /// Usernameless: the authenticator offers the passkeys it holds.
    Discoverable,
    /// For the account of this address: its passkeys are offered.
    Email(&'a str),
    /// As the second factor of a two-step sign-in.
    SecondFactor { mfa_token: &'a str },
}

impl std::fmt::Debug for PasskeyStart<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Discoverable => "Discoverable",
            Self::Email(_) => "Email(<address>)",
            Self::SecondFactor { .. } => "SecondFactor(<hidden>)",
        })
    }
}

/// How a stored passkey is found: the SHA-256 of its credential id.
fn credential_hash(credential_id: &[u8]) -> String {
    crate::domain::sha256_hex(credential_id)
}
