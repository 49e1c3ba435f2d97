//! Spawns the real server on a random port with a fresh database, and speaks
//! HTTP to it as a client would.

use std::sync::Arc;

use authql::auth::keys::{Keyring, SigningKey};
use authql::config::{
    CleanupSettings, CorsSettings, DatabaseSettings, Environment, JwtSettings, MailSettings,
    MasterKey, PasskeySettings, ProviderSettings, SessionPolicy, Settings, Signing,
    SigningAlgorithm, TokenLifetimes, WorkerSettings,
};
use authql::startup::Application;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::prelude::*;
use entity::{auth_event, refresh_token, session};
use reqwest::StatusCode;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

/// The HS256 secret of test servers that use one.
pub const SECRET: &str = "integration-test-secret-0123456789-abcdefghij";
/// The master key every test server seals its signing keys with.
pub const MASTER_KEY: [u8; 32] = [0x5a; 32];
pub const PASSWORD: &str = "correct horse battery staple";

/// The database backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

tokio::task_local! {
    static BACKEND: Backend;
}

/// The backend of the running test (SQLite unless it runs under
/// `on_backend`).
pub fn current_backend() -> Backend {
    BACKEND
        .try_with(|backend| *backend)
        .unwrap_or(Backend::Sqlite)
}

/// Runs `test` with `spawn_app` using `backend`.
pub async fn on_backend<F: std::future::Future>(backend: Backend, test: F) -> F::Output {
    use_ring_for_tls();
    BACKEND.scope(backend, test).await
}

/// Makes ring the process's TLS provider. authql's own HTTP client brings
/// its TLS set-up; reqwest is built with no provider of its own, so the
/// tests' clients (and the resource-server example's) take this one.
pub fn use_ring_for_tls() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only when one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A fresh database for one test: a SQLite file in a temporary directory, or
/// a PostgreSQL database that is created here and dropped when this is.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                Self {
                    url: format!(
                        "sqlite://{}?mode=rwc",
                        dir.path().join("authql.db").display()
                    ),
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let admin_url = std::env::var("AUTHQL_TEST_POSTGRES_URL")
                    .expect("AUTHQL_TEST_POSTGRES_URL names a PostgreSQL server");
                let name = format!("authql_test_{}", Uuid::new_v4().simple());
                let admin = sea_orm::Database::connect(&admin_url)
                    .await
                    .expect("the test connects to PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("a test database is created");
                admin.close().await.ok();
                let mut url =
                    url::Url::parse(&admin_url).expect("AUTHQL_TEST_POSTGRES_URL is a URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    _dir: None,
                    postgres: Some((admin_url, name)),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop is synchronous: use a runtime of its own on another thread.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let admin = sea_orm::Database::connect(&admin_url).await.ok()?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("warning: a PostgreSQL test database was not dropped");
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub settings: Settings,
    database: Arc<TestDatabase>,
    /// The key the server signed with when it started, so tests can forge
    /// tokens that verify.
    pub signer: Arc<SigningKey>,
    /// What the server's process hears of sessions and accounts.
    pub news: authql::auth::SessionNews,
}

/// A server with the default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server whose settings `configure` may change first, on the backend of
/// the running test (SQLite unless it runs under `on_backend`).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let backend = BACKEND
        .try_with(|backend| *backend)
        .unwrap_or(Backend::Sqlite);
    let database = Arc::new(TestDatabase::create(backend).await);
    let mut settings = default_settings(&database.url);
    configure(&mut settings);
    start(settings, database).await
}

/// A server on a database the test runs itself (a throwaway cluster): its
/// URL is used as it is and nothing is created or dropped.
pub async fn spawn_app_on(url: &str) -> TestApp {
    spawn_app_on_with(url, |_| {}).await
}

