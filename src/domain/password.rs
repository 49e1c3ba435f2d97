use std::borrow::Cow;

use secrecy::{ExposeSecret, SecretString};
use unicode_normalization::UnicodeNormalization;

/// A password: Unicode-normalised (NFC), so the same password typed on two
/// systems (composed or decomposed accents) is the same bytes to argon2. Its
/// `Debug` output never shows the secret.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;
    /// How much of a new password the strength estimate reads.
    pub const MAX_ESTIMATED_CHARS: usize = 64;
    /// The bound on a password offered at login.
    pub const MAX_CANDIDATE_CHARS: usize = 1024;

    /// A new account's password: 8 to 128 characters (checked first, before
    /// any estimate), then strong enough per zxcvbn with the account's own
    /// details (`context`: name, e-mail …) as known words, judged on its
    /// first [`Self::MAX_ESTIMATED_CHARS`] characters. The error says why
    /// and how to do better. The estimate costs milliseconds of CPU: the
    /// server runs this on a hashing worker, never on an async one.
    pub fn parse(raw: String, min_score: u8, context: &[&str]) -> Result<Self, Cow<'static, str>> {
        let normalized: String = raw.nfc().collect();
        let chars = normalized.chars().count();
        if chars < Self::MIN_CHARS {
            return Err("must be at least 8 characters".into());
        }
        if chars > Self::MAX_CHARS {
            return Err("must be at most 128 characters".into());
        }
        let inputs = known_words(context);
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        // zxcvbn's cost grows much faster than the length: it judges the
        // first characters only. More characters never make a password
        // easier to guess, so a prefix strong enough is strong enough.
        let prefix: String = normalized.chars().take(Self::MAX_ESTIMATED_CHARS).collect();
        let estimate = zxcvbn::zxcvbn(&prefix, &inputs);
        if u8::from(estimate.score()) < min_score {
            return Err(weakness_message(&estimate).into());
        }
        Ok(Self(SecretString::from(normalized)))
    }

    /// A password offered at login. It is not held to the rules for new
    /// passwords (they may change), only to a bound on its size.
    pub fn candidate(raw: String) -> Result<Self, &'static str> {
        if raw.is_empty() {
            return Err("must not be empty");
        }
        if raw.chars().count() > Self::MAX_CANDIDATE_CHARS {
            return Err("must be at most 1024 characters");
        }
        Ok(Self(SecretString::from(raw.nfc().collect::<String>())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// The account's details as zxcvbn's user inputs: each whole, and the parts
/// an attacker would try (the e-mail's local part, each word of the name).
fn known_words(context: &[&str]) -> Vec<String> {
    let mut words = Vec::new();
    for item in context {
        let item = item.trim().to_lowercase();
        if item.is_empty() {
            continue;
        }
        if let Some((local, domain)) = item.split_once('@') {
            words.push(local.to_owned());
            words.extend(domain.split('.').filter(|p| p.len() > 2).map(str::to_owned));
        }
        words.extend(
            item.split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() > 2)
                .map(str::to_owned),
        );
        words.push(item);
    }
    words
}

/// zxcvbn's warning and suggestions as one sentence for `fields.password`.
fn weakness_message(estimate: &zxcvbn::Entropy) -> String {
    let mut message = String::from("is too easy to guess");
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            message.push_str(&format!(": {warning}"));
        }
        let suggestions: Vec<String> = feedback
            .suggestions()
            .iter()
            .map(ToString::to_string)
            .collect();
        if !suggestions.is_empty() {
            message.push_str(&format!(". {}", suggestions.join(" ")));
        }
    }
    if !message.ends_with('.') {
        message.push('.');
    }
    message
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<hidden>)")
    }
}

#[cfg(test)]
mod tests {
    use super::Password;

    const ADA: [&str; 2] = ["Ada Lovelace", "ada.lovelace@example.com"];

    fn new_password(raw: &str) -> Result<Password, String> {
        Password::parse(raw.into(), 3, &ADA).map_err(|e| e.into_owned())
    }

    #[test]
    fn a_long_unpredictable_password_is_accepted() {
        assert!(new_password("correct horse battery staple").is_ok());
        assert!(Password::parse("é".repeat(128), 0, &[]).is_ok());
    }

    #[test]
    fn lengths_are_checked_first() {
        assert_eq!(
            new_password("a1!").unwrap_err(),
            "must be at least 8 characters"
        );
        assert_eq!(
            new_password(&"Xy7!".repeat(33)).unwrap_err(),
            "must be at most 128 characters"
        );
    }

    #[test]
    fn guessable_passwords_and_the_users_own_details_are_refused() {
        for weak in [
            "password",
            "12345678",
            "qwertyuiop",
            "ada.lovelace@example.com",
            "ada.lovelace",
            "Ada Lovelace",
        ] {
            let refused = new_password(weak);
            assert!(refused.is_err(), "{weak:?} should be refused");
            assert!(refused.unwrap_err().starts_with("is too easy to guess"));
        }
    }

    #[test]
    fn passwords_are_compared_in_nfc() {
        let composed = Password::candidate("caf\u{e9} au lait".into()).unwrap();
        let decomposed = Password::candidate("cafe\u{301} au lait".into()).unwrap();
        assert_eq!(composed.expose(), decomposed.expose());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let password = Password::candidate("correct horse".into()).unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }
}
