//! Passkeys: adding one to an account, signing in and up with one, the
//! passkey as a second factor, and managing them.

use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::context;
use super::errors::{self, ApiError, FieldErrors};
use super::guards::{Authenticated, HasRole};
use super::types::{AuthPayload, User};
use crate::auth::passkeys::{PasskeyAssertion, PasskeyChallenge, PasskeyStart, PasskeyView};
use crate::auth::{Actor, Principal};
use crate::domain::{ADMIN_ROLE, Email, PasskeyName, UserName};

/// A WebAuthn ceremony begun: pass `options` to the browser, then send its
/// answer with `challengeId` to the matching `finish…` field.
#[derive(SimpleObject)]
pub struct PasskeyChallengePayload {
    /// Finishes the ceremony, on any instance; good once, for 5 minutes.
    pub challenge_id: ID,
    /// The `publicKey` member of the options, in WebAuthn's JSON form: for a
    /// registration `PublicKeyCredentialCreationOptionsJSON` (pass it to
    /// `PublicKeyCredential.parseCreationOptionsFromJSON`, then
    /// `navigator.credentials.create({ publicKey })`); for a sign-in
    /// `PublicKeyCredentialRequestOptionsJSON`
    /// (`parseRequestOptionsFromJSON`, `navigator.credentials.get`).
    pub options: Json<serde_json::Value>,
    /// When the ceremony expires.
    pub expires_at: DateTime<Utc>,
}

impl From<PasskeyChallenge> for PasskeyChallengePayload {
    fn from(challenge: PasskeyChallenge) -> Self {
        Self {
            challenge_id: ID(challenge.challenge_id.to_string()),
            options: Json(challenge.options),
            expires_at: challenge.expires_at,
        }
    }
}

/// A passkey of the user's.
#[derive(SimpleObject)]
#[graphql(name = "Passkey")]
pub struct PasskeyObject {
    /// The passkey's id, for `renamePasskey` and `removePasskey`.
    pub id: ID,
    /// The user's name for it.
    pub name: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it last signed in.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether the authenticator says it is backed up (synced across the
    /// user's devices).
    pub backed_up: bool,
}

impl From<PasskeyView> for PasskeyObject {
    fn from(view: PasskeyView) -> Self {
        Self {
            id: ID(view.id.to_string()),
            name: view.name,
            created_at: view.created_at,
            last_used_at: view.last_used_at,
            backed_up: view.backed_up,
        }
    }
}

/// The answer to `startPasskeyRegistration`.
#[derive(InputObject)]
pub struct FinishPasskeyRegistrationInput {
    /// From `startPasskeyRegistration`.
    pub challenge_id: ID,
    /// The browser's `credential.toJSON()` of `navigator.credentials.create`.
    pub credential: Json<serde_json::Value>,
    /// What to call it ("YubiKey", "Work laptop"): 1 to 64 characters.
    /// Default: "Passkey".
    pub name: Option<String>,
}

/// A new account with a passkey alone.
#[derive(InputObject)]
pub struct StartPasskeySignUpInput {
    /// Display name, as `register`'s.
    pub name: String,
    /// E-mail address, as `register`'s; confirmed by mail as usual.
    pub email: String,
}

/// How a passkey sign-in starts: with neither field a usernameless sign-in
/// (the authenticator offers the passkeys it holds for this site).
#[derive(InputObject, Default)]
pub struct StartPasskeySignInInput {
    /// The account's address: its passkeys are offered.
    pub email: Option<String>,
    /// From a `SECOND_FACTOR_REQUIRED` error: the passkey is the second
    /// step; finish with `verifySecondFactor(input: { mfaToken, passkey })`.
    pub mfa_token: Option<String>,
}

/// The answer to a passkey sign-in or sign-up ceremony.
#[derive(InputObject)]
pub struct PasskeyCredentialInput {
    /// From the matching `start…` field.
    pub challenge_id: ID,
    /// The browser's `credential.toJSON()`.
    pub credential: Json<serde_json::Value>,
}

impl From<PasskeyCredentialInput> for PasskeyAssertion {
    fn from(input: PasskeyCredentialInput) -> Self {
        Self {
            challenge_id: input.challenge_id.0,
            credential: input.credential.0,
        }
    }
}

fn passkey_name(raw: Option<&str>) -> Result<PasskeyName, FieldErrors> {
    match raw {
        None => Ok(PasskeyName::unnamed()),
        Some(raw) => PasskeyName::parse(raw).map_err(|message| {
            let mut errors = FieldErrors::default();
            errors.add("name", message);
            errors
        }),
    }
}

fn passkey_id(id: &ID) -> Result<Uuid, ApiError> {
    id.parse::<Uuid>().map_err(|_| {
        let mut errors = FieldErrors::default();
        errors.add("id", "is not a passkey id");
        ApiError::from(errors)
    })
}

#[derive(Default)]
pub struct PasskeyMutation;

#[Object]
impl PasskeyMutation {
    /// Begins adding a passkey to the signed-in user's account. Requires an
    /// access token from a sign-in within the last 10 minutes (else
    /// `RECENT_SIGN_IN_REQUIRED`). The passkey is discoverable, verifies
    /// its user, and is not one the account has already.
    #[graphql(guard = "Authenticated")]
    async fn start_passkey_registration(
        &self,
        ctx: &Context<'_>,
    ) -> errors::Result<PasskeyChallengePayload> {
        let principal = context::principal(ctx).await?;
        let service = context::service(ctx)?;
        service
            .admit(&context::client(ctx), "startPasskeyRegistration")
            .await?;
        Ok(service.start_passkey_registration(&principal).await?.into())
    }

