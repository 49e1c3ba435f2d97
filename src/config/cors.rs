//! Which browser origins may call the API cross-origin, and with which
//! request headers.

use anyhow::bail;
use clap::Args;

use super::Environment;

/// Origins used in development when none are configured: any local dev
/// server, over http or https, with or without a port.
pub const DEVELOPMENT_CORS_ORIGINS: [&str; 12] = [
    "http://localhost",
    "http://localhost:*",
    "https://localhost",
    "https://localhost:*",
    "http://127.0.0.1",
    "http://127.0.0.1:*",
    "https://127.0.0.1",
    "https://127.0.0.1:*",
    "http://[::1]",
    "http://[::1]:*",
    "https://[::1]",
    "https://[::1]:*",
];

/// Request headers allowed cross-origin by default: what GraphQL clients
/// send, and the tracing headers of Sentry's and OpenTelemetry's browser SDKs.
pub const DEFAULT_CORS_ALLOWED_HEADERS: &str =
    "accept,authorization,content-type,traceparent,tracestate,baggage,x-request-id";

/// Headers the API cannot be used without: always allowed.
const REQUIRED_HEADERS: [&str; 2] = ["authorization", "content-type"];

/// `Browsers (CORS)` flags.
#[derive(Debug, Args)]
#[command(next_help_heading = "Browsers (CORS)")]
pub struct CorsArgs {
    /// Browser origins allowed to call the API cross-origin, comma-separated,
    /// `*` as a wildcard (`https://*.example.com`). Default: http and https
    /// on localhost, 127.0.0.1 and [::1], any port, in development; none in
    /// production. The server's own origin is always allowed.
    #[arg(
        long,
        env = "AUTHQL_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Option<Vec<String>>,
    /// Request headers allowed cross-origin, comma-separated
    /// (`authorization` and `content-type` are always allowed).
    #[arg(
        long,
        env = "AUTHQL_CORS_ALLOWED_HEADERS",
        value_delimiter = ',',
        default_value = DEFAULT_CORS_ALLOWED_HEADERS,
        global = true
    )]
    pub cors_allowed_headers: Vec<String>,
}

/// Cross-origin access, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorsSettings {
    /// Exact origins or `*` patterns; empty: same-origin only.
    pub origins: Vec<String>,
    /// Lower-case header names.
    pub allowed_headers: Vec<String>,
}

impl CorsSettings {
    /// The defaults of `environment`.
    pub fn for_environment(environment: Environment) -> Self {
        Self {
            origins: match environment {
                Environment::Development => DEVELOPMENT_CORS_ORIGINS.map(String::from).to_vec(),
                Environment::Production => Vec::new(),
            },
            allowed_headers: DEFAULT_CORS_ALLOWED_HEADERS
                .split(',')
                .map(String::from)
                .collect(),
        }
    }
}

impl CorsArgs {
    pub fn resolve(&self, environment: Environment) -> anyhow::Result<CorsSettings> {
        let defaults = CorsSettings::for_environment(environment);
        let origins = match &self.cors_origins {
            Some(origins) => origins
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            None => defaults.origins,
        };
        for origin in &origins {
            if let Err(why) = check_origin(origin) {
                bail!("AUTHQL_CORS_ORIGINS: {origin:?} {why}");
            }
        }
        let mut allowed_headers: Vec<String> = REQUIRED_HEADERS.map(String::from).to_vec();
        for header in &self.cors_allowed_headers {
            let header = header.trim().to_ascii_lowercase();
            if header.is_empty() || allowed_headers.contains(&header) {
                continue;
            }
            if poem::http::HeaderName::from_bytes(header.as_bytes()).is_err() {
                bail!("AUTHQL_CORS_ALLOWED_HEADERS: {header:?} is not a header name");
            }
            allowed_headers.push(header);
        }
        Ok(CorsSettings {
            origins,
            allowed_headers,
        })
    }
}

