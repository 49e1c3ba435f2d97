//! Secrets at rest: sealed with XChaCha20-Poly1305 under the master key,
//! bound (as associated data) to what they belong to, so a row cannot be
//! swapped or altered without the seal failing. Private signing keys are
//! bound to the key's id, algorithm and public key; second factors' secrets
//! to the factor and its user.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::config::MasterKey;

const NONCE_BYTES: usize = 24;
const CONTEXT: &[u8] = b"authql signing key v1";

/// Seals and opens private keys with the master key.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<hidden>)")
    }
}

/// The key's identity the seal is bound to.
pub struct Binding<'a> {
    pub kid: &'a str,
    pub algorithm: &'a str,
    pub public_jwk: &'a str,
}

impl Binding<'_> {
    fn associated_data(&self) -> Vec<u8> {
        let mut aad = CONTEXT.to_vec();
        for part in [self.kid, self.algorithm, self.public_jwk] {
            aad.push(0);
            aad.extend_from_slice(part.as_bytes());
        }
        aad
    }
}

impl Sealer {
    pub fn new(master_key: &MasterKey) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(master_key.bytes().into()),
        }
    }

    /// Nonce and ciphertext of `private_key`.
    pub fn seal(&self, private_key: &[u8], binding: &Binding<'_>) -> anyhow::Result<Vec<u8>> {
        self.seal_bound(private_key, &binding.associated_data())
    }

    /// The private key, or `None` when the master key or the binding is not
    /// the one it was sealed with (a wrong master key, an altered row).
    pub fn open(&self, sealed: &[u8], binding: &Binding<'_>) -> Option<Zeroizing<Vec<u8>>> {
        self.open_bound(sealed, &binding.associated_data())
    }

    /// Nonce and ciphertext of `secret`, bound to `aad`.
    pub fn seal_bound(&self, secret: &[u8], aad: &[u8]) -> anyhow::Result<Vec<u8>> {
        let private_key = secret;
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        let ciphertext = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: private_key,
                    aad,
                },
            )
            .map_err(|_| anyhow::anyhow!("cannot seal a secret"))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// The secret sealed bound to `aad`, or `None` when the master key or
    /// `aad` is not the one it was sealed with.
    pub fn open_bound(&self, sealed: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() <= NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        self.cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(kid: &str) -> Binding<'_> {
        Binding {
            kid,
            algorithm: "EdDSA",
            public_jwk: "{}",
        }
    }

    #[test]
    fn a_sealed_key_opens_only_with_its_master_key_and_binding() {
        let sealer = Sealer::new(&MasterKey::from_bytes([1; 32]));
        let sealed = sealer.seal(b"private", &binding("a")).unwrap();
        assert_eq!(
            sealer
                .open(&sealed, &binding("a"))
                .as_deref()
                .map(Vec::as_slice),
            Some(&b"private"[..])
        );
        assert!(sealer.open(&sealed, &binding("b")).is_none(), "another kid");
        let other = Sealer::new(&MasterKey::from_bytes([2; 32]));
        assert!(
            other.open(&sealed, &binding("a")).is_none(),
            "another master key"
        );
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(sealer.open(&flipped, &binding("a")).is_none(), "altered");
        assert!(
            sealer.open(&sealed[..10], &binding("a")).is_none(),
            "truncated"
        );
    }
}
