//! Token signing settings: the algorithm, where its key comes from (the
//! shared HS256 secret, or keys in the database sealed by a master key), the
//! rotation schedule, and the claims written into tokens.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine;
use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretBox, SecretString};

use super::defaults::duration;
use super::{Environment, parse_duration, secret};

const KEY_PUBLISH_AHEAD: &str = "1h";
const KEY_ROTATION_INTERVAL: &str = "30d";
const KEY_RELOAD_INTERVAL: &str = "10s";

/// The JWS algorithm authql signs with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum SigningAlgorithm {
    /// Ed25519 keys in the database, published in the key set.
    #[default]
    #[value(name = "EdDSA")]
    EdDsa,
    /// P-256 keys in the database, published in the key set.
    #[value(name = "ES256")]
    Es256,
    /// RSA 2048 keys in the database, published in the key set.
    #[value(name = "RS256")]
    Rs256,
    /// One shared secret: nothing is published, every verifier holds it.
    #[value(name = "HS256")]
    Hs256,
}

impl SigningAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
            Self::Hs256 => "HS256",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::EdDsa, Self::Es256, Self::Rs256, Self::Hs256]
            .into_iter()
            .find(|a| a.as_str() == name)
    }
}

/// `Tokens and signing keys` flags.
#[derive(Args)]
#[command(next_help_heading = "Tokens and signing keys")]
pub struct SigningArgs {
    /// Signing algorithm: EdDSA, ES256 or RS256 (keys in the database,
    /// published at /.well-known/jwks.json) or HS256 (one shared secret).
    #[arg(
        long,
        env = "AUTHQL_JWT_ALGORITHM",
        value_enum,
        ignore_case = true,
        default_value_t,
        global = true
    )]
    pub jwt_algorithm: SigningAlgorithm,
    /// HS256 only: the signing secret, at least 32 bytes.
    #[arg(long, env = "AUTHQL_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,
    /// HS256 only: a file holding the signing secret.
    #[arg(
        long,
        env = "AUTHQL_JWT_SECRET_FILE",
        conflicts_with = "jwt_secret",
        global = true
    )]
    pub jwt_secret_file: Option<PathBuf>,
    /// 32 random bytes (base64 or hex) that encrypt the signing keys stored
    /// in the database.
    #[arg(long, env = "AUTHQL_MASTER_KEY", hide_env_values = true, global = true)]
    pub master_key: Option<String>,
    /// A file holding the master key.
    #[arg(
        long,
        env = "AUTHQL_MASTER_KEY_FILE",
        conflicts_with = "master_key",
        global = true
    )]
    pub master_key_file: Option<PathBuf>,
    /// How long a new key is published before it signs (longer than
    /// verifiers cache the key set).
    #[arg(long, env = "AUTHQL_KEY_PUBLISH_AHEAD", default_value = KEY_PUBLISH_AHEAD, value_parser = parse_duration, global = true)]
    pub key_publish_ahead: Duration,
    /// How often a new signing key replaces the current one; 0 turns
    /// automatic rotation off.
    #[arg(long, env = "AUTHQL_KEY_ROTATION_INTERVAL", default_value = KEY_ROTATION_INTERVAL, value_parser = parse_duration, global = true)]
    pub key_rotation_interval: Duration,
    /// How often each instance rereads the key set from the database (a
    /// rotation or retirement done elsewhere is seen within this).
    #[arg(long, env = "AUTHQL_KEY_RELOAD_INTERVAL", default_value = KEY_RELOAD_INTERVAL, value_parser = parse_duration, global = true)]
    pub key_reload_interval: Duration,
    /// `iss` claim written into and required of every token.
    #[arg(
        long,
        env = "AUTHQL_JWT_ISSUER",
        default_value = "authql",
        global = true
    )]
    pub jwt_issuer: String,
    /// `aud` claim written into and required of every token.
    #[arg(
        long,
        env = "AUTHQL_JWT_AUDIENCE",
        default_value = "authql",
        global = true
    )]
    pub jwt_audience: String,
    /// Also write Hasura's `https://hasura.io/jwt/claims` into access tokens.
    #[arg(long, env = "AUTHQL_HASURA_CLAIMS", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub hasura_claims: bool,
}

