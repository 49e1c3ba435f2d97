//! Secrets kept out of messages and logs.

/// A database URL with any password replaced, fit for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://authql:s3cret@db:5432/authql"),
            "postgres://authql:***@db:5432/authql"
        );
        assert_eq!(
            redact_url("sqlite://authql.db?mode=rwc"),
            "sqlite://authql.db?mode=rwc"
        );
    }
}
