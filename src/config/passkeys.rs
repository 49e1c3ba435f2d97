//! Passkeys (WebAuthn): the relying party they are bound to and the
//! frontends' origins that may use them. Both come from the settings only,
//! never from a request's `Host`: a passkey is bound to its relying-party id
//! for life, and an origin taken from a request would let any site that can
//! reach authql ask for assertions.

use anyhow::{Context, bail};
use clap::Args;
use url::Url;

use super::Environment;

/// `Passkeys` flags.
#[derive(Debug, Args)]
#[command(next_help_heading = "Passkeys")]
pub struct PasskeyArgs {
    /// Passkeys (sign-in, sign-up and a second factor). Default: on in
    /// development; in production, on when `AUTHQL_WEBAUTHN_RP_ID` is set.
    #[arg(long, env = "AUTHQL_PASSKEYS", action = clap::ArgAction::Set, global = true)]
    pub passkeys: Option<bool>,
    /// The relying-party id passkeys are bound to: the site's registrable
    /// domain (`example.com`), which every origin's host must be or end
    /// with. It cannot change without every passkey failing. Default in
    /// development: `localhost`.
    #[arg(long, env = "AUTHQL_WEBAUTHN_RP_ID", global = true)]
    pub webauthn_rp_id: Option<String>,
    /// The exact origins of the frontends that may use passkeys,
    /// comma-separated (`https://app.example.com`). Default in development:
    /// any `http://localhost:*`.
    #[arg(
        long,
        env = "AUTHQL_WEBAUTHN_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub webauthn_origins: Option<Vec<String>>,
    /// The name authenticators show beside the account. Default: the
    /// product name (`AUTHQL_PRODUCT_NAME`).
    #[arg(long, env = "AUTHQL_WEBAUTHN_RP_NAME", global = true)]
    pub webauthn_rp_name: Option<String>,
}

/// The relying party, when passkeys are on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeySettings {
    pub rp_id: String,
    pub rp_name: String,
    /// Exact origins (scheme, host and port).
    pub origins: Vec<Url>,
    /// Development's `http://localhost` on any port.
    pub any_port: bool,
}

impl PasskeySettings {
    /// Development's: `localhost`, any `http://localhost:*` origin.
    pub fn development(rp_name: &str) -> Self {
        Self {
            rp_id: "localhost".to_owned(),
            rp_name: rp_name.to_owned(),
            origins: vec![Url::parse("http://localhost").expect("a valid URL")],
            any_port: true,
        }
    }
}

impl PasskeyArgs {
    /// Checks the flags; `None` when passkeys are off.
    pub fn resolve(
        &self,
        environment: Environment,
        product_name: &str,
    ) -> anyhow::Result<Option<PasskeySettings>> {
        let rp_id = self
            .webauthn_rp_id
            .as_deref()
            .map(|raw| raw.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|id| !id.is_empty());
        let origins: Vec<&str> = self
            .webauthn_origins
            .iter()
            .flatten()
            .map(|raw| raw.trim())
            .filter(|raw| !raw.is_empty())
            .collect();
        let production = environment == Environment::Production;
        let on = self.passkeys.unwrap_or(!production || rp_id.is_some());
        if !on {
            return Ok(None);
        }
        let rp_name = self
            .webauthn_rp_name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .unwrap_or(product_name);
        let Some(rp_id) = rp_id else {
            if production {
                bail!(
                    "AUTHQL_WEBAUTHN_RP_ID is required in production with passkeys on (the site's domain, e.g. example.com), or set AUTHQL_PASSKEYS=false"
                );
            }
            if !origins.is_empty() {
                bail!("AUTHQL_WEBAUTHN_ORIGINS is set without AUTHQL_WEBAUTHN_RP_ID");
            }
            return Ok(Some(PasskeySettings::development(rp_name)));
        };
        check_rp_id(&rp_id)?;
        if origins.is_empty() {
            if production {
                bail!(
                    "AUTHQL_WEBAUTHN_ORIGINS is required in production with passkeys on (the frontends' origins, e.g. https://app.example.com)"
                );
            }
            if rp_id != "localhost" {
                bail!(
                    "AUTHQL_WEBAUTHN_ORIGINS is required when AUTHQL_WEBAUTHN_RP_ID is not localhost"
                );
            }
            return Ok(Some(PasskeySettings::development(rp_name)));
        }
        let origins = origins
            .into_iter()
            .map(|raw| origin(raw, &rp_id))
            .collect::<anyhow::Result<Vec<Url>>>()?;
        Ok(Some(PasskeySettings {
            rp_id,
            rp_name: rp_name.to_owned(),
            origins,
            any_port: false,
        }))
    }
}

