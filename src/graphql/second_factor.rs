//! Two-step sign-in: enrolling an authenticator app, and the second step of
//! a sign-in.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::context;
use super::errors::{self, FieldErrors};
use super::guards::Authenticated;
use super::passkeys::PasskeyCredentialInput;
use super::types::{AuthPayload, User};
use crate::auth::second_factor::{FactorView, SecondFactorCode, TotpEnrollment};

/// An authenticator app being set up: show `otpauthUri` as a QR code (or
/// `secret` to type in), then confirm with a code from the app.
#[derive(SimpleObject)]
pub struct TotpEnrollmentPayload {
    /// The factor, for `confirmTotp`.
    pub factor_id: ID,
    /// The secret in base32.
    pub secret: String,
    /// `otpauth://totp/…` (SHA-1, 6 digits, 30 s).
    pub otpauth_uri: String,
    /// Until when it may be confirmed.
    pub expires_at: DateTime<Utc>,
}

impl From<TotpEnrollment> for TotpEnrollmentPayload {
    fn from(enrollment: TotpEnrollment) -> Self {
        Self {
            factor_id: ID(enrollment.factor_id.to_string()),
            secret: enrollment.secret.to_string(),
            otpauth_uri: enrollment.otpauth_uri.to_string(),
            expires_at: enrollment.expires_at,
        }
    }
}

/// Recovery codes: each signs in once in place of a code from the app.
/// Shown once; keep them somewhere safe.
#[derive(SimpleObject)]
pub struct RecoveryCodes {
    /// Ten codes written `xxxx-xxxx-xxxx` (case and dashes do not matter).
    pub codes: Vec<String>,
}

/// A confirmed second factor.
#[derive(SimpleObject)]
pub struct SecondFactorView {
    /// The factor's id, for `removeSecondFactor`.
    pub id: ID,
    /// `TOTP`.
    pub kind: String,
    /// When it was set up.
    pub created_at: DateTime<Utc>,
    /// When a code of it was last accepted.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<FactorView> for SecondFactorView {
    fn from(factor: FactorView) -> Self {
        Self {
            id: ID(factor.id.to_string()),
            kind: factor.kind.to_ascii_uppercase(),
            created_at: factor.created_at,
            last_used_at: factor.last_used_at,
        }
    }
}

/// Confirms an authenticator app.
#[derive(InputObject)]
pub struct ConfirmTotpInput {
    /// From `enrollTotp`.
    pub factor_id: ID,
    /// The app's current 6-digit code.
    pub code: String,
}

/// The second step of a sign-in: exactly one of the codes or a passkey.
#[derive(InputObject)]
pub struct VerifySecondFactorInput {
    /// From the `SECOND_FACTOR_REQUIRED` error's `extensions.mfaToken`.
    pub mfa_token: String,
    /// The authenticator app's 6-digit code.
    pub totp_code: Option<String>,
    /// One of the recovery codes.
    pub recovery_code: Option<String>,
    /// A passkey's answer to `startPasskeySignIn(input: { mfaToken })`.
    pub passkey: Option<PasskeyCredentialInput>,
}

impl VerifySecondFactorInput {
    fn parse(self) -> Result<(String, SecondFactorCode), FieldErrors> {
        let mut errors = FieldErrors::default();
        let code = match (self.totp_code, self.recovery_code, self.passkey) {
            (Some(code), None, None) => Some(SecondFactorCode::Totp(code)),
            (None, Some(code), None) => Some(SecondFactorCode::Recovery(code)),
            (None, None, Some(passkey)) => Some(SecondFactorCode::Passkey(passkey.into())),
            _ => {
                errors.add(
                    "totpCode",
                    "give exactly one of totpCode, recoveryCode and passkey",
                );
                None
            }
        };
        match code {
            Some(code) if errors.is_empty() => Ok((self.mfa_token, code)),
            _ => Err(errors),
        }
    }
}

