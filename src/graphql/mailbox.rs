//! The flows through the user's mailbox: password reset, address
//! verification, e-mail change.

use async_graphql::{Context, Object};

use super::context;
use super::errors::{self, ApiError, FieldErrors};
use super::guards::Authenticated;
use super::types::{AuthPayload, ChangeEmailInput, ResetPasswordInput, User};
use crate::auth::AuthError;
use crate::domain::{LinkToken, Password};

/// The longest address `requestPasswordReset` looks at.
const MAX_EMAIL_CHARS: usize = 255;

#[derive(Default)]
pub struct MailboxMutation;

#[Object]
impl MailboxMutation {
    /// Mails a single-use link to choose a new password (valid for
    /// `AUTHQL_PASSWORD_RESET_TTL`, 30 minutes by default) to the account
    /// with this address, within `AUTHQL_MAIL_POLL_INTERVAL` (2 s). Always
    /// `true`, after the same work (the request is recorded), whether or not
    /// an account has the address, so it reveals nothing. Links beyond
    /// `AUTHQL_MAIL_PER_ADDRESS_PER_HOUR` or `AUTHQL_MAIL_PER_IP_PER_HOUR`
    /// are not sent.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's e-mail address.")] email: String,
    ) -> errors::Result<bool> {
        let mut errors = FieldErrors::default();
        if email.trim().is_empty() {
            errors.add("email", "must not be empty");
        } else if email.chars().count() > MAX_EMAIL_CHARS {
            errors.add("email", "must be at most 255 characters");
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        context::service(ctx)?
            .request_password_reset(&email, &context::client(ctx))
            .await?;
        Ok(true)
    }

    /// Sets a new password from a reset link's token and signs in a new
    /// session. Every other session of the user ends, and a notice goes to
    /// the account's address. A used, expired or superseded token is
    /// `INVALID_TOKEN`.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The link's token and the new password.")] input: ResetPasswordInput,
    ) -> errors::Result<AuthPayload> {
        let (service, client) = (context::service(ctx)?, context::client(ctx));
        let admitted = service.admit(&client, "resetPassword").await?;
        let token =
            LinkToken::parse(&input.token).ok_or(ApiError::Auth(AuthError::InvalidToken))?;
        let account = service.password_reset_account(&token).await?;
        let policy = context::password_policy(ctx)?;
        let new_password = input.new_password;
        let password = service
            .judge(move || {
                Password::parse(
                    new_password,
                    policy.min_score,
                    &[account.name.as_str(), account.email.as_str()],
                )
            })
            .await?
            .map_err(|m| {
                let mut errors = FieldErrors::default();
                errors.add("newPassword", m);
                ApiError::from(errors)
            })?;
        let outcome = service
            .reset_password(admitted, &token, &password, &client)
            .await?;
        context::answer_sign_in(ctx, outcome)
    }

    /// Confirms an address with the token of a link mailed to it: after
    /// registration (the account's address is verified) or after
    /// `changeEmail` (the new address replaces the old one). Needs no
    /// access token: the link may be opened on another device. A used,
    /// expired or superseded token is `INVALID_TOKEN`.
    async fn verify_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token from the link (the `{token}` of `AUTHQL_VERIFY_URL`).")]
        token: String,
    ) -> errors::Result<User> {
        let token = LinkToken::parse(&token).ok_or(ApiError::Auth(AuthError::InvalidToken))?;
        let account = context::service(ctx)?
            .verify_email(&token, &context::client(ctx))
            .await?;
        Ok(account.into())
    }

    /// Mails the caller a new verification link (older ones stop working).
    /// `false` when the address is verified already. Requires an access
    /// token.
    #[graphql(guard = "Authenticated")]
    async fn resend_verification_email(&self, ctx: &Context<'_>) -> errors::Result<bool> {
        let principal = context::principal(ctx).await?;
        Ok(context::service(ctx)?
            .resend_verification_email(&principal, &context::client(ctx))
            .await?)
    }

    /// Starts moving the caller's account to another address: the password
    /// is checked (and throttled as logins are), a confirmation link goes to
    /// the new address and a notice to the current one. The address changes
    /// when the link is followed (`verifyEmail`). Requires an access token.
    #[graphql(guard = "Authenticated")]
    async fn change_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new address and the current password.")] input: ChangeEmailInput,
    ) -> errors::Result<bool> {
        let principal = context::principal(ctx).await?;
        let (new_email, password) = input.parse()?;
        if new_email.as_str() == principal.account.email {
            let mut errors = FieldErrors::default();
            errors.add("newEmail", "is the account's address already");
            return Err(errors.into());
        }
        context::service(ctx)?
            .change_email(&principal, &new_email, &password, &context::client(ctx))
            .await
            .map_err(|error| match error {
                AuthError::EmailTaken => {
                    let mut errors = FieldErrors::default();
                    errors.add("newEmail", "is already registered");
                    ApiError::EmailTaken(errors)
                }
                other => ApiError::from(other),
            })?;
        Ok(true)
    }
}
