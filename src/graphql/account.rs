//! Accounts: register, login, the signed-in user, changing the password.

use async_graphql::{Context, Object};

use super::context;
use super::errors;
use super::guards::Authenticated;
use super::types::{AuthPayload, ChangePasswordInput, LoginInput, RegisterInput, User};

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in user. Requires an access token.
    #[graphql(guard = "Authenticated")]
    async fn me(&self, ctx: &Context<'_>) -> errors::Result<User> {
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
    ) -> errors::Result<AuthPayload> {
        let (service, client) = (context::service(ctx)?, context::client(ctx));
        // The IP's budget is charged before the input is even parsed: judging
        // a password costs CPU, on a hashing worker.
        let admitted = service.admit(&client, "register").await?;
        let policy = context::password_policy(ctx)?;
        let registration = service.judge(move || input.parse(&policy)).await??;
        let outcome = service.register(admitted, registration, &client).await?;
        context::answer_sign_in(ctx, outcome)
    }

    /// Signs in with e-mail and password; each login opens a new session.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The e-mail address and password.")] input: LoginInput,
    ) -> errors::Result<AuthPayload> {
        let (email, password) = input.parse()?;
        let outcome = context::service(ctx)?
            .login(&email, &password, &context::client(ctx))
            .await?;
        context::answer_sign_in(ctx, outcome)
    }

    /// Changes the caller's password. The current password is checked (and
    /// throttled as logins are); the new one is held to the registration
    /// policy. Every other session of the user ends; this one continues with
    /// the fresh pair returned here. Requires an access token.
    #[graphql(guard = "Authenticated")]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The current and the new password.")] input: ChangePasswordInput,
    ) -> errors::Result<AuthPayload> {
        let principal = context::principal(ctx).await?;
        let (service, client) = (context::service(ctx)?, context::client(ctx));
        let admitted = service.admit(&client, "changePassword").await?;
        let policy = context::password_policy(ctx)?;
        let account = principal.account.clone();
        let (current, new) = service
            .judge(move || input.parse(&policy, &account))
            .await??;
        let signed_in = service
            .change_password(admitted, &principal, &current, &new, &client)
            .await?;
        context::deliver(ctx, signed_in)
    }
}