/// The secrets (`AUTHQL_JWT_SECRET`, `AUTHQL_MASTER_KEY`) are never shown.
impl std::fmt::Debug for SigningArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningArgs")
            .field("jwt_algorithm", &self.jwt_algorithm)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<hidden>"))
            .field("jwt_secret_file", &self.jwt_secret_file)
            .field("master_key", &self.master_key.as_ref().map(|_| "<hidden>"))
            .field("master_key_file", &self.master_key_file)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .finish_non_exhaustive()
    }
}

/// The 32-byte key that seals signing keys at rest. `Debug` prints
/// `<hidden>`; the bytes are zeroed when dropped.
#[derive(Clone)]
pub struct MasterKey(std::sync::Arc<SecretBox<[u8; 32]>>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<hidden>)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(std::sync::Arc::new(SecretBox::new(Box::new(bytes))))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    /// 32 bytes written as base64 (standard or URL-safe, padded or not) or
    /// as 64 hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let decoded = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
                .collect::<Option<Vec<u8>>>()?
        } else {
            let unpadded = text.trim_end_matches('=');
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(unpadded)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(unpadded))
                .ok()?
        };
        Some(Self::from_bytes(decoded.try_into().ok()?))
    }

    /// A fresh random key, as written to the development key file.
    fn generate() -> anyhow::Result<(Self, String)> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        let text = base64::engine::general_purpose::STANDARD.encode(bytes);
        Ok((Self::from_bytes(bytes), text))
    }
}

/// Where the signing key comes from.
#[derive(Clone)]
pub enum Signing {
    /// HS256 with one secret.
    Shared(SecretString),
    /// Asymmetric keys kept in the database, sealed by the master key.
    Managed {
        algorithm: SigningAlgorithm,
        master_key: MasterKey,
    },
}

/// Neither the secret nor the master key is shown.
impl std::fmt::Debug for Signing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Shared(_) => f.write_str("Shared(<hidden>)"),
            Self::Managed { algorithm, .. } => f
                .debug_struct("Managed")
                .field("algorithm", algorithm)
                .field("master_key", &"<hidden>")
                .finish(),
        }
    }
}

impl Signing {
    pub fn algorithm(&self) -> SigningAlgorithm {
        match self {
            Self::Shared(_) => SigningAlgorithm::Hs256,
            Self::Managed { algorithm, .. } => *algorithm,
        }
    }
}

/// What goes into tokens and how they are signed.
#[derive(Clone, Debug)]
pub struct JwtSettings {
    pub issuer: String,
    pub audience: String,
    pub signing: Signing,
    /// How long a new key is in the key set before it signs.
    pub publish_ahead: Duration,
    /// How often the signing key is replaced; zero: only by `keys rotate`.
    pub rotation_interval: Duration,
    /// How often the key set is reread from the database.
    pub reload_interval: Duration,
    /// Whether access tokens carry Hasura's claims.
    pub hasura_claims: bool,
}

impl JwtSettings {
    /// The defaults with `signing`.
    pub fn new(signing: Signing) -> Self {
        Self {
            issuer: "authql".into(),
            audience: "authql".into(),
            signing,
            publish_ahead: duration(KEY_PUBLISH_AHEAD),
            rotation_interval: duration(KEY_ROTATION_INTERVAL),
            reload_interval: duration(KEY_RELOAD_INTERVAL),
            hasura_claims: false,
        }
    }

