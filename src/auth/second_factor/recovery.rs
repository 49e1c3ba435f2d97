//! Recovery codes: ten per set, 60 random bits each, written
//! `xxxx-xxxx-xxxx` in base32's lower case; only their SHA-256 is stored.

use zeroize::Zeroizing;

use crate::domain::sha256_hex;

/// Codes in a set.
pub(super) const CODES_PER_SET: usize = 10;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A new set: the codes as shown once, and their hashes as stored.
pub(super) fn new_set() -> anyhow::Result<(Vec<Zeroizing<String>>, Vec<String>)> {
    let mut codes = Vec::with_capacity(CODES_PER_SET);
    for _ in 0..CODES_PER_SET {
        let mut bytes = Zeroizing::new([0u8; 12]);
        getrandom::fill(bytes.as_mut())
            .map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        // Each byte gives 5 bits (32 divides 256: no bias).
        let letters: String = bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
            .collect();
        codes.push(Zeroizing::new(format!(
            "{}-{}-{}",
            &letters[0..4],
            &letters[4..8],
            &letters[8..12]
        )));
    }
    let hashes = codes.iter().map(|code| hash(code)).collect();
    Ok((codes, hashes))
}

/// SHA-256 (hex) of `code` without case, spaces or dashes.
pub(super) fn hash(code: &str) -> String {
    let normalized: Zeroizing<String> = Zeroizing::new(
        code.chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect(),
    );
    sha256_hex(normalized.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_sixty_bit_words_that_hash_the_same_however_typed() {
        let (codes, hashes) = new_set().unwrap();
        assert_eq!(codes.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 14);
            assert_eq!(code.matches('-').count(), 2);
        }
        let mut unique = hashes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        let typed = codes[0].to_uppercase().replace('-', " ");
        assert_eq!(hash(&typed), hashes[0]);
    }
}
