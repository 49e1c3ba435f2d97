//! An API of your own that trusts authql's access tokens without sharing a
//! secret: it fetches authql's public key set, verifies each token's
//! signature with the key its `kid` names, and checks issuer, audience,
//! expiry and that it is an access token (`typ: at+jwt`, `xtype: auth`).
//!
//! The key set is cached for the `max-age` authql sends; a token naming an
//! unknown key causes a refetch, at most once per `min_refetch_interval`, so
//! junk `kid`s cannot make this service hammer authql.
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_graphql::{Context, EmptyMutation, EmptySubscription, ErrorExtensions, Object, Schema};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use poem::http::{StatusCode, header};
use poem::web::{Data, Json};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, handler, post};
use serde::Deserialize;

/// Where authql is and what its tokens must say.
#[derive(Clone, Debug)]
pub struct Config {
    /// e.g. `https://auth.example.com/.well-known/jwks.json`
    pub jwks_url: String,
    /// authql's `AUTHQL_JWT_ISSUER`.
    pub issuer: String,
    /// authql's `AUTHQL_JWT_AUDIENCE`.
    pub audience: String,
    /// The least time between two fetches caused by unknown `kid`s.
    pub min_refetch_interval: Duration,
}

/// Why a request was not authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("no bearer token")]
    Missing,
    #[error("the token is not valid")]
    Invalid,
    #[error("the token has expired")]
    Expired,
    #[error("the token names a key authql does not publish")]
    UnknownKey,
    #[error("authql's key set cannot be fetched")]
    KeySetUnavailable,
}

/// The claims this API uses from an access token.
#[derive(Clone, Debug, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    pub roles: Vec<String>,
    pub exp: i64,
    /// `aal2` when the session's sign-in included a second factor, `aal1`
    /// otherwise (absent from tokens of older authql versions: treat as
    /// `aal1`).
    #[serde(default)]
    pub aal: String,
    xtype: String,
}

struct Cached {
    keys: JwkSet,
    fetched_at: Option<Instant>,
    max_age: Duration,
}

/// authql's key set, fetched and cached.
pub struct KeySet {
    config: Config,
    client: reqwest::Client,
    cached: tokio::sync::Mutex<Cached>,
    fetches: AtomicU64,
}

impl KeySet {
    pub fn new(config: Config) -> Self {
        Self {
            config,
            client: reqwest::Client::new(),
            cached: tokio::sync::Mutex::new(Cached {
                keys: JwkSet { keys: Vec::new() },
                fetched_at: None,
                max_age: Duration::ZERO,
            }),
            fetches: AtomicU64::new(0),
        }
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Verifies `token` as an access token of authql.
    pub async fn verify(&self, token: &str) -> Result<Claims, Rejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejection::Invalid)?;
        if header.typ.as_deref() != Some("at+jwt") {
            return Err(Rejection::Invalid);
        }
        let kid = header.kid.ok_or(Rejection::Invalid)?;
        let (key, algorithm) = self.key(&kid).await?;
        // The key's own algorithm, never the one the token claims.
        if header.alg != algorithm {
            return Err(Rejection::Invalid);
        }
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => Rejection::Expired,
                _ => Rejection::Invalid,
            })?
            .claims;
        if claims.xtype != "auth" {
            return Err(Rejection::Invalid);
        }
        Ok(claims)
    }

    /// The key `kid` names and its algorithm: from the cache while it is
    /// fresh, else fetched; an unknown kid refetches at most once per
    /// `min_refetch_interval`.
    async fn key(&self, kid: &str) -> Result<(DecodingKey, jsonwebtoken::Algorithm), Rejection> {
        let mut cached = self.cached.lock().await;
        let stale = cached
            .fetched_at
            .is_none_or(|at| at.elapsed() >= cached.max_age);
        if stale {
            self.fetch(&mut cached).await?;
        }
        if cached.keys.find(kid).is_none()
            && !stale
            && cached
                .fetched_at
                .is_none_or(|at| at.elapsed() >= self.config.min_refetch_interval)
        {
            self.fetch(&mut cached).await?;
        }
        let jwk = cached.keys.find(kid).ok_or(Rejection::UnknownKey)?;
        let algorithm = jwk
            .common
            .key_algorithm
            .and_then(|a| a.to_string().parse().ok())
            .ok_or(Rejection::Invalid)?;
        let key = DecodingKey::from_jwk(jwk).map_err(|_| Rejection::Invalid)?;
        Ok((key, algorithm))
    }

    async fn fetch(&self, cached: &mut Cached) -> Result<(), Rejection> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let response = self
            .client
            .get(&self.config.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|_| Rejection::KeySetUnavailable)?;
        let max_age = response
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.split(',')
                    .find_map(|d| d.trim().strip_prefix("max-age="))
                    .and_then(|s| s.parse().ok())
            })
            .map_or(Duration::from_secs(300), Duration::from_secs);
        let keys: JwkSet = response
            .json()
            .await
            .map_err(|_| Rejection::KeySetUnavailable)?;
        *cached = Cached {
            keys,
            fetched_at: Some(Instant::now()),
            max_age,
        };
        Ok(())
    }
}

