//! The key schedule: when a new key is published, when it starts signing,
//! when the one before stops and when a key is deleted. Every step runs in a
//! transaction holding the database's signing-keys lock and decides on the
//! rows as they are then, so with many instances exactly one performs it and
//! the others find nothing left to do.

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use entity::signing_key;
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use super::material;
use super::sealing::{Binding, Sealer};
use crate::auth::session_core::whole_seconds;
use crate::config::SigningAlgorithm;
use crate::store::{self, Lock};

/// The schedule's settings, as `chrono` deltas.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    pub algorithm: SigningAlgorithm,
    pub publish_ahead: TimeDelta,
    /// `None`: no automatic rotation.
    pub rotation_interval: Option<TimeDelta>,
    /// How long after a key stops signing a token it signed may still be
    /// presented: the longest token lifetime plus the clock leeway.
    pub token_lifetime: TimeDelta,
}

/// What a step is asked to do beyond keeping the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// Rotate when due, delete expired keys.
    Maintain,
    /// Publish a new key now; it signs after the publish-ahead time.
    Rotate,
    /// The signing key was retired: a new key signs at once.
    Replace,
}

/// When the next key should start signing, given the newest usable key.
pub fn next_start(
    schedule: &Schedule,
    newest: Option<&signing_key::Model>,
    request: Request,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let ahead = now + schedule.publish_ahead;
    let Some(newest) = newest else {
        // No key yet: nothing was signed, nothing to announce ahead.
        return Some(now);
    };
    match request {
        Request::Replace => Some(now),
        Request::Rotate => Some(ahead),
        Request::Maintain => {
            // A changed AUTHQL_JWT_ALGORITHM takes effect at the next rotation:
            // rotating at once would make instances of a rolling deploy, with
            // the old and the new setting, replace each other's keys forever.
            let interval = schedule.rotation_interval?;
            let due = newest
                .stops_signing_at
                .unwrap_or(newest.starts_signing_at + interval);
            (due <= ahead).then(|| due.max(ahead))
        }
    }
}

/// Whether a key is still in use: not retired, its private key kept.
pub fn in_use(key: &signing_key::Model) -> bool {
    key.retired_at.is_none() && key.private_key.is_some()
}

/// The key in use that starts signing last: the one the schedule extends.
pub fn newest(rows: &[signing_key::Model]) -> Option<&signing_key::Model> {
    rows.iter()
        .filter(|k| in_use(k))
        .max_by_key(|k| (k.starts_signing_at, k.created_at))
}

/// Performs one step under the lock. Returns the kid of a new key, if one
/// was created.
pub async fn step(
    db: &DatabaseConnection,
    sealer: &Sealer,
    schedule: &Schedule,
    request: Request,
) -> anyhow::Result<Option<String>> {
    let tx = store::begin_locked(db, Lock::SigningKeys).await?;
    let created = step_in(&tx, sealer, schedule, request, Utc::now()).await?;
    tx.commit()
        .await
        .context("cannot commit the key schedule")?;
    Ok(created)
}

