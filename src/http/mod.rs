//! HTTP wiring: `/graphql` (GraphQL over HTTP, GraphiQL and its files under
//! `/graphiql/` in development), `/healthz`, the key set at
//! `/.well-known/jwks.json`, providers' answers at `/auth/callback/{id}`,
//! CORS.

mod client;
pub mod cors;
pub mod graphiql;
pub mod graphql;
mod headers;
mod health;
pub mod jwks;
pub mod provider_callback;
mod routes;
pub mod server;

pub use graphql::GraphqlEndpoint;
pub use routes::routes;
