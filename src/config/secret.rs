//! The HS256 signing secret: from the variable, from a file, or (development
//! only) generated once beside the database. Production refuses a secret an
//! attacker could guess.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};

use super::Environment;

/// The shortest HS256 secret accepted, in bytes (RFC 7518 §3.2: at least the
/// size of the hash output).
pub const MIN_SECRET_BYTES: usize = 32;

/// Resolves the secret and checks it: its length everywhere, and in
/// production that it is not a placeholder or a low-entropy string.
pub fn resolve(
    value: Option<String>,
    file: Option<PathBuf>,
    environment: Environment,
    database_url: &str,
) -> anyhow::Result<SecretString> {
    let secret = match (value, file) {
        (Some(secret), _) => SecretString::from(secret),
        (None, Some(path)) => read_secret_file(&path)?,
        (None, None) if environment == Environment::Production => bail!(
            "AUTHQL_ENV=production requires a signing secret: set AUTHQL_JWT_SECRET or AUTHQL_JWT_SECRET_FILE"
        ),
        (None, None) => development_secret(database_url)?,
    };
    check_secret(&secret)?;
    if environment == Environment::Production
        && let Some(problem) = weakness(secret.expose_secret())
    {
        bail!(
            "the JWT secret {problem}; use random bytes (`openssl rand -base64 48`) in AUTHQL_JWT_SECRET or AUTHQL_JWT_SECRET_FILE"
        );
    }
    Ok(secret)
}

/// Fragments of the placeholders found in tutorials, READMEs and `.env`
/// examples (compared without case or separators).
const PLACEHOLDERS: [&str; 12] = [
    "changeme",
    "changethis",
    "replaceme",
    "yoursecret",
    "your256bitsecret",
    "mysecret",
    "supersecret",
    "secretkey",
    "jwtsecret",
    "placeholder",
    "example",
    "password",
];

/// Why `secret` is guessable, if it is: whitespace, a known placeholder, one
/// repeated short pattern (`aaaa…`, `abcabc…`), or too few distinct bytes.
fn weakness(secret: &str) -> Option<&'static str> {
    let bytes = secret.as_bytes();
    if bytes.iter().any(u8::is_ascii_whitespace) {
        return Some("contains whitespace");
    }
    let folded: String = secret
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if PLACEHOLDERS.iter().any(|p| folded.contains(p)) {
        return Some("is a known placeholder");
    }
    let repeats = (1..=bytes.len() / 2).any(|period| {
        bytes.len().is_multiple_of(period)
            && bytes.chunks(period).all(|chunk| chunk == &bytes[..period])
    });
    if repeats {
        return Some("is one short pattern repeated");
    }
    let mut seen = [false; 256];
    bytes.iter().for_each(|&b| seen[usize::from(b)] = true);
    // 32 random base64 characters have ~25 distinct ones; 12 is far below.
    if seen.iter().filter(|&&s| s).count() < 12 {
        return Some("has too few distinct characters");
    }
    None
}

fn check_secret(secret: &SecretString) -> anyhow::Result<()> {
    let len = secret.expose_secret().len();
    if len < MIN_SECRET_BYTES {
        bail!(
            "the JWT secret is {len} bytes long; HS256 needs at least {MIN_SECRET_BYTES} (generate one with `openssl rand -base64 48`)"
        );
    }
    Ok(())
}

fn read_secret_file(path: &Path) -> anyhow::Result<SecretString> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read AUTHQL_JWT_SECRET_FILE {}", path.display()))?;
    Ok(SecretString::from(
        text.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

/// Where the generated development secret is kept: beside a SQLite database
/// file, or in the working directory for any other database.
pub fn development_secret_path(database_url: &str) -> PathBuf {
    development_file_path(database_url, "authql.jwt-secret")
}

/// Where a generated development file named `file_name` is kept.
pub fn development_file_path(database_url: &str, file_name: &str) -> PathBuf {
    let sqlite_file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or_default())
        .filter(|path| !path.is_empty() && !path.contains(":memory:"));
    match sqlite_file.and_then(|file| Path::new(file).parent()) {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(file_name),
        _ => PathBuf::from(file_name),
    }
}

fn development_secret(database_url: &str) -> anyhow::Result<SecretString> {
    let path = development_secret_path(database_url);
    if path.exists() {
        return read_secret_file(&path);
    }
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    write_private_file(&path, &secret).with_context(|| {
        format!(
            "cannot store the generated JWT secret in {}",
            path.display()
        )
    })?;
    tracing::warn!(
        path = %path.display(),
        "no AUTHQL_JWT_SECRET configured: generated a development secret; set one in production"
    );
    Ok(SecretString::from(secret))
}

/// Creates `path` readable by its owner only; fails if it exists.
pub fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_secret_is_refused() {
        assert!(check_secret(&SecretString::from("short")).is_err());
        assert!(check_secret(&SecretString::from("x".repeat(32))).is_ok());
    }

    #[test]
    fn guessable_secrets_are_named() {
        assert_eq!(
            weakness(&"a".repeat(32)),
            Some("is one short pattern repeated")
        );
        assert_eq!(
            weakness(&"ab12".repeat(10)),
            Some("is one short pattern repeated")
        );
        assert_eq!(
            weakness(&format!("{} x", "k".repeat(32))),
            Some("contains whitespace")
        );
        assert_eq!(
            weakness("please-CHANGE-ME-before-production-0123456789"),
            Some("is a known placeholder")
        );
        assert_eq!(
            weakness("your-256-bit-secret-your-256-bit-secret"),
            Some("is a known placeholder")
        );
        assert_eq!(
            weakness("abababababababababababababababac"),
            Some("has too few distinct characters")
        );
        assert_eq!(
            weakness("q3VZ0sJ8rXWm1p6T2yLhKbN7cE4fGdA9uOiR5tYeWnQ"),
            None
        );
    }

    #[test]
    fn the_development_secret_lives_beside_a_sqlite_file() {
        assert_eq!(
            development_secret_path("sqlite://data/authql.db?mode=rwc"),
            PathBuf::from("data/authql.jwt-secret")
        );
        assert_eq!(
            development_secret_path("sqlite://authql.db?mode=rwc"),
            PathBuf::from("authql.jwt-secret")
        );
        assert_eq!(
            development_secret_path("postgres://localhost/authql"),
            PathBuf::from("authql.jwt-secret")
        );
    }
}
