//! The audit trail: security events written beside the changes they record,
//! and read back by their user (`myEvents`) and by admins (`auditEvents`).

use std::borrow::Cow;

use anyhow::Context;
use chrono::{DateTime, Utc};
use entity::auth_event;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::password_sign_in::Confirming;
use super::principal::Principal;
use super::session_core::EndReason;
use super::sign_in::{Proof, SignInMethod};
use super::{AuthError, AuthService, ClientInfo, LogoutScope};
use crate::domain::EventKind;
use crate::domain::{Page, Slice};
use crate::mail::MailKind;
use crate::store::events::{EventFilter, NewEvent};
use crate::store::{self};

/// Who acts on another user's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A user with the admin role, through the admin API.
    Admin(Uuid),
    /// Whoever runs the operator CLI (`authql user …`) on the server.
    Operator,
}

/// `auth_events.actor` of the operator CLI.
const OPERATOR: &str = "operator";

impl Actor {
    /// How the actor is stored in `auth_events.actor`.
    fn stored(self) -> String {
        match self {
            Self::Admin(id) => id.to_string(),
            Self::Operator => OPERATOR.to_owned(),
        }
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Admin(id) => write!(f, "admin {id}"),
            Self::Operator => f.write_str("the operator CLI"),
        }
    }
}

/// One event of the audit trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub kind: EventKind,
    pub created_at: DateTime<Utc>,
    pub user_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    /// The client IP of the request that caused it.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Who caused it when not its user: an admin's id, or `operator`.
    pub actor: Option<String>,
    /// Why, in a word (`wrong_password`, `by_admin`, …).
    pub detail: Option<String>,
}

impl AuditEvent {
    /// Whether an admin or the operator, not the user, caused it.
    pub fn caused_by_someone_else(&self) -> bool {
        self.actor.is_some()
    }

    fn from_row(row: auth_event::Model) -> Option<Self> {
        Some(Self {
            // The store reads only kinds this version knows.
            kind: EventKind::parse(&row.kind)?,
            id: row.id,
            created_at: row.created_at,
            user_id: row.user_id,
            session_id: row.session_id,
            ip: row.ip,
            user_agent: row.user_agent,
            actor: row.actor,
            detail: row.detail,
        })
    }
}

/// Why a login was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginFailure {
    UnknownEmail,
    WrongPassword,
    /// Said only after the right password.
    AccountDisabled,
    /// Said only after the right password; a fresh link was mailed.
    EmailNotVerified,
}

/// Which throttle refused a credential request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Throttle<'a> {
    /// The address's failed attempts (a login).
    Account,
    /// The address's failed attempts, while a signed-in user confirmed
    /// `Confirming` with their password.
    Confirming(Confirming),
    /// The client IP's budget, spent on the field named.
    Ip { field: &'a str },
}

/// Why a genuine refresh token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshRefusal {
    Expired,
    /// No such row, or one that does not match the token's claims.
    Unknown,
    Revoked,
    UnknownSessionOrUser,
    SessionRevoked,
    AccountDisabled,
    SessionExpired,
    SessionIdle,
}

/// Why a used refresh token got a pair again (see `rotation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replay {
    /// Forgiving: the session's newest pair, within the grace period.
    NewestWithinGrace,
    /// Forgiving: the token's successor, which was never used.
    SuccessorNeverUsed,
    /// Strict: the direct successor, within the grace period.
    RetryWithinGrace,
}

/// When a used refresh token presented again was judged reuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reuse {
    /// Within the grace period, but its successor was used already.
    SuccessorAlreadyUsed,
    AfterGrace,
}

/// What became of a request for a link by mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkRequest {
    UnknownEmail,
    AccountDisabled,
    Sent,
    /// A sending limit was reached.
    Limited,
}

