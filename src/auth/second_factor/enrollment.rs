//! Turning two-step sign-in on: a pending TOTP factor, confirmed with a
//! first code, which also uses that code's time step up; the recovery codes.

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::{recovery, totp};
use crate::auth::audit::Event;
use crate::auth::mail_queue::{About, Cause};
use crate::auth::principal::Principal;
use crate::auth::{AuthError, AuthService, ClientInfo};
use crate::mail::MailKind;
use crate::store::second_factors::NewFactor;
use crate::store::{self};

/// How long an enrolment waits for its first code.
const PENDING_LIFETIME: TimeDelta = TimeDelta::minutes(15);

/// A pending factor as the user sets it up in their app.
pub struct TotpEnrollment {
    pub factor_id: Uuid,
    /// Base32, for typing in.
    pub secret: Zeroizing<String>,
    /// `otpauth://…`, for a QR code.
    pub otpauth_uri: Zeroizing<String>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrollment")
            .field("factor_id", &self.factor_id)
            .finish_non_exhaustive()
    }
}

/// A confirmed factor as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactorView {
    pub id: Uuid,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The associated data a factor's secret is sealed with.
pub(super) fn binding(factor_id: Uuid, user_id: Uuid) -> Vec<u8> {
    format!("authql totp secret v1\0{factor_id}\0{user_id}").into_bytes()
}

impl AuthService {
    /// Starts enrolling an authenticator app for the signed-in user, who
    /// signed in within the last minutes.
    pub async fn enroll_totp(&self, principal: &Principal) -> Result<TotpEnrollment, AuthError> {
        self.require_recent_sign_in(principal)?;
        let sealer = self
            .second_factors
            .sealer
            .as_ref()
            .ok_or(AuthError::SecondFactorUnavailable)?;
        if store::second_factors::has_confirmed(&self.reads, principal.user_id)
            .await
            .context("cannot look the second factors up")?
        {
            return Err(AuthError::SecondFactorExists);
        }
        let secret = totp::new_secret()?;
        let factor_id = Uuid::new_v4();
        let sealed = sealer.seal_bound(
            &secret,
            &super::enrollment::binding(factor_id, principal.user_id),
        )?;
        let now = Utc::now();
        let expires_at = now + PENDING_LIFETIME;
        store::second_factors::enroll(
            &self.db,
            NewFactor {
                id: factor_id,
                user_id: principal.user_id,
                kind: "totp",
                secret: sealed,
                now,
                pending_until: expires_at,
            },
        )
        .await
        .context("cannot store the factor")?;
        let base32 = totp::base32(&secret);
        let otpauth_uri = totp::otpauth_uri(
            &self.second_factors.issuer,
            &principal.account.email,
            &base32,
        );
        tracing::info!(user_id = %principal.user_id, %factor_id, "second factor enrolment started");
        Ok(TotpEnrollment {
            factor_id,
            secret: base32,
            otpauth_uri,
            expires_at,
        })
    }

    /// Confirms the pending factor with a code from the app: two-step
    /// sign-in is on. The recovery codes, shown once.
    pub async fn confirm_totp(
        &self,
        principal: &Principal,
        factor_id: Uuid,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Vec<Zeroizing<String>>, AuthError> {
        let sealer = self
            .second_factors
            .sealer
            .as_ref()
            .ok_or(AuthError::SecondFactorUnavailable)?;
        let now = Utc::now();
        let factor =
            store::second_factors::find_pending(&self.db, principal.user_id, factor_id, now)
                .await
                .context("cannot load the factor")?
                .ok_or(AuthError::InvalidToken)?;
        let secret = sealer
            .open_bound(&factor.secret, &binding(factor.id, factor.user_id))
            .context("a factor's secret does not open with the master key")?;
        let generator = totp::generator(&secret)?;
        let step = totp::matched_step(&generator, code, unix_seconds(now))
            .ok_or(AuthError::WrongSecondFactor)?;
        let (codes, hashes) = recovery::new_set()?;
        let unit = self.begin().await?;
        if !store::second_factors::use_step(&unit, factor.id, step, true, now)
            .await
            .context("cannot confirm the factor")?
        {
            return Err(AuthError::WrongSecondFactor);
        }
        store::recovery_codes::replace(&unit, principal.user_id, hashes, now)
            .await
            .context("cannot store the recovery codes")?;
        self.record(
            &unit,
            client,
            Event::SecondFactorAdded {
                user_id: principal.user_id,
                session_id: principal.session_id,
            },
        )
        .await?;
        let user = store::users::find(&unit, principal.user_id)
            .await
            .context("cannot load the user")?
            .ok_or(AuthError::InvalidToken)?;
        self.queue_notice(
            &unit,
            MailKind::SecondFactorAdded,
            &user.email,
            About::default(),
            Cause {
                user: &user,
                client,
                now,
            },
        )
        .await?;
        unit.commit("the second factor").await?;
        self.mail_queued();
        tracing::info!(user_id = %principal.user_id, %factor_id, "second factor confirmed");
        Ok(codes)
    }

    /// The user's confirmed second factors.
    pub async fn second_factors(&self, user_id: Uuid) -> Result<Vec<FactorView>, AuthError> {
        let factors = store::second_factors::confirmed(&self.reads, user_id)
            .await
            .context("cannot list the second factors")?;
        Ok(factors
            .into_iter()
            .map(|factor| FactorView {
                id: factor.id,
                kind: factor.kind,
                created_at: factor.created_at,
                last_used_at: factor.last_used_at,
            })
            .collect())
    }

    /// How many of the user's recovery codes are unused.
    pub async fn recovery_codes_left(&self, user_id: Uuid) -> Result<u64, AuthError> {
        Ok(store::recovery_codes::left(&self.reads, user_id)
            .await
            .context("cannot count the recovery codes")?)
    }
}

/// Seconds since the epoch (never negative here).
pub(super) fn unix_seconds(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or_default()
}