    pub fn from_args(
        args: SigningArgs,
        environment: Environment,
        database_url: &str,
    ) -> anyhow::Result<Self> {
        if args.jwt_issuer.trim().is_empty() || args.jwt_audience.trim().is_empty() {
            bail!("AUTHQL_JWT_ISSUER and AUTHQL_JWT_AUDIENCE must not be empty");
        }
        if args.key_reload_interval < Duration::from_millis(100)
            || args.key_reload_interval > Duration::from_secs(60)
        {
            bail!("AUTHQL_KEY_RELOAD_INTERVAL must be between 100ms and 60s");
        }
        if args.key_publish_ahead < Duration::from_secs(1) {
            bail!("AUTHQL_KEY_PUBLISH_AHEAD must be at least 1s");
        }
        if !args.key_rotation_interval.is_zero()
            && args.key_rotation_interval < 2 * args.key_publish_ahead
        {
            bail!(
                "AUTHQL_KEY_ROTATION_INTERVAL must be 0 (off) or at least twice AUTHQL_KEY_PUBLISH_AHEAD"
            );
        }
        let signing = match args.jwt_algorithm {
            SigningAlgorithm::Hs256 => Signing::Shared(secret::resolve(
                args.jwt_secret,
                args.jwt_secret_file,
                environment,
                database_url,
            )?),
            algorithm => {
                if args.jwt_secret.is_some() || args.jwt_secret_file.is_some() {
                    bail!(
                        "AUTHQL_JWT_SECRET is only for AUTHQL_JWT_ALGORITHM=HS256 (now {}): set AUTHQL_JWT_ALGORITHM=HS256 to keep the shared secret, or remove it",
                        algorithm.as_str()
                    );
                }
                Signing::Managed {
                    algorithm,
                    master_key: resolve_master_key(
                        args.master_key,
                        args.master_key_file,
                        environment,
                        database_url,
                    )?,
                }
            }
        };
        Ok(Self {
            issuer: args.jwt_issuer,
            audience: args.jwt_audience,
            signing,
            publish_ahead: args.key_publish_ahead,
            rotation_interval: args.key_rotation_interval,
            reload_interval: args.key_reload_interval,
            hasura_claims: args.hasura_claims,
        })
    }
}

const MASTER_KEY_FORMAT: &str =
    "32 random bytes as base64 (generate one with `openssl rand -base64 32`)";

fn resolve_master_key(
    value: Option<String>,
    file: Option<PathBuf>,
    environment: Environment,
    database_url: &str,
) -> anyhow::Result<MasterKey> {
    match (value, file) {
        (Some(text), _) => MasterKey::parse(&text)
            .with_context(|| format!("AUTHQL_MASTER_KEY must be {MASTER_KEY_FORMAT}")),
        (None, Some(path)) => read_master_key(&path, "AUTHQL_MASTER_KEY_FILE"),
        (None, None) if environment == Environment::Production => bail!(
            "AUTHQL_ENV=production requires a master key for the signing keys: set AUTHQL_MASTER_KEY or AUTHQL_MASTER_KEY_FILE ({MASTER_KEY_FORMAT})"
        ),
        (None, None) => development_master_key(database_url),
    }
}

fn read_master_key(path: &Path, variable: &str) -> anyhow::Result<MasterKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {variable} {}", path.display()))?;
    MasterKey::parse(&text).with_context(|| {
        format!(
            "{variable} {} must hold {MASTER_KEY_FORMAT}",
            path.display()
        )
    })
}

/// Development only: a key generated once beside the database.
fn development_master_key(database_url: &str) -> anyhow::Result<MasterKey> {
    let path = secret::development_file_path(database_url, "authql.master-key");
    if path.exists() {
        return read_master_key(&path, "the development master key file");
    }
    let (key, text) = MasterKey::generate()?;
    secret::write_private_file(&path, &text).with_context(|| {
        format!(
            "cannot store the generated master key in {}",
            path.display()
        )
    })?;
    tracing::warn!(
        path = %path.display(),
        "no AUTHQL_MASTER_KEY configured: generated a development master key; set one in production"
    );
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_master_key_is_32_bytes_in_base64_or_hex() {
        let bytes: [u8; 32] = std::array::from_fn(|i| i as u8 * 7);
        let standard = base64::engine::general_purpose::STANDARD.encode(bytes);
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        for text in [standard.as_str(), url_safe.as_str(), hex.as_str()] {
            assert_eq!(MasterKey::parse(text).map(|k| *k.bytes()), Some(bytes));
        }
        assert!(MasterKey::parse("c2hvcnQ=").is_none(), "too short");
        assert!(MasterKey::parse("not base64 at all!").is_none());
    }

    #[test]
    fn a_master_key_is_never_printed() {
        let key = MasterKey::from_bytes([42; 32]);
        assert_eq!(format!("{key:?}"), "MasterKey(<hidden>)");
    }

    #[test]
    fn algorithms_have_their_jose_names() {
        for algorithm in [
            SigningAlgorithm::EdDsa,
            SigningAlgorithm::Es256,
            SigningAlgorithm::Rs256,
            SigningAlgorithm::Hs256,
        ] {
            assert_eq!(SigningAlgorithm::parse(algorithm.as_str()), Some(algorithm));
        }
        assert_eq!(SigningAlgorithm::default(), SigningAlgorithm::EdDsa);
    }
}