/// One event of the audit trail, with the facts it records. Each is one
/// row: its kind, the user and session it concerns, and a detail word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A session opened after the user proved who they are by `proof`
    /// (the provider, if any, is the detail).
    SignedIn {
        user_id: Uuid,
        session_id: Uuid,
        proof: Proof<'a>,
    },
    /// An account created without a session: by registering (its address
    /// must be confirmed first) or through `provider`.
    Registered {
        user_id: Uuid,
        provider: Option<&'a str>,
    },
    /// An account at `provider` was linked to the user; `claimed` when the
    /// account's unconfirmed address was taken back by its owner.
    IdentityLinked {
        user_id: Uuid,
        provider: &'a str,
        claimed: bool,
    },
    IdentityUnlinked {
        user_id: Uuid,
        session_id: Uuid,
        provider: &'a str,
    },
    /// Two-step sign-in was turned on.
    SecondFactorAdded {
        user_id: Uuid,
        session_id: Uuid,
    },
    /// A new set of recovery codes replaced the old.
    RecoveryCodesRegenerated {
        user_id: Uuid,
        session_id: Uuid,
    },
    /// The user removed a second factor.
    SecondFactorRemoved {
        user_id: Uuid,
        session_id: Uuid,
    },
    /// A first factor was proven by `method`; the second is asked for.
    SecondFactorRequested {
        user_id: Uuid,
        method: SignInMethod,
    },
    /// A wrong second-factor code; `locked` when it locked the account's
    /// second-factor checks.
    SecondFactorFailed {
        user_id: Uuid,
        locked: bool,
    },
    /// A passkey was added; `session_id` is `None` for a sign-up's first.
    PasskeyAdded {
        user_id: Uuid,
        session_id: Option<Uuid>,
    },
    /// The user removed a passkey.
    PasskeyRemoved {
        user_id: Uuid,
        session_id: Uuid,
    },
    /// A passkey's answer was refused: `reason` is one of the closed set of
    /// `INVALID_PASSKEY`'s reasons.
    PasskeyRefused {
        user_id: Option<Uuid>,
        reason: &'static str,
    },
    /// A provider's answer was refused.
    ProviderSignInFailed {
        user_id: Option<Uuid>,
        provider: &'a str,
        why: ProviderFailure,
    },
    LoginFailed {
        user_id: Option<Uuid>,
        why: LoginFailure,
    },
    Throttled {
        user_id: Option<Uuid>,
        session_id: Option<Uuid>,
        by: Throttle<'a>,
    },
    Refreshed {
        user_id: Uuid,
        session_id: Uuid,
        /// `None` for a rotation; why otherwise.
        replay: Option<Replay>,
    },
    RefreshRejected {
        user_id: Option<Uuid>,
        session_id: Option<Uuid>,
        why: RefreshRefusal,
    },
    RefreshTokenReused {
        user_id: Uuid,
        session_id: Uuid,
        seen: Reuse,
    },
    LoggedOut {
        user_id: Uuid,
        session_id: Uuid,
        scope: LogoutScope,
    },
    /// A session ended by its owner from another session.
    SessionRevoked {
        user_id: Uuid,
        session_id: Uuid,
    },
    PasswordChanged {
        user_id: Uuid,
        session_id: Uuid,
    },
    /// A signed-in user confirmed `confirming` with a wrong password.
    WrongPassword {
        user_id: Uuid,
        session_id: Uuid,
        confirming: Confirming,
    },
    PasswordResetRequested {
        user_id: Option<Uuid>,
        outcome: LinkRequest,
    },
    EmailVerified {
        user_id: Uuid,
    },
    EmailChanged {
        user_id: Uuid,
    },
    EmailChangeRequested {
        user_id: Uuid,
        session_id: Uuid,
        outcome: LinkRequest,
    },
    /// A mail of `mail`'s kind was not sent: the `limit` (`address` or `ip`)
    /// was reached.
    MailLimited {
        user_id: Uuid,
        mail: MailKind,
        limit: &'static str,
    },
}

/// Why a provider's answer was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderFailure {
    /// The provider said no (the user cancelled, or it failed).
    Refused,
    /// No code in the answer.
    NoCode,
    /// The provider refused to trade the code.
    CodeRefused,
    /// An ID token or user info that did not verify.
    InvalidAnswer,
    Unreachable,
    /// An unvouched address that belongs to an account.
    AccountExists,
    SignUpClosed,
    /// The identity belongs to another user.
    IdentityTaken,
    /// No usable address for a new account.
    NoEmail,
    AccountDisabled,
    Unexpected,
}

