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
            let valid = origin == "*"
                || ((origin.starts_with("http://") || origin.starts_with("https://"))
                    && origin.is_ascii()
                    && !origin
                        .chars()
                        .any(|c| c.is_ascii_whitespace() || c.is_ascii_control()));
            if !valid {
                bail!(
                    "AUTHQL_CORS_ORIGINS: {origin:?} is not an origin like https://app.example.com"
                );
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
