//! HTTP wiring: `/graphql` (GraphQL over HTTP, GraphiQL), `/healthz`, the key
//! set at `/.well-known/jwks.json`, CORS.

mod client;
pub mod cors;
pub mod graphql;
mod health;
pub mod jwks;
pub mod server;

use std::sync::Arc;

use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, Response, Route, get};
use sea_orm::DatabaseConnection;

use crate::config::DatabaseSettings;

pub use graphql::GraphqlEndpoint;

/// Every route of the server, behind the origin policy.
pub fn routes(
    graphql: GraphqlEndpoint,
    db: DatabaseConnection,
    database: DatabaseSettings,
    key_set: jwks::KeySet,
    origins: Arc<cors::OriginPolicy>,
) -> impl Endpoint<Output = Response> + use<> {
    Route::new()
        .at("/graphql", graphql::graphql.data(graphql))
        .at("/healthz", get(health::healthz).data((db, database)))
        .at("/.well-known/jwks.json", get(jwks::jwks).data(key_set))
        .with(cors::Cors(origins))
        .with(CatchPanic::new())
        .map_to_response()
}