impl ProviderFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refused => "refused",
            Self::NoCode => "no_code",
            Self::CodeRefused => "code_refused",
            Self::InvalidAnswer => "invalid_answer",
            Self::Unreachable => "unreachable",
            Self::AccountExists => "account_exists",
            Self::SignUpClosed => "sign_up_closed",
            Self::IdentityTaken => "identity_taken",
            Self::NoEmail => "no_email",
            Self::AccountDisabled => "account_disabled",
            Self::Unexpected => "unexpected",
        }
    }
}

/// What an admin or the operator did to a user's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action<'a> {
    CreatedAccount,
    SetRoles(&'a [String]),
    EndedSessions,
    Disabled,
    Enabled,
    /// Rewrote the stored address in its canonical spelling.
    RespelledEmail,
    /// Turned the user's second factors off.
    ResetSecondFactors,
    /// Removed one of the user's passkeys.
    RemovedPasskey,
}

impl LoginFailure {
    fn as_str(self) -> &'static str {
        match self {
            Self::UnknownEmail => "unknown_email",
            Self::WrongPassword => "wrong_password",
            Self::AccountDisabled => "account_disabled",
            Self::EmailNotVerified => "email_not_verified",
        }
    }
}

impl RefreshRefusal {
    fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Unknown => "unknown",
            Self::Revoked => "revoked",
            Self::UnknownSessionOrUser => "unknown_session_or_user",
            Self::SessionRevoked => "session_revoked",
            Self::AccountDisabled => "account_disabled",
            Self::SessionExpired => "session_expired",
            Self::SessionIdle => "session_idle",
        }
    }
}

impl Replay {
    fn as_str(self) -> &'static str {
        match self {
            Self::NewestWithinGrace => "newest_within_grace",
            Self::SuccessorNeverUsed => "successor_never_used",
            Self::RetryWithinGrace => "retry_within_grace",
        }
    }
}

impl Reuse {
    fn as_str(self) -> &'static str {
        match self {
            Self::SuccessorAlreadyUsed => "successor_already_used",
            Self::AfterGrace => "after_grace",
        }
    }
}

impl LinkRequest {
    fn as_str(self) -> &'static str {
        match self {
            Self::UnknownEmail => "unknown_email",
            Self::AccountDisabled => "account_disabled",
            Self::Sent => "sent",
            Self::Limited => "limited",
        }
    }
}

/// A row as the store takes it: kind, user, session, detail.
struct Row<'a> {
    kind: EventKind,
    user_id: Option<Uuid>,
    session_id: Option<Uuid>,
    detail: Option<Cow<'a, str>>,
}

