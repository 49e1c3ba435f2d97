//! Fresh key pairs for each asymmetric algorithm, from well-kept crates:
//! the private key in the DER form jsonwebtoken signs with, the public key
//! as the JWK the key set publishes, named by its RFC 7638 thumbprint.

use anyhow::Context;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use zeroize::Zeroizing;

use crate::config::SigningAlgorithm;

/// A generated key pair.
pub struct KeyPair {
    pub kid: String,
    pub private_der: Zeroizing<Vec<u8>>,
    /// The public key with `kid`, `alg` and `use: "sig"`.
    pub public_jwk: Jwk,
}

/// The jsonwebtoken algorithm of `algorithm`.
pub fn jose(algorithm: SigningAlgorithm) -> Algorithm {
    match algorithm {
        SigningAlgorithm::EdDsa => Algorithm::EdDSA,
        SigningAlgorithm::Es256 => Algorithm::ES256,
        SigningAlgorithm::Rs256 => Algorithm::RS256,
        SigningAlgorithm::Hs256 => Algorithm::HS256,
    }
}

/// The encoding key of a private key in the form `generate` gives it.
pub fn encoding_key(algorithm: SigningAlgorithm, der: &[u8]) -> EncodingKey {
    match algorithm {
        SigningAlgorithm::EdDsa => EncodingKey::from_ed_der(der),
        SigningAlgorithm::Es256 => EncodingKey::from_ec_der(der),
        SigningAlgorithm::Rs256 => EncodingKey::from_rsa_der(der),
        SigningAlgorithm::Hs256 => EncodingKey::from_secret(der),
    }
}

/// A new key pair for `algorithm` (not HS256, which has no key pair).
pub fn generate(algorithm: SigningAlgorithm) -> anyhow::Result<KeyPair> {
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    let alg = jose(algorithm);
    let (private_der, mut jwk) = match algorithm {
        SigningAlgorithm::EdDsa => {
            let mut seed = Zeroizing::new([0u8; 32]);
            getrandom::fill(seed.as_mut())
                .map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            let der = Zeroizing::new(key.to_pkcs8_der()?.as_bytes().to_vec());
            let public = DecodingKey::from_ed_der(key.verifying_key().as_bytes());
            (der, Jwk::from_decoding_key(&public, Some(alg))?)
        }
        SigningAlgorithm::Es256 => {
            let key = p256::SecretKey::random(&mut rand_core::OsRng);
            let der = Zeroizing::new(key.to_pkcs8_der()?.as_bytes().to_vec());
            let jwk = Jwk::from_encoding_key(&EncodingKey::from_ec_der(&der), alg)?;
            (der, jwk)
        }
        SigningAlgorithm::Rs256 => {
            use rsa::pkcs1::EncodeRsaPrivateKey as _;
            let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
                .context("cannot generate an RSA key")?;
            let der = Zeroizing::new(key.to_pkcs1_der()?.as_bytes().to_vec());
            let jwk = Jwk::from_encoding_key(&EncodingKey::from_rsa_der(&der), alg)?;
            (der, jwk)
        }
        SigningAlgorithm::Hs256 => anyhow::bail!("HS256 has no key pair"),
    };
    let kid = jwk.thumbprint(ThumbprintHash::SHA256)?;
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(alg.into());
    Ok(KeyPair {
        kid,
        private_der,
        public_jwk: jwk,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_signs_what_its_published_key_verifies() {
        for algorithm in [
            SigningAlgorithm::EdDsa,
            SigningAlgorithm::Es256,
            SigningAlgorithm::Rs256,
        ] {
            let pair = generate(algorithm).unwrap();
            let alg = jose(algorithm);
            let mut header = jsonwebtoken::Header::new(alg);
            header.kid = Some(pair.kid.clone());
            let claims = serde_json::json!({ "sub": "x", "exp": 4_000_000_000u64 });
            let token = jsonwebtoken::encode(
                &header,
                &claims,
                &encoding_key(algorithm, &pair.private_der),
            )
            .unwrap();
            let published: Jwk =
                serde_json::from_str(&serde_json::to_string(&pair.public_jwk).unwrap()).unwrap();
            let mut validation = jsonwebtoken::Validation::new(alg);
            validation.required_spec_claims.clear();
            validation.validate_aud = false;
            let decoded = jsonwebtoken::decode::<serde_json::Value>(
                &token,
                &DecodingKey::from_jwk(&published).unwrap(),
                &validation,
            );
            assert!(decoded.is_ok(), "{algorithm:?}: {decoded:?}");
            assert_eq!(published.common.key_id.as_deref(), Some(pair.kid.as_str()));
            assert_eq!(pair.kid.len(), 43, "a base64url SHA-256 thumbprint");
        }
    }
}
