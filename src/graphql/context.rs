//! What resolvers ask of a request's context: the service, the client, and
//! the principal. Missing data is an error value, never a panic.

use async_graphql::Context;

use super::errors::ApiError;
use crate::auth::{AuthError, AuthService, ClientInfo, Principal, RequestCredentials};
use crate::config::PasswordPolicy;

pub fn service<'a>(ctx: &Context<'a>) -> Result<&'a AuthService, ApiError> {
    ctx.data_opt::<AuthService>()
        .ok_or(ApiError::Misconfigured("AuthService"))
}

/// The policy new passwords are held to.
pub fn password_policy(ctx: &Context<'_>) -> Result<PasswordPolicy, ApiError> {
    ctx.data_opt::<PasswordPolicy>()
        .copied()
        .ok_or(ApiError::Misconfigured("PasswordPolicy"))
}

pub fn client(ctx: &Context<'_>) -> ClientInfo {
    ctx.data_opt::<ClientInfo>().cloned().unwrap_or_default()
}

/// Who the request's access token authenticates, or why it does not.
pub async fn authentication(ctx: &Context<'_>) -> Result<Result<Principal, AuthError>, ApiError> {
    let service = service(ctx)?;
    let credentials = ctx
        .data_opt::<RequestCredentials>()
        .ok_or(ApiError::Misconfigured("RequestCredentials"))?;
    Ok(credentials.principal(service).await)
}

/// The signed-in principal; an `UNAUTHENTICATED` (or `TOKEN_MISUSED`) error otherwise.
pub async fn principal(ctx: &Context<'_>) -> Result<Principal, ApiError> {
    Ok(authentication(ctx).await??)
}