impl Event<'_> {
    fn row(&self) -> Row<'_> {
        let row = |kind, user_id, session_id, detail: Option<&'static str>| Row {
            kind,
            user_id,
            session_id,
            detail: detail.map(Cow::Borrowed),
        };
        match *self {
            Self::SignedIn {
                user_id,
                session_id,
                proof,
            } => Row {
                kind: proof.method.event(),
                user_id: Some(user_id),
                session_id: Some(session_id),
                detail: match (proof.provider.or(proof.method.detail()), proof.second) {
                    (provider, None) => provider.map(Cow::Borrowed),
                    (None, Some(second)) => Some(Cow::Borrowed(second.as_str())),
                    (Some(provider), Some(second)) => {
                        Some(Cow::Owned(format!("{provider}+{}", second.as_str())))
                    }
                },
            },
            Self::SecondFactorAdded {
                user_id,
                session_id,
            } => row(
                EventKind::SecondFactorAdded,
                Some(user_id),
                Some(session_id),
                Some("totp"),
            ),
            Self::RecoveryCodesRegenerated {
                user_id,
                session_id,
            } => row(
                EventKind::SecondFactorAdded,
                Some(user_id),
                Some(session_id),
                Some("recovery_codes"),
            ),
            Self::SecondFactorRemoved {
                user_id,
                session_id,
            } => row(
                EventKind::SecondFactorRemoved,
                Some(user_id),
                Some(session_id),
                Some("totp"),
            ),
            Self::SecondFactorRequested { user_id, method } => row(
                EventKind::SecondFactorRequired,
                Some(user_id),
                None,
                Some(method.as_str()),
            ),
            Self::SecondFactorFailed { user_id, locked } => row(
                EventKind::SecondFactorFailed,
                Some(user_id),
                None,
                Some(if locked { "locked" } else { "wrong_code" }),
            ),
            Self::PasskeyAdded {
                user_id,
                session_id,
            } => row(EventKind::PasskeyAdded, Some(user_id), session_id, None),
            Self::PasskeyRemoved {
                user_id,
                session_id,
            } => row(
                EventKind::PasskeyRemoved,
                Some(user_id),
                Some(session_id),
                None,
            ),
            Self::PasskeyRefused { user_id, reason } => {
                row(EventKind::PasskeySignInFailed, user_id, None, Some(reason))
            }
            Self::Registered { user_id, provider } => Row {
                kind: EventKind::Registered,
                user_id: Some(user_id),
                session_id: None,
                detail: provider.map(Cow::Borrowed),
            },
            Self::IdentityLinked {
                user_id,
                provider,
                claimed,
            } => Row {
                kind: EventKind::IdentityLinked,
                user_id: Some(user_id),
                session_id: None,
                detail: Some(if claimed {
                    Cow::Owned(format!("{provider}:claimed"))
                } else {
                    Cow::Borrowed(provider)
                }),
            },
            Self::IdentityUnlinked {
                user_id,
                session_id,
                provider,
            } => Row {
                kind: EventKind::IdentityUnlinked,
                user_id: Some(user_id),
                session_id: Some(session_id),
                detail: Some(Cow::Borrowed(provider)),
            },
            Self::ProviderSignInFailed {
                user_id,
                provider,
                why,
            } => Row {
                kind: EventKind::ProviderSignInFailed,
                user_id,
                session_id: None,
                detail: Some(Cow::Owned(format!("{provider}:{}", why.as_str()))),
            },
            Self::LoginFailed { user_id, why } => {
                row(EventKind::LoginFailed, user_id, None, Some(why.as_str()))
            }
            Self::Throttled {
                user_id,
                session_id,
                by,
            } => Row {
                kind: EventKind::LoginThrottled,
                user_id,
                session_id,
                detail: Some(match by {
                    Throttle::Account => Cow::Borrowed("account"),
                    Throttle::Confirming(confirming) => Cow::Borrowed(confirming.action()),
                    Throttle::Ip { field } => Cow::Owned(format!("ip_limit:{field}")),
                }),
            },
            Self::Refreshed {
                user_id,
                session_id,
                replay,
            } => row(
                EventKind::Refreshed,
                Some(user_id),
                Some(session_id),
                replay.map(Replay::as_str),
            ),
            Self::RefreshRejected {
                user_id,
                session_id,
                why,
            } => row(
                EventKind::RefreshRejected,
                user_id,
                session_id,
                Some(why.as_str()),
            ),
            Self::RefreshTokenReused {
                user_id,
                session_id,
                seen,
            } => row(
                EventKind::RefreshTokenReused,
                Some(user_id),
                Some(session_id),
                Some(seen.as_str()),
            ),
            Self::LoggedOut {
                user_id,
                session_id,
                scope,
            } => row(
                EventKind::Logout,
                Some(user_id),
                Some(session_id),
                Some(scope.as_str()),
            ),
            Self::SessionRevoked {
                user_id,
                session_id,
            } => row(
                EventKind::SessionRevoked,
                Some(user_id),
                Some(session_id),
                None,
            ),
            Self::PasswordChanged {
                user_id,
                session_id,
            } => row(
                EventKind::PasswordChanged,
                Some(user_id),
                Some(session_id),
                None,
            ),
            Self::WrongPassword {
                user_id,
                session_id,
                confirming,
            } => row(
                match confirming {
                    Confirming::PasswordChange => EventKind::PasswordChangeFailed,
                    Confirming::EmailChange => EventKind::EmailChangeRequested,
                },
                Some(user_id),
                Some(session_id),
                Some(LoginFailure::WrongPassword.as_str()),
            ),
            Self::PasswordResetRequested { user_id, outcome } => row(
                EventKind::PasswordResetRequested,
                user_id,
                None,
                Some(outcome.as_str()),
            ),
            Self::EmailVerified { user_id } => {
                row(EventKind::EmailVerified, Some(user_id), None, None)
            }
            Self::EmailChanged { user_id } => {
                row(EventKind::EmailChanged, Some(user_id), None, None)
            }
            Self::EmailChangeRequested {
                user_id,
                session_id,
                outcome,
            } => row(
                EventKind::EmailChangeRequested,
                Some(user_id),
                Some(session_id),
                Some(outcome.as_str()),
            ),
            Self::MailLimited {
                user_id,
                mail,
                limit,
            } => Row {
                kind: EventKind::MailLimited,
                user_id: Some(user_id),
                session_id: None,
                detail: Some(Cow::Owned(format!("{}:{limit}", mail.as_str()))),
            },
        }
    }
}

