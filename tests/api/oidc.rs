//! A real OpenID provider for the tests (panva's `oidc-provider`, certified
//! by the OpenID Foundation, run by Node from `tests/partners/oidc-provider`),
//! and a browser that signs in at it by filling its login and consent forms
//! over HTTP.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

/// The client authql is registered as at the provider.
pub const CLIENT_ID: &str = "authql";
pub const CLIENT_SECRET: &str = "test-client-secret-0123456789";
/// Another client registered at the same provider, with the same redirect.
pub const OTHER_CLIENT_ID: &str = "another-app";
/// Where the tests tell authql it is reached; the browser below turns it
/// into the test server's real address, as a reverse proxy would.
pub const PUBLIC_URL: &str = "http://authql.test";
/// The frontend page allowed as `redirectTo`.
pub const REDIRECT_TO: &str = "http://app.test/signed-in";

/// The provider's accounts: login name → claims.
pub fn accounts() -> Value {
    json!({
        "alice": { "email": "alice@example.com", "email_verified": true, "name": "Alice Provider" },
        "bob": { "email": "bob@example.com", "email_verified": true, "name": "Bob" },
        "mallory": { "email": "victim@example.com", "email_verified": false, "name": "Mallory" },
        "victim": { "email": "victim@example.com", "email_verified": true, "name": "Victim" },
        "carol": { "email": "carol@example.com", "email_verified": true, "name": "Carol" },
        "nomail": { "name": "No Mail" },
    })
}

/// Starts `script` of the partner directory with `config`; the process and
/// the address it printed (`listening <address>`).
async fn launch(script: &str, config: &Value) -> (Child, String) {
    let mut child = Command::new("node")
        .arg(format!("{}/{script}", partner_dir()))
        .arg(config.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts the partner");
    let stdout = child.stdout.take().expect("stdout piped");
    let mut lines = BufReader::new(stdout).lines();
    let address = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.expect("partner output") {
            if let Some(address) = line.strip_prefix("listening ") {
                return address.to_owned();
            }
        }
        panic!("{script} ended before listening")
    })
    .await
    .expect("the partner listens within 20 s");
    // Its notices keep coming on stdout: read them, or a closed pipe ends it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, address)
}

/// A local stand-in for a provider that cannot run here (GitHub, Apple),
/// written for these tests: see the scripts' opening comments for what each
/// mimics.
pub struct Standin {
    _child: Child,
    /// Its base URL (GitHub) or issuer (Apple).
    pub address: String,
}

impl Standin {
    pub async fn github(provider_id: &str, users: Value) -> Self {
        let config = json!({
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": format!("{PUBLIC_URL}/auth/callback/{provider_id}"),
            "users": users,
        });
        let (child, address) = launch("github-standin.mjs", &config).await;
        Self {
            _child: child,
            address,
        }
    }

    pub async fn apple(
        provider_id: &str,
        team_id: &str,
        key_id: &str,
        private_key_pem: &str,
        users: Value,
    ) -> Self {
        let config = json!({
            "client_id": CLIENT_ID,
            "team_id": team_id,
            "key_id": key_id,
            "private_key_pem": private_key_pem,
            "redirect_uri": format!("{PUBLIC_URL}/auth/callback/{provider_id}"),
            "users": users,
        });
        let (child, address) = launch("apple-standin.mjs", &config).await;
        Self {
            _child: child,
            address,
        }
    }
}

/// A running provider process.
pub struct OidcProvider {
    child: Option<Child>,
    pub issuer: String,
    port: u16,
    provider_id: String,
}

/// Where the provider's script and packages are (the tests that need it are
/// ignored unless `AUTHQL_TEST_OIDC_PROVIDER` was set for the build).
fn partner_dir() -> &'static str {
    option_env!("AUTHQL_TEST_OIDC_PROVIDER").unwrap_or(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/partners/oidc-provider"
    ))
}

impl OidcProvider {
    /// Starts a provider on any free port, with authql's callback for the
    /// provider id `provider_id` registered.
    pub async fn start(provider_id: &str) -> Self {
        let mut provider = Self {
            child: None,
            issuer: String::new(),
            port: 0,
            provider_id: provider_id.to_owned(),
        };
        provider.launch().await;
        provider
    }

    async fn launch(&mut self) {
        let redirect = format!("{PUBLIC_URL}/auth/callback/{}", self.provider_id);
        let config = json!({
            "port": self.port,
            "clients": [
                { "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [redirect] },
                { "client_id": OTHER_CLIENT_ID, "client_secret": "another-secret-0123456789", "redirect_uris": [redirect] },
            ],
            "accounts": accounts(),
        });
        let (child, issuer) = launch("provider.mjs", &config).await;
        self.port = Url::parse(&issuer).unwrap().port().unwrap();
        self.issuer = issuer;
        self.child = Some(child);
    }

    /// Stops the provider: it is down.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.ok();
            child.wait().await.ok();
        }
    }

    /// Starts it again on the same port with a new signing key: a key
    /// rotation, as authql sees it.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.launch().await;
    }

    async fn control(&self, path: &str, body: &str) {
        let status = reqwest::Client::new()
            .post(format!("{}{path}", self.issuer))
            .body(body.to_owned())
            .send()
            .await
            .expect("the provider answers")
            .status();
        assert_eq!(status, StatusCode::NO_CONTENT);
    }

    /// Its token endpoint stops answering.
    pub async fn hang(&self) {
        self.control("/test/hang", "").await;
    }

    /// Its ID tokens are re-signed for `audience`.
    pub async fn issue_for_audience(&self, audience: &str) {
        self.control("/test/audience", audience).await;
    }
}