/// [`spawn_app_on`] with settings `configure` may change first.
pub async fn spawn_app_on_with(url: &str, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = Arc::new(TestDatabase {
        url: url.to_owned(),
        _dir: None,
        postgres: None,
    });
    let mut settings = default_settings(&database.url);
    settings.database.startup_retry = std::time::Duration::from_secs(5);
    configure(&mut settings);
    start(settings, database).await
}

/// HS256 with [`SECRET`] instead of the default managed keys.
pub fn shared_secret(settings: &mut Settings) {
    settings.jwt.signing = Signing::Shared(SecretString::from(SECRET));
}

/// The settings every test server starts from: the production defaults
/// (EdDSA keys in the database) on a loopback port.
fn default_settings(database_url: &str) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        database: DatabaseSettings::new(database_url),
        environment: Environment::Development,
        jwt: JwtSettings::new(Signing::Managed {
            algorithm: SigningAlgorithm::EdDsa,
            master_key: MasterKey::from_bytes(MASTER_KEY),
        }),
        lifetimes: TokenLifetimes::default(),
        sessions: SessionPolicy::default(),
        cleanup: CleanupSettings::default(),
        cors: CorsSettings::for_environment(Environment::Development),
        trusted_proxies: Vec::new(),
        protection: Default::default(),
        mail: test_mail_settings(),
        providers: ProviderSettings::none(Environment::Development),
        passkeys: Some(PasskeySettings::development("authql")),
    }
}

/// Mail logged (tests that read mail point it at an [`crate::smtp::SmtpSink`]),
/// with a worker quick to poll and to retry.
fn test_mail_settings() -> MailSettings {
    MailSettings {
        worker: WorkerSettings {
            poll_interval: std::time::Duration::from_millis(50),
            retry_delay: std::time::Duration::from_millis(100),
            max_retry_delay: std::time::Duration::from_secs(1),
            max_attempts: 10,
            send_timeout: std::time::Duration::from_secs(2),
        },
        ..MailSettings::default()
    }
}

/// `n` servers started at the same moment on one fresh database, as a
/// deployment starts its instances: each applies the migrations on start.
pub async fn spawn_instances_at_once(n: usize) -> Vec<TestApp> {
    let backend = BACKEND
        .try_with(|backend| *backend)
        .unwrap_or(Backend::Sqlite);
    let database = Arc::new(TestDatabase::create(backend).await);
    let settings = default_settings(&database.url);
    let starts = (0..n).map(|_| start(settings.clone(), Arc::clone(&database)));
    futures::future::join_all(starts).await
}

