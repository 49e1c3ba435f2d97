//! Settings that keep authql standing on the open internet: document limits,
//! deadlines and connection caps, credential throttles, the hashing pool and
//! the password policy. Each `Default` is the one source of its defaults (the
//! CLI's `--help` reads them too).

use std::time::Duration;

use anyhow::bail;
use clap::Args;

use super::defaults::duration;
use super::parse_duration;

const REQUEST_TIMEOUT: &str = "10s";
const HEADER_READ_TIMEOUT: &str = "10s";
const BODY_READ_TIMEOUT: &str = "10s";
const LOGIN_MAX_DELAY: &str = "15m";

/// The limits every document must fit. Every ordinary frontend operation
/// (and GraphiQL's introspection query) fits the defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocumentLimits {
    /// Brackets, braces and parentheses open at once, in the document and in
    /// the JSON of the body and the variables.
    pub max_nesting: usize,
    /// Lexical tokens in the document.
    pub max_tokens: usize,
    /// Nested selection sets, fragments expanded.
    pub max_depth: usize,
    /// Fields selected, fragments expanded (each field costs 1).
    pub max_complexity: usize,
    /// Aliased fields, fragments expanded.
    pub max_aliases: usize,
    /// Fields of an operation's root, fragments expanded.
    pub max_root_fields: usize,
    /// Directives written anywhere in the document.
    pub max_directives: usize,
}

impl Default for DocumentLimits {
    fn default() -> Self {
        Self {
            max_nesting: 32,
            max_tokens: 2_000,
            max_depth: 16,
            max_complexity: 500,
            max_aliases: 30,
            max_root_fields: 20,
            max_directives: 30,
        }
    }
}

/// Deadlines and caps of the HTTP server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// The longest a request may run once its body is read.
    pub request_timeout: Duration,
    /// The longest a client may take to send a request's headers; also how
    /// long an idle keep-alive connection is kept.
    pub header_read_timeout: Duration,
    /// The longest a client may take to send a request's body.
    pub body_read_timeout: Duration,
    /// Open connections at most; further ones wait in the kernel's backlog.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            request_timeout: duration(REQUEST_TIMEOUT),
            header_read_timeout: duration(HEADER_READ_TIMEOUT),
            body_read_timeout: duration(BODY_READ_TIMEOUT),
            max_connections: 1024,
        }
    }
}

/// Credential guessing: per account (shared through the database) and per
/// client IP (per instance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Consecutive failed logins of one account before each further attempt
    /// waits (1 s, doubling).
    pub free_login_failures: u32,
    /// The longest wait between attempts on one account.
    pub max_login_delay: Duration,
    /// `login`, `register` and `refresh` calls one client IP may make per
    /// minute (a burst of as many, refilled evenly); 0 turns it off.
    pub ip_credential_requests_per_minute: u32,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            free_login_failures: 5,
            max_login_delay: duration(LOGIN_MAX_DELAY),
            ip_credential_requests_per_minute: 120,
        }
    }
}

/// The argon2 workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashingSettings {
    /// Worker threads, each with its own preallocated argon2 memory.
    pub workers: usize,
    /// Credential checks allowed to wait for a worker; beyond, `SERVER_BUSY`.
    pub max_queue: usize,
}

impl Default for HashingSettings {
    fn default() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(1, usize::from),
            max_queue: 64,
        }
    }
}

/// What a new password must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// The lowest zxcvbn score (0–4) accepted for a new password.
    pub min_score: u8,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_score: 3 }
    }
}

/// Everything above, as the server runs with it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Protection {
    pub document: DocumentLimits,
    pub server: ServerLimits,
    pub throttle: ThrottleSettings,
    pub hashing: HashingSettings,
    pub password: PasswordPolicy,
}

