//! The admin API: fields that act on other users' accounts. Every field
//! requires the `admin` role (in the access token and, still, in the
//! database).

use async_graphql::{Context, ID, Object};
use uuid::Uuid;

use super::context;
use super::errors::{self, ApiError, FieldErrors};
use super::guards::HasRole;
use super::pagination::{self, Paged};
use super::types::User;
use crate::auth::{Actor, Principal};
use crate::domain::{ADMIN_ROLE, Roles};

/// The longest `users(query:)` accepted.
const MAX_SEARCH_CHARS: usize = 255;

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// The user with this id, or null. Requires the `admin` role.
    #[graphql(guard = "HasRole(ADMIN_ROLE)")]
    async fn user(&self, ctx: &Context<'_>, id: ID) -> errors::Result<Option<User>> {
        let Ok(id) = id.parse::<Uuid>() else {
            return Ok(None);
        };
        let account = context::service(ctx)?.account(id).await?;
        Ok(account.map(User::from))
    }

    /// Every user, newest first, a page at a time. Requires the `admin`
    /// role.
    #[graphql(
        guard = "HasRole(ADMIN_ROLE)",
        complexity = "pagination::cost(first, child_complexity)"
    )]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many users (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        #[graphql(
            desc = "Only users whose name or e-mail address contains this text, in any letter case."
        )]
        query: Option<String>,
    ) -> errors::Result<Paged<User>> {
        let search = query.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
        if search
            .as_ref()
            .is_some_and(|q| q.chars().count() > MAX_SEARCH_CHARS)
        {
            let mut fields = FieldErrors::default();
            fields.add("query", format!("at most {MAX_SEARCH_CHARS} characters"));
            return Err(fields.into());
        }
        let page = pagination::page(first, after)?;
        let users = context::service(ctx)?
            .users(search.as_deref(), page)
            .await?;
        Ok(pagination::connection(users, page, |account| {
            (account.id, account.into())
        }))
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Replaces a user's roles (`user` is always kept). They are in the
    /// user's next access token. Refused with `LAST_ADMIN` if nobody would
    /// keep the `admin` role. Requires the `admin` role.
    #[graphql(guard = "HasRole(ADMIN_ROLE)")]
    async fn set_user_roles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id.")] id: ID,
        #[graphql(desc = "Role names: 1 to 64 of a-z, 0-9, _ - : .")] roles: Vec<String>,
    ) -> errors::Result<User> {
        let actor = admin(ctx).await?;
        let roles = Roles::parse(&roles).map_err(|message| {
            let mut fields = FieldErrors::default();
            fields.add("roles", message);
            ApiError::from(fields)
        })?;
        let id = parse_user_id(&id)?;
        let account = context::service(ctx)?
            .set_user_roles(actor, id, roles, &context::client(ctx))
            .await?
            .ok_or_else(unknown_user)?;
        Ok(account.into())
    }

    /// Ends every session of a user, on every instance; returns how many.
    /// Requires the `admin` role.
    #[graphql(guard = "HasRole(ADMIN_ROLE)")]
    async fn revoke_user_sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id.")] id: ID,
    ) -> errors::Result<i32> {
        let actor = admin(ctx).await?;
        let id = parse_user_id(&id)?;
        let revoked = context::service(ctx)?
            .revoke_user_sessions(actor, id, &context::client(ctx))
            .await?;
        Ok(i32::try_from(revoked).unwrap_or(i32::MAX))
    }

    /// Disables a user: every session ends at once, and logins are refused
    /// with `ACCOUNT_DISABLED` (said only after the right password). Refused
    /// with `LAST_ADMIN` for the last enabled admin. Requires the `admin`
    /// role.
    #[graphql(guard = "HasRole(ADMIN_ROLE)")]
    async fn disable_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id.")] id: ID,
    ) -> errors::Result<User> {
        let actor = admin(ctx).await?;
        let id = parse_user_id(&id)?;
        let account = context::service(ctx)?
            .disable_user(actor, id, &context::client(ctx))
            .await?
            .ok_or_else(unknown_user)?;
        Ok(account.into())
    }

    /// Enables a disabled user again (their sessions stay ended). Requires
    /// the `admin` role.
    #[graphql(guard = "HasRole(ADMIN_ROLE)")]
    async fn enable_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id.")] id: ID,
    ) -> errors::Result<User> {
        let actor = admin(ctx).await?;
        let id = parse_user_id(&id)?;
        let account = context::service(ctx)?
            .enable_user(actor, id, &context::client(ctx))
            .await?
            .ok_or_else(unknown_user)?;
        Ok(account.into())
    }

    /// Turns a user's second factors off, recovery codes included (for a
    /// user who lost their authenticator app and codes): audited, and their
    /// address is told. Requires the `admin` role.
    #[graphql(guard = "HasRole(ADMIN_ROLE)")]
    async fn reset_second_factors(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id.")] user_id: ID,
    ) -> errors::Result<User> {
        let actor = admin(ctx).await?;
        let id = parse_user_id(&user_id)?;
        let account = context::service(ctx)?
            .reset_second_factors(actor, id, &context::client(ctx))
            .await?
            .ok_or_else(unknown_user)?;
        Ok(account.into())
    }
}

fn unknown_user() -> ApiError {
    let mut fields = FieldErrors::default();
    fields.add("id", "is not a user");
    ApiError::from(fields)
}

fn parse_user_id(id: &ID) -> Result<Uuid, ApiError> {
    id.parse::<Uuid>().map_err(|_| unknown_user())
}

/// The admin making the request, as the audit trail names them.
async fn admin(ctx: &Context<'_>) -> Result<Actor, ApiError> {
    let principal: Principal = context::principal(ctx).await?;
    Ok(Actor::Admin(principal.user_id))
}
