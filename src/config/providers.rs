//! Sign-in providers (Google, Microsoft, GitLab, any OpenID Connect
//! provider), the public address their answers come back to, and where the
//! browser may be sent afterwards.
//!
//! A provider's own variables are named after its id
//! (`AUTHQL_PROVIDER_<ID>_CLIENT_ID` …), so they are read here from the
//! environment rather than declared one by one as flags.

use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use secrecy::SecretString;
use url::Url;
use wildmatch::WildMatch;

use super::cors::check_origin;
use super::{DEVELOPMENT_CORS_ORIGINS, Environment, parse_duration};

/// `Sign-in providers` flags.
#[derive(Debug, Args)]
#[command(next_help_heading = "Sign-in providers")]
pub struct ProviderArgs {
    /// Providers users may sign in with, comma-separated ids
    /// (`google,gitlab,acme`); each is set up by `AUTHQL_PROVIDER_<ID>_…`.
    #[arg(long, env = "AUTHQL_PROVIDERS", value_delimiter = ',', global = true)]
    pub providers: Vec<String>,
    /// The address browsers reach authql at (`https://auth.example.com`);
    /// providers send their answers to `{this}/auth/callback/{id}`.
    #[arg(long, env = "AUTHQL_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Where the browser may be sent back to after a provider, comma-separated:
    /// exact URLs, or origins with a `*` as in `AUTHQL_CORS_ORIGINS` (any path).
    /// Default: any page on localhost in development; none in production.
    #[arg(
        long,
        env = "AUTHQL_REDIRECT_URLS",
        value_delimiter = ',',
        global = true
    )]
    pub redirect_urls: Option<Vec<String>>,
    /// The longest authql waits for a provider's answer to one call.
    #[arg(long, env = "AUTHQL_PROVIDER_TIMEOUT", default_value = "10s", value_parser = parse_duration, global = true)]
    pub provider_timeout: Duration,
}

/// The presets, and any OpenID Connect provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    Google,
    /// One Microsoft Entra tenant.
    Microsoft,
    /// gitlab.com, or a self-hosted GitLab through `…_ISSUER`.
    Gitlab,
    /// Sign in with Apple: OpenID Connect with a client secret that is a
    /// JWT signed with the team's key, and answers posted back.
    Apple,
    /// GitHub: plain OAuth 2 and its REST API.
    Github,
    /// Any OpenID Connect provider, found through its discovery document.
    Oidc,
}

/// How authql speaks to a provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// OpenID Connect, from `{issuer}/.well-known/openid-configuration`; the
    /// issuer exactly as its ID tokens say it.
    OpenIdConnect { issuer: String },
    /// GitHub's OAuth 2 endpoints under `web` (`/login/oauth/…`) and its REST
    /// API at `api` (`/user`, `/user/emails`).
    Github { web: Url, api: Url },
}

/// What authql proves itself to the provider with.
#[derive(Clone)]
pub enum ClientSecret {
    /// A secret the provider issued.
    Static(SecretString),
    /// Apple's: a short-lived ES256 JWT, made for each call with the team's
    /// private key.
    AppleKey {
        team_id: String,
        key_id: String,
        /// The `.p8` file's PEM.
        private_key: SecretString,
    },
}

/// How the provider sends its answer back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseMode {
    /// A redirect whose query holds the answer.
    Query,
    /// A page that posts the answer (`response_mode=form_post`).
    FormPost,
}

/// One provider, checked and complete.
#[derive(Clone)]
pub struct ProviderConfig {
    /// The lower-case id in `AUTHQL_PROVIDERS`, used in the callback path and
    /// the API.
    pub id: String,
    /// Shown to users ("Sign in with {name}").
    pub name: String,
    pub kind: ProviderKind,
    pub protocol: Protocol,
    pub client_id: String,
    pub client_secret: ClientSecret,
    pub scopes: Vec<String>,
    pub response_mode: ResponseMode,
    /// Whether someone without an account may sign up through it.
    pub allow_sign_up: bool,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("protocol", &self.protocol)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<hidden>")
            .field("scopes", &self.scopes)
            .field("response_mode", &self.response_mode)
            .field("allow_sign_up", &self.allow_sign_up)
            .finish()
    }
}