async fn start(settings: Settings, database: Arc<TestDatabase>) -> TestApp {
    use_ring_for_tls();
    let app = Application::build(settings.clone())
        .await
        .expect("the server builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let news = app.news();
    tokio::spawn(app.run_until_stopped());
    let db = authql::store::connect(&settings.database)
        .await
        .expect("the test connects to the database");
    let signer = signing_key(&db, &settings).await;
    TestApp {
        address,
        client: reqwest::Client::builder()
            .user_agent("authql-tests/1.0")
            .build()
            .expect("http client"),
        db,
        settings,
        database,
        signer,
        news,
    }
}

/// The key `settings`' servers sign with now, read as a server reads it.
pub async fn signing_key(db: &DatabaseConnection, settings: &Settings) -> Arc<SigningKey> {
    Keyring::start(db, &settings.jwt, &settings.lifetimes)
        .await
        .expect("the keys load")
        .signing_key(chrono::Utc::now())
        .expect("a key signs")
}

impl TestApp {
    /// Another instance of the server on the same database and secret, as
    /// behind a load balancer.
    pub async fn another_instance(&self) -> TestApp {
        self.another_instance_with(|_| {}).await
    }

    /// Another instance on the same database whose settings `configure` may
    /// change first.
    pub async fn another_instance_with(&self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = self.settings.clone();
        configure(&mut settings);
        start(settings, Arc::clone(&self.database)).await
    }
}

impl TestApp {
    /// Runs the `authql` binary with `args` against this server's database
    /// and master key, as an operator would, with `stdin` as its standard
    /// input (none: empty).
    pub async fn cli(&self, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut command = Command::new(env!("CARGO_BIN_EXE_authql"));
        command
            .env_clear()
            .env("RUST_LOG", "warn")
            .env("AUTHQL_DATABASE_URL", &self.settings.database.url)
            .env("AUTHQL_MASTER_KEY", URL_SAFE_NO_PAD.encode(MASTER_KEY))
            .env(
                "AUTHQL_KEY_PUBLISH_AHEAD",
                humantime::format_duration(self.settings.jwt.publish_ahead).to_string(),
            )
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let input = stdin.unwrap_or_default().to_owned();
        tokio::task::spawn_blocking(move || {
            let mut child = command.spawn().expect("authql starts");
            let mut pipe = child.stdin.take().expect("stdin piped");
            pipe.write_all(input.as_bytes()).expect("stdin written");
            drop(pipe);
            child.wait_with_output().expect("authql runs")
        })
        .await
        .expect("the CLI finished")
    }
}

/// A GraphQL response as a client sees it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl Reply {
    /// `extensions.code` of the first error.
    pub fn code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }

    /// `extensions.reason` of the first error.
    pub fn reason(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["reason"].as_str()
    }

    pub fn message(&self) -> Option<&str> {
        self.body["errors"][0]["message"].as_str()
    }

    pub fn data(&self, field: &str) -> &Value {
        &self.body["data"][field]
    }

    /// Asserts the call succeeded and returns `data.<field>`.
    pub fn ok(&self, field: &str) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "expected success, got {}",
            self.body
        );
        self.data(field)
    }
}

/// Tokens from an `AuthPayload`.
#[derive(Clone, Debug)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
}

impl Tokens {
    pub fn from_payload(payload: &Value) -> Self {
        Self {
            access: payload["accessToken"]
                .as_str()
                .expect("accessToken")
                .to_owned(),
            refresh: payload["refreshToken"]
                .as_str()
                .expect("refreshToken")
                .to_owned(),
            user_id: payload["user"]["id"].as_str().expect("user.id").to_owned(),
        }
    }
}

/// graphql-js's `getIntrospectionQuery()`, as GraphiQL sends it.
pub const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
"#;

pub const AUTH_PAYLOAD: &str = "accessToken tokenType accessExpiresIn accessTokenExpiresAt refreshToken \
     refreshExpiresIn refreshTokenExpiresAt user { id name email roles createdAt }";

impl TestApp {
    pub fn url(&self) -> String {
        format!("{}/graphql", self.address)
    }

