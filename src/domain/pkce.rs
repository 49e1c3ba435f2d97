//! PKCE (RFC 7636) between a frontend and authql: the frontend keeps a
//! verifier and sends its S256 challenge when a flow starts; only whoever
//! holds the verifier can complete the flow.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// An S256 challenge: base64url (unpadded) of a SHA-256 digest, 43
/// characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// `None` unless `text` is 43 characters of unpadded base64url that
    /// decode to 32 bytes.
    pub fn parse(text: &str) -> Option<Self> {
        let decoded = URL_SAFE_NO_PAD.decode(text.as_bytes()).ok()?;
        (text.len() == 43 && decoded.len() == 32).then(|| Self(text.to_owned()))
    }

    /// The challenge as stored.
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `verifier` (43 to 128 characters of `A-Z a-z 0-9 - . _ ~`)
    /// is the one this challenge was made from.
    pub fn is_met_by(&self, verifier: &str) -> bool {
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        well_formed && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_meets_its_challenge_and_nothing_else_does() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge =
            CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM").unwrap();
        assert!(challenge.is_met_by(verifier));
        assert!(!challenge.is_met_by("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl"));
        assert!(!challenge.is_met_by(""));
        assert!(!challenge.is_met_by("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c").is_none());
        assert!(CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM").is_none());
        assert!(CodeChallenge::parse(verifier).is_some(), "any 32 bytes");
    }
}
