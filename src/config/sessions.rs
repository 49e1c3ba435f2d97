//! Session and token lifetimes, what a refresh token presented twice does,
//! and how the refresh token travels (the response body, an HttpOnly cookie,
//! or both).

use std::time::Duration;

use anyhow::bail;
use clap::{Args, ValueEnum};

use super::defaults::duration;
use super::parse_duration;

const ACCESS_TOKEN_TTL: &str = "15m";
const REFRESH_TOKEN_TTL: &str = "7d";
const SESSION_MAX_LIFETIME: &str = "30d";
const SESSION_IDLE_TIMEOUT: &str = "7d";
const REFRESH_REUSE_GRACE: &str = "5s";
const REVOCATION_POLL_INTERVAL: &str = "250ms";
const REVOCATION_STALE_AFTER: &str = "5s";
const MAX_SESSIONS_PER_USER: u32 = 100;

/// What a refresh token presented after it was used does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ReusePolicy {
    /// Races real clients produce keep the session: within the grace period
    /// the session's newest pair is returned; a token whose successor was
    /// never used returns that successor for as long as it is valid.
    #[default]
    Forgiving,
    /// Within the grace period the direct successor, while it is unused;
    /// anything else revokes the session.
    Strict,
}

/// Where `login`, `register` and `refresh` put the refresh token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum RefreshTransport {
    /// In the response's `refreshToken` only.
    Body,
    /// In an HttpOnly cookie only; `refreshToken` is null.
    Cookie,
    /// In both.
    #[default]
    Both,
}

impl RefreshTransport {
    pub fn uses_cookie(self) -> bool {
        self != Self::Body
    }

    pub fn uses_body(self) -> bool {
        self != Self::Cookie
    }
}

/// `Sessions and tokens` flags.
#[derive(Debug, Args)]
#[command(next_help_heading = "Sessions and tokens")]
pub struct SessionArgs {
    /// Lifetime of an access token.
    #[arg(long, env = "AUTHQL_ACCESS_TOKEN_TTL", default_value = ACCESS_TOKEN_TTL, value_parser = parse_duration, global = true)]
    pub access_token_ttl: Duration,
    /// Lifetime of a refresh token (never past the idle timeout or the session's end).
    #[arg(long, env = "AUTHQL_REFRESH_TOKEN_TTL", default_value = REFRESH_TOKEN_TTL, value_parser = parse_duration, global = true)]
    pub refresh_token_ttl: Duration,
    /// Absolute lifetime of a session, however often it is refreshed.
    #[arg(long, env = "AUTHQL_SESSION_MAX_LIFETIME", default_value = SESSION_MAX_LIFETIME, value_parser = parse_duration, global = true)]
    pub session_max_lifetime: Duration,
    /// A session not refreshed for this long ends.
    #[arg(long, env = "AUTHQL_SESSION_IDLE_TIMEOUT", default_value = SESSION_IDLE_TIMEOUT, value_parser = parse_duration, global = true)]
    pub session_idle_timeout: Duration,
    /// How long after its use a refresh token may be presented again (racing
    /// tabs, a retried request) without counting as reuse.
    #[arg(long, env = "AUTHQL_REFRESH_REUSE_GRACE", default_value = REFRESH_REUSE_GRACE, value_parser = parse_duration, global = true)]
    pub refresh_reuse_grace: Duration,
    /// `forgiving`: racing tabs and lost responses keep the session (see the
    /// README's token model); `strict`: only the direct successor within the
    /// grace period, anything else revokes the session.
    #[arg(
        long,
        env = "AUTHQL_REFRESH_REUSE_POLICY",
        value_enum,
        default_value = "forgiving",
        global = true
    )]
    pub refresh_reuse_policy: ReusePolicy,
    /// `body`, `cookie` (an HttpOnly cookie; `refreshToken` is null) or `both`.
    #[arg(
        long,
        env = "AUTHQL_REFRESH_TOKEN_TRANSPORT",
        value_enum,
        default_value = "both",
        global = true
    )]
    pub refresh_token_transport: RefreshTransport,
    /// How often each instance reads the revocation feed (PostgreSQL also
    /// announces each revocation at once).
    #[arg(long, env = "AUTHQL_REVOCATION_POLL_INTERVAL", default_value = REVOCATION_POLL_INTERVAL, value_parser = parse_duration, global = true)]
    pub revocation_poll_interval: Duration,
    /// An instance that could not read the revocation feed for this long
    /// checks every request against the database until it can again.
    #[arg(long, env = "AUTHQL_REVOCATION_STALE_AFTER", default_value = REVOCATION_STALE_AFTER, value_parser = parse_duration, global = true)]
    pub revocation_stale_after: Duration,
    /// Live sessions one user may have; a sign-in beyond it ends the oldest.
    #[arg(long, env = "AUTHQL_MAX_SESSIONS_PER_USER", default_value_t = MAX_SESSIONS_PER_USER, global = true)]
    pub max_sessions_per_user: u32,
    /// Admin fields answer `FORBIDDEN` unless the admin's sign-in included a
    /// second factor (`aal2`).
    #[arg(long, env = "AUTHQL_ADMIN_REQUIRES_SECOND_FACTOR", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub admin_requires_second_factor: bool,
}

