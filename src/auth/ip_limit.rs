//! A per-client-IP budget for the fields that check a credential (`login`,
//! `register`, `refresh`), kept in this instance's memory.
//!
//! Per instance on purpose: it protects this instance's hashing workers, costs
//! no database write per request, and survives the database being slow. With
//! N instances behind a balancer a client gets at most N times the budget; the
//! per-account throttle, which is what protects a password, is shared.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// How often (in checks) idle entries are dropped from the table.
const PRUNE_EVERY: u32 = 4096;

pub struct IpLimiter {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
    checks: AtomicU32,
}

impl std::fmt::Debug for IpLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpLimiter")
            .field("enabled", &self.limiter.is_some())
            .finish_non_exhaustive()
    }
}

impl IpLimiter {
    /// `per_minute` requests per IP (a burst of as many, refilled evenly);
    /// 0 turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            clock: DefaultClock::default(),
            checks: AtomicU32::new(0),
        }
    }

    /// Takes one request from `ip`'s budget; `Err(seconds)` to wait when it is
    /// spent. A request whose address is unknown is not limited here.
    pub fn check(&self, ip: Option<IpAddr>) -> Result<(), u64> {
        let (Some(limiter), Some(ip)) = (&self.limiter, ip) else {
            return Ok(());
        };
        if self
            .checks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(PRUNE_EVERY)
        {
            limiter.retain_recent();
        }
        limiter.check_key(&ip).map_err(|not_until| {
            let wait: Duration = not_until.wait_time_from(self.clock.now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_is_per_address() {
        let limiter = IpLimiter::new(3);
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "203.0.113.8".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(Some(a)).is_ok());
        }
        let wait = limiter.check(Some(a)).unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(limiter.check(Some(b)).is_ok());
        assert!(limiter.check(None).is_ok());
    }

    #[test]
    fn zero_turns_it_off() {
        let limiter = IpLimiter::new(0);
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        assert!((0..1000).all(|_| limiter.check(Some(a)).is_ok()));
    }
}
