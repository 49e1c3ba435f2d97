//! The application: connect, migrate, build the schema and routes, serve.

use anyhow::Context;
use chrono::Utc;
use migration::{Migrator, MigratorTrait};
use poem::endpoint::BoxEndpoint;
use poem::{EndpointExt, Response};
use tokio::net::TcpListener;

use crate::auth::AuthService;
use crate::config::{CleanupSettings, DatabaseSettings, MigrateAction, ServerLimits, Settings};
use crate::http::{self, GraphqlEndpoint};
use crate::{graphql, store};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

/// A bound, ready server: `build` it, read its `port`, then run it.
pub struct Application {
    port: u16,
    listener: TcpListener,
    endpoint: BoxEndpoint<'static, Response>,
    db: DatabaseConnection,
    cleanup: CleanupSettings,
    limits: ServerLimits,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = store::connect_with_retry(&settings.database).await?;
        if settings.database.migrate_on_start {
            apply_migrations(&db).await?;
        }
        let service = AuthService::new(db.clone(), &settings).await?;
        let protection = &settings.protection;
        let schema = graphql::build_schema(
            service,
            &protection.document,
            protection.password,
            settings.is_development(),
        );
        let endpoint = http::routes(
            GraphqlEndpoint {
                schema,
                graphiql: settings.is_development(),
                trusted_proxies: settings.trusted_proxies.clone().into(),
                limits: protection.document,
                request_timeout: protection.server.request_timeout,
                body_read_timeout: protection.server.body_read_timeout,
            },
            db.clone(),
            settings.database.clone(),
            &settings.cors_origins,
        )
        .boxed();
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let port = listener
            .local_addr()
            .context("the listener has no local address")?
            .port();
        Ok(Self {
            port,
            listener,
            endpoint,
            db,
            cleanup: settings.cleanup,
            limits: settings.protection.server,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM, then drains for up to 10 s. Expired
    /// rows are cleaned up meanwhile.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let cleanup = tokio::spawn(clean_up_periodically(self.db, self.cleanup));
        let served =
            http::server::serve(self.listener, self.endpoint, self.limits, shutdown_signal()).await;
        cleanup.abort();
        served
    }
}

/// Deletes long-expired sessions and refresh tokens every `interval`. Safe on
/// every instance at once; a failure is logged and retried next time.
async fn clean_up_periodically(db: DatabaseConnection, settings: CleanupSettings) {
    let Ok(retention) = chrono::TimeDelta::from_std(settings.retention) else {
        tracing::error!("AUTHQL_CLEANUP_RETENTION is too long; cleanup is off");
        return;
    };
    let mut ticks = tokio::time::interval(settings.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match store::maintenance::delete_expired(&db, Utc::now() - retention).await {
            Ok(deleted) if deleted == Default::default() => {}
            Ok(deleted) => tracing::info!(
                sessions = deleted.sessions,
                refresh_tokens = deleted.refresh_tokens,
                login_throttles = deleted.login_throttles,
                "deleted expired rows"
            ),
            Err(error) => tracing::warn!(%error, "cleanup failed; retrying at the next interval"),
        }
    }
}

/// Applies pending migrations in one transaction that holds the database's
/// lock, so instances starting together take turns instead of racing: SQLite
/// takes its write lock at `BEGIN IMMEDIATE` (later starters wait on the busy
/// timeout), PostgreSQL an advisory lock. DDL is transactional on both.
pub async fn apply_migrations(db: &DatabaseConnection) -> anyhow::Result<()> {
    /// An arbitrary key naming authql's migration lock on PostgreSQL.
    const MIGRATION_LOCK: i64 = 0x6175_7468_716c;
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let tx = db
        .begin_with_options(options)
        .await
        .context("cannot begin the migration transaction")?;
    if db.get_database_backend() == DbBackend::Postgres {
        tx.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            .await
            .context("cannot take the migration lock")?;
    }
    Migrator::up(&tx, None)
        .await
        .context("cannot apply the database migrations")?;
    tx.commit().await.context("cannot commit the migrations")
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
pub async fn migrate(database: &DatabaseSettings, action: MigrateAction) -> anyhow::Result<()> {
    let db = store::connect_with_retry(database).await?;
    match action {
        MigrateAction::Up => apply_migrations(&db).await?,
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
