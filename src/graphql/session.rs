//! Sessions and their tokens: the current session, refresh, renew, logout.

use async_graphql::{Context, Object};

use super::context;
use super::errors::ApiError;
use super::guards::Authenticated;
use super::types::{AccessTokenPayload, AuthPayload, LogoutPayload, Session};

#[derive(Default)]
pub struct SessionQuery;

#[Object]
impl SessionQuery {
    /// The session the access token belongs to. Requires an access token.
    #[graphql(guard = "Authenticated")]
    async fn session(&self, ctx: &Context<'_>) -> async_graphql::Result<Session> {
        let principal = context::principal(ctx).await?;
        let view = context::service(ctx)?
            .session(&principal)
            .await
            .map_err(ApiError::from)?;
        Ok(Session::new(view, true))
    }
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Exchanges a refresh token for a new access and refresh token of the
    /// same session. The old refresh token is used up: presented again within
    /// the grace period it returns the same new pair; later, it revokes the
    /// whole session.
    async fn refresh(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token from the last `login`, `register` or `refresh`.")]
        refresh_token: Option<String>,
    ) -> async_graphql::Result<AuthPayload> {
        let signed_in = context::service(ctx)?
            .refresh(refresh_token.as_deref(), &context::client(ctx))
            .await
            .map_err(ApiError::from)?;
        Ok(signed_in.into())
    }

    /// Ends the session of the Bearer access token or, without a usable one
    /// (it may have expired), the session of the given refresh token. Every
    /// refresh and access token of the session stops working.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "A refresh token of the session, used when no valid access token is sent."
        )]
        refresh_token: Option<String>,
    ) -> async_graphql::Result<LogoutPayload> {
        let authenticated = context::authentication(ctx).await?;
        let revoked = context::service(ctx)?
            .logout(
                authenticated,
                refresh_token.as_deref(),
                &context::client(ctx),
            )
            .await
            .map_err(ApiError::from)?;
        Ok(LogoutPayload {
            revoked_sessions: i32::try_from(revoked).unwrap_or(i32::MAX),
        })
    }

    /// A new access token for the current session, for a still-valid access
    /// token. It never outlives the session's current refresh token.
    #[graphql(guard = "Authenticated")]
    async fn renew_access_token(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<AccessTokenPayload> {
        let principal = context::principal(ctx).await?;
        let access = context::service(ctx)?
            .renew_access_token(&principal)
            .await
            .map_err(ApiError::from)?;
        Ok(access.into())
    }
}
