//! JWTs: the claims of each kind, issuance and strict validation.
//!
//! Both kinds are signed with the key that signs now and carry its `kid`;
//! they are told apart by the `typ` header and the `xtype` claim, and each
//! place accepts only its own kind. A token is verified with the key its
//! `kid` names and that key's algorithm only.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation, decode, decode_header, encode};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

use super::keys::{Keyring, LEEWAY_SECONDS};
use crate::config::{JwtSettings, TokenLifetimes};

/// Verified access tokens kept, so a token presented again is not verified
/// again (an Ed25519 or RSA verification costs far more than the lookup).
const VERIFIED_CACHE_ENTRIES: u64 = 50_000;

/// The two kinds of token authql issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    /// The `typ` header value.
    pub fn typ(self) -> &'static str {
        match self {
            Self::Access => "at+jwt",
            Self::Refresh => "refresh+jwt",
        }
    }

    /// The `xtype` claim value.
    pub fn xtype(self) -> &'static str {
        match self {
            Self::Access => "auth",
            Self::Refresh => "refresh",
        }
    }

    fn other(self) -> Self {
        match self {
            Self::Access => Self::Refresh,
            Self::Refresh => Self::Access,
        }
    }
}

/// The claims both kinds carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommonClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// The session id.
    pub sid: Uuid,
    pub xtype: String,
}

/// Claims of an access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    #[serde(flatten)]
    pub common: CommonClaims,
    pub roles: Vec<String>,
    /// How the user proved who they are when the session began (RFC 8176
    /// values: `pwd` for a password). Absent from tokens issued before
    /// authql recorded it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// When the user proved it (seconds since the epoch, OpenID Connect's
    /// `auth_time`); `0` in tokens issued before authql recorded it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub auth_time: i64,
    /// The authentication assurance level (NIST SP 800-63B): `aal2` when a
    /// second factor was proven (`amr` holds `mfa`), `aal1` otherwise.
    /// Absent from tokens issued before authql wrote it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub aal: String,
    /// With `AUTHQL_HASURA_CLAIMS=true`: what Hasura reads.
    #[serde(
        rename = "https://hasura.io/jwt/claims",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub hasura: Option<HasuraClaims>,
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

/// How and when the user of a session proved who they are: what an access
/// token says in `amr` and `auth_time`.
#[derive(Clone, Debug)]
pub struct Authentication {
    /// RFC 8176 method values.
    pub methods: Vec<&'static str>,
    pub at: DateTime<Utc>,
}

impl Authentication {
    /// `aal2` after a second factor (`mfa`), `aal1` otherwise.
    pub fn aal(&self) -> &'static str {
        if self.methods.contains(&"mfa") {
            "aal2"
        } else {
            "aal1"
        }
    }
}

/// Hasura's session variables.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HasuraClaims {
    #[serde(rename = "x-hasura-user-id")]
    pub user_id: String,
    #[serde(rename = "x-hasura-default-role")]
    pub default_role: String,
    #[serde(rename = "x-hasura-allowed-roles")]
    pub allowed_roles: Vec<String>,
}

/// Claims of a refresh token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshClaims {
    #[serde(flatten)]
    pub common: CommonClaims,
    /// The `jti` of the access token issued together with this one.
    pub xpair: Uuid,
}

/// What a token is issued for: who, which session, which id, and when.
#[derive(Clone, Copy, Debug)]
pub struct Grant {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub jti: Uuid,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Why a token was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's signature, algorithm, key or claims are not valid")]
    Invalid,
    #[error("the token has expired")]
    Expired,
    /// A genuine token of the other kind.
    #[error("a token of the wrong kind was used")]
    Misused,
}

