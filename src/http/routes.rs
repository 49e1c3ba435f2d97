//! Every route of the server and the middleware around them.

use std::sync::Arc;

use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, Response, Route, get};
use sea_orm::DatabaseConnection;

use super::provider_callback::{self, CallbackEndpoint};
use super::{GraphqlEndpoint, cors, graphiql, graphql, headers, health, jwks};
use crate::config::DatabaseSettings;

/// Every route of the server; the API and the health check behind the
/// origin policy; every response, a 404 or a panic's 500 included, with the
/// headers of [`headers::harden`].
pub fn routes(
    graphql: GraphqlEndpoint,
    db: DatabaseConnection,
    database: DatabaseSettings,
    key_set: jwks::KeySet,
    origins: Arc<cors::OriginPolicy>,
    callback: CallbackEndpoint,
) -> impl Endpoint<Output = Response> + use<> {
    let graphiql = graphql.graphiql;
    let mut route = Route::new();
    if graphiql {
        route = route.at("/graphiql/:file", get(graphiql::asset));
    }
    route
        .at(
            "/graphql",
            graphql::graphql
                .data(graphql)
                .with(cors::Cors(Arc::clone(&origins))),
        )
        .at(
            "/healthz",
            get(health::healthz)
                .data((db, database))
                .with(cors::Cors(origins)),
        )
        // Public keys: any origin may read them, without credentials.
        .at("/.well-known/jwks.json", get(jwks::jwks).data(key_set))
        // Top-level navigations from providers: no CORS applies.
        .at(
            "/auth/callback/:provider",
            get(provider_callback::callback)
                .post(provider_callback::callback)
                .data(callback),
        )
        .with(CatchPanic::new())
        // Errors (a 404 above all) become responses here, so they are
        // hardened too.
        .catch_all_error(|error| async move { error.into_response() })
        .map(headers::harden)
}
