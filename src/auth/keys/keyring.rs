//! The keyring: the keys this instance signs and verifies with, reread
//! from the database and kept on the rotation schedule.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, TimeDelta, Utc};
use entity::signing_key;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use sha2::Digest;

use super::material;
use super::schedule::{self, Request, Schedule};
use super::sealing::{Binding, Sealer};
use crate::config::{JwtSettings, Signing, SigningAlgorithm, TokenLifetimes};
use crate::store;

/// The least time between two reloads caused by unknown `kid`s, so junk
/// tokens cannot make an instance hammer the database.
const UNKNOWN_KID_RELOAD_INTERVAL: Duration = Duration::from_secs(1);
/// Clock skew tolerated for `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 5;

/// A key that signs.
pub struct SigningKey {
    pub kid: String,
    pub algorithm: Algorithm,
    pub key: EncodingKey,
}

/// A key that verifies: only tokens naming its `kid`, only with its
/// algorithm.
pub struct VerifyingKey {
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("key", &"<hidden>")
            .finish()
    }
}

/// One key opened from its row.
struct Opened {
    starts_signing_at: DateTime<Utc>,
    signing: Arc<SigningKey>,
    verifying: Arc<VerifyingKey>,
    jwk: Jwk,
}

/// The keys in use, as last loaded.
#[derive(Default)]
struct KeySet {
    /// Keys that may sign, by the time they start signing.
    signers: Vec<(DateTime<Utc>, Arc<SigningKey>)>,
    verifiers: HashMap<String, Arc<VerifyingKey>>,
    /// The JWKS document (`None` with HS256).
    jwks: Option<Arc<str>>,
}

enum Source {
    Shared,
    Managed {
        db: DatabaseConnection,
        sealer: Sealer,
        schedule: Schedule,
    },
}

/// The signing and verifying keys of this instance.
pub struct Keyring {
    source: Source,
    reload_interval: Duration,
    set: RwLock<Arc<KeySet>>,
    /// Keys already opened, by kid: each is decrypted once.
    opened: Mutex<HashMap<String, Arc<Opened>>>,
    /// Keys that did not open (logged once each).
    refused: Mutex<HashSet<String>>,
    last_load: tokio::sync::Mutex<Instant>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").finish_non_exhaustive()
    }
}

