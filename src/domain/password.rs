use secrecy::{ExposeSecret, SecretString};

/// A password as the user typed it: 8 to 128 characters. Its `Debug` output
/// never shows the secret.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    /// A password for a new account, which must meet the length rules.
    pub fn parse(raw: String) -> Result<Self, &'static str> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err("must be at least 8 characters");
        }
        if chars > Self::MAX_CHARS {
            return Err("must be at most 128 characters");
        }
        Ok(Self(SecretString::from(raw)))
    }

    /// A password offered at login. It is not held to the rules for new
    /// passwords (they may change), only to a bound on its size.
    pub fn candidate(raw: String) -> Result<Self, &'static str> {
        if raw.is_empty() {
            return Err("must not be empty");
        }
        if raw.chars().count() > 1024 {
            return Err("must be at most 1024 characters");
        }
        Ok(Self(SecretString::from(raw)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<hidden>)")
    }
}

#[cfg(test)]
mod tests {
    use super::Password;

    #[test]
    fn lengths_from_8_to_128_characters_are_accepted() {
        assert!(Password::parse("a".repeat(8)).is_ok());
        assert!(Password::parse("é".repeat(128)).is_ok());
    }

    #[test]
    fn too_short_and_too_long_passwords_are_rejected() {
        assert!(Password::parse("a".repeat(7)).is_err());
        assert!(Password::parse("a".repeat(129)).is_err());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let password = Password::parse("correct horse".into()).unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }
}
