//! What resolvers ask of a request's context: the service, the client, and
//! the principal. Missing data is an error value, never a panic.

use async_graphql::Context;

use super::errors::ApiError;
use super::refresh_cookie::{CookieToken, RefreshCookie};
use super::types::AuthPayload;
use crate::auth::{
    AuthError, AuthService, ClientInfo, Principal, RequestCredentials, SignInOutcome, SignedIn,
};
use crate::config::PasswordPolicy;

pub fn service<'a>(ctx: &Context<'a>) -> Result<&'a AuthService, ApiError> {
    ctx.data_opt::<std::sync::Arc<AuthService>>()
        .map(AsRef::as_ref)
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

fn refresh_cookie(ctx: &Context<'_>) -> Result<RefreshCookie, ApiError> {
    ctx.data_opt::<RefreshCookie>()
        .copied()
        .ok_or(ApiError::Misconfigured("RefreshCookie"))
}

/// Where a request's refresh token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    Argument,
    Cookie,
    Nowhere,
}

/// The refresh token a mutation acts on: its argument or, without one, the
/// request's refresh cookie. A cookie sent from an untrusted origin is
/// refused (`ORIGIN_NOT_ALLOWED`) rather than ignored, so the forgery is
/// visible.
pub fn refresh_token(
    ctx: &Context<'_>,
    argument: Option<String>,
) -> Result<(Option<String>, TokenSource), ApiError> {
    if let Some(token) = argument.filter(|t| !t.trim().is_empty()) {
        return Ok((Some(token), TokenSource::Argument));
    }
    match ctx.data_opt::<CookieToken>() {
        Some(CookieToken::Present(token)) => Ok((Some(token.clone()), TokenSource::Cookie)),
        Some(CookieToken::FromForeignOrigin) => Err(ApiError::ForeignOrigin),
        Some(CookieToken::Absent) | None => Ok((None, TokenSource::Nowhere)),
    }
}

/// The payload of a sign-in, with the refresh token where the transport
/// puts it: a `Set-Cookie` header, the body, or both.
pub fn deliver(ctx: &Context<'_>, signed_in: SignedIn) -> Result<AuthPayload, ApiError> {
    let cookie = refresh_cookie(ctx)?;
    if cookie.transport.uses_cookie() {
        ctx.append_http_header(
            "set-cookie",
            cookie.set(&signed_in.refresh_token, signed_in.refresh_expires_at),
        );
    }
    let mut payload = AuthPayload::from(signed_in);
    if !cookie.transport.uses_body() {
        payload.refresh_token = None;
    }
    Ok(payload)
}

/// What a sign-in answers, whatever way the user proved who they are.
pub fn answer_sign_in(ctx: &Context<'_>, outcome: SignInOutcome) -> Result<AuthPayload, ApiError> {
    match outcome {
        SignInOutcome::SignedIn(signed_in) => deliver(ctx, signed_in),
        SignInOutcome::SecondFactorRequired(challenge) => {
            Err(ApiError::SecondFactorRequired(challenge))
        }
    }
}

/// Deletes the refresh cookie, when the transport uses one.
pub fn clear_refresh_cookie(ctx: &Context<'_>) -> Result<(), ApiError> {
    let cookie = refresh_cookie(ctx)?;
    if cookie.transport.uses_cookie() {
        ctx.append_http_header("set-cookie", cookie.clear());
    }
    Ok(())
}
