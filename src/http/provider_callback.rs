//! `GET|POST /auth/callback/{provider}`: where providers send the browser
//! back (POST for `response_mode=form_post`, as Apple does). The answer is
//! handed to the auth layer; the browser is sent on with a 303 to the
//! frontend's `redirectTo`, with `code=` (a one-time code, never a token)
//! or `error=` (an error code). An answer that matches no flow has nowhere
//! trusted to go: it gets a small page with the error's code.

use std::sync::Arc;

use ipnet::IpNet;
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::web::{Data, Path};
use poem::{Body, IntoResponse, Request, Response, handler};
use url::Url;

use super::client::client_info;
use crate::auth::AuthService;
use crate::auth::providers::{Callback, Landing};
use crate::graphql::errors::code_of;

/// The largest `form_post` body read.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// What the callback needs.
#[derive(Clone)]
pub struct CallbackEndpoint {
    pub service: Arc<AuthService>,
    pub trusted_proxies: Arc<[IpNet]>,
}

#[handler]
pub async fn callback(
    req: &Request,
    Path(provider): Path<String>,
    body: Body,
    Data(endpoint): Data<&CallbackEndpoint>,
) -> Response {
    let answer = if req.method() == Method::POST {
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form {
            return page(StatusCode::UNSUPPORTED_MEDIA_TYPE, "BAD_REQUEST");
        }
        match body.into_bytes_limit(MAX_FORM_BYTES).await {
            Ok(bytes) => serde_urlencoded::from_bytes::<Callback>(&bytes).unwrap_or_default(),
            Err(_) => return page(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
        }
    } else {
        serde_urlencoded::from_str::<Callback>(req.uri().query().unwrap_or_default())
            .unwrap_or_default()
    };
    let client = client_info(req, &endpoint.trusted_proxies);
    match endpoint
        .service
        .provider_callback(&provider, answer, &client)
        .await
    {
        Landing::Back { redirect_to, code } => see_other(back_to(redirect_to, "code", &code)),
        Landing::Failed { redirect_to, error } => {
            see_other(back_to(redirect_to, "error", code_of(&error)))
        }
        Landing::Nowhere(error) => page(StatusCode::BAD_REQUEST, code_of(&error)),
    }
}

/// `redirect_to` with `name=value` in its query, in place of any `code` or
/// `error` it had.
fn back_to(mut redirect_to: Url, name: &str, value: &str) -> Url {
    let kept: Vec<(String, String)> = redirect_to
        .query_pairs()
        .filter(|(key, _)| key != "code" && key != "error")
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    redirect_to
        .query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair(name, value);
    redirect_to
}

fn see_other(to: Url) -> Response {
    let Ok(location) = HeaderValue::from_str(to.as_str()) else {
        return page(StatusCode::BAD_REQUEST, "BAD_REQUEST");
    };
    no_store(
        Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, location)
            .finish(),
    )
}

/// A page for a browser with nowhere to go.
fn page(status: StatusCode, code: &str) -> Response {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>Sign-in failed</title>\
         <p>This sign-in could not be completed ({code}). Go back to the app and start again.</p>"
    );
    no_store(
        body.with_status(status)
            .with_content_type("text/html; charset=utf-8")
            .into_response(),
    )
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_replaces_any_code_or_error_the_redirect_carried() {
        let url =
            Url::parse("https://app.example.com/cb?next=%2Fcart&code=planted&error=x").unwrap();
        let back = back_to(url, "code", "abc");
        assert_eq!(
            back.as_str(),
            "https://app.example.com/cb?next=%2Fcart&code=abc"
        );
    }
}
