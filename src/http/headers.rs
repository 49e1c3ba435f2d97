//! Headers every response carries, whatever route (or none) answered it.

use poem::Response;
use poem::http::HeaderValue;
use poem::http::header::{CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS};

/// The policy of every response that does not bring its own (only the
/// GraphiQL page and its files do): nothing in it may be run, loaded or
/// framed, were a browser ever to render a JSON answer or an error.
pub const LOCKED_DOWN: &str = "default-src 'none'; frame-ancestors 'none'";

/// Adds `X-Content-Type-Options: nosniff` (so no browser reads JSON, a key
/// set or a plain-text error as a script or a page) and, unless the route
/// set a policy of its own, [`LOCKED_DOWN`].
pub async fn harden(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(LOCKED_DOWN),
        );
    }
    response
}
