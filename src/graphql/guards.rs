//! Declarative access control for fields.

use async_graphql::{Context, Guard};

use super::context;
use super::errors::ApiError;
use crate::auth::AuthError;
use crate::domain::ADMIN_ROLE;

/// Lets a field run only for a request with a valid access token of a live
/// session.
pub struct Authenticated;

impl Guard for Authenticated {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        context::principal(ctx).await?;
        Ok(())
    }
}

/// Lets a field run only for an authenticated request whose token and user
/// both hold `role`; `FORBIDDEN` otherwise. For `admin`, with
/// `AUTHQL_ADMIN_REQUIRES_SECOND_FACTOR`, only when the session's sign-in
/// included a second factor (`FORBIDDEN`, `reason: second_factor_required`).
pub struct HasRole(pub &'static str);

impl Guard for HasRole {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let principal = context::principal(ctx).await?;
        if !principal.has_role(self.0) {
            return Err(ApiError::from(AuthError::Forbidden(self.0)).into());
        }
        if self.0 == ADMIN_ROLE
            && !principal.aal2
            && context::service(ctx)?.admin_requires_second_factor()
        {
            return Err(ApiError::from(AuthError::AdminNeedsSecondFactor).into());
        }
        Ok(())
    }
}