/// Issues and verifies tokens with the keyring's keys.
pub struct TokenKeys {
    keyring: Arc<Keyring>,
    issuer: String,
    audience: String,
    hasura_claims: bool,
    /// The longest `exp - iat` each kind may claim: what authql issues.
    max_access_seconds: i64,
    max_refresh_seconds: i64,
    /// Access tokens whose signature and claims were verified, by the token
    /// itself, with the kid that verified them.
    verified: moka::sync::Cache<Arc<str>, (Arc<str>, Arc<AccessClaims>)>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("keys", &"<hidden>")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl TokenKeys {
    pub fn new(keyring: Arc<Keyring>, settings: &JwtSettings, lifetimes: &TokenLifetimes) -> Self {
        let seconds = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Self {
            keyring,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            hasura_claims: settings.hasura_claims,
            max_access_seconds: seconds(lifetimes.access),
            max_refresh_seconds: seconds(lifetimes.refresh),
            verified: moka::sync::Cache::builder()
                .max_capacity(VERIFIED_CACHE_ENTRIES)
                .time_to_live(lifetimes.access + std::time::Duration::from_secs(LEEWAY_SECONDS))
                .build(),
        }
    }

    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    fn common(&self, grant: &Grant, kind: TokenKind) -> CommonClaims {
        let iat = grant.issued_at.timestamp();
        CommonClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: grant.user_id,
            iat,
            nbf: iat,
            exp: grant.expires_at.timestamp(),
            jti: grant.jti,
            sid: grant.session_id,
            xtype: kind.xtype().to_owned(),
        }
    }

    /// An access token for `grant` with `roles`, saying how the session's
    /// user proved who they are (`authentication`).
    pub fn issue_access(
        &self,
        grant: &Grant,
        authentication: &Authentication,
        roles: &[String],
    ) -> anyhow::Result<String> {
        let hasura = self.hasura_claims.then(|| HasuraClaims {
            user_id: grant.user_id.to_string(),
            default_role: if roles.iter().any(|r| r == "user") {
                "user".to_owned()
            } else {
                roles.first().cloned().unwrap_or_else(|| "user".to_owned())
            },
            allowed_roles: roles.to_vec(),
        });
        let claims = AccessClaims {
            common: self.common(grant, TokenKind::Access),
            roles: roles.to_vec(),
            amr: authentication
                .methods
                .iter()
                .map(|&method| method.to_owned())
                .collect(),
            auth_time: authentication.at.timestamp(),
            aal: authentication.aal().to_owned(),
            hasura,
        };
        self.sign(TokenKind::Access, &claims)
    }

    /// A refresh token for `grant`, paired with the access token `xpair`.
    pub fn issue_refresh(&self, grant: &Grant, xpair: Uuid) -> anyhow::Result<String> {
        let claims = RefreshClaims {
            common: self.common(grant, TokenKind::Refresh),
            xpair,
        };
        self.sign(TokenKind::Refresh, &claims)
    }

    /// Verifies an access token; one verified before is taken from the
    /// cache while its key is trusted and it has not expired.
    pub async fn verify_access(&self, token: &str) -> Result<Arc<AccessClaims>, TokenError> {
        if let Some((kid, claims)) = self.verified.get(token)
            && self.keyring.verifying_key(&kid).is_some()
        {
            check_window(&claims.common)?;
            return Ok(claims);
        }
        let (kid, claims) = self
            .verify::<AccessClaims>(token, TokenKind::Access)
            .await?;
        // The same window as a cached token gets: jsonwebtoken accepts a
        // token in the very second `exp + leeway`, which the cached path
        // refuses, so a token could flip back to valid when its entry left
        // the cache.
        check_window(&claims.common)?;
        let claims = Arc::new(claims);
        self.verified
            .insert(token.into(), (kid.into(), Arc::clone(&claims)));
        Ok(claims)
    }

    pub async fn verify_refresh(&self, token: &str) -> Result<RefreshClaims, TokenError> {
        Ok(self.verify(token, TokenKind::Refresh).await?.1)
    }

    fn sign<C: Serialize>(&self, kind: TokenKind, claims: &C) -> anyhow::Result<String> {
        let key = self
            .keyring
            .signing_key(Utc::now())
            .ok_or_else(|| anyhow::anyhow!("no signing key is available"))?;
        let mut header = Header::new(key.algorithm);
        header.typ = Some(kind.typ().to_owned());
        header.kid = Some(key.kid.clone());
        Ok(encode(&header, claims, &key.key)?)
    }

