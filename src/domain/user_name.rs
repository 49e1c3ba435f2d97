/// A display name: 1 to 255 characters after trimming, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("must not be empty");
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err("must be at most 255 characters");
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::UserName;

    #[test]
    fn a_name_is_trimmed() {
        assert_eq!(UserName::parse("  Ada  ").unwrap().as_str(), "Ada");
    }

    #[test]
    fn blank_overlong_and_control_character_names_are_rejected() {
        assert!(UserName::parse("   ").is_err());
        assert!(UserName::parse(&"x".repeat(256)).is_err());
        assert!(UserName::parse("Ada\u{0}").is_err());
        assert!(UserName::parse(&"x".repeat(255)).is_ok());
    }
}
