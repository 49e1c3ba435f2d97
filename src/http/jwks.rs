//! `GET /.well-known/jwks.json`: the public keys that verify authql's tokens.

use std::sync::Arc;
use std::time::Duration;

use poem::http::{StatusCode, header};
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use serde_json::json;

use crate::auth::keys::Keyring;

/// What the handler needs: the keys and how long a verifier may cache them.
#[derive(Clone)]
pub struct KeySet {
    pub keyring: Arc<Keyring>,
    pub max_age: Duration,
}

impl KeySet {
    /// Verifiers may cache the set for half the publish-ahead time (at most
    /// ten minutes), so a key published ahead is always fetched before it
    /// signs.
    pub fn new(keyring: Arc<Keyring>, publish_ahead: Duration) -> Self {
        let max_age = (publish_ahead / 2).clamp(Duration::from_secs(1), Duration::from_secs(600));
        Self { keyring, max_age }
    }
}

/// The key set with `Cache-Control: public, max-age=…`, readable from any
/// origin (public keys, no credentials); 404 with HS256, whose one key is
/// secret.
#[handler]
pub async fn jwks(Data(keys): Data<&KeySet>) -> Response {
    let Some(document) = keys.keyring.jwks() else {
        return Json(json!({
            "error": "not_found",
            "message": "this server signs with a shared secret (AUTHQL_JWT_ALGORITHM=HS256): there are no public keys"
        }))
        .with_status(StatusCode::NOT_FOUND)
        .into_response();
    };
    Response::builder()
        .content_type("application/jwk-set+json")
        .header(
            header::CACHE_CONTROL,
            format!("public, max-age={}", keys.max_age.as_secs()),
        )
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .body(document.to_string())
}
