//! The settings as a whole: the raw arguments, and the typed settings the
//! server is built from.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::bail;
use clap::{Args, ValueEnum};
use ipnet::IpNet;

use super::cors::CorsArgs;
use super::mail::MailArgs;
use super::passkeys::{PasskeyArgs, PasskeySettings};
use super::protection::ProtectionArgs;
use super::providers::ProviderArgs;
use super::sessions::SessionArgs;
use super::signing::SigningArgs;
use super::*;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    #[default]
    Development,
    Production,
}

/// The raw settings as given on the command line or in the environment.
#[derive(Args)]
pub struct SettingsArgs {
    /// Address and port to listen on.
    #[arg(
        help_heading = "Server",
        long,
        env = "AUTHQL_LISTEN",
        default_value = "127.0.0.1:8000",
        global = true
    )]
    pub listen: SocketAddr,
    /// Database URL: `sqlite://FILE?mode=rwc` or `postgres://…`.
    #[arg(
        help_heading = "Database",
        long,
        env = "AUTHQL_DATABASE_URL",
        hide_env_values = true,
        default_value = "sqlite://authql.db?mode=rwc",
        global = true
    )]
    pub database_url: String,
    /// `development` or `production`.
    #[arg(
        help_heading = "Server",
        long = "env",
        env = "AUTHQL_ENV",
        value_enum,
        default_value = "development",
        global = true
    )]
    pub environment: Environment,
    /// Most database connections this instance keeps open (on SQLite, for
    /// reads: one more does every write, so writes queue in order).
    #[arg(help_heading = "Database", 
        long,
        env = "AUTHQL_DATABASE_MAX_CONNECTIONS",
        default_value_t = defaults::DATABASE_MAX_CONNECTIONS,
        global = true
    )]
    pub database_max_connections: u32,
    /// Time allowed for one connection attempt.
    #[arg(help_heading = "Database", long, env = "AUTHQL_DATABASE_CONNECT_TIMEOUT", default_value = defaults::DATABASE_CONNECT_TIMEOUT, value_parser = parse_duration, global = true)]
    pub database_connect_timeout: Duration,
    /// At start-up, how long to keep retrying an unreachable database.
    #[arg(help_heading = "Database", long, env = "AUTHQL_DATABASE_STARTUP_RETRY", default_value = defaults::DATABASE_STARTUP_RETRY, value_parser = parse_duration, global = true)]
    pub database_startup_retry: Duration,
    /// Apply pending migrations when `serve` starts.
    #[arg(help_heading = "Database", long, env = "AUTHQL_MIGRATE_ON_START", default_value_t = defaults::MIGRATE_ON_START, action = clap::ArgAction::Set, global = true)]
    pub migrate_on_start: bool,
    /// Log every database statement (its SQL, never its values) at info
    /// level under `sqlx::query`; costs some throughput.
    #[arg(help_heading = "Database", long, env = "AUTHQL_DATABASE_LOG_STATEMENTS", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub database_log_statements: bool,
    /// How often expired sessions and refresh tokens are deleted.
    #[arg(help_heading = "Database", long, env = "AUTHQL_CLEANUP_INTERVAL", default_value = defaults::CLEANUP_INTERVAL, value_parser = parse_duration, global = true)]
    pub cleanup_interval: Duration,
    /// Reverse proxies / load balancers (IPs or CIDRs, comma-separated) whose
    /// `X-Forwarded-For` is believed. Default: none, the TCP peer is the client.
    #[arg(
        help_heading = "Server",
        long,
        env = "AUTHQL_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<String>,
    /// How long after expiry sessions and refresh tokens are kept.
    #[arg(help_heading = "Database", long, env = "AUTHQL_CLEANUP_RETENTION", default_value = defaults::CLEANUP_RETENTION, value_parser = parse_duration, global = true)]
    pub cleanup_retention: Duration,
    /// The longest a request waits for a database connection before failing.
    #[arg(help_heading = "Database", long, env = "AUTHQL_DATABASE_TIMEOUT", default_value = defaults::DATABASE_TIMEOUT, value_parser = parse_duration, global = true)]
    pub database_timeout: Duration,
    #[command(flatten)]
    pub sessions: SessionArgs,
    #[command(flatten)]
    pub cors: CorsArgs,
    #[command(flatten)]
    pub signing: SigningArgs,
    #[command(flatten)]
    pub protection: ProtectionArgs,
    #[command(flatten)]
    pub mail: MailArgs,
    #[command(flatten)]
    pub providers: ProviderArgs,
    #[command(flatten)]
    pub passkeys: PasskeyArgs,
}

