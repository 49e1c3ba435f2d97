//! The database itself: connecting (a writer and, on SQLite, readers),
//! health, transaction-long locks, and telling error kinds apart.

use std::time::Duration;

use anyhow::Context;
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::config::DatabaseSettings;

/// Connection options for either backend: on SQLite, of the one connection
/// that runs every write.
///
/// SQLite gets one such connection, whatever `AUTHQL_DATABASE_MAX_CONNECTIONS`
/// says: it runs statements in the order they were asked for (sqlx's pool is
/// a fair queue). SQLite has a single writer; with several writing
/// connections, concurrent writers wait in its busy handler, which sleeps and
/// retries (a p99 of 400 ms and more for refresh rotations with 32 clients),
/// while one connection queues them in order inside the process. Reads on
/// the hot paths go to a pool of readers beside it ([`connect_readers`]).
/// Other processes on the same file still wait on the busy timeout.
pub fn connect_options(settings: &DatabaseSettings) -> ConnectOptions {
    let max_connections = if is_sqlite(&settings.url) {
        1
    } else {
        settings.max_connections
    };
    let mut options = pool_options(settings, max_connections);
    options
        // SQLite silently opens a file it cannot write read-only, and such a
        // connection would fail every write for as long as the pool keeps it.
        // A connection that cannot write is refused instead, so writes work
        // again as soon as the file does.
        .map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_connect(|connection, _| Box::pin(probe_sqlite_write(connection)))
        });
    options
}