#[derive(Default)]
pub struct SecondFactorMutation;

#[Object]
impl SecondFactorMutation {
    /// Starts setting up an authenticator app (two-step sign-in). Requires an
    /// access token from a sign-in within the last 10 minutes (else
    /// `RECENT_SIGN_IN_REQUIRED`); the factor is pending until `confirmTotp`.
    #[graphql(guard = "Authenticated")]
    async fn enroll_totp(&self, ctx: &Context<'_>) -> errors::Result<TotpEnrollmentPayload> {
        let principal = context::principal(ctx).await?;
        let service = context::service(ctx)?;
        service.admit(&context::client(ctx), "enrollTotp").await?;
        Ok(service.enroll_totp(&principal).await?.into())
    }

    /// Confirms the app with its current code: two-step sign-in is on from
    /// now. Returns 10 recovery codes, shown this once. The code used here
    /// cannot sign in.
    #[graphql(guard = "Authenticated")]
    async fn confirm_totp(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The factor and the app's current code.")] input: ConfirmTotpInput,
    ) -> errors::Result<RecoveryCodes> {
        let principal = context::principal(ctx).await?;
        let (service, client) = (context::service(ctx)?, context::client(ctx));
        service.admit(&client, "confirmTotp").await?;
        let factor_id = input.factor_id.parse::<uuid::Uuid>().map_err(|_| {
            let mut errors = FieldErrors::default();
            errors.add("factorId", "is not a factor id");
            errors
        })?;
        let codes = service
            .confirm_totp(&principal, factor_id, &input.code, &client)
            .await?;
        Ok(RecoveryCodes {
            codes: codes.iter().map(|code| code.to_string()).collect(),
        })
    }

    /// A new set of 10 recovery codes; the old set stops working. Requires a
    /// sign-in within the last 10 minutes that included the second factor
    /// (else `RECENT_SIGN_IN_REQUIRED`).
    #[graphql(guard = "Authenticated")]
    async fn regenerate_recovery_codes(&self, ctx: &Context<'_>) -> errors::Result<RecoveryCodes> {
        let principal = context::principal(ctx).await?;
        let (service, client) = (context::service(ctx)?, context::client(ctx));
        let codes = service
            .regenerate_recovery_codes(&principal, &client)
            .await?;
        Ok(RecoveryCodes {
            codes: codes.iter().map(|code| code.to_string()).collect(),
        })
    }

    /// Removes a second factor (with the last one, the recovery codes go
    /// and sign-in takes one step again); the address is told. Requires a
    /// sign-in within the last 10 minutes that included the second factor.
    #[graphql(guard = "Authenticated")]
    async fn remove_second_factor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The factor's id (`me.secondFactors`).")] id: ID,
    ) -> errors::Result<User> {
        let principal = context::principal(ctx).await?;
        let (service, client) = (context::service(ctx)?, context::client(ctx));
        let id = id.parse::<uuid::Uuid>().map_err(|_| {
            let mut errors = FieldErrors::default();
            errors.add("id", "is not a factor id");
            errors
        })?;
        Ok(service
            .remove_second_factor(&principal, id, &client)
            .await?
            .into())
    }

    /// The second step of a sign-in that answered `SECOND_FACTOR_REQUIRED`:
    /// the `mfaToken` and a code open the session (`amr` gains `otp` and
    /// `mfa`, `aal` is `aal2`). 5 wrong codes use the token up; 10 for an
    /// account lock its second-factor checks for 15 minutes
    /// (`TOO_MANY_REQUESTS`). A code is accepted once.
    async fn verify_second_factor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The `mfaToken` and exactly one code.")] input: VerifySecondFactorInput,
    ) -> errors::Result<AuthPayload> {
        let (token, code) = input.parse()?;
        let outcome = context::service(ctx)?
            .verify_second_factor(token.trim(), code, &context::client(ctx))
            .await?;
        context::answer_sign_in(ctx, outcome)
    }
}