/// One step of the schedule in `tx`, which holds the signing keys' lock.
async fn step_in(
    tx: &DatabaseTransaction,
    sealer: &Sealer,
    schedule: &Schedule,
    request: Request,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<String>> {
    let rows = store::signing_keys::all(tx)
        .await
        .context("cannot read the signing keys")?;
    let newest = newest(&rows);
    let mut created = None;
    if let Some(start) = next_start(schedule, newest, request, now) {
        let start = whole_seconds(start);
        if let Some(newest) = newest {
            store::signing_keys::schedule_end(
                tx,
                &newest.kid,
                start,
                start + schedule.token_lifetime,
            )
            .await
            .context("cannot schedule the end of the signing key")?;
        }
        let key = new_key(sealer, schedule.algorithm, now, start)?;
        tracing::info!(kid = %key.kid, algorithm = %key.algorithm, starts_signing_at = %start, "published a new signing key");
        created = Some(key.kid.clone());
        store::signing_keys::insert(tx, key)
            .await
            .context("cannot store the new signing key")?;
    }
    let deleted = store::signing_keys::delete_expired(tx, now)
        .await
        .context("cannot delete expired signing keys")?;
    if deleted > 0 {
        tracing::info!(deleted, "deleted expired signing keys");
    }
    Ok(created)
}

/// Retires `kid`: trusted no more, its private key erased; if it was the
/// key signing now, a new one signs at once. One transaction under the keys'
/// lock does both and announces the retirement on the revocation feed, so an
/// instance that hears of it finds the new key in place. `false` if no such
/// key.
pub async fn retire(
    db: &DatabaseConnection,
    sealer: &Sealer,
    schedule: &Schedule,
    kid: &str,
) -> anyhow::Result<bool> {
    let now = Utc::now();
    let tx = store::begin_locked(db, Lock::SigningKeys).await?;
    let retired = store::signing_keys::retire(&tx, kid, now, now + schedule.token_lifetime)
        .await
        .context("cannot retire the signing key")?;
    if !retired {
        tx.rollback().await.context("cannot roll back")?;
        return Ok(false);
    }
    let rows = store::signing_keys::all(&tx)
        .await
        .context("cannot read the signing keys")?;
    let signing_now = rows.iter().any(|k| in_use(k) && k.starts_signing_at <= now);
    if !signing_now {
        step_in(&tx, sealer, schedule, Request::Replace, now).await?;
    }
    // Every instance reloads its keys when it reads this.
    let announced = [store::revocations::Revoked::Key(kid.to_owned())];
    store::revocations::append(&tx, &announced, now)
        .await
        .context("cannot append to the revocation feed")?;
    tx.commit().await.context("cannot commit the retirement")?;
    tracing::warn!(kid, "signing key retired");
    Ok(true)
}

fn new_key(
    sealer: &Sealer,
    algorithm: SigningAlgorithm,
    now: DateTime<Utc>,
    starts: DateTime<Utc>,
) -> anyhow::Result<signing_key::Model> {
    let pair = material::generate(algorithm)?;
    let public_jwk = serde_json::to_string(&pair.public_jwk)?;
    let sealed = sealer.seal(
        &pair.private_der,
        &Binding {
            kid: &pair.kid,
            algorithm: algorithm.as_str(),
            public_jwk: &public_jwk,
        },
    )?;
    Ok(signing_key::Model {
        kid: pair.kid,
        algorithm: algorithm.as_str().to_owned(),
        public_jwk,
        private_key: Some(sealed),
        created_at: now,
        starts_signing_at: starts,
        stops_signing_at: None,
        expires_at: None,
        retired_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(interval_days: Option<i64>) -> Schedule {
        Schedule {
            algorithm: SigningAlgorithm::EdDsa,
            publish_ahead: TimeDelta::hours(1),
            rotation_interval: interval_days.map(TimeDelta::days),
            token_lifetime: TimeDelta::days(7),
        }
    }

    fn key(starts: DateTime<Utc>, stops: Option<DateTime<Utc>>) -> signing_key::Model {
        signing_key::Model {
            kid: "k".into(),
            algorithm: "EdDSA".into(),
            public_jwk: "{}".into(),
            private_key: Some(vec![1]),
            created_at: starts,
            starts_signing_at: starts,
            stops_signing_at: stops,
            expires_at: None,
            retired_at: None,
        }
    }

    #[test]
    fn the_first_key_signs_at_once() {
        let now = Utc::now();
        assert_eq!(
            next_start(&schedule(Some(30)), None, Request::Maintain, now),
            Some(now)
        );
    }

    #[test]
    fn a_successor_is_published_ahead_of_the_due_date() {
        let now = Utc::now();
        let s = schedule(Some(30));
        let young = key(now - TimeDelta::days(10), None);
        assert_eq!(next_start(&s, Some(&young), Request::Maintain, now), None);
        // Due in 30 minutes: published now, signs when due... but never
        // sooner than an hour after it is published.
        let due_soon = key(now - TimeDelta::days(30) + TimeDelta::minutes(30), None);
        assert_eq!(
            next_start(&s, Some(&due_soon), Request::Maintain, now),
            Some(now + TimeDelta::hours(1))
        );
        // Overdue (every instance was down): an hour from now.
        let overdue = key(now - TimeDelta::days(40), None);
        assert_eq!(
            next_start(&s, Some(&overdue), Request::Maintain, now),
            Some(now + TimeDelta::hours(1))
        );
        // Due in two hours: not yet.
        let later = key(now - TimeDelta::days(30) + TimeDelta::hours(2), None);
        assert_eq!(next_start(&s, Some(&later), Request::Maintain, now), None);
    }

    #[test]
    fn without_automatic_rotation_only_requests_rotate() {
        let now = Utc::now();
        let s = schedule(None);
        let old = key(now - TimeDelta::days(400), None);
        assert_eq!(next_start(&s, Some(&old), Request::Maintain, now), None);
        assert_eq!(
            next_start(&s, Some(&old), Request::Rotate, now),
            Some(now + TimeDelta::hours(1))
        );
        assert_eq!(next_start(&s, Some(&old), Request::Replace, now), Some(now));
    }

    #[test]
    fn a_new_algorithm_waits_for_the_next_rotation() {
        let now = Utc::now();
        let mut s = schedule(Some(30));
        s.algorithm = SigningAlgorithm::Es256;
        let ed = key(now - TimeDelta::days(1), None);
        assert_eq!(next_start(&s, Some(&ed), Request::Maintain, now), None);
        assert_eq!(
            next_start(&s, Some(&ed), Request::Rotate, now),
            Some(now + TimeDelta::hours(1))
        );
    }
}