/// What the writer's and the readers' pools share.
fn pool_options(settings: &DatabaseSettings, max_connections: u32) -> ConnectOptions {
    let mut options = ConnectOptions::new(settings.url.clone());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(settings.connect_timeout)
        .acquire_timeout(settings.acquire_timeout)
        // On request, each statement's SQL (never its values) under
        // `sqlx::query`, and statements slower than a second as warnings.
        .sqlx_logging(settings.log_statements)
        .sqlx_logging_level(log::LevelFilter::Info)
        .sqlx_slow_statements_logging_settings(log::LevelFilter::Warn, Duration::from_secs(1))
        .map_sqlx_sqlite_opts(|opts| {
            // WAL lets readers run beside the one writer; another process's
            // writer is waited for on the busy timeout instead of failing.
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    options
}

/// Whether `url` names a SQLite database.
pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Fails when `connection` cannot write: rewriting the header's
/// `user_version` with its own value is a real write that changes nothing.
async fn probe_sqlite_write(
    connection: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    let version: i64 = sea_orm::sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(&mut *connection)
        .await?;
    // An integer the database itself returned: nothing to inject.
    let statement = sea_orm::sqlx::AssertSqlSafe(format!("PRAGMA user_version = {version}"));
    sea_orm::sqlx::query(statement)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// What `/healthz` reports of the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    Ok,
    Unreachable,
    /// It answers, but a new connection cannot write (a SQLite file made
    /// read-only).
    ReadOnly,
}

/// Whether the database answers and, for SQLite, whether a new connection
/// could write to it (pooled connections may still write through file
/// handles opened earlier, so they would not tell).
pub async fn health(db: &DatabaseConnection, settings: &DatabaseSettings) -> Health {
    if db.ping().await.is_err() {
        return Health::Unreachable;
    }
    if db.get_database_backend() != sea_orm::DbBackend::Sqlite {
        return Health::Ok;
    }
    use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
    let Ok(options) = settings
        .url
        .parse::<sea_orm::sqlx::sqlite::SqliteConnectOptions>()
    else {
        return Health::Unreachable;
    };
    let options = options
        .busy_timeout(Duration::from_secs(1))
        .disable_statement_logging();
    match options.connect().await {
        Ok(mut connection) => {
            let writable = probe_sqlite_write(&mut connection).await.is_ok();
            let _ = connection.close().await;
            if writable {
                Health::Ok
            } else {
                Health::ReadOnly
            }
        }
        Err(_) => Health::ReadOnly,
    }
}

/// Connections for reads that need not see the caller's own uncommitted
/// writes: on SQLite a pool of `AUTHQL_DATABASE_MAX_CONNECTIONS` beside the
/// writer (WAL lets them read while it writes), on PostgreSQL `writes`
/// itself.
pub async fn connect_readers(
    settings: &DatabaseSettings,
    writes: &DatabaseConnection,
) -> anyhow::Result<DatabaseConnection> {
    // An in-memory SQLite database exists once per connect call: readers of
    // their own would see another, empty one.
    let in_memory = settings.url.contains(":memory:") || settings.url.contains("mode=memory");
    if !is_sqlite(&settings.url) || in_memory {
        return Ok(writes.clone());
    }
    Database::connect(pool_options(settings, settings.max_connections))
        .await
        .with_context(|| {
            format!(
                "cannot open readers of the database at {}",
                crate::config::redact_url(&settings.url)
            )
        })
}

/// Opens a pool to the database, once.
pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<DatabaseConnection> {
    Database::connect(connect_options(settings))
        .await
        .with_context(|| {
            format!(
                "cannot connect to the database at {}",
                crate::config::redact_url(&settings.url)
            )
        })
}

/// Opens a pool, retrying an unreachable database for `startup_retry` (a
/// database that starts together with authql is not an error). Each attempt
/// is bounded by `connect_timeout`: sqlx alone would keep retrying a refused
/// connection until its acquire timeout.
pub async fn connect_with_retry(settings: &DatabaseSettings) -> anyhow::Result<DatabaseConnection> {
    let deadline = tokio::time::Instant::now() + settings.startup_retry;
    let mut delay = Duration::from_millis(200);
    loop {
        let attempt = match tokio::time::timeout(settings.connect_timeout, connect(settings)).await
        {
            Ok(result) => result,
            Err(_) => Err(anyhow::anyhow!(
                "no answer from the database at {} within {}",
                crate::config::redact_url(&settings.url),
                humantime::format_duration(settings.connect_timeout)
            )),
        };
        match attempt {
            Ok(db) => return Ok(db),
            Err(error) if tokio::time::Instant::now() + delay < deadline => {
                tracing::warn!(error = format!("{error:#}"), retry_in = ?delay, "database unreachable");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(error) => {
                return Err(error.context(format!(
                    "gave up after retrying for {}",
                    humantime::format_duration(settings.startup_retry)
                )));
            }
        }
    }
}

/// Names of the database-wide locks `begin_locked` takes.
#[derive(Clone, Copy, Debug)]
pub enum Lock {
    Migrations,
    SigningKeys,
    /// Role changes: the "one admin remains" check and the change are one step.
    Roles,
    /// Appends to the revocation feed: positions commit in order.
    Revocations,
}

impl Lock {
    /// The PostgreSQL advisory lock key.
    pub(crate) fn key(self) -> i64 {
        match self {
            Self::Migrations => 0x6175_7468_716c,
            Self::SigningKeys => 0x6175_7468_716b,
            Self::Roles => 0x6175_7468_7172,
            Self::Revocations => 0x6175_7468_7276,
        }
    }
}

/// A transaction that holds the database's lock `lock` until it ends, so one
/// instance at a time does what it guards: SQLite takes its write lock at
/// `BEGIN IMMEDIATE` (others wait on the busy timeout), PostgreSQL an
/// advisory transaction lock.
pub async fn begin_locked(
    db: &DatabaseConnection,
    lock: Lock,
) -> anyhow::Result<sea_orm::DatabaseTransaction> {
    use sea_orm::{ConnectionTrait, SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let tx = db
        .begin_with_options(options)
        .await
        .context("cannot begin a locked transaction")?;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        tx.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({})", lock.key()))
            .await
            .with_context(|| format!("cannot take the {lock:?} lock"))?;
    }
    Ok(tx)
}

/// Whether `err` is a violation of a unique constraint.
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