    /// The key named by `kid` (an unknown kid rereads the key set, at most
    /// once a second), then signature, algorithm, `exp`/`nbf` (with
    /// leeway), `iss`, `aud`, then the kind: `typ` and `xtype` must both
    /// name the kind this place expects. A correctly signed token of the
    /// other kind is `Misused`.
    async fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        expected: TokenKind,
    ) -> Result<(String, C), TokenError> {
        let malformed_or_invalid = || {
            if is_jwt_shaped(token) {
                TokenError::Invalid
            } else {
                TokenError::Malformed
            }
        };
        let header = decode_header(token).map_err(|_| malformed_or_invalid())?;
        let kid = header.kid.ok_or_else(malformed_or_invalid)?;
        let key = match self.keyring.verifying_key(&kid) {
            Some(key) => key,
            None => {
                let reloaded =
                    self.keyring
                        .reload_for_unknown_kid()
                        .await
                        .unwrap_or_else(|error| {
                            tracing::warn!(
                                error = format!("{error:#}"),
                                "cannot reload the signing keys"
                            );
                            false
                        });
                reloaded
                    .then(|| self.keyring.verifying_key(&kid))
                    .flatten()
                    .ok_or(TokenError::Invalid)?
            }
        };
        let data = decode::<serde_json::Value>(token, &key.key, &self.validation(key.algorithm))
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => malformed_or_invalid(),
            })?;
        let typ = data.header.typ.as_deref();
        let xtype = data.claims.get("xtype").and_then(serde_json::Value::as_str);
        let other = expected.other();
        if typ == Some(other.typ()) && xtype == Some(other.xtype()) {
            return Err(TokenError::Misused);
        }
        if typ != Some(expected.typ()) || xtype != Some(expected.xtype()) {
            return Err(TokenError::Invalid);
        }
        self.check_times(&data.claims, expected)?;
        let claims = serde_json::from_value(data.claims).map_err(|_| TokenError::Invalid)?;
        Ok((kid, claims))
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation
    }

    /// A token issued in the future (beyond the leeway) or living longer
    /// than authql issues its kind for was not issued by this configuration:
    /// a leaked key or a forged clock, either way not to be honoured.
    fn check_times(&self, claims: &serde_json::Value, kind: TokenKind) -> Result<(), TokenError> {
        let number = |name| claims.get(name).and_then(serde_json::Value::as_i64);
        let (Some(iat), Some(exp)) = (number("iat"), number("exp")) else {
            return Err(TokenError::Invalid);
        };
        if iat > Utc::now().timestamp() + leeway() {
            return Err(TokenError::Invalid);
        }
        let max_lifetime = match kind {
            TokenKind::Access => self.max_access_seconds,
            TokenKind::Refresh => self.max_refresh_seconds,
        };
        if exp.saturating_sub(iat) > max_lifetime {
            return Err(TokenError::Invalid);
        }
        Ok(())
    }
}

fn leeway() -> i64 {
    i64::try_from(LEEWAY_SECONDS).unwrap_or(0)
}

/// `exp` and `nbf` of a token verified earlier, against the clock now.
fn check_window(claims: &CommonClaims) -> Result<(), TokenError> {
    let now = Utc::now().timestamp();
    if claims.exp + leeway() <= now {
        return Err(TokenError::Expired);
    }
    if claims.nbf - leeway() > now {
        return Err(TokenError::Invalid);
    }
    Ok(())
}