impl ProviderConfig {
    /// An OpenID Connect provider with the usual scopes (for tests and
    /// embedding).
    pub fn oidc(id: &str, issuer: &str, client_id: &str, client_secret: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: id.to_owned(),
            kind: ProviderKind::Oidc,
            protocol: Protocol::OpenIdConnect {
                issuer: issuer.to_owned(),
            },
            client_id: client_id.to_owned(),
            client_secret: ClientSecret::Static(SecretString::from(client_secret.to_owned())),
            scopes: default_scopes(),
            response_mode: ResponseMode::Query,
            allow_sign_up: true,
        }
    }
}

/// Providers and where their flows begin and end.
#[derive(Clone, Debug)]
pub struct ProviderSettings {
    pub providers: Vec<ProviderConfig>,
    /// Set whenever a provider is.
    pub public_url: Option<Url>,
    pub redirect_urls: RedirectAllowList,
    /// Per outbound call.
    pub timeout: Duration,
}

impl ProviderSettings {
    /// No provider; redirects as `environment`'s default.
    pub fn none(environment: Environment) -> Self {
        Self {
            providers: Vec::new(),
            public_url: None,
            redirect_urls: RedirectAllowList::for_environment(environment),
            timeout: Duration::from_secs(10),
        }
    }

    /// `{public_url}/auth/callback/{id}`.
    pub fn callback_url(&self, id: &str) -> Option<Url> {
        let base = self.public_url.as_ref()?;
        let mut url = base.clone();
        url.set_path(&format!(
            "{}/auth/callback/{id}",
            base.path().trim_end_matches('/')
        ));
        Some(url)
    }
}

impl ProviderArgs {
    /// Checks the flags, and reads each provider's variables through `var`.
    pub fn resolve(
        &self,
        environment: Environment,
        var: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<ProviderSettings> {
        let mut providers: Vec<ProviderConfig> = Vec::new();
        for raw in &self.providers {
            let id = raw.trim().to_ascii_lowercase();
            if id.is_empty() {
                continue;
            }
            if !valid_id(&id) {
                bail!(
                    "AUTHQL_PROVIDERS: {id:?} is not a provider id (letters, digits and '-', at most 32)"
                );
            }
            if providers.iter().any(|p| p.id == id) {
                bail!("AUTHQL_PROVIDERS: {id:?} is named twice");
            }
            providers.push(provider(&id, &var)?);
        }
        let public_url = match self.public_url.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => Some(public_url(raw, environment)?),
            _ => None,
        };
        if !providers.is_empty() && public_url.is_none() {
            bail!(
                "AUTHQL_PUBLIC_URL is required once a provider is configured: the address browsers reach authql at"
            );
        }
        let redirect_urls = match &self.redirect_urls {
            Some(entries) => RedirectAllowList::parse(entries)?,
            None => RedirectAllowList::for_environment(environment),
        };
        if self.provider_timeout < Duration::from_millis(100) {
            bail!("AUTHQL_PROVIDER_TIMEOUT must be at least 100ms");
        }
        Ok(ProviderSettings {
            providers,
            public_url,
            redirect_urls,
            timeout: self.provider_timeout,
        })
    }
}

fn valid_id(id: &str) -> bool {
    id.len() <= 32
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
}

fn default_scopes() -> Vec<String> {
    ["openid", "email", "profile"].map(String::from).to_vec()
}

