use email_address::{EmailAddress, Options};

/// An e-mail address: trimmed, lower-cased, at most 255 characters, with a
/// top-level domain and no display name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("must not be empty");
        }
        if email.chars().count() > Self::MAX_CHARS {
            return Err("must be at most 255 characters");
        }
        let options = Options::default()
            .with_required_tld()
            .without_display_text()
            .without_domain_literal();
        EmailAddress::parse_with_options(&email, options)
            .map_err(|_| "must be a valid e-mail address")?;
        Ok(Self(email))
    }

    /// The form used to look an account up: trimmed and lower-cased, without
    /// judging validity, so that login answers every unknown address alike.
    pub fn normalize_for_lookup(raw: &str) -> String {
        raw.trim().to_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
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
    fn addresses_without_at_sign_or_tld_are_rejected() {
        for raw in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "a b@example.com",
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
}
