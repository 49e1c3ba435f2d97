//! HTTP wiring: `/graphql` (GraphQL over HTTP, GraphiQL), `/healthz`, the key
//! set at `/.well-known/jwks.json`, CORS.

mod client;
pub mod graphql;
mod health;
pub mod jwks;
pub mod server;

use poem::http::Method;
use poem::middleware::{CatchPanic, Cors};
use poem::{Endpoint, EndpointExt, Response, Route, get};
use sea_orm::DatabaseConnection;

use crate::config::DatabaseSettings;

pub use graphql::GraphqlEndpoint;

/// Every route of the server. With `cors_origins` empty no CORS headers are
/// sent at all (poem's `Cors` would otherwise allow every origin).
pub fn routes(
    graphql: GraphqlEndpoint,
    db: DatabaseConnection,
    database: DatabaseSettings,
    key_set: jwks::KeySet,
    cors_origins: &[String],
) -> impl Endpoint<Output = Response> + use<> {
    Route::new()
        .at("/graphql", graphql::graphql.data(graphql))
        .at("/healthz", get(health::healthz).data((db, database)))
        .at("/.well-known/jwks.json", get(jwks::jwks).data(key_set))
        .with_if(!cors_origins.is_empty(), cors(cors_origins))
        .with(CatchPanic::new())
        .map_to_response()
}

/// Cross-origin access for browser frontends: GET and POST with the headers a
/// GraphQL client sends. No credentials: tokens travel in `Authorization`.
fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::new(), |cors, origin| cors.allow_origin_regex(origin))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(["content-type", "authorization", "accept"])
        .expose_header("x-request-id")
        .max_age(600)
}
