//! The rest of a second factor's life: a new set of recovery codes, removing
//! the app (both after a sign-in that included the second factor), and an
//! admin turning a user's second factors off for support.

use anyhow::Context;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::recovery;
use crate::auth::audit::{Action, Actor, Event};
use crate::auth::mail_queue::{About, Cause};
use crate::auth::principal::Principal;
use crate::auth::session_core::Unit;
use crate::auth::{Account, AuthError, AuthService, ClientInfo};
use crate::mail::MailKind;
use crate::store::{self};

impl AuthService {
    /// Refuses unless `principal` signed in within the last minutes with a
    /// second factor.
    pub(in crate::auth) fn require_recent_second_factor(
        &self,
        principal: &Principal,
    ) -> Result<(), AuthError> {
        self.require_recent_sign_in(principal)?;
        if principal.aal2 {
            Ok(())
        } else {
            Err(AuthError::RecentSignInRequired)
        }
    }

    /// A new set of recovery codes; the old set stops working.
    pub async fn regenerate_recovery_codes(
        &self,
        principal: &Principal,
        client: &ClientInfo,
    ) -> Result<Vec<Zeroizing<String>>, AuthError> {
        self.require_recent_second_factor(principal)?;
        let now = Utc::now();
        let unit = self.begin().await?;
        if !store::second_factors::has_confirmed(&unit, principal.user_id)
            .await
            .context("cannot look the second factors up")?
        {
            return Err(AuthError::NoSecondFactor);
        }
        let (codes, hashes) = recovery::new_set()?;
        store::recovery_codes::replace(&unit, principal.user_id, hashes, now)
            .await
            .context("cannot store the recovery codes")?;
        self.record(
            &unit,
            client,
            Event::RecoveryCodesRegenerated {
                user_id: principal.user_id,
                session_id: principal.session_id,
            },
        )
        .await?;
        unit.commit("the recovery codes").await?;
        tracing::info!(user_id = %principal.user_id, "recovery codes regenerated");
        Ok(codes)
    }

    /// Removes the signed-in user's second factor `id`; with the last one go
    /// the recovery codes, and sign-in takes one step again.
    pub async fn remove_second_factor(
        &self,
        principal: &Principal,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<Account, AuthError> {
        self.require_recent_second_factor(principal)?;
        let now = Utc::now();
        let unit = self.begin().await?;
        if !store::second_factors::remove(&unit, principal.user_id, id)
            .await
            .context("cannot remove the factor")?
        {
            return Err(AuthError::NoSecondFactor);
        }
        if !store::second_factors::has_confirmed(&unit, principal.user_id)
            .await
            .context("cannot look the second factors up")?
        {
            store::recovery_codes::remove_all(&unit, principal.user_id)
                .await
                .context("cannot remove the recovery codes")?;
        }
        let user = store::users::find(&unit, principal.user_id)
            .await
            .context("cannot load the user")?
            .ok_or(AuthError::NoSecondFactor)?;
        self.record(
            &unit,
            client,
            Event::SecondFactorRemoved {
                user_id: user.id,
                session_id: principal.session_id,
            },
        )
        .await?;
        self.notice_removed(&unit, &user, client, now).await?;
        unit.commit("the removal").await?;
        self.mail_queued();
        tracing::info!(user_id = %user.id, factor_id = %id, "second factor removed");
        Ok(user.into())
    }

    /// Turns every second factor of user `id` off (support for a user who
    /// lost their app and codes): audited as `actor`'s and mailed. `None`
    /// when there is no such user.
    pub async fn reset_second_factors(
        &self,
        actor: Actor,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<Option<Account>, AuthError> {
        let now = Utc::now();
        let unit = self.begin().await?;
        let Some(user) = store::users::find(&unit, id)
            .await
            .context("cannot load the user")?
        else {
            return Ok(None);
        };
        let removed = store::second_factors::remove_all(&unit, id)
            .await
            .context("cannot remove the factors")?;
        store::recovery_codes::remove_all(&unit, id)
            .await
            .context("cannot remove the recovery codes")?;
        if removed > 0 {
            self.record_by(&unit, actor, id, client, Action::ResetSecondFactors)
                .await?;
            self.notice_removed(&unit, &user, client, now).await?;
        }
        unit.commit("the second factors' reset").await?;
        self.mail_queued();
        tracing::info!(%actor, user_id = %id, removed, "second factors reset");
        Ok(Some(user.into()))
    }

    /// Tells `user`'s address that their second factors were turned off.
    async fn notice_removed(
        &self,
        unit: &Unit,
        user: &entity::user::Model,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        self.queue_notice(
            unit,
            MailKind::SecondFactorRemoved,
            &user.email,
            About::default(),
            Cause { user, client, now },
        )
        .await
    }

    /// Whether admin fields need a sign-in with a second factor.
    pub fn admin_requires_second_factor(&self) -> bool {
        self.second_factors.admin_requires
    }
}