/// A key as `authql keys list` shows it.
#[derive(Clone, Debug)]
pub struct KeyInfo {
    pub kid: String,
    pub algorithm: String,
    pub state: &'static str,
    pub created_at: DateTime<Utc>,
    pub starts_signing_at: DateTime<Utc>,
    pub stops_signing_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Keyring {
    /// The keys for `settings`: with managed keys, the first key is created
    /// if there is none and the schedule is brought up to date. Fails when
    /// the master key opens none of the stored keys.
    pub async fn start(
        db: &DatabaseConnection,
        settings: &JwtSettings,
        lifetimes: &TokenLifetimes,
    ) -> anyhow::Result<Arc<Self>> {
        let keyring = Arc::new(Self::new(db, settings, lifetimes)?);
        if let Source::Managed {
            db,
            sealer,
            schedule,
        } = &keyring.source
        {
            // Refuse to start when keys are stored and the master key opens
            // none of them, before the schedule adds a key sealed with it.
            let rows = keyring.load().await?;
            let now = Utc::now();
            if rows.iter().any(|row| is_usable(row, now)) && keyring.current().verifiers.is_empty()
            {
                bail!(
                    "AUTHQL_MASTER_KEY does not open the signing keys stored in the database: it is not the master key they were sealed with"
                );
            }
            // Another instance may have added a key meanwhile: read again
            // (keys opened above are not opened twice).
            schedule::step(db, sealer, schedule, Request::Maintain).await?;
            keyring.load().await?;
            if keyring.signing_key(Utc::now()).is_none() {
                bail!("no signing key could be opened with AUTHQL_MASTER_KEY");
            }
        }
        Ok(keyring)
    }

    fn new(
        db: &DatabaseConnection,
        settings: &JwtSettings,
        lifetimes: &TokenLifetimes,
    ) -> anyhow::Result<Self> {
        let (source, set) = match &settings.signing {
            Signing::Shared(secret) => {
                let secret = secret.expose_secret().as_bytes();
                let kid = shared_kid(secret);
                let set = KeySet {
                    signers: vec![(
                        DateTime::<Utc>::MIN_UTC,
                        Arc::new(SigningKey {
                            kid: kid.clone(),
                            algorithm: Algorithm::HS256,
                            key: EncodingKey::from_secret(secret),
                        }),
                    )],
                    verifiers: HashMap::from([(
                        kid,
                        Arc::new(VerifyingKey {
                            algorithm: Algorithm::HS256,
                            key: DecodingKey::from_secret(secret),
                        }),
                    )]),
                    jwks: None,
                };
                (Source::Shared, set)
            }
            Signing::Managed {
                algorithm,
                master_key,
            } => {
                let delta = |d: Duration| TimeDelta::from_std(d).context("a duration is too long");
                let leeway = TimeDelta::seconds(i64::try_from(LEEWAY_SECONDS).unwrap_or(5));
                let schedule = Schedule {
                    algorithm: *algorithm,
                    publish_ahead: delta(settings.publish_ahead)?,
                    rotation_interval: (!settings.rotation_interval.is_zero())
                        .then(|| delta(settings.rotation_interval))
                        .transpose()?,
                    token_lifetime: delta(lifetimes.access.max(lifetimes.refresh))? + leeway,
                };
                let source = Source::Managed {
                    db: db.clone(),
                    sealer: Sealer::new(master_key),
                    schedule,
                };
                (source, KeySet::default())
            }
        };
        Ok(Self {
            source,
            reload_interval: settings.reload_interval,
            set: RwLock::new(Arc::new(set)),
            opened: Mutex::default(),
            refused: Mutex::default(),
            last_load: tokio::sync::Mutex::new(Instant::now()),
        })
    }

    fn current(&self) -> Arc<KeySet> {
        Arc::clone(&self.set.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The key that signs at `now`: the one that started signing last.
    pub fn signing_key(&self, now: DateTime<Utc>) -> Option<Arc<SigningKey>> {
        self.current()
            .signers
            .iter()
            .rev()
            .find(|(starts, _)| *starts <= now)
            .map(|(_, key)| Arc::clone(key))
    }

    /// The key named `kid`, if it is trusted.
    pub fn verifying_key(&self, kid: &str) -> Option<Arc<VerifyingKey>> {
        self.current().verifiers.get(kid).cloned()
    }

    /// The JWKS document, or `None` with HS256 (nothing is published).
    pub fn jwks(&self) -> Option<Arc<str>> {
        self.current().jwks.clone()
    }

    /// Rereads the key set after a token named an unknown key, unless that
    /// was done within the last second. Whether it reread.
    pub async fn reload_for_unknown_kid(&self) -> anyhow::Result<bool> {
        if matches!(self.source, Source::Shared) {
            return Ok(false);
        }
        let last = *self.last_load.lock().await;
        if last.elapsed() < UNKNOWN_KID_RELOAD_INTERVAL {
            return Ok(false);
        }
        self.load().await?;
        Ok(true)
    }

    /// Rereads the key set now (another instance retired a key).
    pub async fn reload(&self) -> anyhow::Result<()> {
        if matches!(self.source, Source::Shared) {
            return Ok(());
        }
        self.load().await.map(|_| ())
    }

    /// How often the set is reread.
    pub fn reload_interval(&self) -> Duration {
        self.reload_interval
    }

    /// Keeps the key set current and the schedule kept, until dropped.
    pub async fn maintain(self: Arc<Self>) {
        let Source::Managed {
            db,
            sealer,
            schedule,
        } = &self.source
        else {
            return;
        };
        let mut ticks = tokio::time::interval(self.reload_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let due = match self.load().await {
                Ok(rows) => step_due(schedule, &rows, Utc::now()),
                Err(error) => {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "cannot reload the signing keys"
                    );
                    continue;
                }
            };
            if due {
                match schedule::step(db, sealer, schedule, Request::Maintain).await {
                    Ok(_) => {
                        if let Err(error) = self.load().await {
                            tracing::warn!(
                                error = format!("{error:#}"),
                                "cannot reload the signing keys"
                            );
                        }
                    }
                    Err(error) => {
                        tracing::warn!(
                            error = format!("{error:#}"),
                            "key rotation failed; retrying"
                        )
                    }
                }
            }
        }
    }

    /// Reads every key row and rebuilds the set from the usable ones.
    async fn load(&self) -> anyhow::Result<Vec<signing_key::Model>> {
        let Source::Managed { db, sealer, .. } = &self.source else {
            return Ok(Vec::new());
        };
        let mut last_load = self.last_load.lock().await;
        let rows = store::signing_keys::all(db)
            .await
            .context("cannot read the signing keys")?;
        let now = Utc::now();
        let mut opened = self.opened.lock().unwrap_or_else(PoisonError::into_inner);
        let mut usable: Vec<Arc<Opened>> = Vec::new();
        for row in rows.iter().filter(|row| is_usable(row, now)) {
            let key = match opened.get(&row.kid) {
                Some(key) => Arc::clone(key),
                None => match open(sealer, row) {
                    Some(key) => {
                        let key = Arc::new(key);
                        opened.insert(row.kid.clone(), Arc::clone(&key));
                        key
                    }
                    None => {
                        if self
                            .refused
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .insert(row.kid.clone())
                        {
                            tracing::error!(kid = %row.kid, "a signing key does not open with AUTHQL_MASTER_KEY (another master key, or an altered row); it is not used");
                        }
                        continue;
                    }
                },
            };
            usable.push(key);
        }
        opened.retain(|kid, _| usable.iter().any(|k| &k.signing.kid == kid));
        drop(opened);
        usable.sort_by_key(|k| k.starts_signing_at);
        let jwks = serde_json::json!({
            "keys": usable.iter().map(|k| &k.jwk).collect::<Vec<_>>()
        })
        .to_string();
        let set = KeySet {
            signers: usable
                .iter()
                .map(|k| (k.starts_signing_at, Arc::clone(&k.signing)))
                .collect(),
            verifiers: usable
                .iter()
                .map(|k| (k.signing.kid.clone(), Arc::clone(&k.verifying)))
                .collect(),
            jwks: Some(jwks.into()),
        };
        *self.set.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
        *last_load = Instant::now();
        Ok(rows)
    }

    /// `authql keys list`.
    pub async fn list(&self) -> anyhow::Result<Vec<KeyInfo>> {
        let Source::Managed { db, .. } = &self.source else {
            bail!("AUTHQL_JWT_ALGORITHM=HS256 uses the shared secret: there are no stored keys");
        };
        let now = Utc::now();
        let signing = self.signing_key(now).map(|k| k.kid.clone());
        Ok(store::signing_keys::all(db)
            .await
            .context("cannot read the signing keys")?
            .into_iter()
            .map(|row| KeyInfo {
                state: state(&row, signing.as_deref(), now),
                kid: row.kid,
                algorithm: row.algorithm,
                created_at: row.created_at,
                starts_signing_at: row.starts_signing_at,
                stops_signing_at: row.stops_signing_at,
                expires_at: row.expires_at,
            })
            .collect())
    }

    /// `authql keys rotate`: publishes a new key that signs after the
    /// publish-ahead time. Its kid.
    pub async fn rotate(&self) -> anyhow::Result<String> {
        let Source::Managed {
            db,
            sealer,
            schedule,
        } = &self.source
        else {
            bail!("AUTHQL_JWT_ALGORITHM=HS256 uses the shared secret: there are no keys to rotate");
        };
        let kid = schedule::step(db, sealer, schedule, Request::Rotate)
            .await?
            .context("no key was created")?;
        self.load().await?;
        Ok(kid)
    }

    /// `authql keys retire KID`. `false` if no key in use has that kid.
    pub async fn retire(&self, kid: &str) -> anyhow::Result<bool> {
        let Source::Managed {
            db,
            sealer,
            schedule,
        } = &self.source
        else {
            bail!("AUTHQL_JWT_ALGORITHM=HS256 uses the shared secret: there are no keys to retire");
        };
        let retired = schedule::retire(db, sealer, schedule, kid).await?;
        self.load().await?;
        Ok(retired)
    }
}

/// Whether a row may be used at all: not retired, not expired, sealed.
fn is_usable(row: &signing_key::Model, now: DateTime<Utc>) -> bool {
    schedule::in_use(row) && row.expires_at.is_none_or(|e| e > now)
}

/// Whether the schedule has a step to take: a key to publish or delete.
fn step_due(schedule: &Schedule, rows: &[signing_key::Model], now: DateTime<Utc>) -> bool {
    schedule::next_start(schedule, schedule::newest(rows), Request::Maintain, now).is_some()
        || rows.iter().any(|k| k.expires_at.is_some_and(|e| e < now))
}

fn state(row: &signing_key::Model, signing: Option<&str>, now: DateTime<Utc>) -> &'static str {
    if row.retired_at.is_some() {
        "retired"
    } else if signing == Some(row.kid.as_str()) {
        "signing"
    } else if row.starts_signing_at > now {
        "published"
    } else {
        "verifying"
    }
}

/// Opens a row: its public JWK and its sealed private key, which must open
/// with the master key bound to this very kid, algorithm and public key.
fn open(sealer: &Sealer, row: &signing_key::Model) -> Option<Opened> {
    let algorithm = SigningAlgorithm::parse(&row.algorithm)?;
    let jwk: Jwk = serde_json::from_str(&row.public_jwk).ok()?;
    let private = sealer.open(
        row.private_key.as_deref()?,
        &Binding {
            kid: &row.kid,
            algorithm: &row.algorithm,
            public_jwk: &row.public_jwk,
        },
    )?;
    let alg = material::jose(algorithm);
    Some(Opened {
        starts_signing_at: row.starts_signing_at,
        signing: Arc::new(SigningKey {
            kid: row.kid.clone(),
            algorithm: alg,
            key: material::encoding_key(algorithm, &private),
        }),
        verifying: Arc::new(VerifyingKey {
            algorithm: alg,
            key: DecodingKey::from_jwk(&jwk).ok()?,
        }),
        jwk,
    })
}

/// The kid of the shared secret: a hash prefix that names it without
/// revealing anything of it.
fn shared_kid(secret: &[u8]) -> String {
    let digest = sha2::Sha256::new()
        .chain_update(b"authql hs256 kid\0")
        .chain_update(secret)
        .finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("hs256-{hex}")
}
