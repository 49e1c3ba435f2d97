//! The application: connect, migrate, build the schema and routes, serve.

use anyhow::Context;
use chrono::Utc;
use migration::{Migrator, MigratorTrait};
use poem::endpoint::BoxEndpoint;
use poem::{EndpointExt, Response};
use tokio::net::TcpListener;

use std::sync::Arc;

use crate::auth::feed::RevocationFeed;
use crate::auth::keys::Keyring;
use crate::auth::{AuthService, SessionNews};
use crate::config::{
    CleanupSettings, DatabaseSettings, Delivery, MigrateAction, ServerLimits, Settings,
};
use crate::graphql::refresh_cookie::RefreshCookie;
use crate::http::{self, GraphqlEndpoint};
use crate::mail::{MailWorker, Postman};
use crate::{graphql, store};
use sea_orm::DatabaseConnection;

/// A bound, ready server: `build` it, read its `port`, then run it.
pub struct Application {
    port: u16,
    listener: TcpListener,
    endpoint: BoxEndpoint<'static, Response>,
    db: DatabaseConnection,
    cleanup: CleanupSettings,
    limits: ServerLimits,
    keyring: Arc<Keyring>,
    feed: RevocationFeed,
    mail: MailWorker,
    news: SessionNews,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = store::connect_with_retry(&settings.database).await?;
        if settings.database.migrate_on_start {
            apply_migrations(&db).await?;
        }
        let reads = store::connect_readers(&settings.database, &db).await?;
        let keyring = Keyring::start(&db, &settings.jwt, &settings.lifetimes).await?;
        let (feed, news) = RevocationFeed::start(
            reads.clone(),
            Arc::clone(&keyring),
            settings.sessions.feed,
            &settings.database.url,
        )
        .await?;
        let service = Arc::new(
            AuthService::new(
                db.clone(),
                reads,
                Arc::clone(&keyring),
                news.clone(),
                &settings,
            )
            .await?,
        );
        let mail = MailWorker::new(
            db.clone(),
            Postman::new(&settings.mail)?,
            settings.mail.worker,
            service.mail_bell(),
            Arc::clone(&service) as Arc<dyn crate::mail::Requests>,
        );
        if matches!(settings.mail.delivery, Delivery::Log) {
            tracing::warn!(
                "no AUTHQL_SMTP_URL: mails are written to this log instead of being sent (development only)"
            );
        }
        let protection = &settings.protection;
        let refresh_cookie = RefreshCookie {
            transport: settings.sessions.transport,
            secure: !settings.is_development(),
        };
        let schema = graphql::build_schema(
            Arc::clone(&service),
            &protection.document,
            protection.password,
            refresh_cookie,
            settings.is_development(),
        );
        let trusted_proxies: Arc<[ipnet::IpNet]> = settings.trusted_proxies.clone().into();
        let endpoint = http::routes(
            GraphqlEndpoint {
                schema,
                graphiql: settings.is_development(),
                trusted_proxies: Arc::clone(&trusted_proxies),
                limits: protection.document,
                request_timeout: protection.server.request_timeout,
                body_read_timeout: protection.server.body_read_timeout,
                refresh_cookie,
            },
            db.clone(),
            settings.database.clone(),
            http::jwks::KeySet::new(Arc::clone(&keyring), settings.jwt.publish_ahead),
            Arc::new(http::cors::OriginPolicy::new(
                &settings.cors,
                Arc::clone(&trusted_proxies),
            )),
            http::provider_callback::CallbackEndpoint {
                service,
                trusted_proxies,
            },
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
            keyring,
            feed,
            mail,
            news,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What this process hears of sessions and accounts: every change it
    /// commits and every change it reads from the revocation feed
    /// ([`SessionNews::subscribe`]).
    pub fn news(&self) -> SessionNews {
        self.news.clone()
    }

    /// Serves until SIGINT or SIGTERM, then drains for up to 10 s. The
    /// revocation feed is followed, keys are kept current, the outbox's mail
    /// is sent and expired rows are cleaned up meanwhile.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let cleanup = tokio::spawn(clean_up_periodically(self.db, self.cleanup));
        let keys = tokio::spawn(self.keyring.maintain());
        let feed = tokio::spawn(self.feed.follow());
        let mail = tokio::spawn(self.mail.run());
        let served =
            http::server::serve(self.listener, self.endpoint, self.limits, shutdown_signal()).await;
        cleanup.abort();
        keys.abort();
        feed.abort();
        mail.abort();
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
                revocations = deleted.revocations,
                link_tokens = deleted.link_tokens,
                sent_mails = deleted.sent_mails,
                provider_flows = deleted.provider_flows,
                mfa_challenges = deleted.mfa_challenges,
                passkey_ceremonies = deleted.passkey_ceremonies,
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
    let tx = store::begin_locked(db, store::Lock::Migrations).await?;
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