/// How long tokens and sessions live.
#[derive(Clone, Copy, Debug)]
pub struct TokenLifetimes {
    pub access: Duration,
    pub refresh: Duration,
    pub session_max: Duration,
    pub session_idle: Duration,
    pub reuse_grace: Duration,
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        Self {
            access: duration(ACCESS_TOKEN_TTL),
            refresh: duration(REFRESH_TOKEN_TTL),
            session_max: duration(SESSION_MAX_LIFETIME),
            session_idle: duration(SESSION_IDLE_TIMEOUT),
            reuse_grace: duration(REFRESH_REUSE_GRACE),
        }
    }
}

/// How refresh tokens behave beyond their lifetimes, how revocations reach
/// every instance, and how many sessions a user may keep.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    pub reuse: ReusePolicy,
    pub transport: RefreshTransport,
    pub feed: FeedSettings,
    /// Live sessions per user; a sign-in beyond it ends the oldest.
    pub max_per_user: u32,
    /// Admin fields need a sign-in with a second factor.
    pub admin_requires_second_factor: bool,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            reuse: ReusePolicy::default(),
            transport: RefreshTransport::default(),
            feed: FeedSettings::default(),
            max_per_user: MAX_SESSIONS_PER_USER,
            admin_requires_second_factor: false,
        }
    }
}

/// Following the revocation feed.
#[derive(Clone, Copy, Debug)]
pub struct FeedSettings {
    pub poll_interval: Duration,
    /// Not caught up for longer than this: cached statuses are not trusted.
    pub stale_after: Duration,
}

impl Default for FeedSettings {
    fn default() -> Self {
        Self {
            poll_interval: duration(REVOCATION_POLL_INTERVAL),
            stale_after: duration(REVOCATION_STALE_AFTER),
        }
    }
}

impl SessionArgs {
    pub fn resolve(&self) -> anyhow::Result<(TokenLifetimes, SessionPolicy)> {
        let lifetimes = TokenLifetimes {
            access: self.access_token_ttl,
            refresh: self.refresh_token_ttl,
            session_max: self.session_max_lifetime,
            session_idle: self.session_idle_timeout,
            reuse_grace: self.refresh_reuse_grace,
        };
        for (name, value) in [
            ("AUTHQL_ACCESS_TOKEN_TTL", lifetimes.access),
            ("AUTHQL_REFRESH_TOKEN_TTL", lifetimes.refresh),
            ("AUTHQL_SESSION_MAX_LIFETIME", lifetimes.session_max),
            ("AUTHQL_SESSION_IDLE_TIMEOUT", lifetimes.session_idle),
        ] {
            if value < Duration::from_secs(1) {
                bail!("{name} must be at least 1s");
            }
        }
        if self.revocation_poll_interval < Duration::from_millis(10) {
            bail!("AUTHQL_REVOCATION_POLL_INTERVAL must be at least 10ms");
        }
        if self.revocation_stale_after <= self.revocation_poll_interval {
            bail!(
                "AUTHQL_REVOCATION_STALE_AFTER must be longer than AUTHQL_REVOCATION_POLL_INTERVAL"
            );
        }
        if self.max_sessions_per_user < 1 {
            bail!("AUTHQL_MAX_SESSIONS_PER_USER must be at least 1");
        }
        let policy = SessionPolicy {
            max_per_user: self.max_sessions_per_user,
            admin_requires_second_factor: self.admin_requires_second_factor,
            reuse: self.refresh_reuse_policy,
            transport: self.refresh_token_transport,
            feed: FeedSettings {
                poll_interval: self.revocation_poll_interval,
                stale_after: self.revocation_stale_after,
            },
        };
        Ok((lifetimes, policy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let lifetimes = TokenLifetimes::default();
        assert_eq!(lifetimes.access, Duration::from_secs(15 * 60));
        assert_eq!(lifetimes.refresh, Duration::from_secs(7 * 86400));
        assert_eq!(lifetimes.session_max, Duration::from_secs(30 * 86400));
        assert_eq!(lifetimes.session_idle, Duration::from_secs(7 * 86400));
        assert_eq!(lifetimes.reuse_grace, Duration::from_secs(5));
        let policy = SessionPolicy::default();
        assert_eq!(policy.reuse, ReusePolicy::Forgiving);
        assert_eq!(policy.transport, RefreshTransport::Both);
        assert_eq!(policy.feed.poll_interval, Duration::from_millis(250));
        assert_eq!(policy.feed.stale_after, Duration::from_secs(5));
        assert_eq!(policy.max_per_user, 100);
    }
}
