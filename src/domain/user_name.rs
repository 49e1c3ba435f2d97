use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A display name: 1 to 255 characters after trimming and NFC, at least one
/// of them visible; no control characters, no characters that reorder or
/// hide text (bidi overrides, embeddings, isolates and marks; zero-width
/// and other invisible format characters), and no more than
/// [`Self::MAX_MARKS_IN_A_ROW`] combining marks on one letter. Names are
/// shown to other people (admins, mail), so a name must read as what it is:
/// no `"Ada\u{202E}moc.evil"` that shows reversed, no blank name made of
/// zero-width spaces, no "Zalgo" text that spills over the lines around it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub const MAX_CHARS: usize = 255;
    /// Enough for every script's stacked diacritics (Vietnamese has two).
    pub const MAX_MARKS_IN_A_ROW: usize = 4;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let name: String = raw.trim().nfc().collect();
        if name.is_empty() {
            return Err("must not be empty");
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err("must be at most 255 characters");
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        if name.chars().any(is_invisible_format) {
            return Err("must not contain invisible or text-direction characters");
        }
        if !name
            .chars()
            .any(|c| !c.is_whitespace() && !is_combining_mark(c))
        {
            return Err("must contain a visible character");
        }
        let mut marks = 0;
        for c in name.chars() {
            marks = if is_combining_mark(c) { marks + 1 } else { 0 };
            if marks > Self::MAX_MARKS_IN_A_ROW {
                return Err("has too many accents on one letter");
            }
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Format characters that change how the text around them shows without
/// showing themselves: bidi controls and marks, zero-width characters,
/// the word joiner and invisible operators, the byte-order mark, soft
/// hyphen, interlinear annotation controls, tag characters, and the
/// Mongolian vowel separator. (The zero-width joiner and non-joiner, which
/// some scripts and emoji need, are refused too: a display name does not.)
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

#[cfg(test)]
mod tests {
    use super::UserName;

    #[test]
    fn a_name_is_trimmed_and_composed() {
        assert_eq!(UserName::parse("  Ada  ").unwrap().as_str(), "Ada");
        assert_eq!(
            UserName::parse("Jose\u{301}").unwrap().as_str(),
            "Jos\u{e9}"
        );
    }

    #[test]
    fn blank_overlong_and_control_character_names_are_rejected() {
        assert!(UserName::parse("   ").is_err());
        assert!(UserName::parse(&"x".repeat(256)).is_err());
        assert!(UserName::parse("Ada\u{0}").is_err());
        assert!(UserName::parse(&"x".repeat(255)).is_ok());
    }

    #[test]
    fn names_that_hide_or_reorder_text_are_rejected() {
        for bad in [
            "Ada\u{202E}moc.live",
            "\u{2067}Ada\u{2069}",
            "Ada\u{200F}",
            "\u{200B}\u{200B}\u{200B}",
            "\u{2060}",
            "\u{FEFF}Ada",
            "Ada\u{E0041}",
            "\u{3164}",
        ] {
            assert!(UserName::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn stacked_marks_are_bounded_but_real_names_pass() {
        let zalgo = format!("A{}da", "\u{300}\u{301}\u{302}\u{303}\u{304}".repeat(40));
        assert!(UserName::parse(&zalgo).is_err());
        assert!(UserName::parse("\u{301}\u{301}").is_err());
        for good in [
            "Nguyễn Thị Ánh",
            "Zoë O'Brien-Łukasiewicz",
            "محمد عبد الله",
            "שרה כהן",
            "李小龍",
            "देवनागरी नाम",
        ] {
            assert!(UserName::parse(good).is_ok(), "{good:?} should be accepted");
        }
    }
}
