//! Declarative access control for fields.

use async_graphql::{Context, Guard};

use super::context;
use super::errors::ApiError;
use crate::auth::AuthError;

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
/// both hold `role`; `FORBIDDEN` otherwise.
pub struct HasRole(pub &'static str);

impl Guard for HasRole {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let principal = context::principal(ctx).await?;
        if principal.has_role(self.0) {
            Ok(())
        } else {
            Err(ApiError::from(AuthError::Forbidden(self.0)).into())
        }
    }
}
