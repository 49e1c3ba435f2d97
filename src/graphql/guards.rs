//! Declarative access control for fields.

use async_graphql::{Context, Guard};

use super::context;

/// Lets a field run only for a request with a valid access token of a live
/// session.
pub struct Authenticated;

impl Guard for Authenticated {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        context::principal(ctx).await?;
        Ok(())
    }
}
