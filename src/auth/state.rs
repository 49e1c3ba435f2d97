//! `AuthService`: what every flow of `auth` works with, one per process:
//! the database connections, the password hasher, the token keys, the
//! session news (status cache and listeners), throttles and mail settings.

use std::sync::Arc;

use anyhow::Context;
use chrono::TimeDelta;
use sea_orm::DatabaseConnection;

use super::ip_limit::IpLimiter;
use super::keys::Keyring;
use super::keys::Sealer;
use super::mail_queue::Mail;
use super::passkeys::Passkeys;
use super::password::PasswordHasher;
use super::providers::Providers;
use super::second_factor::SecondFactors;
use super::session_core::SessionNews;
use super::throttle::AccountThrottle;
use super::tokens::TokenKeys;
use crate::config::{SessionPolicy, Settings, Signing, TokenLifetimes};

/// Lifetimes as `chrono` deltas, checked once at start-up.
#[derive(Clone, Copy, Debug)]
pub(super) struct Lifetimes {
    pub access: TimeDelta,
    pub refresh: TimeDelta,
    pub session_max: TimeDelta,
    pub session_idle: TimeDelta,
    pub reuse_grace: TimeDelta,
}

impl TryFrom<TokenLifetimes> for Lifetimes {
    type Error = anyhow::Error;

    fn try_from(value: TokenLifetimes) -> anyhow::Result<Self> {
        let delta = |d| TimeDelta::from_std(d).context("a token lifetime is too long");
        Ok(Self {
            access: delta(value.access)?,
            refresh: delta(value.refresh)?,
            session_max: delta(value.session_max)?,
            session_idle: delta(value.session_idle)?,
            reuse_grace: delta(value.reuse_grace)?,
        })
    }
}

/// authql's authentication logic: one per process, shared by every request.
pub struct AuthService {
    /// Every write, and reads that must see them in the same transaction.
    pub(super) db: DatabaseConnection,
    /// Reads of committed rows: beside the writer on SQLite (see
    /// [`store::connect_readers`]).
    pub(super) reads: DatabaseConnection,
    pub(super) hasher: PasswordHasher,
    pub(super) keys: TokenKeys,
    pub(super) lifetimes: Lifetimes,
    pub(super) policy: SessionPolicy,
    /// The status cache and the in-process listeners of session changes.
    pub(super) news: SessionNews,
    pub(super) throttle: AccountThrottle,
    pub(super) ip_limit: IpLimiter,
    /// Addresses whose refusal by the IP limit was recorded in the last
    /// minute: one audit row per address and minute, not one per request.
    pub(super) ip_refusals_recorded: moka::sync::Cache<std::net::IpAddr, ()>,
    /// Templates, links and limits of the mail flows.
    pub(super) mail: Mail,
    /// Sign-in providers and where their flows may return.
    pub(super) providers: Providers,
    /// Sealing and naming of second factors.
    pub(super) second_factors: SecondFactors,
    /// The relying party of passkeys.
    pub(super) passkeys: Passkeys,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService").finish_non_exhaustive()
    }
}

/// The key of passkey decoys: derived (HKDF-SHA-256) from the server's
/// secret, so every instance answers an address alike and a restart does
/// not change the answer.
fn decoy_key(signing: &Signing) -> [u8; 32] {
    use secrecy::ExposeSecret;
    let secret: &[u8] = match signing {
        Signing::Managed { master_key, .. } => master_key.bytes(),
        Signing::Shared(secret) => secret.expose_secret().as_bytes(),
    };
    let mut key = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(None, secret)
        .expand(b"authql passkey decoys v1", &mut key)
        .expect("32 bytes is a valid HKDF-SHA-256 length");
    key
}

impl AuthService {
    /// The service on `db`, signing with `keyring`'s keys, telling `news`
    /// (which the revocation feed tells too) of every change it commits.
    pub async fn new(
        db: DatabaseConnection,
        reads: DatabaseConnection,
        keyring: Arc<Keyring>,
        news: SessionNews,
        settings: &Settings,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            reads,
            hasher: PasswordHasher::new(&settings.protection.hashing).await?,
            keys: TokenKeys::new(keyring, &settings.jwt, &settings.lifetimes),
            lifetimes: settings.lifetimes.try_into()?,
            policy: settings.sessions,
            news,
            throttle: AccountThrottle::new(&settings.protection.throttle),
            ip_limit: IpLimiter::new(
                settings
                    .protection
                    .throttle
                    .ip_credential_requests_per_minute,
            ),
            ip_refusals_recorded: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(60))
                .build(),
            mail: Mail::new(&settings.mail)?,
            providers: Providers::new(&settings.providers)?,
            second_factors: SecondFactors {
                sealer: match &settings.jwt.signing {
                    Signing::Managed { master_key, .. } => Some(Sealer::new(master_key)),
                    Signing::Shared(_) => None,
                },
                issuer: settings.mail.product_name.clone(),
                admin_requires: settings.sessions.admin_requires_second_factor,
            },
            passkeys: Passkeys::new(
                settings.passkeys.as_ref(),
                &decoy_key(&settings.jwt.signing),
            )?,
        })
    }

    /// Rung whenever this instance queues mail: its outbox worker listens.
    pub fn mail_bell(&self) -> Arc<tokio::sync::Notify> {
        self.mail.bell()
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Changes to sessions and accounts as this process hears them.
    pub fn news(&self) -> &SessionNews {
        &self.news
    }
}