/// The database URL's password is never shown; nor are the secrets of the
/// nested arguments.
impl std::fmt::Debug for SettingsArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingsArgs")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("environment", &self.environment)
            .field("sessions", &self.sessions)
            .field("cors", &self.cors)
            .field("signing", &self.signing)
            .field("protection", &self.protection)
            .field("mail", &self.mail)
            .field("providers", &self.providers)
            .field("passkeys", &self.passkeys)
            .finish_non_exhaustive()
    }
}

/// Default values: the one source for the CLI (`--help`) and for the settings
/// structs' `Default`s that tests build on, so the two cannot drift apart.
pub mod defaults {
    use std::time::Duration;

    pub const DATABASE_MAX_CONNECTIONS: u32 = 10;
    pub const DATABASE_CONNECT_TIMEOUT: &str = "5s";
    pub const DATABASE_STARTUP_RETRY: &str = "30s";
    pub const DATABASE_TIMEOUT: &str = "2s";
    pub const MIGRATE_ON_START: bool = true;
    pub const CLEANUP_INTERVAL: &str = "1h";
    pub const CLEANUP_RETENTION: &str = "7d";

    /// One of the constants above as a `Duration`.
    pub(in crate::config) fn duration(constant: &str) -> Duration {
        super::parse_duration(constant).expect("default durations are valid constants")
    }
}

/// A duration written like `90s`, `15m` or `7d`.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    humantime::parse_duration(raw.trim())
        .map_err(|e| format!("{e} (write durations like 90s, 15m or 7d)"))
}

/// Settings the server runs with, checked and complete.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database: DatabaseSettings,
    pub environment: Environment,
    pub jwt: JwtSettings,
    pub lifetimes: TokenLifetimes,
    /// Reuse of refresh tokens and how they travel.
    pub sessions: SessionPolicy,
    pub cleanup: CleanupSettings,
    /// Cross-origin access for browsers.
    pub cors: CorsSettings,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpNet>,
    /// Limits, deadlines, throttles and the hashing pool.
    pub protection: Protection,
    /// SMTP, links, templates, limits and the outbox worker.
    pub mail: MailSettings,
    /// Sign-in providers and where their flows may return.
    pub providers: ProviderSettings,
    /// The relying party of passkeys; `None` when they are off.
    pub passkeys: Option<PasskeySettings>,
}

#[derive(Clone)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    pub connect_timeout: Duration,
    pub startup_retry: Duration,
    pub migrate_on_start: bool,
    /// Log every statement (`AUTHQL_DATABASE_LOG_STATEMENTS`).
    pub log_statements: bool,
    /// How long a request waits for a connection: with the database down,
    /// requests fail after this instead of hanging.
    pub acquire_timeout: Duration,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("connect_timeout", &self.connect_timeout)
            .field("startup_retry", &self.startup_retry)
            .field("migrate_on_start", &self.migrate_on_start)
            .field("log_statements", &self.log_statements)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

impl DatabaseSettings {
    /// Defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: defaults::DATABASE_MAX_CONNECTIONS,
            connect_timeout: defaults::duration(defaults::DATABASE_CONNECT_TIMEOUT),
            startup_retry: defaults::duration(defaults::DATABASE_STARTUP_RETRY),
            migrate_on_start: defaults::MIGRATE_ON_START,
            log_statements: false,
            acquire_timeout: defaults::duration(defaults::DATABASE_TIMEOUT),
        }
    }

    pub fn from_args(args: &SettingsArgs) -> Self {
        Self {
            url: args.database_url.clone(),
            max_connections: args.database_max_connections,
            connect_timeout: args.database_connect_timeout,
            startup_retry: args.database_startup_retry,
            migrate_on_start: args.migrate_on_start,
            log_statements: args.database_log_statements,
            acquire_timeout: args.database_timeout,
        }
    }
}

/// The periodic deletion of long-expired rows.
#[derive(Clone, Copy, Debug)]
pub struct CleanupSettings {
    pub interval: Duration,
    pub retention: Duration,
}

impl Default for CleanupSettings {
    fn default() -> Self {
        Self {
            interval: defaults::duration(defaults::CLEANUP_INTERVAL),
            retention: defaults::duration(defaults::CLEANUP_RETENTION),
        }
    }
}