/// How the provider sent the browser back to authql.
#[derive(Clone, Debug)]
pub enum ProviderAnswer {
    /// A redirect to the callback (`response_mode=query`).
    Redirect(Url),
    /// A page that posts the answer (`response_mode=form_post`).
    FormPost(Url, Vec<(String, String)>),
}

impl ProviderAnswer {
    pub fn query(&self, name: &str) -> Option<String> {
        match self {
            Self::Redirect(url) => url
                .query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned()),
            Self::FormPost(_, fields) => fields
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone()),
        }
    }
}

/// A browser: keeps the provider's cookies, follows nothing by itself.
pub struct Browser {
    http: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }
}

/// The value of `name="…"`'s `value` attribute, or of `action`, in a form,
/// its character references decoded as a browser does.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = tag[start..].find('"')? + start;
    Some(decode_entities(&tag[start..end]))
}

/// `&amp;`, `&quot;`, `&lt;`, `&gt;`, `&#39;`, `&#x2F;` and the like.
fn decode_entities(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let Some(end) = rest[at..].find(';') else {
            break;
        };
        let entity = &rest[at + 1..at + end];
        let decoded = match entity {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&rest[at..=at + end]),
        }
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The `action` and hidden inputs of the first form in `html`.
fn form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = html.find("<form")?;
    let tag_end = html[start..].find('>')? + start;
    let action = attribute(&html[start..tag_end], "action")?;
    let fields = html[tag_end..]
        .split("<input")
        .skip(1)
        .filter(|input| input.contains("type=\"hidden\""))
        .filter_map(|input| Some((attribute(input, "name")?, attribute(input, "value")?)))
        .collect();
    Some((action, fields))
}

impl Browser {
    /// Opens `authorization_url`, signs in at the provider as `login`,
    /// consents, and returns where the provider sends the browser back to
    /// authql: redirects within the provider are followed, its forms filled
    /// and submitted.
    pub async fn sign_in_at_provider(
        &self,
        authorization_url: &str,
        login: &str,
    ) -> ProviderAnswer {
        let mut here = Url::parse(authorization_url).expect("an authorization URL");
        let provider = here.origin();
        let mut response = self
            .http
            .get(here.clone())
            .send()
            .await
            .expect("provider answers");
        for _ in 0..16 {
            if let Some(location) = response.headers().get("location") {
                here = here.join(location.to_str().unwrap()).unwrap();
                if here.origin() != provider {
                    return ProviderAnswer::Redirect(here);
                }
                response = self
                    .http
                    .get(here.clone())
                    .send()
                    .await
                    .expect("provider answers");
                continue;
            }
            let status = response.status();
            let html = response.text().await.unwrap();
            let (action, mut fields) = form(&html)
                .unwrap_or_else(|| panic!("a form on the provider's page ({status}): {html}"));
            let action = here.join(&action).unwrap();
            if action.origin() != provider {
                return ProviderAnswer::FormPost(action, fields);
            }
            if fields.iter().any(|(k, v)| k == "prompt" && v == "login") {
                fields.push(("login".into(), login.into()));
                fields.push(("password".into(), "any password".into()));
            }
            response = self
                .http
                .post(action)
                .form(&fields)
                .send()
                .await
                .expect("the provider takes the form");
        }
        panic!("the provider did not send the browser back")
    }

    /// Opens the provider's pages until its login form, and cancels there
    /// (the development interactions' "cancel" link).
    pub async fn cancel_at_provider(&self, authorization_url: &str) -> ProviderAnswer {
        let mut url = Url::parse(authorization_url).unwrap();
        let provider = url.origin();
        let mut cancelled = false;
        for _ in 0..12 {
            if !cancelled && url.path().starts_with("/interaction/") {
                url = url.join(&format!("{}/abort", url.path())).unwrap();
                cancelled = true;
            }
            let response = self.http.get(url.clone()).send().await.unwrap();
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            let next = url.join(&location).unwrap();
            if next.origin() != provider {
                return ProviderAnswer::Redirect(next);
            }
            url = next;
        }
        panic!("the provider did not send the browser back")
    }
}

/// A PKCE verifier and its S256 challenge, as a frontend makes them.
pub fn pkce() -> (String, String) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use sha2::Digest;
    let verifier = URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes().repeat(2));
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}
