use super::UserName;

/// What a user calls a passkey ("YubiKey", "Work laptop"): the rules of a
/// [`UserName`] (it is shown in mail and to admins too), at most 64
/// characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyName(String);

impl PasskeyName {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let name = UserName::parse(raw)?;
        if name.as_str().chars().count() > Self::MAX_CHARS {
            return Err("must be at most 64 characters");
        }
        Ok(Self(name.as_str().to_owned()))
    }

    /// The name of a passkey its user did not name.
    pub fn unnamed() -> Self {
        Self("Passkey".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passkey_name_is_a_short_visible_name() {
        assert_eq!(
            PasskeyName::parse("  YubiKey 5 ").unwrap().as_str(),
            "YubiKey 5"
        );
        assert!(PasskeyName::parse("").is_err());
        assert!(PasskeyName::parse("a\u{202E}b").is_err());
        assert!(PasskeyName::parse("line\nbreak").is_err());
        assert!(PasskeyName::parse(&"k".repeat(65)).is_err());
        assert!(PasskeyName::parse(&"k".repeat(64)).is_ok());
    }
}
