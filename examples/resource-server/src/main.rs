//! `cargo run -p authql-resource-server`: the example API on port 8001,
//! trusting the authql at `AUTHQL_URL` (default http://127.0.0.1:8000).
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use authql_resource_server::{Config, KeySet, app};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let authql = std::env::var("AUTHQL_URL").unwrap_or_else(|_| "http://127.0.0.1:8000".into());
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8001".into());
    let keys = Arc::new(KeySet::new(Config {
        jwks_url: format!("{authql}/.well-known/jwks.json"),
        issuer: std::env::var("AUTHQL_JWT_ISSUER").unwrap_or_else(|_| "authql".into()),
        audience: std::env::var("AUTHQL_JWT_AUDIENCE").unwrap_or_else(|_| "authql".into()),
        min_refetch_interval: Duration::from_secs(10),
    }));
    println!("resource server on http://{listen}/graphql, trusting {authql}");
    poem::Server::new(poem::listener::TcpListener::bind(listen))
        .run(app(keys))
        .await?;
    Ok(())
}