/// The caller, when the request carried an acceptable token.
type Caller = Result<Claims, Rejection>;

fn caller<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Claims> {
    match ctx.data::<Caller>()? {
        Ok(claims) => Ok(claims),
        Err(rejection) => Err(async_graphql::Error::new(rejection.to_string())
            .extend_with(|_, e| e.set("code", "UNAUTHENTICATED"))),
    }
}

/// The caller as this API sees it.
pub struct Viewer(Claims);

#[Object]
impl Viewer {
    async fn user_id(&self) -> &str {
        &self.0.sub
    }

    async fn session_id(&self) -> &str {
        &self.0.sid
    }

    async fn roles(&self) -> &[String] {
        &self.0.roles
    }
}

pub struct Query;

#[Object]
impl Query {
    /// Public.
    async fn status(&self) -> &str {
        "ok"
    }

    /// Any signed-in user.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Viewer> {
        Ok(Viewer(caller(ctx)?.clone()))
    }

    /// Users with the `admin` role only.
    async fn admin_report(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let claims = caller(ctx)?;
        if !claims.roles.iter().any(|r| r == "admin") {
            return Err(async_graphql::Error::new("the admin role is required")
                .extend_with(|_, e| e.set("code", "FORBIDDEN")));
        }
        Ok(format!("report for {}", claims.sub))
    }

    /// Only for sessions whose sign-in included a second factor (`aal2`):
    /// what a bank transfer or an API-key page would check.
    async fn sensitive_report(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let claims = caller(ctx)?;
        if claims.aal != "aal2" {
            return Err(
                async_graphql::Error::new("a sign-in with a second factor is required")
                    .extend_with(|_, e| {
                        e.set("code", "FORBIDDEN");
                        e.set("reason", "second_factor_required");
                    }),
            );
        }
        Ok(format!("sensitive report for {}", claims.sub))
    }
}

pub type ApiSchema = Schema<Query, EmptyMutation, EmptySubscription>;

#[handler]
async fn graphql(
    request: &Request,
    Data((schema, keys)): Data<&(ApiSchema, Arc<KeySet>)>,
    Json(body): Json<async_graphql::Request>,
) -> Response {
    let caller: Caller = match request
        .header(header::AUTHORIZATION)
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        Some(token) => keys.verify(token.trim()).await,
        None => Err(Rejection::Missing),
    };
    let response = schema.execute(body.data(caller)).await;
    Json(response).with_status(StatusCode::OK).into_response()
}

/// The API's routes: `POST /graphql`.
pub fn app(keys: Arc<KeySet>) -> impl Endpoint {
    let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
    Route::new().at("/graphql", post(graphql).data((schema, keys)))
}