/// The command-line flags and variables behind [`Protection`].
#[derive(Debug, Args)]
#[command(next_help_heading = "Limits, throttles and hashing")]
pub struct ProtectionArgs {
    /// Brackets, braces and parentheses open at once in a document or its JSON.
    #[arg(long, env = "AUTHQL_MAX_NESTING", default_value_t = DocumentLimits::default().max_nesting, global = true)]
    pub max_nesting: usize,
    /// Lexical tokens in a document.
    #[arg(long, env = "AUTHQL_MAX_TOKENS", default_value_t = DocumentLimits::default().max_tokens, global = true)]
    pub max_tokens: usize,
    /// Nested selection sets, fragments expanded.
    #[arg(long, env = "AUTHQL_MAX_DEPTH", default_value_t = DocumentLimits::default().max_depth, global = true)]
    pub max_depth: usize,
    /// Fields selected, fragments expanded.
    #[arg(long, env = "AUTHQL_MAX_COMPLEXITY", default_value_t = DocumentLimits::default().max_complexity, global = true)]
    pub max_complexity: usize,
    /// Aliased fields, fragments expanded.
    #[arg(long, env = "AUTHQL_MAX_ALIASES", default_value_t = DocumentLimits::default().max_aliases, global = true)]
    pub max_aliases: usize,
    /// Fields at an operation's root, fragments expanded.
    #[arg(long, env = "AUTHQL_MAX_ROOT_FIELDS", default_value_t = DocumentLimits::default().max_root_fields, global = true)]
    pub max_root_fields: usize,
    /// Directives in a document.
    #[arg(long, env = "AUTHQL_MAX_DIRECTIVES", default_value_t = DocumentLimits::default().max_directives, global = true)]
    pub max_directives: usize,
    /// The longest a request may run once its body is read.
    #[arg(long, env = "AUTHQL_REQUEST_TIMEOUT", default_value = REQUEST_TIMEOUT, value_parser = parse_duration, global = true)]
    pub request_timeout: Duration,
    /// The longest a client may take to send a request's headers.
    #[arg(long, env = "AUTHQL_HEADER_READ_TIMEOUT", default_value = HEADER_READ_TIMEOUT, value_parser = parse_duration, global = true)]
    pub header_read_timeout: Duration,
    /// The longest a client may take to send a request's body.
    #[arg(long, env = "AUTHQL_BODY_READ_TIMEOUT", default_value = BODY_READ_TIMEOUT, value_parser = parse_duration, global = true)]
    pub body_read_timeout: Duration,
    /// Open connections at most.
    #[arg(long, env = "AUTHQL_MAX_CONNECTIONS", default_value_t = ServerLimits::default().max_connections, global = true)]
    pub max_connections: usize,
    /// Consecutive failed logins of one account before attempts are delayed.
    #[arg(long, env = "AUTHQL_LOGIN_FREE_FAILURES", default_value_t = ThrottleSettings::default().free_login_failures, global = true)]
    pub login_free_failures: u32,
    /// The longest delay between login attempts on one account.
    #[arg(long, env = "AUTHQL_LOGIN_MAX_DELAY", default_value = LOGIN_MAX_DELAY, value_parser = parse_duration, global = true)]
    pub login_max_delay: Duration,
    /// login/register/refresh calls per client IP per minute (0: no limit).
    #[arg(long, env = "AUTHQL_IP_CREDENTIAL_LIMIT", default_value_t = ThrottleSettings::default().ip_credential_requests_per_minute, global = true)]
    pub ip_credential_limit: u32,
    /// argon2 worker threads (default: one per core).
    #[arg(long, env = "AUTHQL_HASHING_WORKERS", global = true)]
    pub hashing_workers: Option<usize>,
    /// Credential checks that may wait for a hashing worker.
    #[arg(long, env = "AUTHQL_HASHING_QUEUE", default_value_t = HashingSettings::default().max_queue, global = true)]
    pub hashing_queue: usize,
    /// Lowest zxcvbn score (0-4) a new password must reach.
    #[arg(long, env = "AUTHQL_PASSWORD_MIN_SCORE", default_value_t = PasswordPolicy::default().min_score, global = true)]
    pub password_min_score: u8,
}

impl ProtectionArgs {
    pub fn resolve(&self) -> anyhow::Result<Protection> {
        let document = DocumentLimits {
            max_nesting: self.max_nesting,
            max_tokens: self.max_tokens,
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            max_aliases: self.max_aliases,
            max_root_fields: self.max_root_fields,
            max_directives: self.max_directives,
        };
        for (name, value) in [
            ("AUTHQL_MAX_NESTING", document.max_nesting),
            ("AUTHQL_MAX_TOKENS", document.max_tokens),
            ("AUTHQL_MAX_DEPTH", document.max_depth),
            ("AUTHQL_MAX_COMPLEXITY", document.max_complexity),
            ("AUTHQL_MAX_ROOT_FIELDS", document.max_root_fields),
            ("AUTHQL_MAX_CONNECTIONS", self.max_connections),
            ("AUTHQL_HASHING_QUEUE", self.hashing_queue),
        ] {
            if value == 0 {
                bail!("{name} must be at least 1");
            }
        }
        // Deeper nesting than this risks the stack the limit protects.
        if document.max_nesting > 256 {
            bail!("AUTHQL_MAX_NESTING must be at most 256");
        }
        for (name, value) in [
            ("AUTHQL_REQUEST_TIMEOUT", self.request_timeout),
            ("AUTHQL_HEADER_READ_TIMEOUT", self.header_read_timeout),
            ("AUTHQL_BODY_READ_TIMEOUT", self.body_read_timeout),
            ("AUTHQL_LOGIN_MAX_DELAY", self.login_max_delay),
        ] {
            if value < Duration::from_millis(100) {
                bail!("{name} must be at least 100ms");
            }
        }
        if self.password_min_score > 4 {
            bail!("AUTHQL_PASSWORD_MIN_SCORE must be between 0 and 4");
        }
        let hashing = HashingSettings {
            workers: self
                .hashing_workers
                .unwrap_or_else(|| HashingSettings::default().workers),
            max_queue: self.hashing_queue,
        };
        if hashing.workers == 0 {
            bail!("AUTHQL_HASHING_WORKERS must be at least 1");
        }
        Ok(Protection {
            document,
            server: ServerLimits {
                request_timeout: self.request_timeout,
                header_read_timeout: self.header_read_timeout,
                body_read_timeout: self.body_read_timeout,
                max_connections: self.max_connections,
            },
            throttle: ThrottleSettings {
                free_login_failures: self.login_free_failures,
                max_login_delay: self.login_max_delay,
                ip_credential_requests_per_minute: self.ip_credential_limit,
            },
            hashing,
            password: PasswordPolicy {
                min_score: self.password_min_score,
            },
        })
    }
}
