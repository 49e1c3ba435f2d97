//! The refresh token as an HttpOnly cookie, for browser apps that must keep
//! it out of JavaScript.
//!
//! In production the cookie is `__Host-authql-refresh`: `Secure`, `Path=/`,
//! no `Domain`, so only this origin over HTTPS ever sees it. Browsers drop
//! `Secure` cookies set over plain http, and a `__Host-` cookie must be
//! `Secure`, so in development it is `authql-refresh` without `Secure`.
//! Both are `HttpOnly` and `SameSite=Strict`, and expire with the token.
//!
//! A cookie is sent by the browser whoever made the request, so a mutation
//! it authenticates is a forgery risk: the HTTP handler hands it to the
//! schema only when the request's origin is trusted with credentials (see
//! [`CookieToken`]); POST bodies must be JSON, which no form can send.

use chrono::{DateTime, Utc};
use cookie::{Cookie, SameSite};
use poem::http::HeaderMap;
use poem::http::header::COOKIE;

use crate::config::RefreshTransport;

/// The cookie's name in production.
pub const SECURE_NAME: &str = "__Host-authql-refresh";
/// The cookie's name in development over plain http.
pub const DEVELOPMENT_NAME: &str = "authql-refresh";

/// How this server sets and reads the refresh cookie.
#[derive(Clone, Copy, Debug)]
pub struct RefreshCookie {
    pub transport: RefreshTransport,
    /// `Secure` and `__Host-` (production), or neither (development).
    pub secure: bool,
}

/// The refresh cookie of one request, as the HTTP handler found it.
#[derive(Clone, PartialEq, Eq)]
pub enum CookieToken {
    /// No cookie, or the transport does not use cookies.
    Absent,
    Present(String),
    /// A cookie sent from an origin not trusted with credentials: never used.
    FromForeignOrigin,
}

/// The token is never shown.
impl std::fmt::Debug for CookieToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Absent => f.write_str("Absent"),
            Self::Present(_) => f.write_str("Present(<hidden>)"),
            Self::FromForeignOrigin => f.write_str("FromForeignOrigin"),
        }
    }
}

impl RefreshCookie {
    pub fn name(self) -> &'static str {
        if self.secure {
            SECURE_NAME
        } else {
            DEVELOPMENT_NAME
        }
    }

    /// The refresh token in the request's `Cookie` headers; `origin_trusted`
    /// says whether the request may be authenticated by a cookie at all.
    pub fn read(self, headers: &HeaderMap, origin_trusted: bool) -> CookieToken {
        if !self.transport.uses_cookie() {
            return CookieToken::Absent;
        }
        let name = self.name();
        let token = headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|cookie| cookie.name() == name && !cookie.value().is_empty())
            .map(|cookie| cookie.value().to_owned());
        match token {
            None => CookieToken::Absent,
            Some(_) if !origin_trusted => CookieToken::FromForeignOrigin,
            Some(token) => CookieToken::Present(token),
        }
    }

    /// A `Set-Cookie` value holding `token` until `expires_at`.
    pub fn set(self, token: &str, expires_at: DateTime<Utc>) -> String {
        let seconds = (expires_at - Utc::now()).num_seconds().max(0);
        let expires = cookie::time::OffsetDateTime::from_unix_timestamp(expires_at.timestamp())
            .unwrap_or(cookie::time::OffsetDateTime::UNIX_EPOCH);
        self.build(token)
            .max_age(cookie::time::Duration::seconds(seconds))
            .expires(expires)
            .build()
            .to_string()
    }

    /// A `Set-Cookie` value that deletes the cookie.
    pub fn clear(self) -> String {
        self.build("")
            .max_age(cookie::time::Duration::ZERO)
            .expires(cookie::time::OffsetDateTime::UNIX_EPOCH)
            .build()
            .to_string()
    }

    fn build(self, value: &str) -> cookie::CookieBuilder<'static> {
        Cookie::build((self.name(), value.to_owned()))
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Strict)
            .path("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::http::HeaderValue;

    fn cookie(secure: bool) -> RefreshCookie {
        RefreshCookie {
            transport: RefreshTransport::Both,
            secure,
        }
    }

    #[test]
    fn the_production_cookie_is_host_prefixed_and_locked_down() {
        let header = cookie(true).set("t0k3n", Utc::now() + chrono::TimeDelta::seconds(60));
        assert!(
            header.starts_with("__Host-authql-refresh=t0k3n;"),
            "{header}"
        );
        for attribute in [
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=",
        ] {
            assert!(header.contains(attribute), "{attribute} in {header}");
        }
        assert!(!header.contains("Domain"));
        let development = cookie(false).set("t0k3n", Utc::now());
        assert!(development.starts_with("authql-refresh=t0k3n;"));
        assert!(!development.contains("Secure"));
        assert!(cookie(true).clear().contains("Max-Age=0"));
    }

    #[test]
    fn the_token_is_read_only_from_a_trusted_origin_and_when_cookies_are_on() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=b; authql-refresh=xyz"));
        assert_eq!(
            cookie(false).read(&headers, true),
            CookieToken::Present("xyz".into())
        );
        assert_eq!(
            cookie(false).read(&headers, false),
            CookieToken::FromForeignOrigin
        );
        assert_eq!(cookie(true).read(&headers, true), CookieToken::Absent);
        let body_only = RefreshCookie {
            transport: RefreshTransport::Body,
            secure: false,
        };
        assert_eq!(body_only.read(&headers, true), CookieToken::Absent);
    }
}