/// A relying-party id is a domain name: never an IP address, a URL or a
/// name with a port.
fn check_rp_id(rp_id: &str) -> anyhow::Result<()> {
    let is_ip = rp_id.parse::<std::net::IpAddr>().is_ok()
        || rp_id
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok();
    if is_ip || !is_domain_name(rp_id) {
        bail!(
            "AUTHQL_WEBAUTHN_RP_ID: {rp_id:?} is not a domain name (an IP address, a URL or a port cannot be a relying-party id)"
        );
    }
    Ok(())
}

/// Dot-separated labels of letters, digits and hyphens: no wildcard, port,
/// path or space.
fn is_domain_name(name: &str) -> bool {
    name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

/// An exact origin whose host is `rp_id` or under it; https, but for
/// localhost, which browsers treat as secure.
fn origin(raw: &str, rp_id: &str) -> anyhow::Result<Url> {
    let url = Url::parse(raw)
        .with_context(|| format!("AUTHQL_WEBAUTHN_ORIGINS: {raw:?} is not a URL"))?;
    let exact = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !exact || !matches!(url.scheme(), "https" | "http") {
        bail!("AUTHQL_WEBAUTHN_ORIGINS: {raw:?} is not an origin (scheme, host and port only)");
    }
    let Some(host) = url.domain().filter(|host| is_domain_name(host)) else {
        bail!(
            "AUTHQL_WEBAUTHN_ORIGINS: {raw:?} has no domain name (an IP address or a wildcard cannot use passkeys)"
        );
    };
    if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
        bail!(
            "AUTHQL_WEBAUTHN_ORIGINS: {raw:?} is not on {rp_id:?}, the relying-party id: its host must be {rp_id} or end with .{rp_id}"
        );
    }
    if url.scheme() == "http" && host != "localhost" {
        bail!("AUTHQL_WEBAUTHN_ORIGINS: {raw:?} must be https (only localhost may use http)");
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(on: Option<bool>, rp_id: Option<&str>, origins: &[&str]) -> PasskeyArgs {
        PasskeyArgs {
            passkeys: on,
            webauthn_rp_id: rp_id.map(str::to_owned),
            webauthn_origins: (!origins.is_empty())
                .then(|| origins.iter().map(|o| (*o).to_owned()).collect()),
            webauthn_rp_name: None,
        }
    }

    #[test]
    fn development_defaults_to_localhost_on_any_port() {
        let settings = args(None, None, &[])
            .resolve(Environment::Development, "Acme")
            .unwrap()
            .unwrap();
        assert_eq!(settings, PasskeySettings::development("Acme"));
        assert!(settings.any_port);
    }

    #[test]
    fn production_needs_the_relying_party_when_passkeys_are_on() {
        // Off by default in production without a relying party.
        assert_eq!(
            args(None, None, &[])
                .resolve(Environment::Production, "Acme")
                .unwrap(),
            None
        );
        let error = args(Some(true), None, &[])
            .resolve(Environment::Production, "Acme")
            .unwrap_err();
        assert!(
            error.to_string().contains("AUTHQL_WEBAUTHN_RP_ID"),
            "{error}"
        );
        let error = args(None, Some("example.com"), &[])
            .resolve(Environment::Production, "Acme")
            .unwrap_err();
        assert!(
            error.to_string().contains("AUTHQL_WEBAUTHN_ORIGINS"),
            "{error}"
        );
        let settings = args(None, Some("Example.com"), &["https://app.example.com"])
            .resolve(Environment::Production, "Acme")
            .unwrap()
            .unwrap();
        assert_eq!(settings.rp_id, "example.com");
        assert_eq!(settings.origins[0].as_str(), "https://app.example.com/");
        assert!(!settings.any_port);
        assert_eq!(
            args(
                Some(false),
                Some("example.com"),
                &["https://app.example.com"]
            )
            .resolve(Environment::Production, "Acme")
            .unwrap(),
            None
        );
    }

    #[test]
    fn origins_must_be_exact_secure_and_on_the_relying_party() {
        for (rp_id, origin) in [
            ("example.com", "https://evil.com"),
            ("example.com", "https://notexample.com"),
            ("example.com", "http://app.example.com"),
            ("example.com", "https://app.example.com/login"),
            ("example.com", "https://*.example.com"),
            ("example.com", "app.example.com"),
            ("127.0.0.1", "http://127.0.0.1:3000"),
            ("example.com:443", "https://example.com"),
            ("https://example.com", "https://example.com"),
        ] {
            assert!(
                args(None, Some(rp_id), &[origin])
                    .resolve(Environment::Production, "Acme")
                    .is_err(),
                "{rp_id} {origin}"
            );
        }
        assert!(
            args(None, Some("localhost"), &["http://localhost:5173"])
                .resolve(Environment::Production, "Acme")
                .is_ok()
        );
    }
}
