//! RFC 6238 time-based codes (SHA-1, 6 digits, 30 s: what every
//! authenticator app reads) through `totp-rs`, which reports the time step a
//! code matched; one step of clock skew either way is accepted.

use totp_rs::{Algorithm, Builder, Secret, Totp};
use url::Url;
use zeroize::Zeroizing;

/// The secret's length: 160 bits, as RFC 4226 recommends.
pub(super) const SECRET_BYTES: usize = 20;

/// A TOTP generator for `secret`.
pub(super) fn generator(secret: &[u8]) -> anyhow::Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(Secret::new(secret.to_vec().into_boxed_slice()))
        .build()
        .map_err(|e| anyhow::anyhow!("cannot build the TOTP generator: {e:?}"))
}

/// The time step `code` matches at `unix_seconds` (± one step), if any. A
/// code that is not six digits matches nothing.
pub(super) fn matched_step(totp: &Totp, code: &str, unix_seconds: u64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp.check(code, unix_seconds)
        .and_then(|step| i64::try_from(step).ok())
}

/// New random secret bytes.
pub(super) fn new_secret() -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let mut secret = Zeroizing::new(vec![0u8; SECRET_BYTES]);
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    Ok(secret)
}

/// The secret in base32 (RFC 4648, no padding), as apps take it.
pub(super) fn base32(secret: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(
        Secret::new(secret.to_vec().into_boxed_slice())
            .to_base32()
            .trim_end_matches('=')
            .to_owned(),
    )
}

/// `otpauth://totp/{issuer}:{account}?secret=…&issuer={issuer}&algorithm=SHA1&digits=6&period=30`.
pub(super) fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> Zeroizing<String> {
    let mut url = Url::parse("otpauth://totp/").expect("a constant URL");
    url.path_segments_mut()
        .expect("otpauth URLs have a path")
        .pop_if_empty()
        .push(&format!("{issuer}:{account}"));
    url.query_pairs_mut()
        .append_pair("secret", secret_base32)
        .append_pair("issuer", issuer)
        .append_pair("algorithm", "SHA1")
        .append_pair("digits", "6")
        .append_pair("period", "30");
    Zeroizing::new(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (8 digits there; the last 6 here, as the
    /// truncation is the same).
    #[test]
    fn the_rfc_6238_vectors_match_their_time_steps() {
        let totp = generator(b"12345678901234567890").unwrap();
        for (time, code) in [
            (59u64, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(
                matched_step(&totp, code, time),
                Some(i64::try_from(time / 30).unwrap()),
                "{time}"
            );
        }
        // One step of skew either way, not two.
        assert_eq!(matched_step(&totp, "287082", 59 + 30), Some(1));
        assert_eq!(matched_step(&totp, "287082", 59 + 60), None);
        assert_eq!(matched_step(&totp, "28708", 59), None);
        assert_eq!(matched_step(&totp, "28708a", 59), None);
    }

    #[test]
    fn the_uri_is_what_authenticator_apps_read() {
        let uri = otpauth_uri("Acme App", "ada@example.com", "JBSWY3DPEHPK3PXP");
        assert_eq!(
            uri.as_str(),
            "otpauth://totp/Acme%20App:ada@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Acme+App&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(
            base32(b"12345678901234567890").as_str(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
    }
}