impl Settings {
    /// Checks the raw settings and resolves the signing secret: from the
    /// variable, from the file, or (development only) generated once and kept
    /// beside the database.
    pub fn from_args(args: SettingsArgs) -> anyhow::Result<Self> {
        let database = DatabaseSettings::from_args(&args);
        let (lifetimes, sessions) = args.sessions.resolve()?;
        if args.database_max_connections == 0 {
            bail!("AUTHQL_DATABASE_MAX_CONNECTIONS must be at least 1");
        }
        if args.cleanup_interval < Duration::from_secs(1) {
            bail!("AUTHQL_CLEANUP_INTERVAL must be at least 1s");
        }

        if args.database_timeout < Duration::from_millis(100) {
            bail!("AUTHQL_DATABASE_TIMEOUT must be at least 100ms");
        }
        let protection = args.protection.resolve()?;
        let jwt = JwtSettings::from_args(args.signing, args.environment, &database.url)?;

        let cors = args.cors.resolve(args.environment)?;
        let trusted_proxies = trusted_proxies(&args.trusted_proxies)?;
        let mail = args.mail.resolve(args.environment)?;
        let providers = args
            .providers
            .resolve(args.environment, |name| std::env::var(name).ok())?;
        let passkeys = args
            .passkeys
            .resolve(args.environment, &mail.product_name)?;
        Ok(Self {
            mail,
            providers,
            passkeys,
            listen: args.listen,
            cors,
            trusted_proxies,
            protection,
            database,
            cleanup: CleanupSettings {
                interval: args.cleanup_interval,
                retention: args.cleanup_retention,
            },
            environment: args.environment,
            jwt,
            lifetimes,
            sessions,
        })
    }

    pub fn is_development(&self) -> bool {
        self.environment == Environment::Development
    }
}

/// Parses `10.0.0.0/8`-style networks and bare addresses (a network of one).
fn trusted_proxies(raw: &[String]) -> anyhow::Result<Vec<IpNet>> {
    raw.iter()
        .map(|entry| entry.trim())
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    anyhow::anyhow!(
                        "AUTHQL_TRUSTED_PROXIES: {entry:?} is not an IP address or CIDR network"
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn durations_are_written_with_a_unit() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86400)));
        assert!(parse_duration("fifteen").is_err());
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let parsed = trusted_proxies(&[
            "10.0.0.0/8".into(),
            " 127.0.0.1".into(),
            "::1".into(),
            "".into(),
        ])
        .unwrap();
        let shown: Vec<String> = parsed.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]);
        assert!(trusted_proxies(&["proxy.internal".into()]).is_err());
    }

    #[test]
    fn a_kid_that_starts_with_a_hyphen_is_a_kid_not_a_flag() {
        let cli = Cli::try_parse_from(["authql", "keys", "retire", "-U8usPufbnpSdx_nqzm"])
            .expect("the kid parses");
        assert!(matches!(
            cli.command,
            Some(Command::Keys {
                action: KeysAction::Retire { kid }
            }) if kid == "-U8usPufbnpSdx_nqzm"
        ));
    }

    #[test]
    fn debug_output_of_the_arguments_shows_no_secret() {
        let cli = Cli::try_parse_from([
            "authql",
            "--database-url",
            "postgres://app:db-pass-1@db.internal/authql",
            "--jwt-secret",
            "jwt-secret-2-jwt-secret-2-jwt-secret-2",
            "--master-key",
            "master-key-3",
            "--smtp-url",
            "smtps://mailer:smtp-pass-4@mail.internal:465",
        ])
        .expect("the arguments parse");
        let shown = format!("{cli:?}");
        for secret in ["db-pass-1", "jwt-secret-2", "master-key-3", "smtp-pass-4"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        // What is not secret is still there to debug with.
        assert!(shown.contains("db.internal/authql"), "{shown}");
        assert!(shown.contains("mail.internal:465"), "{shown}");
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let database = DatabaseSettings::new("sqlite::memory:");
        assert_eq!(database.connect_timeout, Duration::from_secs(5));
        assert_eq!(database.startup_retry, Duration::from_secs(30));
        let cleanup = CleanupSettings::default();
        assert_eq!(cleanup.interval, Duration::from_secs(3600));
        assert_eq!(cleanup.retention, Duration::from_secs(7 * 86400));
    }
}
