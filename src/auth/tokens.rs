//! JWTs: one claims type per token kind, signing, and strict validation.
//!
//! Both kinds are HS256 with the same key; they are told apart by the `typ`
//! header and the `xtype` claim, and each place accepts only its own kind.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

use crate::config::{JwtSettings, TokenLifetimes};

/// The only algorithm signed and accepted.
const ALGORITHM: Algorithm = Algorithm::HS256;
/// Clock skew tolerated for `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 5;

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

/// Claims of an access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
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
    pub roles: Vec<String>,
}

/// Claims of a refresh token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshClaims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
    pub sid: Uuid,
    pub xtype: String,
    /// The `jti` of the access token issued together with this one.
    pub xpair: Uuid,
}

/// Why a token was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's signature, algorithm or claims are not valid")]
    Invalid,
    #[error("the token has expired")]
    Expired,
    /// A genuine token of the other kind.
    #[error("a token of the wrong kind was used")]
    Misused,
}

/// Signing and verification keys with the issuer and audience they enforce.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    /// The longest `exp - iat` each kind may claim: what authql issues.
    max_access_seconds: i64,
    max_refresh_seconds: i64,
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
    pub fn new(settings: &JwtSettings, lifetimes: &TokenLifetimes) -> Self {
        let secret = settings.secret.expose_secret().as_bytes();
        let mut validation = Validation::new(ALGORITHM);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        let seconds = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            max_access_seconds: seconds(lifetimes.access),
            max_refresh_seconds: seconds(lifetimes.refresh),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub fn sign_access(&self, claims: &AccessClaims) -> anyhow::Result<String> {
        self.sign(TokenKind::Access, claims)
    }

    pub fn sign_refresh(&self, claims: &RefreshClaims) -> anyhow::Result<String> {
        self.sign(TokenKind::Refresh, claims)
    }

    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenError> {
        self.verify(token, TokenKind::Access)
    }

    pub fn verify_refresh(&self, token: &str) -> Result<RefreshClaims, TokenError> {
        self.verify(token, TokenKind::Refresh)
    }

    fn sign<C: Serialize>(&self, kind: TokenKind, claims: &C) -> anyhow::Result<String> {
        let mut header = Header::new(ALGORITHM);
        header.typ = Some(kind.typ().to_owned());
        Ok(encode(&header, claims, &self.encoding)?)
    }

    /// Signature, algorithm, `exp`/`nbf` (with leeway), `iss`, `aud`, then the
    /// kind: `typ` and `xtype` must both name the kind this place expects. A
    /// correctly signed token of the other kind is `Misused`.
    fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        expected: TokenKind,
    ) -> Result<C, TokenError> {
        let data =
            decode::<serde_json::Value>(token, &self.decoding, &self.validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    _ if !is_jwt_shaped(token) => TokenError::Malformed,
                    _ => TokenError::Invalid,
                }
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
        serde_json::from_value(data.claims).map_err(|_| TokenError::Invalid)
    }

    /// A token issued in the future (beyond the leeway) or living longer
    /// than authql issues its kind for was not issued by this configuration:
    /// a leaked key or a forged clock, either way not to be honoured.
    fn check_times(&self, claims: &serde_json::Value, kind: TokenKind) -> Result<(), TokenError> {
        let number = |name| claims.get(name).and_then(serde_json::Value::as_i64);
        let (Some(iat), Some(exp)) = (number("iat"), number("exp")) else {
            return Err(TokenError::Invalid);
        };
        let leeway = i64::try_from(LEEWAY_SECONDS).unwrap_or(0);
        if iat > chrono::Utc::now().timestamp() + leeway {
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
    use chrono::Utc;
    use secrecy::SecretString;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            &JwtSettings {
                secret: SecretString::from("k".repeat(40)),
                issuer: "authql".into(),
                audience: "authql".into(),
            },
            &TokenLifetimes::default(),
        )
    }

    fn access_claims(exp_offset: i64) -> AccessClaims {
        let now = Utc::now().timestamp();
        AccessClaims {
            iss: "authql".into(),
            aud: "authql".into(),
            sub: Uuid::new_v4(),
            iat: now,
            nbf: now,
            exp: now + exp_offset,
            jti: Uuid::new_v4(),
            sid: Uuid::new_v4(),
            xtype: "auth".into(),
            roles: vec!["user".into()],
        }
    }

    #[test]
    fn an_access_token_round_trips() {
        let keys = keys();
        let claims = access_claims(60);
        let token = keys.sign_access(&claims).unwrap();
        assert_eq!(keys.verify_access(&token), Ok(claims));
    }

    #[test]
    fn an_access_token_is_misused_as_a_refresh_token() {
        let keys = keys();
        let token = keys.sign_access(&access_claims(60)).unwrap();
        assert_eq!(keys.verify_refresh(&token), Err(TokenError::Misused));
    }

    #[test]
    fn expiry_allows_five_seconds_of_leeway_and_no_more() {
        let keys = keys();
        let within = keys.sign_access(&access_claims(-3)).unwrap();
        assert!(keys.verify_access(&within).is_ok());
        let beyond = keys.sign_access(&access_claims(-10)).unwrap();
        assert_eq!(keys.verify_access(&beyond), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_from_the_future_or_living_too_long_is_invalid() {
        let keys = keys();
        let mut future = access_claims(60);
        future.iat += 3600;
        future.nbf = future.iat - 3600;
        let token = keys.sign_access(&future).unwrap();
        assert_eq!(keys.verify_access(&token), Err(TokenError::Invalid));
        let mut eternal = access_claims(0);
        eternal.exp = 32_503_680_000; // the year 3000
        let token = keys.sign_access(&eternal).unwrap();
        assert_eq!(keys.verify_access(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn garbage_is_malformed() {
        assert_eq!(
            keys().verify_access("not-a-jwt"),
            Err(TokenError::Malformed)
        );
        assert_eq!(keys().verify_access("a.b.c"), Err(TokenError::Malformed));
    }
}
