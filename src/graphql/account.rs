//! Accounts: register, login, and the signed-in user.

use async_graphql::{Context, Object};

use super::context;
use super::errors::ApiError;
use super::guards::Authenticated;
use super::types::{AuthPayload, LoginInput, RegisterInput, User};

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in user. Requires an access token.
    #[graphql(guard = "Authenticated")]
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let principal = context::principal(ctx).await?;
        Ok(principal.account.as_ref().clone().into())
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates an account with the role `user` and signs it in (a new session).
    async fn register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account's name, e-mail and password.")] input: RegisterInput,
    ) -> async_graphql::Result<AuthPayload> {
        let policy = context::password_policy(ctx)?;
        let registration = input.parse(&policy).map_err(ApiError::from)?;
        let signed_in = context::service(ctx)?
            .register(registration, &context::client(ctx))
            .await
            .map_err(ApiError::from)?;
        Ok(signed_in.into())
    }

    /// Signs in with e-mail and password; each login opens a new session.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The e-mail address and password.")] input: LoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        let (email, password) = input.parse().map_err(ApiError::from)?;
        let signed_in = context::service(ctx)?
            .login(&email, &password, &context::client(ctx))
            .await
            .map_err(ApiError::from)?;
        Ok(signed_in.into())
    }
}
