//! Per-account throttling of password guesses, shared by every instance
//! through the database.
//!
//! After `free_login_failures` consecutive failures for one login e-mail,
//! each further attempt must wait: 1 s after the 5th failure (by default),
//! 2 s after the 6th, doubling up to `max_login_delay`. While an account
//! waits every attempt is refused before any argon2 work, with the same
//! answer whether the password was right or not; a success forgets the
//! failures. Rows are keyed by the address tried, known or not, so the
//! throttle says nothing about which addresses have accounts.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::DatabaseConnection;

use crate::config::ThrottleSettings;
use crate::store;

#[derive(Clone, Copy, Debug)]
pub struct AccountThrottle {
    free_failures: u32,
    max_delay: Duration,
}

/// Where an address stands before an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// No failures on record.
    Clear,
    /// Failures on record, none that imposes a wait now.
    Failed,
    /// The attempt must wait this many seconds.
    Waiting(u64),
}

/// The throttle's key for a login e-mail (already trimmed and lower-cased).
pub struct ThrottleKey(String);

impl ThrottleKey {
    pub fn for_email(normalized_email: &str) -> Self {
        Self(crate::domain::sha256_hex(normalized_email.as_bytes()))
    }
}

impl AccountThrottle {
    pub fn new(settings: &ThrottleSettings) -> Self {
        Self {
            free_failures: settings.free_login_failures,
            max_delay: settings.max_login_delay,
        }
    }

    /// Where `key` stands now: one read.
    pub async fn standing(
        &self,
        db: &DatabaseConnection,
        key: &ThrottleKey,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Standing> {
        let Some(row) = store::login_throttles::find(db, &key.0)
            .await
            .context("cannot read the login throttle")?
        else {
            return Ok(Standing::Clear);
        };
        let failures = u32::try_from(row.failures).unwrap_or(0);
        let Some(delay) = self.delay_after(failures) else {
            return Ok(Standing::Failed);
        };
        let until = row.last_failed_at + TimeDelta::from_std(delay).unwrap_or(TimeDelta::MAX);
        if until <= now {
            return Ok(Standing::Failed);
        }
        // Whole seconds, rounded up: a client that waits this long gets in.
        let millis = (until - now).num_milliseconds().max(1);
        Ok(Standing::Waiting(
            u64::try_from((millis + 999) / 1000).unwrap_or(1),
        ))
    }

    /// The wait imposed after `failures` consecutive failures, if any.
    fn delay_after(&self, failures: u32) -> Option<Duration> {
        let beyond = failures.checked_sub(self.free_failures)?;
        let doubling = Duration::from_secs(1).saturating_mul(1u32 << beyond.min(31));
        Some(doubling.min(self.max_delay))
    }

    pub async fn record_failure(
        &self,
        db: &DatabaseConnection,
        key: &ThrottleKey,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        store::login_throttles::record_failure(db, &key.0, now)
            .await
            .context("cannot count the failed login")
    }

    pub async fn reset(&self, db: &DatabaseConnection, key: &ThrottleKey) -> anyhow::Result<()> {
        store::login_throttles::reset(db, &key.0)
            .await
            .context("cannot reset the login throttle")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_from_one_second_up_to_the_maximum() {
        let throttle = AccountThrottle::new(&ThrottleSettings::default());
        let delays: Vec<Option<u64>> = (4..=17)
            .map(|n| throttle.delay_after(n).map(|d| d.as_secs()))
            .collect();
        assert_eq!(
            delays,
            [
                None,
                Some(1),
                Some(2),
                Some(4),
                Some(8),
                Some(16),
                Some(32),
                Some(64),
                Some(128),
                Some(256),
                Some(512),
                Some(900),
                Some(900),
                Some(900)
            ]
        );
        assert_eq!(
            throttle.delay_after(u32::MAX),
            Some(Duration::from_secs(900))
        );
    }

    #[test]
    fn keys_are_hashes_of_the_address() {
        let key = ThrottleKey::for_email("ada@example.com");
        assert_eq!(key.0.len(), 64);
        assert!(!key.0.contains("ada"));
    }
}
