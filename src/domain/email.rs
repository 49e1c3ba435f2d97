use email_address::{EmailAddress, Options};
use unicode_normalization::UnicodeNormalization;

/// An e-mail address in its one canonical spelling, so that one mailbox is
/// one account: trimmed; the local part NFKC-normalised and lower-cased,
/// unneeded quotes dropped, ASCII only; the domain as its A-label (UTS 46:
/// `bücher.example` and `BÜCHER.example` are `xn--bcher-kva.example`);
/// at most 255 characters; a top-level domain, no display name, no domain
/// literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        const INVALID: &str = "must be a valid e-mail address";
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("must not be empty");
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err("must be at most 255 characters");
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(INVALID)?;
        let local = canonical_local_part(local)?;
        let domain = idna::domain_to_ascii_strict(domain).map_err(|_| INVALID)?;
        let email = format!("{local}@{domain}");
        if email.chars().count() > Self::MAX_CHARS {
            return Err("must be at most 255 characters");
        }
        let options = Options::default()
            .with_required_tld()
            .without_display_text()
            .without_domain_literal();
        EmailAddress::parse_with_options(&email, options).map_err(|_| INVALID)?;
        Ok(Self(email))
    }

    /// The form used to look an account up: the canonical spelling when
    /// `raw` is an address, otherwise trimmed and lower-cased, without
    /// refusing anything, so that login answers every unknown address alike.
    pub fn normalize_for_lookup(raw: &str) -> String {
        Self::parse(raw).map_or_else(|_| raw.trim().to_lowercase(), |email| email.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The local part as stored: NFKC (full-width and other compatibility forms
/// become the letters they look like), lower-case, without quotes that
/// change nothing (`"ada"` is `ada`). Refused: a quoted local part that
/// needs its quotes (spaces, `@`, escapes …), and characters beyond ASCII,
/// which few mail systems deliver and which let look-alike letters
/// (Cyrillic `а` for Latin `a`) spell another account.
fn canonical_local_part(local: &str) -> Result<String, &'static str> {
    let local: String = local.nfkc().collect::<String>().to_lowercase();
    let local = match local
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        Some(inner) if is_dot_atom(inner) => inner.to_owned(),
        Some(_) => return Err("must not need quotes before the @"),
        None => local,
    };
    if !local.is_ascii() {
        return Err("must use only ASCII letters, digits and punctuation before the @");
    }
    Ok(local)
}

/// Whether `text` is a dot-atom (RFC 5322): atoms of letters, digits and
/// ``!#$%&'*+-/=?^_`{|}~``, joined by single dots.
fn is_dot_atom(text: &str) -> bool {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    !text.is_empty()
        && text
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(atext))
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn a_valid_address_is_trimmed_and_lower_cased() {
        let email = Email::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
    }

    #[test]
    fn equivalent_spellings_of_one_mailbox_are_one_address() {
        let canonical = "ada@xn--bcher-kva.example";
        for spelling in [
            "ada@bücher.example",
            "ADA@BÜCHER.EXAMPLE",
            "ada@xn--bcher-kva.example",
            "ada@XN--BCHER-KVA.example",
            "\"ada\"@bücher.example",
            "ａｄａ@bücher.example",
            "ada@bu\u{308}cher.example",
            "ada@bücher\u{3002}example",
        ] {
            assert_eq!(
                Email::parse(spelling).map(|e| e.as_str().to_owned()),
                Ok(canonical.to_owned()),
                "{spelling}"
            );
            assert_eq!(Email::normalize_for_lookup(spelling), canonical);
        }
    }

    #[test]
    fn quotes_that_matter_and_non_ascii_local_parts_are_refused() {
        for raw in [
            "\"ada lovelace\"@example.com",
            "\"ada@home\"@example.com",
            "\"a\\\"b\"@example.com",
            "аda@example.com",
            "josé@example.com",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?} should be refused");
        }
    }

    #[test]
    fn addresses_without_at_sign_or_tld_are_rejected() {
        for raw in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "a b@example.com",
            "ada@exa mple.com",
            "ada@-example.com",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?} should be rejected");
        }
    }

    #[test]
    fn display_names_and_domain_literals_are_rejected() {
        assert!(Email::parse("Ada <ada@example.com>").is_err());
        assert!(Email::parse("ada@[127.0.0.1]").is_err());
    }

    #[test]
    fn an_address_longer_than_255_characters_is_rejected() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err("must be at most 255 characters"));
    }

    #[test]
    fn lookups_of_what_is_no_address_are_only_trimmed_and_lower_cased() {
        assert_eq!(
            Email::normalize_for_lookup("  Not An Address "),
            "not an address"
        );
    }
}
