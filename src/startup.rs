//! The application: connect, migrate, build the schema and routes, serve.

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use poem::endpoint::BoxEndpoint;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::{EndpointExt, Server};

use crate::auth::AuthService;
use crate::config::{MigrateAction, Settings};
use crate::http::{self, GraphqlEndpoint};
use crate::{graphql, store};

/// A bound, ready server: `build` it, read its `port`, then run it.
pub struct Application {
    port: u16,
    acceptor: TcpAcceptor,
    endpoint: BoxEndpoint<'static>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = store::connect(&settings.database_url).await?;
        Migrator::up(&db, None)
            .await
            .context("cannot apply the database migrations")?;
        let service = AuthService::new(db.clone(), &settings).await?;
        let schema = graphql::build_schema(service, settings.is_development());
        let endpoint = http::routes(
            GraphqlEndpoint {
                schema,
                graphiql: settings.is_development(),
            },
            db,
        )
        .boxed();
        let acceptor = TcpListener::bind(settings.listen)
            .into_acceptor()
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let port = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.0.as_socket_addr().map(|a| a.port()))
            .context("the listener has no local address")?;
        Ok(Self {
            port,
            acceptor,
            endpoint,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM, then drains for up to 10 s.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(
                self.endpoint,
                shutdown_signal(),
                Some(Duration::from_secs(10)),
            )
            .await
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}

/// `authql migrate up|down|status`.
pub async fn migrate(database_url: &str, action: MigrateAction) -> anyhow::Result<()> {
    let db = store::connect(database_url).await?;
    match action {
        MigrateAction::Up => Migrator::up(&db, None).await.context("migrate up failed")?,
        MigrateAction::Down => Migrator::down(&db, Some(1))
            .await
            .context("migrate down failed")?,
        MigrateAction::Status => {
            for migration in Migrator::get_migration_with_status(&db)
                .await
                .context("cannot read the migration status")?
            {
                println!("{:<48} {:?}", migration.name(), migration.status());
            }
        }
    }
    Ok(())
}
