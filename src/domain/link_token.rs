//! The secret of a link mailed to a user (password reset, address
//! verification, e-mail change).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const BYTES: usize = 32;

/// 32 random bytes, written in links as 43 characters of unpadded base64url.
/// Only [`LinkToken::hash`] is stored; `Debug` never shows the secret.
pub struct LinkToken(Zeroizing<[u8; BYTES]>);

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken(<hidden>)")
    }
}

impl LinkToken {
    /// A new token from the system's randomness.
    pub fn generate() -> anyhow::Result<Self> {
        let mut bytes = Zeroizing::new([0u8; BYTES]);
        getrandom::fill(bytes.as_mut())
            .map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        Ok(Self(bytes))
    }

    /// A token as a client sends it back; `None` for anything that is not
    /// exactly 32 bytes of unpadded base64url (surrounding spaces, as pasted
    /// from a mail, are ignored).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() != 43 {
            return None;
        }
        let decoded = Zeroizing::new(URL_SAFE_NO_PAD.decode(text).ok()?);
        let mut bytes = Zeroizing::new([0u8; BYTES]);
        bytes.copy_from_slice(decoded.get(..BYTES)?);
        (decoded.len() == BYTES).then_some(Self(bytes))
    }

    /// The token as it goes into a link.
    pub fn expose(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(self.0.as_ref()))
    }

    /// What the database keeps: SHA-256 in hex. The token has 256 bits of
    /// entropy, so an unsalted fast hash cannot be reversed.
    pub fn hash(&self) -> String {
        sha256_hex(self.0.as_ref())
    }
}

/// SHA-256 of `bytes` in lower-case hex: how authql stores its
/// high-entropy secrets (link tokens, flow states, recovery codes).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::LinkToken;

    #[test]
    fn a_token_reads_back_as_itself_and_nothing_else_reads() {
        let token = LinkToken::generate().unwrap();
        let text = token.expose();
        assert_eq!(text.len(), 43);
        let parsed = LinkToken::parse(&format!(" {} ", text.as_str())).unwrap();
        assert_eq!(parsed.hash(), token.hash());
        assert_eq!(token.hash().len(), 64);
        assert!(LinkToken::parse("").is_none());
        assert!(LinkToken::parse(&text[..42]).is_none());
        assert!(LinkToken::parse(&format!("{}=", text.as_str())).is_none());
        assert!(LinkToken::parse(&"*".repeat(43)).is_none());
        assert_ne!(LinkToken::generate().unwrap().hash(), token.hash());
        assert_eq!(format!("{token:?}"), "LinkToken(<hidden>)");
    }
}
