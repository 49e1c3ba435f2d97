//! Sessions and their tokens: the caller's sessions, refresh, renew, logout
//! of any scope, and ending one session.

use async_graphql::{Context, ID, Object};
use uuid::Uuid;

use super::context::{self, TokenSource};
use super::errors;
use super::guards::Authenticated;
use super::pagination::{self, Paged};
use super::types::{AccessTokenPayload, AuthPayload, LogoutPayload, LogoutScopeInput, Session};
use crate::auth::AuthError;

#[derive(Default)]
pub struct SessionQuery;

#[Object]
impl SessionQuery {
    /// The session the access token belongs to. Requires an access token.
    #[graphql(guard = "Authenticated")]
    async fn session(&self, ctx: &Context<'_>) -> errors::Result<Session> {
        let principal = context::principal(ctx).await?;
        let view = context::service(ctx)?.session(&principal).await?;
        Ok(view.into())
    }

    /// The caller's live sessions (one per sign-in), newest first, a page at
    /// a time, with `current` marking the one of this access token. A user
    /// keeps at most `AUTHQL_MAX_SESSIONS_PER_USER` (100) live sessions.
    /// Requires an access token.
    #[graphql(
        guard = "Authenticated",
        complexity = "pagination::cost(first, child_complexity)"
    )]
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many sessions (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> errors::Result<Paged<Session>> {
        let principal = context::principal(ctx).await?;
        let page = pagination::page(first, after)?;
        let views = context::service(ctx)?.sessions(&principal, page).await?;
        Ok(pagination::connection(views, page, |view| {
            (view.id, view.into())
        }))
    }
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Exchanges a refresh token for a new access and refresh token of the
    /// same session. Without the argument, the refresh cookie is used. The
    /// old refresh token is used up; presented again it returns the
    /// session's current pair within the grace period, or its unused
    /// successor, and otherwise revokes the whole session (see the README's
    /// token model).
    async fn refresh(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The refresh token from the last `login`, `register` or `refresh`; omit it to use the refresh cookie."
        )]
        refresh_token: Option<String>,
    ) -> errors::Result<AuthPayload> {
        let (token, source) = context::refresh_token(ctx, refresh_token)?;
        match context::service(ctx)?
            .refresh(token.as_deref(), &context::client(ctx))
            .await
        {
            Ok(signed_in) => context::deliver(ctx, signed_in),
            Err(error) => {
                // A cookie that cannot refresh any more is of no use to keep.
                if source == TokenSource::Cookie && matches!(error, AuthError::InvalidRefreshToken)
                {
                    context::clear_refresh_cookie(ctx)?;
                }
                Err(error.into())
            }
        }
    }

    /// Ends sessions of the caller: `LOCAL` the session of the Bearer access
    /// token (or, without a usable one, of the given refresh token or the
    /// refresh cookie), `OTHERS` every other session of the user, `GLOBAL`
    /// all of them. Every refresh and access token of an ended session stops
    /// working, on every instance.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "A refresh token of the session, used when no valid access token is sent; omit it to use the refresh cookie."
        )]
        refresh_token: Option<String>,
        #[graphql(desc = "Which sessions to end.", default)] scope: LogoutScopeInput,
    ) -> errors::Result<LogoutPayload> {
        let authenticated = context::authentication(ctx).await?;
        let (token, _) = match authenticated {
            // With a valid access token no refresh token is needed.
            Ok(_) => (None, TokenSource::Nowhere),
            Err(_) => context::refresh_token(ctx, refresh_token)?,
        };
        let revoked = context::service(ctx)?
            .logout(
                authenticated,
                token.as_deref(),
                scope.into(),
                &context::client(ctx),
            )
            .await?;
        if scope != LogoutScopeInput::Others {
            context::clear_refresh_cookie(ctx)?;
        }
        Ok(LogoutPayload {
            revoked_sessions: i32::try_from(revoked).unwrap_or(i32::MAX),
        })
    }

    /// Ends one of the caller's sessions, such as a lost phone's. `true`
    /// when this call ended it; `false` when the id is not a live session of
    /// the caller's. Requires an access token.
    #[graphql(guard = "Authenticated")]
    async fn revoke_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session's `id`, as `sessions` lists it.")] id: ID,
    ) -> errors::Result<bool> {
        let principal = context::principal(ctx).await?;
        // A malformed id is as unknown as any other.
        let Ok(session_id) = id.parse::<Uuid>() else {
            return Ok(false);
        };
        let revoked = context::service(ctx)?
            .revoke_own_session(&principal, session_id, &context::client(ctx))
            .await?;
        if revoked && session_id == principal.session_id {
            context::clear_refresh_cookie(ctx)?;
        }
        Ok(revoked)
    }

    /// A new access token for the current session, for a still-valid access
    /// token. It never outlives the session's current refresh token, nor the
    /// session's last refresh by more than two access-token lifetimes:
    /// after that, `UNAUTHENTICATED` (reason `expired`) until the client
    /// refreshes.
    #[graphql(guard = "Authenticated")]
    async fn renew_access_token(&self, ctx: &Context<'_>) -> errors::Result<AccessTokenPayload> {
        let principal = context::principal(ctx).await?;
        let access = context::service(ctx)?
            .renew_access_token(&principal)
            .await?;
        Ok(access.into())
    }
}