/// Whether `token` is structurally a JWS: three base64url parts whose first
/// two are JSON objects, the header naming an `alg`. Such a token that fails
/// verification (`alg: none`, a bad signature) is invalid, not malformed.
fn is_jwt_shaped(token: &str) -> bool {
    use base64::Engine;
    let json_object = |part: &str| -> Option<serde_json::Map<String, serde_json::Value>> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(_), None) => {
            json_object(header)
                .is_some_and(|h| h.get("alg").is_some_and(serde_json::Value::is_string))
                && json_object(payload).is_some()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Signing, SigningAlgorithm};
    use secrecy::SecretString;

    async fn keys() -> TokenKeys {
        let settings = JwtSettings::new(Signing::Shared(SecretString::from("k".repeat(40))));
        assert_eq!(settings.signing.algorithm(), SigningAlgorithm::Hs256);
        let db = sea_orm::DatabaseConnection::default();
        let keyring = Keyring::start(&db, &settings, &TokenLifetimes::default())
            .await
            .unwrap();
        TokenKeys::new(keyring, &settings, &TokenLifetimes::default())
    }

    fn grant(exp_offset: i64) -> Grant {
        let now = Utc::now();
        Grant {
            user_id: Uuid::new_v4(),
            session_id: Uuid::new_v4(),
            jti: Uuid::new_v4(),
            issued_at: now,
            expires_at: now + chrono::TimeDelta::seconds(exp_offset),
        }
    }

    fn roles() -> Vec<String> {
        vec!["user".into()]
    }

    fn password() -> Authentication {
        Authentication {
            methods: vec!["pwd"],
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        }
    }

    #[tokio::test]
    async fn an_access_token_round_trips_with_its_kid() {
        let keys = keys().await;
        let grant = grant(60);
        let token = keys.issue_access(&grant, &password(), &roles()).unwrap();
        let header = decode_header(&token).unwrap();
        assert!(header.kid.is_some_and(|kid| kid.starts_with("hs256-")));
        let claims = keys.verify_access(&token).await.unwrap();
        assert_eq!(claims.common.jti, grant.jti);
        assert_eq!(claims.common.xtype, "auth");
        assert_eq!(claims.roles, roles());
        assert_eq!(claims.amr, ["pwd"]);
        assert_eq!(claims.auth_time, 1_700_000_000);
        assert!(claims.hasura.is_none());
        // Again, from the cache.
        assert_eq!(keys.verify_access(&token).await.unwrap(), claims);
    }

    #[tokio::test]
    async fn an_access_token_is_misused_as_a_refresh_token() {
        let keys = keys().await;
        let token = keys
            .issue_access(&grant(60), &password(), &roles())
            .unwrap();
        assert_eq!(keys.verify_refresh(&token).await, Err(TokenError::Misused));
    }

    #[tokio::test]
    async fn expiry_allows_five_seconds_of_leeway_and_no_more() {
        let keys = keys().await;
        let within = keys
            .issue_access(&grant(-3), &password(), &roles())
            .unwrap();
        assert!(keys.verify_access(&within).await.is_ok());
        let beyond = keys
            .issue_access(&grant(-10), &password(), &roles())
            .unwrap();
        assert_eq!(keys.verify_access(&beyond).await, Err(TokenError::Expired));
    }

    #[tokio::test]
    async fn a_token_from_the_future_or_living_too_long_is_invalid() {
        let keys = keys().await;
        let mut future = grant(60);
        future.issued_at += chrono::TimeDelta::hours(1);
        let token = keys.issue_access(&future, &password(), &roles()).unwrap();
        assert_eq!(keys.verify_access(&token).await, Err(TokenError::Invalid));
        let mut eternal = grant(0);
        eternal.expires_at = DateTime::from_timestamp(32_503_680_000, 0).unwrap(); // the year 3000
        let token = keys.issue_access(&eternal, &password(), &roles()).unwrap();
        assert_eq!(keys.verify_access(&token).await, Err(TokenError::Invalid));
    }

    #[tokio::test]
    async fn garbage_is_malformed() {
        let keys = keys().await;
        assert_eq!(
            keys.verify_access("not-a-jwt").await,
            Err(TokenError::Malformed)
        );
        assert_eq!(
            keys.verify_access("a.b.c").await,
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn hasura_claims_have_hasuras_names() {
        let claims = HasuraClaims {
            user_id: "u".into(),
            default_role: "user".into(),
            allowed_roles: vec!["user".into()],
        };
        assert_eq!(
            serde_json::to_value(claims).unwrap(),
            serde_json::json!({
                "x-hasura-user-id": "u",
                "x-hasura-default-role": "user",
                "x-hasura-allowed-roles": ["user"]
            })
        );
    }
}
