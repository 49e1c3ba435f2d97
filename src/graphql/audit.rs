//! The audit trail, readable: the caller's own security events, and every
//! event for admins.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::context;
use super::errors::{self, ApiError, FieldErrors};
use super::guards::{Authenticated, HasRole};
use super::pagination::{self, Paged};
use crate::auth::AuditEvent;
use crate::domain::ADMIN_ROLE;
use crate::domain::EventKind;

/// What happened.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "AuditEventKind", remote = "EventKind")]
pub enum Kind {
    /// An account was created (by `register`, or by the operator CLI).
    Registered,
    /// A sign-in: with the right password, or through a provider (the
    /// detail names it).
    LoginSucceeded,
    /// A sign-in refused: a wrong password, an unknown address, or a
    /// disabled account.
    LoginFailed,
    /// A refresh token was exchanged for a new pair.
    Refreshed,
    /// A refresh token was refused (expired, revoked, forged).
    RefreshRejected,
    /// A used refresh token came back: the session was ended.
    RefreshTokenReused,
    /// A sign-out.
    Logout,
    /// A sign-in or other credential call refused by a throttle.
    LoginThrottled,
    /// A session was ended by the user from another session, or by an
    /// admin.
    SessionRevoked,
    /// The password was changed.
    PasswordChanged,
    /// `changePassword` with a wrong current password.
    PasswordChangeFailed,
    /// An admin or the operator set the user's roles.
    RolesChanged,
    /// An admin or the operator disabled the account.
    UserDisabled,
    /// An admin or the operator enabled the account again.
    UserEnabled,
    /// A password reset link was asked for (whether or not one was sent).
    PasswordResetRequested,
    /// The password was set from a reset link; every session ended.
    PasswordReset,
    /// The address was confirmed from a verification link.
    EmailVerified,
    /// A new address was given; a confirmation link went to it.
    EmailChangeRequested,
    /// The new address was confirmed and replaced the old one.
    EmailChanged,
    /// A mail was not sent: too many to this address or from this IP within
    /// an hour.
    MailLimited,
    /// An account at a sign-in provider was linked (the detail names the
    /// provider, with `:claimed` when an unconfirmed account was taken
    /// back by the owner of its address).
    IdentityLinked,
    /// An account at a sign-in provider was unlinked.
    IdentityUnlinked,
    /// A provider's answer was refused (`provider:why`).
    ProviderSignInFailed,
    /// Two-step sign-in was turned on, or its recovery codes renewed.
    SecondFactorAdded,
    /// A first factor was proven; the second was asked for.
    SecondFactorRequired,
    /// A wrong second-factor code.
    SecondFactorFailed,
    /// A second factor was removed (by the user, or reset by an admin).
    SecondFactorRemoved,
    /// A passkey was added to the account.
    PasskeyAdded,
    /// A passkey was removed (by the user, or by an admin).
    PasskeyRemoved,
    /// A passkey's answer was refused (the detail says why).
    PasskeySignInFailed,
}

/// A security event of the caller's own account.
#[derive(SimpleObject, Clone)]
pub struct SecurityEvent {
    /// The event's id.
    pub id: ID,
    /// What happened.
    pub kind: Kind,
    /// When it happened.
    pub created_at: DateTime<Utc>,
    /// The session it concerns, if one.
    pub session_id: Option<ID>,
    /// The client IP address of the request; null when an admin caused it.
    pub ip: Option<String>,
    /// The `User-Agent` of the request; null when an admin caused it.
    pub user_agent: Option<String>,
    /// Whether an admin (or the operator) caused it, not the user.
    pub by_admin: bool,
}

impl From<AuditEvent> for SecurityEvent {
    fn from(event: AuditEvent) -> Self {
        // An admin's address and browser are not the user's to see.
        let by_admin = event.caused_by_someone_else();
        Self {
            id: ID(event.id.to_string()),
            kind: event.kind.into(),
            created_at: event.created_at,
            session_id: event.session_id.map(|id| ID(id.to_string())),
            ip: event.ip.filter(|_| !by_admin),
            user_agent: event.user_agent.filter(|_| !by_admin),
            by_admin,
        }
    }
}

/// An event of the audit trail, as admins see it.
#[derive(SimpleObject, Clone)]
#[graphql(name = "AuditEvent")]
pub struct AuditEventObject {
    /// The event's id.
    pub id: ID,
    /// What happened.
    pub kind: Kind,
    /// When it happened.
    pub created_at: DateTime<Utc>,
    /// The user it concerns; null for attempts on unknown addresses and
    /// refusals of a client IP.
    pub user_id: Option<ID>,
    /// The session it concerns, if one.
    pub session_id: Option<ID>,
    /// Who caused it when not the user: an admin's user id, or `operator`
    /// for the operator CLI.
    pub actor: Option<String>,
    /// The client IP address of the request.
    pub ip: Option<String>,
    /// The `User-Agent` of the request.
    pub user_agent: Option<String>,
    /// Why, in a word: `wrong_password`, `unknown_email`, `account`
    /// (throttle), `ip_limit:login`, the roles set, …
    pub detail: Option<String>,
}

impl From<AuditEvent> for AuditEventObject {
    fn from(event: AuditEvent) -> Self {
        Self {
            id: ID(event.id.to_string()),
            kind: event.kind.into(),
            created_at: event.created_at,
            user_id: event.user_id.map(|id| ID(id.to_string())),
            session_id: event.session_id.map(|id| ID(id.to_string())),
            actor: event.actor,
            ip: event.ip,
            user_agent: event.user_agent,
            detail: event.detail,
        }
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The caller's own security events, newest first: sign-ins (and failed
    /// or throttled attempts on the account), refreshes, reuse detected,
    /// sign-outs, password changes, sessions ended, and what admins did to
    /// the account. Requires an access token.
    #[graphql(
        guard = "Authenticated",
        complexity = "pagination::cost(first, child_complexity)"
    )]
    async fn my_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many events (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> errors::Result<Paged<SecurityEvent>> {
        let principal = context::principal(ctx).await?;
        let page = pagination::page(first, after)?;
        let events = context::service(ctx)?.my_events(&principal, page).await?;
        Ok(pagination::connection(events, page, |event| {
            (event.id, event.into())
        }))
    }

    /// Every account's events, newest first, optionally of one user or one
    /// kind. Requires the `admin` role.
    #[graphql(
        guard = "HasRole(ADMIN_ROLE)",
        complexity = "pagination::cost(first, child_complexity)"
    )]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many events (1 to 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only this user's events.")] user_id: Option<ID>,
        #[graphql(desc = "Only events of this kind.")] kind: Option<Kind>,
    ) -> errors::Result<Paged<AuditEventObject>> {
        let page = pagination::page(first, after)?;
        let user_id = match user_id {
            None => None,
            Some(id) => Some(id.parse::<Uuid>().map_err(|_| {
                let mut fields = FieldErrors::default();
                fields.add("userId", "is not a user id");
                ApiError::from(fields)
            })?),
        };
        let events = context::service(ctx)?
            .audit_events(user_id, kind.map(EventKind::from), page)
            .await?;
        Ok(pagination::connection(events, page, |event| {
            (event.id, event.into())
        }))
    }
}
