//! One linear pass over raw text, before any parser: how deeply brackets,
//! braces and parentheses nest, and (for GraphQL) how many tokens there are.
//! The scan stops at the first limit crossed, so its cost is bounded by the
//! limits as well as by the size of the text.

use super::{Limit, LimitError};

/// Checks a GraphQL document's nesting and token count. Strings (including
/// block strings) and comments are skipped; an unterminated one ends the scan
/// (the parser reports it).
pub fn check_document(
    source: &str,
    max_nesting: usize,
    max_tokens: usize,
) -> Result<(), LimitError> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut tokens = 0usize;
    let mut i = 0;
    let count_token = |tokens: &mut usize| {
        *tokens += 1;
        if *tokens > max_tokens {
            Err(LimitError::Exceeded {
                limit: Limit::Tokens,
                max: max_tokens,
                found: *tokens,
            })
        } else {
            Ok(())
        }
    };
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' => {
                count_token(&mut tokens)?;
                i = if bytes[i..].starts_with(b"\"\"\"") {
                    skip_block_string(bytes, i + 3)
                } else {
                    skip_string(bytes, i + 1)
                };
            }
            b'{' | b'[' | b'(' => {
                count_token(&mut tokens)?;
                open(&mut depth, max_nesting)?;
                i += 1;
            }
            b'}' | b']' | b')' => {
                count_token(&mut tokens)?;
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                count_token(&mut tokens)?;
                i += 3;
            }
            byte if is_word_byte(byte) => {
                count_token(&mut tokens)?;
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
            }
            _ => {
                // Punctuators (`! $ & : = @ |`) and anything the parser will
                // refuse: one token each.
                count_token(&mut tokens)?;
                i += 1;
            }
        }
    }
    Ok(())
}

/// One more level open; an error past `max_nesting`.
fn open(depth: &mut usize, max_nesting: usize) -> Result<(), LimitError> {
    *depth += 1;
    if *depth > max_nesting {
        return Err(LimitError::Exceeded {
            limit: Limit::Nesting,
            max: max_nesting,
            found: *depth,
        });
    }
    Ok(())
}

/// Names, numbers (with sign, fraction and exponent) and keywords.
fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'+' | b'.')
}

/// The index after the closing quote of a string whose body starts at `i`.
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            // A line break ends an (invalid) string: the parser reports it.
            b'\n' | b'\r' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The index after the closing `"""` of a block string whose body starts at `i`.
fn skip_block_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        if bytes[i..].starts_with(b"\\\"\"\"") {
            i += 4;
        } else if bytes[i..].starts_with(b"\"\"\"") {
            return i + 3;
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// Checks how deeply arrays and objects nest in JSON text, strings skipped.
/// Run on request bodies and on GET's `variables` before they are parsed.
pub fn check_json(text: &[u8], max_nesting: usize) -> Result<(), LimitError> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'"' => {
                i += 1;
                while i < text.len() {
                    match text[i] {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
            }
            b'{' | b'[' => open(&mut depth, max_nesting)?,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nesting_of(source: &str) -> Result<(), LimitError> {
        check_document(source, 3, 1_000)
    }

    #[test]
    fn nesting_of_every_bracket_kind_counts() {
        assert!(nesting_of("{ a { b { c } } }").is_ok());
        assert!(nesting_of("{ a { b { c { d } } } }").is_err());
        assert!(nesting_of("{ a(x: [[1]]) }").is_err());
        assert!(nesting_of("{ a(x: {b: {c: 1}}) }").is_err());
        assert!(nesting_of("query($v: [[[Int]]] = [[[1]]]) { a }").is_err());
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        assert!(nesting_of(r#"{ a(x: "[[[[[[") }"#).is_ok());
        assert!(nesting_of("{ a(x: \"\"\"{{{{{ \\\"\"\" {{{{\"\"\") }").is_ok());
        assert!(nesting_of("{ a # {{{{{{\n }").is_ok());
        assert!(nesting_of(r#"{ a(x: "\"[[[[[[") }"#).is_ok());
    }

    #[test]
    fn tokens_are_counted_and_bounded() {
        assert!(check_document("{ a b c }", 10, 5).is_ok());
        assert_eq!(
            check_document("{ a b c d e }", 10, 5),
            Err(LimitError::Exceeded {
                limit: Limit::Tokens,
                max: 5,
                found: 6
            })
        );
        // A number with exponent is one token; `...` is one.
        assert!(check_document("{ ...F a(x: -1.5e10) }", 10, 10).is_ok());
        assert!(check_document("{ ...F a(x: -1.5e10) }", 10, 9).is_err());
    }

    #[test]
    fn an_unterminated_string_ends_the_scan() {
        assert!(nesting_of("{ a(x: \"[[[[[[").is_ok());
        assert!(nesting_of("{ a(x: \"\"\"[[[[[[").is_ok());
    }

    #[test]
    fn json_nesting_skips_strings() {
        assert!(check_json(br#"{"a": [[1]]}"#, 3).is_ok());
        assert!(check_json(br#"{"a": [[[1]]]}"#, 3).is_err());
        assert!(check_json(br#"{"a": "[[[[[\"[[["}"#, 3).is_ok());
    }
}
