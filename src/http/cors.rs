//! Cross-origin resource sharing, as browsers and their tools need it.
//!
//! - A request without `Origin`, or whose `Origin` is the server's own (as
//!   seen through `AUTHQL_TRUSTED_PROXIES`: browsers send `Origin` on
//!   same-origin POSTs too), is never refused and gets no CORS headers.
//! - An allowed origin gets `Access-Control-Allow-Origin` naming it and,
//!   unless the list is the bare `*`, `Access-Control-Allow-Credentials`,
//!   so a browser app may send the refresh cookie.
//! - Any other origin is refused with 403 and a JSON error whose code is
//!   `ORIGIN_NOT_ALLOWED` and whose message names the setting, and a log line.
//!
//! poem's own `Cors` answers refusals in plain text, treats a preflight as
//! allowed when any one of its requested headers is, replaces `Vary`, and
//! knows nothing of the server's own origin; hence this one.

use std::sync::Arc;

use ipnet::IpNet;
use poem::http::header::{self, HeaderValue};
use poem::http::{Method, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use serde_json::json;
use wildmatch::WildMatch;

use super::client::forwarded_by_trusted_proxy;
use crate::config::CorsSettings;
use crate::graphql::errors::code;

const ALLOWED_METHODS: &str = "GET, POST";
const EXPOSED_HEADERS: &str = "x-request-id, retry-after";
const PREFLIGHT_MAX_AGE_SECONDS: &str = "600";

/// How a request's `Origin` was judged; kept in the request's extensions for
/// the handlers (the refresh cookie is used only from a trusted origin).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// No `Origin` header: not a cross-origin browser request.
    NoOrigin,
    SameOrigin,
    /// A listed origin; `credentials` unless it matched the bare `*`.
    Allowed {
        credentials: bool,
    },
}

impl Admission {
    /// Whether a request from here may be authenticated by a cookie.
    pub fn trusts_credentials(self) -> bool {
        match self {
            Self::NoOrigin | Self::SameOrigin => true,
            Self::Allowed { credentials } => credentials,
        }
    }
}

/// The origins and headers allowed cross-origin.
pub struct OriginPolicy {
    exact: Vec<String>,
    patterns: Vec<WildMatch>,
    any: bool,
    allowed_headers: Vec<String>,
    allowed_headers_value: HeaderValue,
    trusted_proxies: Arc<[IpNet]>,
}

impl OriginPolicy {
    pub fn new(settings: &CorsSettings, trusted_proxies: Arc<[IpNet]>) -> Self {
        let (patterns, exact): (Vec<&String>, Vec<&String>) = settings
            .origins
            .iter()
            .filter(|origin| origin.as_str() != "*")
            .partition(|origin| origin.contains('*'));
        let allowed_headers_value = HeaderValue::from_str(&settings.allowed_headers.join(", "))
            .unwrap_or_else(|_| HeaderValue::from_static("authorization, content-type"));
        Self {
            exact: exact.into_iter().map(|o| o.to_ascii_lowercase()).collect(),
            patterns: patterns
                .into_iter()
                .map(|o| WildMatch::new(&o.to_ascii_lowercase()))
                .collect(),
            any: settings.origins.iter().any(|origin| origin == "*"),
            allowed_headers: settings.allowed_headers.clone(),
            allowed_headers_value,
            trusted_proxies,
        }
    }

    /// Judges `req`'s `Origin`; `Err` carries the refused origin.
    pub fn admit(&self, req: &Request) -> Result<Admission, String> {
        let Some(origin) = req.headers().get(header::ORIGIN) else {
            return Ok(Admission::NoOrigin);
        };
        let origin = origin.to_str().unwrap_or_default().to_ascii_lowercase();
        if self.own_origin(req).is_some_and(|own| own == origin) {
            return Ok(Admission::SameOrigin);
        }
        if self.exact.contains(&origin) || self.patterns.iter().any(|p| p.matches(&origin)) {
            return Ok(Admission::Allowed { credentials: true });
        }
        if self.any && origin != "null" {
            return Ok(Admission::Allowed { credentials: false });
        }
        Err(origin)
    }