/// Whether `origin` is `*` (any origin, never with credentials), an origin
/// like `https://app.example.com[:port]`, or such an origin whose wildcard
/// stands for whole labels under a named domain (`https://*.example.com`)
/// or for the port (`http://localhost:*`). A wildcard anywhere else would
/// give credentials to sites nobody named: `https://*` matches every site,
/// `https://*example.com` matches `attackerexample.com`, `https://*.com`
/// every `.com` domain.
pub(super) fn check_origin(origin: &str) -> Result<(), &'static str> {
    const SHAPE: &str = "is not an origin like https://app.example.com";
    if origin == "*" {
        return Ok(());
    }
    if !origin.is_ascii()
        || origin
            .chars()
            .any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
    {
        return Err(SHAPE);
    }
    let Some((_, authority)) = origin
        .strip_prefix("https://")
        .map(|rest| ("https", rest))
        .or_else(|| origin.strip_prefix("http://").map(|rest| ("http", rest)))
    else {
        return Err(SHAPE);
    };
    if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
        return Err(SHAPE);
    }
    // `host[:port]`, where an IPv6 host is bracketed and holds colons.
    let (host, port) = match authority.rfind(':') {
        Some(at) if !authority[at..].contains(']') => {
            (&authority[..at], Some(&authority[at + 1..]))
        }
        _ => (authority, None),
    };
    if let Some(port) = port
        && port != "*"
        && (port.is_empty() || port.parse::<u16>().is_err())
    {
        return Err(SHAPE);
    }
    if host.is_empty() {
        return Err(SHAPE);
    }
    if !host.contains('*') {
        return Ok(());
    }
    let Some(domain) = host.strip_prefix("*.") else {
        return Err(
            "has a wildcard that does not stand for whole labels of a named domain: write https://*.example.com, never https://* or https://*example.com",
        );
    };
    let labels: Vec<&str> = domain.split('.').collect();
    let named = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().any(|c| c.is_ascii_alphabetic()));
    if !named {
        return Err(
            "has a wildcard that does not stand for labels under a named domain of at least two labels (https://*.example.com)",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(origins: Option<Vec<&str>>, headers: &[&str]) -> CorsArgs {
        CorsArgs {
            cors_origins: origins.map(|o| o.into_iter().map(String::from).collect()),
            cors_allowed_headers: headers.iter().map(|h| (*h).to_owned()).collect(),
        }
    }

    #[test]
    fn origins_default_to_local_dev_servers_in_development_only() {
        let dev = args(None, &[]).resolve(Environment::Development).unwrap();
        assert_eq!(dev.origins, DEVELOPMENT_CORS_ORIGINS);
        let production = args(None, &[]).resolve(Environment::Production).unwrap();
        assert!(production.origins.is_empty());
        let configured = args(Some(vec!["https://app.example.com/", " "]), &[])
            .resolve(Environment::Production)
            .unwrap();
        assert_eq!(configured.origins, ["https://app.example.com"]);
        assert!(
            args(Some(vec!["app.example.com"]), &[])
                .resolve(Environment::Production)
                .is_err()
        );
    }

    #[test]
    fn a_wildcard_must_stand_for_labels_of_a_named_domain_or_the_port() {
        for good in [
            "*",
            "https://*.example.com",
            "https://*.app.example.com:8443",
            "http://localhost:*",
            "http://[::1]:*",
            "https://app.example.com",
            "http://127.0.0.1:5173",
        ] {
            assert!(check_origin(good).is_ok(), "{good} should be accepted");
        }
        for bad in [
            "https://*",
            "https://*:*",
            "https://*example.com",
            "https://*.com",
            "https://app.*.com",
            "https://ex*ample.com",
            "https://*.example.*",
            "https://*.*.com",
            "*://app.example.com",
            "http*://app.example.com",
            "https://app.example.com/*",
            "https://user@app.example.com",
            "https://app.example.com:",
            "https://app.example.com:99999",
        ] {
            assert!(check_origin(bad).is_err(), "{bad} should be refused");
        }
        let error = args(Some(vec!["https://*example.com"]), &[])
            .resolve(Environment::Production)
            .unwrap_err();
        assert!(error.to_string().contains("AUTHQL_CORS_ORIGINS"), "{error}");
    }

    #[test]
    fn the_required_headers_are_always_allowed() {
        let settings = args(None, &["X-Custom", "traceparent", "x-custom"])
            .resolve(Environment::Production)
            .unwrap();
        assert_eq!(
            settings.allowed_headers,
            ["authorization", "content-type", "x-custom", "traceparent"]
        );
        assert!(
            args(None, &["bad header"])
                .resolve(Environment::Production)
                .is_err()
        );
    }
}