impl Action<'_> {
    fn row(&self, user_id: Uuid) -> Row<'_> {
        let (kind, detail) = match *self {
            Self::CreatedAccount => (EventKind::Registered, None),
            Self::SetRoles(roles) => (EventKind::RolesChanged, Some(Cow::Owned(roles.join(",")))),
            Self::EndedSessions => (
                EventKind::SessionRevoked,
                Some(Cow::Borrowed(EndReason::RevokedByAdmin.as_str())),
            ),
            Self::Disabled => (EventKind::UserDisabled, None),
            Self::Enabled => (EventKind::UserEnabled, None),
            Self::RespelledEmail => (
                EventKind::EmailChanged,
                Some(Cow::Borrowed("canonical_spelling")),
            ),
            Self::ResetSecondFactors => (
                EventKind::SecondFactorRemoved,
                Some(Cow::Borrowed("reset_by_admin")),
            ),
            Self::RemovedPasskey => (
                EventKind::PasskeyRemoved,
                Some(Cow::Borrowed("removed_by_admin")),
            ),
        };
        Row {
            kind,
            user_id: Some(user_id),
            session_id: None,
            detail,
        }
    }
}

impl AuthService {
    /// Writes `event`, caused by `client` (or the user behind it), to the
    /// audit trail, on `db` (the transaction of the change it records, when
    /// there is one).
    pub async fn record<C: ConnectionTrait>(
        &self,
        db: &C,
        client: &ClientInfo,
        event: Event<'_>,
    ) -> anyhow::Result<()> {
        write(db, event.row(), client, None).await
    }

    /// Writes what `actor` did to user `user_id`'s account.
    pub(super) async fn record_by<C: ConnectionTrait>(
        &self,
        db: &C,
        actor: Actor,
        user_id: Uuid,
        client: &ClientInfo,
        action: Action<'_>,
    ) -> anyhow::Result<()> {
        write(db, action.row(user_id), client, Some(actor.stored())).await
    }

    /// The principal's own security events, newest first.
    pub async fn my_events(
        &self,
        principal: &Principal,
        page: Page,
    ) -> Result<Slice<AuditEvent>, AuthError> {
        self.audit_events(Some(principal.user_id), None, page).await
    }

    /// Events of user `user_id` and of `kind` (each when given), newest
    /// first (for admins).
    pub async fn audit_events(
        &self,
        user_id: Option<Uuid>,
        kind: Option<EventKind>,
        page: Page,
    ) -> Result<Slice<AuditEvent>, AuthError> {
        let filter = EventFilter { user_id, kind };
        let slice = store::events::list(&self.reads, filter, page)
            .await
            .context("cannot read the audit trail")?;
        Ok(Slice {
            items: slice
                .items
                .into_iter()
                .filter_map(AuditEvent::from_row)
                .collect(),
            has_next: slice.has_next,
            total: slice.total,
        })
    }
}

async fn write<C: ConnectionTrait>(
    db: &C,
    row: Row<'_>,
    client: &ClientInfo,
    actor: Option<String>,
) -> anyhow::Result<()> {
    store::events::record(
        db,
        NewEvent {
            kind: row.kind,
            user_id: row.user_id,
            session_id: row.session_id,
            ip: client.ip.as_deref(),
            user_agent: client.user_agent.as_deref(),
            detail: row.detail.as_deref(),
            actor,
            now: Utc::now(),
        },
    )
    .await
    .with_context(|| format!("cannot record the {} event", row.kind.as_str()))
}
