//! The fields of `User` that are read on demand: linked providers, second
//! factors and passkeys.

use async_graphql::{ComplexObject, Context};

use super::context;
use super::errors;
use super::passkeys::PasskeyObject;
use super::providers::LinkedIdentity;
use super::second_factor::SecondFactorView;
use super::types::User;

#[ComplexObject]
impl User {
    /// The accounts at sign-in providers linked to the user, oldest first.
    async fn identities(&self, ctx: &Context<'_>) -> errors::Result<Vec<LinkedIdentity>> {
        let Ok(user_id) = self.id.parse::<uuid::Uuid>() else {
            return Ok(Vec::new());
        };
        Ok(context::service(ctx)?
            .identities(user_id)
            .await?
            .into_iter()
            .map(LinkedIdentity::from)
            .collect())
    }

    /// The user's confirmed second factors.
    async fn second_factors(&self, ctx: &Context<'_>) -> errors::Result<Vec<SecondFactorView>> {
        let Ok(user_id) = self.id.parse::<uuid::Uuid>() else {
            return Ok(Vec::new());
        };
        Ok(context::service(ctx)?
            .second_factors(user_id)
            .await?
            .into_iter()
            .map(SecondFactorView::from)
            .collect())
    }

    /// The user's passkeys, oldest first.
    async fn passkeys(&self, ctx: &Context<'_>) -> errors::Result<Vec<PasskeyObject>> {
        let Ok(user_id) = self.id.parse::<uuid::Uuid>() else {
            return Ok(Vec::new());
        };
        Ok(context::service(ctx)?
            .passkeys(user_id)
            .await?
            .into_iter()
            .map(PasskeyObject::from)
            .collect())
    }

    /// How many recovery codes are unused.
    async fn recovery_codes_left(&self, ctx: &Context<'_>) -> errors::Result<u64> {
        let Ok(user_id) = self.id.parse::<uuid::Uuid>() else {
            return Ok(0);
        };
        Ok(context::service(ctx)?.recovery_codes_left(user_id).await?)
    }
}