    /// Finishes adding the passkey; the address is told.
    /// `INVALID_PASSKEY` (with `extensions.reason`) when the answer does not
    /// verify, `PASSKEY_EXISTS` when the authenticator has it registered.
    #[graphql(guard = "Authenticated")]
    async fn finish_passkey_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ceremony, the browser's answer, and a name.")]
        input: FinishPasskeyRegistrationInput,
    ) -> errors::Result<PasskeyObject> {
        let principal = context::principal(ctx).await?;
        let (service, client) = (context::service(ctx)?, context::client(ctx));
        service.admit(&client, "finishPasskeyRegistration").await?;
        let name = passkey_name(input.name.as_deref())?;
        Ok(service
            .finish_passkey_registration(
                &principal,
                &input.challenge_id,
                input.credential.0,
                name,
                &client,
            )
            .await?
            .into())
    }

    /// Begins a new account with a passkey alone (no password).
    /// `EMAIL_TAKEN` when the address has an account.
    async fn start_passkey_sign_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account's name and e-mail.")] input: StartPasskeySignUpInput,
    ) -> errors::Result<PasskeyChallengePayload> {
        let mut errors = FieldErrors::default();
        let name = UserName::parse(&input.name)
            .map_err(|m| errors.add("name", m))
            .ok();
        let email = Email::parse(&input.email)
            .map_err(|m| errors.add("email", m))
            .ok();
        let (Some(name), Some(email)) = (name, email) else {
            return Err(errors.into());
        };
        Ok(context::service(ctx)?
            .start_passkey_sign_up(&name, &email, &context::client(ctx))
            .await?
            .into())
    }

    /// Finishes the sign-up: the account exists with the passkey, and is
    /// signed in with it (`amr` `hwk` or `swk`, `user`, `mfa`; `aal2`),
    /// unless its address must be confirmed first (`EMAIL_NOT_VERIFIED`).
    async fn finish_passkey_sign_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ceremony and the browser's answer.")] input: PasskeyCredentialInput,
    ) -> errors::Result<AuthPayload> {
        let outcome = context::service(ctx)?
            .finish_passkey_sign_up(
                &input.challenge_id,
                input.credential.0,
                &context::client(ctx),
            )
            .await?;
        context::answer_sign_in(ctx, outcome)
    }

    /// Begins a passkey sign-in: usernameless, for an address, or as the
    /// second step of a two-step sign-in (`mfaToken`). For an address with
    /// no passkey the answer looks the same, and no answer can finish it.
    async fn start_passkey_sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An address, an `mfaToken`, or neither.")] input: Option<
            StartPasskeySignInInput,
        >,
    ) -> errors::Result<PasskeyChallengePayload> {
        let input = input.unwrap_or_default();
        let start = match (input.email.as_deref(), input.mfa_token.as_deref()) {
            (None, None) => PasskeyStart::Discoverable,
            (Some(email), None) => PasskeyStart::Email(email),
            (None, Some(mfa_token)) => PasskeyStart::SecondFactor {
                mfa_token: mfa_token.trim(),
            },
            (Some(_), Some(_)) => {
                let mut errors = FieldErrors::default();
                errors.add("email", "give at most one of email and mfaToken");
                return Err(errors.into());
            }
        };
        Ok(context::service(ctx)?
            .start_passkey_sign_in(start, &context::client(ctx))
            .await?
            .into())
    }

    /// Finishes a passkey sign-in: a session whose `amr` is `hwk` (or `swk`
    /// for a synced passkey), `user` and `mfa`, `aal2`. A refused answer is
    /// `INVALID_PASSKEY` with `extensions.reason`; a ceremony that is
    /// unknown, used or expired is `INVALID_PASSKEY_CHALLENGE`.
    async fn finish_passkey_sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ceremony and the browser's answer.")] input: PasskeyCredentialInput,
    ) -> errors::Result<AuthPayload> {
        let outcome = context::service(ctx)?
            .finish_passkey_sign_in(input.into(), &context::client(ctx))
            .await?;
        context::answer_sign_in(ctx, outcome)
    }

    /// Renames one of the signed-in user's passkeys.
    #[graphql(guard = "Authenticated")]
    async fn rename_passkey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The passkey's id (`me.passkeys`).")] id: ID,
        #[graphql(desc = "Its new name: 1 to 64 characters.")] name: String,
    ) -> errors::Result<PasskeyObject> {
        let principal = context::principal(ctx).await?;
        let id = passkey_id(&id)?;
        let name = passkey_name(Some(&name))?;
        Ok(context::service(ctx)?
            .rename_passkey(&principal, id, name)
            .await?
            .into())
    }

    /// Removes one of the signed-in user's passkeys; the address is told.
    /// Requires a sign-in within the last 10 minutes; refused with
    /// `LAST_SIGN_IN_METHOD` when it is the account's only way in.
    #[graphql(guard = "Authenticated")]
    async fn remove_passkey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The passkey's id (`me.passkeys`).")] id: ID,
    ) -> errors::Result<User> {
        let principal = context::principal(ctx).await?;
        let id = passkey_id(&id)?;
        let (service, client) = (context::service(ctx)?, context::client(ctx));
        service.admit(&client, "removePasskey").await?;
        Ok(service
            .remove_passkey(&principal, id, &client)
            .await?
            .into())
    }

    /// Removes a user's passkey (support for a lost device): audited, and
    /// their address is told. Requires the `admin` role.
    #[graphql(guard = "HasRole(ADMIN_ROLE)")]
    async fn remove_user_passkey(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id.")] user_id: ID,
        #[graphql(desc = "The passkey's id (`user.passkeys`).")] id: ID,
    ) -> errors::Result<User> {
        let principal: Principal = context::principal(ctx).await?;
        let user = user_id.parse::<Uuid>().map_err(|_| {
            let mut errors = FieldErrors::default();
            errors.add("userId", "is not a user");
            ApiError::from(errors)
        })?;
        let id = passkey_id(&id)?;
        context::service(ctx)?
            .remove_user_passkey(
                Actor::Admin(principal.user_id),
                user,
                id,
                &context::client(ctx),
            )
            .await?
            .map(User::from)
            .ok_or_else(|| {
                let mut errors = FieldErrors::default();
                errors.add("id", "is not a passkey of this user");
                ApiError::from(errors)
            })
    }
}
