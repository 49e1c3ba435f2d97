//! HTTP wiring: `/graphql` (GraphQL over HTTP, GraphiQL) and `/healthz`.

pub mod graphql;
mod health;

use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, Response, Route, get};
use sea_orm::DatabaseConnection;

pub use graphql::GraphqlEndpoint;

/// Every route of the server.
pub fn routes(
    graphql: GraphqlEndpoint,
    db: DatabaseConnection,
) -> impl Endpoint<Output = Response> {
    Route::new()
        .at("/graphql", graphql::graphql.data(graphql))
        .at("/healthz", get(health::healthz).data(db))
        .with(CatchPanic::new())
        .map_to_response()
}