    /// `GET /healthz`: the status code and the body's `status`.
    pub async fn healthz(&self) -> (StatusCode, String) {
        let response = self
            .client
            .get(format!("{}/healthz", self.address))
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let body: Value = response.json().await.expect("a JSON body");
        (
            status,
            body["status"].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// POSTs `body` to `/graphql` with exactly `headers`: for transport tests.
    pub async fn post_raw(
        &self,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url()).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request sent")
    }

    /// POSTs `body` as `application/json` with `headers` added.
    pub async fn post_json(&self, headers: &[(&str, &str)], body: &Value) -> reqwest::Response {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.post_raw(&all, body.to_string()).await
    }

    /// POSTs a GraphQL request as JSON, optionally with a Bearer token,
    /// accepting `application/graphql-response+json` as current GraphQL
    /// clients do.
    pub async fn graphql(&self, query: &str, variables: Value, bearer: Option<&str>) -> Reply {
        let mut request = self
            .client
            .post(self.url())
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        Reply::read(request.send().await.expect("request sent")).await
    }

    pub async fn register(&self, name: &str, email: &str, password: &str) -> Reply {
        self.graphql(
            &format!("mutation($input: RegisterInput!) {{ register(input: $input) {{ {AUTH_PAYLOAD} }} }}"),
            json!({ "input": {
                "name": name, "email": email, "password": password, "passwordConfirmation": password
            }}),
            None,
        )
        .await
    }

    /// Registers a fresh user and returns its tokens.
    pub async fn signed_up(&self) -> Tokens {
        let email = format!("user-{}@example.com", Uuid::new_v4());
        let reply = self.register("Ada Lovelace", &email, PASSWORD).await;
        Tokens::from_payload(reply.ok("register"))
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.graphql(
            &format!(
                "mutation($input: LoginInput!) {{ login(input: $input) {{ {AUTH_PAYLOAD} }} }}"
            ),
            json!({ "input": { "email": email, "password": password } }),
            None,
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        self.graphql(
            &format!(
                "mutation($token: String) {{ refresh(refreshToken: $token) {{ {AUTH_PAYLOAD} }} }}"
            ),
            json!({ "token": refresh_token }),
            None,
        )
        .await
    }

    pub async fn logout(&self, bearer: Option<&str>, refresh_token: Option<&str>) -> Reply {
        self.graphql(
            "mutation($token: String) { logout(refreshToken: $token) { revokedSessions } }",
            json!({ "token": refresh_token }),
            bearer,
        )
        .await
    }

    pub async fn logout_scope(&self, bearer: Option<&str>, scope: &str) -> Reply {
        self.graphql(
            "mutation($scope: LogoutScope!) { logout(scope: $scope) { revokedSessions } }",
            json!({ "scope": scope }),
            bearer,
        )
        .await
    }

    /// The first page of the caller's `sessions`.
    pub async fn sessions(&self, bearer: &str) -> Reply {
        self.graphql(
            "{ sessions { totalCount pageInfo { hasNextPage endCursor } \
             nodes { id createdAt refreshedAt expiresAt idleExpiresAt userAgent ip current } } }",
            json!({}),
            Some(bearer),
        )
        .await
    }

    pub async fn revoke_session(&self, bearer: &str, id: &str) -> Reply {
        self.graphql(
            "mutation($id: ID!) { revokeSession(id: $id) }",
            json!({ "id": id }),
            Some(bearer),
        )
        .await
    }

    pub async fn change_password(&self, bearer: &str, current: &str, new: &str) -> Reply {
        self.graphql(
            &format!(
                "mutation($input: ChangePasswordInput!) {{ changePassword(input: $input) {{ {AUTH_PAYLOAD} }} }}"
            ),
            json!({ "input": { "currentPassword": current, "newPassword": new } }),
            Some(bearer),
        )
        .await
    }

    pub async fn me(&self, bearer: Option<&str>) -> Reply {
        self.graphql(
            "{ me { id name email roles createdAt } }",
            json!({}),
            bearer,
        )
        .await
    }

    pub async fn session(&self, bearer: &str) -> Reply {
        self.graphql(
            "{ session { id createdAt refreshedAt expiresAt userAgent ip current } }",
            json!({}),
            Some(bearer),
        )
        .await
    }

    pub async fn renew_access_token(&self, bearer: &str) -> Reply {
        self.graphql(
            "mutation { renewAccessToken { accessToken tokenType accessExpiresIn accessTokenExpiresAt } }",
            json!({}),
            Some(bearer),
        )
        .await
    }

    pub async fn refresh_token_rows(&self, session_id: Uuid) -> Vec<refresh_token::Model> {
        RefreshToken::find()
            .filter(refresh_token::Column::SessionId.eq(session_id))
            .order_by_asc(refresh_token::Column::IssuedAt)
            .all(&self.db)
            .await
            .expect("refresh tokens readable")
    }

    pub async fn session_row(&self, session_id: Uuid) -> session::Model {
        Session::find_by_id(session_id)
            .one(&self.db)
            .await
            .expect("sessions readable")
            .expect("the session exists")
    }

    pub async fn event_kinds(&self) -> Vec<String> {
        AuthEvent::find()
            .order_by_asc(auth_event::Column::CreatedAt)
            .all(&self.db)
            .await
            .expect("events readable")
            .into_iter()
            .map(|event| event.kind)
            .collect()
    }
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.expect("response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Self {
            status,
            content_type,
            body,
        }
    }
}

/// Asserts that concurrent `refresh` calls with the token of `first` all got
/// the same successor pair and left exactly one successor row in `app`'s
/// database; returns that pair.
pub async fn assert_one_successor(app: &TestApp, first: &Tokens, replies: &[Reply]) -> Tokens {
    let pairs: Vec<Tokens> = replies
        .iter()
        .map(|r| Tokens::from_payload(r.ok("refresh")))
        .collect();
    assert!(
        pairs
            .iter()
            .all(|p| p.refresh == pairs[0].refresh && p.access == pairs[0].access),
        "every call within the grace gets the same successor"
    );
    let rows = app
        .refresh_token_rows(claim_uuid(&first.access, "sid"))
        .await;
    assert_eq!(rows.len(), 2, "one original and exactly one successor");
    assert_eq!(rows[1].jti, claim_uuid(&pairs[0].refresh, "jti"));
    pairs[0].clone()
}

/// The decoded header and claims of a JWT, without verifying it.
pub fn decode_jwt(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut next = || {
        let part = parts.next().expect("a JWT part");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
    };
    (next(), next())
}

pub fn claim_uuid(token: &str, claim: &str) -> Uuid {
    decode_jwt(token).1[claim]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("claim {claim} is a UUID"))
}