    /// `scheme://host[:port]` of this server as the browser addressed it:
    /// from `X-Forwarded-Proto` and `X-Forwarded-Host` when a trusted proxy
    /// sent them, otherwise `http` and `Host`. Default ports are dropped, as
    /// browsers drop them from `Origin`.
    fn own_origin(&self, req: &Request) -> Option<String> {
        let headers = req.headers();
        let first = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|v| v.trim().to_ascii_lowercase())
                .filter(|v| !v.is_empty())
        };
        let proxied = forwarded_by_trusted_proxy(req, &self.trusted_proxies);
        let scheme = proxied
            .then(|| first("x-forwarded-proto"))
            .flatten()
            .unwrap_or_else(|| "http".to_owned());
        let host = proxied
            .then(|| first("x-forwarded-host"))
            .flatten()
            .or_else(|| first(header::HOST.as_str()))?;
        let host = match (scheme.as_str(), host.rsplit_once(':')) {
            ("http", Some((name, "80"))) | ("https", Some((name, "443"))) => name.to_owned(),
            _ => host,
        };
        Some(format!("{scheme}://{host}"))
    }

    /// The first requested header that is not allowed, if any.
    fn refused_header<'a>(&self, requested: &'a str) -> Option<&'a str> {
        requested
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .find(|h| {
                !self
                    .allowed_headers
                    .iter()
                    .any(|allowed| allowed.eq_ignore_ascii_case(h))
            })
    }
}

/// The middleware applying an [`OriginPolicy`] to every route.
pub struct Cors(pub Arc<OriginPolicy>);

impl<E: Endpoint> Middleware<E> for Cors {
    type Output = CorsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CorsEndpoint {
            inner,
            policy: Arc::clone(&self.0),
        }
    }
}

pub struct CorsEndpoint<E> {
    inner: E,
    policy: Arc<OriginPolicy>,
}

impl<E: Endpoint> Endpoint for CorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let admission = match self.policy.admit(&req) {
            Ok(admission) => admission,
            Err(origin) => {
                tracing::warn!(%origin, path = req.uri().path(), "cross-origin request refused");
                return Ok(refusal(
                    code::ORIGIN_NOT_ALLOWED,
                    &format!("The origin {origin} is not allowed; add it to AUTHQL_CORS_ORIGINS"),
                ));
            }
        };
        let Admission::Allowed { credentials } = admission else {
            req.extensions_mut().insert(admission);
            return Ok(self.inner.get_response(req).await);
        };
        let origin = req.headers().get(header::ORIGIN).cloned();
        let preflight = req.method() == Method::OPTIONS
            && req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        let mut response = if preflight {
            self.preflight(&req)
        } else {
            req.extensions_mut().insert(admission);
            let mut response = self.inner.get_response(req).await;
            response.headers_mut().insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSED_HEADERS),
            );
            response
        };
        let headers = response.headers_mut();
        if let Some(origin) = origin {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        }
        if credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        Ok(response)
    }
}

impl<E> CorsEndpoint<E> {
    fn preflight(&self, req: &Request) -> Response {
        let method = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if method != "GET" && method != "POST" {
            tracing::warn!(method, "cross-origin preflight refused: method");
            return refusal(
                code::CORS_METHOD_NOT_ALLOWED,
                &format!("The method {method} is not allowed; use GET or POST"),
            );
        }
        let requested = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if let Some(refused) = self.policy.refused_header(requested) {
            tracing::warn!(header = refused, "cross-origin preflight refused: header");
            return refusal(
                code::CORS_HEADER_NOT_ALLOWED,
                &format!(
                    "The request header {refused} is not allowed; add it to AUTHQL_CORS_ALLOWED_HEADERS"
                ),
            );
        }
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOWED_METHODS),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            self.policy.allowed_headers_value.clone(),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE_SECONDS),
        );
        for varies in [
            header::ACCESS_CONTROL_REQUEST_METHOD,
            header::ACCESS_CONTROL_REQUEST_HEADERS,
        ] {
            headers.append(header::VARY, HeaderValue::from(varies));
        }
        response
    }
}

/// A refused cross-origin request: 403 with a JSON error a developer can act on.
fn refusal(code: &'static str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    Response::builder()
        .status(StatusCode::FORBIDDEN)
        .content_type("application/json; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(body.to_string())
}