/// Reads `AUTHQL_PROVIDER_<ID>_…` for `id`.
fn provider(id: &str, var: &impl Fn(&str) -> Option<String>) -> anyhow::Result<ProviderConfig> {
    let prefix = format!(
        "AUTHQL_PROVIDER_{}_",
        id.to_ascii_uppercase().replace('-', "_")
    );
    let name_of = |suffix: &str| format!("{prefix}{suffix}");
    let get = |suffix: &str| var(&name_of(suffix)).filter(|v| !v.trim().is_empty());
    let require = |suffix: &str| {
        get(suffix).with_context(|| format!("provider {id:?} needs {}", name_of(suffix)))
    };

    const PRESETS: [&str; 5] = ["google", "microsoft", "gitlab", "apple", "github"];
    const KINDS: &str = "google, microsoft, gitlab, apple, github or oidc";
    let kind_name = match get("KIND") {
        Some(kind) => kind,
        None if PRESETS.contains(&id) => id.to_owned(),
        None => bail!("provider {id:?} needs {} ({KINDS})", name_of("KIND")),
    };
    let (kind, default_issuer, default_name) = match kind_name.trim() {
        "google" => (
            ProviderKind::Google,
            Some("https://accounts.google.com".to_owned()),
            "Google",
        ),
        "microsoft" => {
            let tenant = require("TENANT")?;
            // Microsoft's discovery document names a tenant's issuer by its
            // id: a domain or `common` would not match the tokens' `iss`.
            if uuid::Uuid::parse_str(tenant.trim()).is_err() {
                bail!(
                    "{}: give the tenant's id (a UUID); multi-tenant sign-in (common, organizations, consumers) and domains are not supported",
                    name_of("TENANT")
                );
            }
            let tenant = tenant.trim().to_ascii_lowercase();
            let issuer = format!("https://login.microsoftonline.com/{tenant}/v2.0");
            (ProviderKind::Microsoft, Some(issuer), "Microsoft")
        }
        "gitlab" => (
            ProviderKind::Gitlab,
            Some("https://gitlab.com".to_owned()),
            "GitLab",
        ),
        "apple" => (
            ProviderKind::Apple,
            Some("https://appleid.apple.com".to_owned()),
            "Apple",
        ),
        "github" => (ProviderKind::Github, None, "GitHub"),
        "oidc" => (ProviderKind::Oidc, None, ""),
        other => bail!(
            "{}: {other:?} is not a provider kind ({KINDS})",
            name_of("KIND")
        ),
    };
    let http_url = |suffix: &str, raw: &str| -> anyhow::Result<Url> {
        Url::parse(raw.trim().trim_end_matches('/'))
            .ok()
            .filter(|url| {
                matches!(url.scheme(), "https" | "http")
                    && url.host().is_some()
                    && url.query().is_none()
                    && url.fragment().is_none()
            })
            .with_context(|| format!("{}: not an https:// URL", name_of(suffix)))
    };
    let protocol = if kind == ProviderKind::Github {
        // github.com, or GitHub Enterprise Server at `…_URL` (its API under
        // `/api/v3` unless `…_API_URL` says otherwise).
        let web = http_url("URL", get("URL").as_deref().unwrap_or("https://github.com"))?;
        let api = match (get("API_URL"), get("URL")) {
            (Some(api), _) => http_url("API_URL", &api)?,
            (None, Some(_)) => http_url(
                "URL",
                &format!("{}/api/v3", web.as_str().trim_end_matches('/')),
            )?,
            (None, None) => http_url("API_URL", "https://api.github.com")?,
        };
        Protocol::Github { web, api }
    } else {
        let issuer = match (get("ISSUER"), default_issuer) {
            (Some(issuer), _) if kind != ProviderKind::Google => issuer,
            (Some(_), _) => bail!("{}: Google's issuer is fixed", name_of("ISSUER")),
            (None, Some(issuer)) => issuer,
            (None, None) => require("ISSUER")?,
        };
        let issuer = issuer.trim().to_owned();
        http_url("ISSUER", &issuer)?;
        Protocol::OpenIdConnect { issuer }
    };
    let client_id = require("CLIENT_ID")?;
    let client_secret = if kind == ProviderKind::Apple {
        let path = require("PRIVATE_KEY_FILE")?;
        let pem = std::fs::read_to_string(path.trim())
            .with_context(|| format!("cannot read {}", name_of("PRIVATE_KEY_FILE")))?;
        let parsed = pkcs8_der(&pem).is_some_and(|der| {
            use p256::pkcs8::DecodePrivateKey as _;
            p256::SecretKey::from_pkcs8_der(&der).is_ok()
        });
        if !parsed {
            bail!(
                "{}: not the PEM of an EC private key (Apple's .p8 file)",
                name_of("PRIVATE_KEY_FILE")
            );
        }
        ClientSecret::AppleKey {
            team_id: require("TEAM_ID")?.trim().to_owned(),
            key_id: require("KEY_ID")?.trim().to_owned(),
            private_key: SecretString::from(pem),
        }
    } else {
        ClientSecret::Static(SecretString::from(
            match (get("CLIENT_SECRET"), get("CLIENT_SECRET_FILE")) {
                (Some(secret), _) => secret,
                (None, Some(path)) => std::fs::read_to_string(path.trim())
                    .with_context(|| format!("cannot read {}", name_of("CLIENT_SECRET_FILE")))?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
                (None, None) => bail!(
                    "provider {id:?} needs {} or {}",
                    name_of("CLIENT_SECRET"),
                    name_of("CLIENT_SECRET_FILE")
                ),
            },
        ))
    };
    let scopes = match get("SCOPES") {
        Some(raw) => {
            let mut scopes: Vec<String> = raw
                .split([',', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            if kind != ProviderKind::Github && !scopes.iter().any(|s| s == "openid") {
                scopes.insert(0, "openid".to_owned());
            }
            scopes
        }
        None => match kind {
            ProviderKind::Github => vec!["read:user".to_owned(), "user:email".to_owned()],
            ProviderKind::Apple => ["openid", "name", "email"].map(String::from).to_vec(),
            _ => default_scopes(),
        },
    };
    let response_mode = match get("RESPONSE_MODE").as_deref().map(str::trim) {
        // Apple posts its answer whenever a name or address is asked for.
        None if kind == ProviderKind::Apple => ResponseMode::FormPost,
        None | Some("query") => ResponseMode::Query,
        Some("form_post") => ResponseMode::FormPost,
        Some(other) => bail!(
            "{}: {other:?} is not query or form_post",
            name_of("RESPONSE_MODE")
        ),
    };
    let allow_sign_up = match get("ALLOW_SIGN_UP").as_deref().map(str::trim) {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => bail!(
            "{}: {other:?} is not true or false",
            name_of("ALLOW_SIGN_UP")
        ),
    };
    let name = get("NAME").map(|n| n.trim().to_owned()).unwrap_or_else(|| {
        if default_name.is_empty() {
            id.to_owned()
        } else {
            default_name.to_owned()
        }
    });
    Ok(ProviderConfig {
        id: id.to_owned(),
        name,
        kind,
        protocol,
        client_id,
        client_secret,
        scopes,
        response_mode,
        allow_sign_up,
    })
}

/// The DER inside a PEM `PRIVATE KEY` block (PKCS#8), as Apple's `.p8`
/// files hold it.
pub fn pkcs8_der(pem: &str) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    use base64::Engine;
    let body = pem
        .trim()
        .strip_prefix("-----BEGIN PRIVATE KEY-----")?
        .strip_suffix("-----END PRIVATE KEY-----")?;
    let text: zeroize::Zeroizing<String> =
        zeroize::Zeroizing::new(body.chars().filter(|c| !c.is_whitespace()).collect());
    base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .ok()
        .map(zeroize::Zeroizing::new)
}

fn public_url(raw: &str, environment: Environment) -> anyhow::Result<Url> {
    let url = Url::parse(raw.trim_end_matches('/'))
        .ok()
        .filter(|url| {
            matches!(url.scheme(), "https" | "http")
                && url.host().is_some()
                && url.query().is_none()
                && url.fragment().is_none()
                && url.username().is_empty()
        })
        .context("AUTHQL_PUBLIC_URL is not a URL like https://auth.example.com")?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if environment == Environment::Production && url.scheme() != "https" && !local {
        bail!("AUTHQL_PUBLIC_URL must be https:// in production");
    }
    Ok(url)
}

/// Where the browser may be sent back to: exact URLs (the same scheme, host,
/// port and path; any query), or origins whose `*` stands for whole labels
/// under a named domain or for the port, with any path.
#[derive(Clone, Debug, Default)]
pub struct RedirectAllowList {
    exact: Vec<Url>,
    origins: Vec<WildMatch>,
}

impl RedirectAllowList {
    pub fn for_environment(environment: Environment) -> Self {
        match environment {
            Environment::Development => Self::parse(&DEVELOPMENT_CORS_ORIGINS.map(String::from))
                .expect("the development origins are valid patterns"),
            Environment::Production => Self::default(),
        }
    }

    /// Parses the entries of `AUTHQL_REDIRECT_URLS`.
    pub fn parse(entries: &[String]) -> anyhow::Result<Self> {
        let mut list = Self::default();
        for entry in entries {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            if entry.contains('*') || !has_path(entry) {
                let origin = entry.trim_end_matches('/');
                if origin == "*" {
                    bail!("AUTHQL_REDIRECT_URLS: \"*\" would send sign-ins anywhere");
                }
                if let Err(why) = check_origin(origin) {
                    bail!("AUTHQL_REDIRECT_URLS: {entry:?} {why}");
                }
                list.origins
                    .push(WildMatch::new(&origin.to_ascii_lowercase()));
            } else {
                let url = Url::parse(entry)
                    .ok()
                    .filter(|url| {
                        matches!(url.scheme(), "https" | "http")
                            && url.host().is_some()
                            && url.username().is_empty()
                            && url.fragment().is_none()
                    })
                    .with_context(|| {
                        format!("AUTHQL_REDIRECT_URLS: {entry:?} is not a URL like https://app.example.com/signed-in")
                    })?;
                list.exact.push(url);
            }
        }
        Ok(list)
    }

    /// Whether the browser may be sent to `url`.
    pub fn allows(&self, url: &Url) -> bool {
        if !matches!(url.scheme(), "https" | "http")
            || !url.username().is_empty()
            || url.password().is_some()
            || url.fragment().is_some()
        {
            return false;
        }
        let origin = url.origin().ascii_serialization();
        self.exact
            .iter()
            .any(|allowed| allowed.origin() == url.origin() && allowed.path() == url.path())
            || self.origins.iter().any(|pattern| pattern.matches(&origin))
    }
}

/// Whether `entry` names more than an origin (`https://a.example/x`).
fn has_path(entry: &str) -> bool {
    entry
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/').contains('/'))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn args(providers: &[&str], public_url: Option<&str>) -> ProviderArgs {
        ProviderArgs {
            providers: providers.iter().map(|p| (*p).to_owned()).collect(),
            public_url: public_url.map(String::from),
            redirect_urls: None,
            provider_timeout: Duration::from_secs(10),
        }
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn a_preset_needs_only_its_client() {
        let settings = args(&["google"], Some("https://auth.example.com/"))
            .resolve(
                Environment::Production,
                env(&[
                    ("AUTHQL_PROVIDER_GOOGLE_CLIENT_ID", "id-1"),
                    ("AUTHQL_PROVIDER_GOOGLE_CLIENT_SECRET", "secret-1"),
                ]),
            )
            .unwrap();
        let google = &settings.providers[0];
        assert_eq!(google.kind, ProviderKind::Google);
        assert_eq!(google.name, "Google");
        assert_eq!(
            google.protocol,
            Protocol::OpenIdConnect {
                issuer: "https://accounts.google.com".into()
            }
        );
        assert_eq!(google.scopes, ["openid", "email", "profile"]);
        assert!(google.allow_sign_up);
        assert_eq!(
            settings.callback_url("google").unwrap().as_str(),
            "https://auth.example.com/auth/callback/google"
        );
        assert!(!format!("{settings:?}").contains("secret-1"));
    }

    #[test]
    fn a_half_configured_provider_is_refused_naming_the_variable() {
        let missing = |pairs: &[(&str, &str)]| {
            args(&["acme"], Some("https://auth.example.com"))
                .resolve(Environment::Production, env(pairs))
                .unwrap_err()
                .to_string()
        };
        assert!(missing(&[]).contains("AUTHQL_PROVIDER_ACME_KIND"));
        assert!(
            missing(&[("AUTHQL_PROVIDER_ACME_KIND", "oidc")])
                .contains("AUTHQL_PROVIDER_ACME_ISSUER")
        );
        assert!(
            missing(&[("AUTHQL_PROVIDER_ACME_KIND", "saml")]).contains("AUTHQL_PROVIDER_ACME_KIND")
        );
        let with_issuer = [
            ("AUTHQL_PROVIDER_ACME_KIND", "oidc"),
            ("AUTHQL_PROVIDER_ACME_ISSUER", "https://id.acme.test"),
        ];
        assert!(missing(&with_issuer).contains("AUTHQL_PROVIDER_ACME_CLIENT_ID"));
        let mut with_id = with_issuer.to_vec();
        with_id.push(("AUTHQL_PROVIDER_ACME_CLIENT_ID", "authql"));
        assert!(missing(&with_id).contains("AUTHQL_PROVIDER_ACME_CLIENT_SECRET"));
        let error = args(&["google"], None)
            .resolve(
                Environment::Production,
                env(&[
                    ("AUTHQL_PROVIDER_GOOGLE_CLIENT_ID", "id"),
                    ("AUTHQL_PROVIDER_GOOGLE_CLIENT_SECRET", "s"),
                ]),
            )
            .unwrap_err()
            .to_string();
        assert!(error.contains("AUTHQL_PUBLIC_URL"), "{error}");
        let error = args(&["microsoft"], Some("https://auth.example.com"))
            .resolve(
                Environment::Production,
                env(&[
                    ("AUTHQL_PROVIDER_MICROSOFT_TENANT", "common"),
                    ("AUTHQL_PROVIDER_MICROSOFT_CLIENT_ID", "id"),
                    ("AUTHQL_PROVIDER_MICROSOFT_CLIENT_SECRET", "s"),
                ]),
            )
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("AUTHQL_PROVIDER_MICROSOFT_TENANT"),
            "{error}"
        );
    }

    #[test]
    fn github_is_oauth_2_at_github_com_or_an_enterprise_server() {
        let resolve = |pairs: &[(&str, &str)]| {
            let mut all = vec![
                ("AUTHQL_PROVIDER_GITHUB_CLIENT_ID", "id"),
                ("AUTHQL_PROVIDER_GITHUB_CLIENT_SECRET", "s"),
            ];
            all.extend_from_slice(pairs);
            args(&["github"], Some("https://auth.example.com"))
                .resolve(Environment::Production, env(&all))
                .unwrap()
                .providers
                .remove(0)
        };
        let github = resolve(&[]);
        assert_eq!(github.kind, ProviderKind::Github);
        assert_eq!(github.scopes, ["read:user", "user:email"]);
        let Protocol::Github { web, api } = &github.protocol else {
            panic!("{:?}", github.protocol)
        };
        assert_eq!(
            (web.as_str(), api.as_str()),
            ("https://github.com/", "https://api.github.com/")
        );
        let enterprise = resolve(&[("AUTHQL_PROVIDER_GITHUB_URL", "https://git.example.com")]);
        let Protocol::Github { api, .. } = &enterprise.protocol else {
            panic!()
        };
        assert_eq!(api.as_str(), "https://git.example.com/api/v3");
    }

    #[test]
    fn apple_needs_its_team_key_and_posts_its_answer() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("AuthKey.p8");
        // A P-256 key in PKCS#8, as Apple's .p8 files are.
        std::fs::write(
            &key,
            "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg5H5aPQLJ0RhInLfD\nI5X5NImQZYDubrGrpCJ90tVa3GahRANCAATBLdMs9J8t+LnbcsFENQ6yVtWtVs8J\n8A0srLWhIfwmNyPyA5ndKjPpn4IVDLgouhPMpFWV3O0jXweF6M8ggZD8\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let key = key.to_str().unwrap().to_owned();
        let base = [
            ("AUTHQL_PROVIDER_APPLE_CLIENT_ID", "com.example.web"),
            ("AUTHQL_PROVIDER_APPLE_TEAM_ID", "TEAM123456"),
            ("AUTHQL_PROVIDER_APPLE_KEY_ID", "KEY1234567"),
        ];
        let mut with_key = base.to_vec();
        with_key.push(("AUTHQL_PROVIDER_APPLE_PRIVATE_KEY_FILE", key.as_str()));
        let apple = args(&["apple"], Some("https://auth.example.com"))
            .resolve(Environment::Production, env(&with_key))
            .unwrap()
            .providers
            .remove(0);
        assert_eq!(apple.response_mode, ResponseMode::FormPost);
        assert!(matches!(apple.client_secret, ClientSecret::AppleKey { .. }));
        let error = args(&["apple"], Some("https://auth.example.com"))
            .resolve(Environment::Production, env(&base))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("AUTHQL_PROVIDER_APPLE_PRIVATE_KEY_FILE"),
            "{error}"
        );
    }

    #[test]
    fn production_wants_an_https_public_url() {
        let error = args(&[], Some("http://auth.example.com"))
            .resolve(Environment::Production, env(&[]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("https"), "{error}");
        assert!(
            args(&[], Some("http://localhost:8000"))
                .resolve(Environment::Production, env(&[]))
                .is_ok()
        );
    }

    #[test]
    fn redirects_go_only_where_the_list_says() {
        let list = RedirectAllowList::parse(&[
            "https://app.example.com/signed-in".into(),
            "https://*.preview.example.com".into(),
        ])
        .unwrap();
        let allows = |url: &str| list.allows(&Url::parse(url).unwrap());
        assert!(allows("https://app.example.com/signed-in"));
        assert!(allows("https://app.example.com/signed-in?next=/cart"));
        assert!(!allows("https://app.example.com/elsewhere"));
        assert!(!allows("http://app.example.com/signed-in"));
        assert!(!allows("https://app.example.com.evil.test/signed-in"));
        assert!(!allows("https://app.example.com/signed-in#x"));
        assert!(allows("https://pr-12.preview.example.com/any/page"));
        assert!(!allows("https://preview.example.com.evil.test/"));
        assert!(!allows(
            "https://evil.test/?https://pr-1.preview.example.com"
        ));
        assert!(!allows("javascript:alert(1)"));
        for bad in ["*", "https://*", "https://*.com", "ftp://x.example.com/a"] {
            assert!(
                RedirectAllowList::parse(&[bad.to_owned()]).is_err(),
                "{bad}"
            );
        }
        let production = RedirectAllowList::for_environment(Environment::Production);
        assert!(!production.allows(&Url::parse("http://localhost:3000/").unwrap()));
        let development = RedirectAllowList::for_environment(Environment::Development);
        assert!(development.allows(&Url::parse("http://localhost:3000/cb").unwrap()));
        assert!(!development.allows(&Url::parse("https://evil.test/").unwrap()));
    }
}