/// Signs arbitrary header and claims with `key` (its algorithm, whatever
/// the header says).
pub fn sign_jwt(header: &Value, claims: &Value, key: &SigningKey) -> String {
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("JSON"));
    let message = format!("{}.{}", encode(header), encode(claims));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key.key, key.algorithm)
        .expect("the key signs");
    format!("{message}.{signature}")
}

/// A key of the same algorithm and `kid` as `key`, but not the server's.
pub fn impostor(key: &SigningKey) -> SigningKey {
    let encoding = match key.algorithm {
        jsonwebtoken::Algorithm::HS256 => {
            jsonwebtoken::EncodingKey::from_secret(b"someone-elses-secret-that-is-long-enough!!")
        }
        jsonwebtoken::Algorithm::EdDSA => {
            use ed25519_dalek::pkcs8::EncodePrivateKey;
            let der = ed25519_dalek::SigningKey::from_bytes(&[9; 32])
                .to_pkcs8_der()
                .expect("pkcs8");
            jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes())
        }
        other => panic!("no impostor for {other:?}"),
    };
    SigningKey {
        kid: key.kid.clone(),
        algorithm: key.algorithm,
        key: encoding,
    }
}

impl TestApp {
    /// Rebuilds `token` with changed header or claims, signed with the
    /// server's own key: only what `change` did can make it fail.
    pub fn resign(&self, token: &str, change: impl FnOnce(&mut Value, &mut Value)) -> String {
        resign_with(token, &self.signer, change)
    }

    /// `token` signed with a key that is not the server's, under its `kid`.
    pub fn forge(&self, token: &str) -> String {
        resign_with(token, &impostor(&self.signer), |_, _| {})
    }
}

/// Rebuilds `token` with changed header or claims, signed with `key`.
pub fn resign_with(
    token: &str,
    key: &SigningKey,
    change: impl FnOnce(&mut Value, &mut Value),
) -> String {
    let (mut header, mut claims) = decode_jwt(token);
    change(&mut header, &mut claims);
    sign_jwt(&header, &claims, key)
}

pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Polls `condition` every 10 ms until it holds or `limit` passes; returns
/// how long it took, or `None` if it never held.
pub async fn time_until<F, Fut>(
    limit: std::time::Duration,
    mut condition: F,
) -> Option<std::time::Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while start.elapsed() <= limit {
        if condition().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    None
}
