//! The audit trail: security events written beside the changes they record,
//! and read back by their user (`myEvents`) and by admins (`auditEvents`).

use anyhow::Context;
use chrono::{DateTime, Utc};
use entity::auth_event;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::principal::Principal;
use super::{AuthError, AuthService, ClientInfo};
use crate::store::events::{EventFilter, EventKind, NewEvent};
use crate::store::page::{Page, Slice};
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

impl AuthService {
    /// Writes an audit record of something the client (or the user behind
    /// it) did.
    pub async fn record<C: ConnectionTrait>(
        &self,
        db: &C,
        kind: EventKind,
        user_id: Option<Uuid>,
        session_id: Option<Uuid>,
        client: &ClientInfo,
        detail: Option<&str>,
    ) -> anyhow::Result<()> {
        write(db, kind, user_id, session_id, client, detail, None).await
    }

    /// Writes an audit record of something `actor` did to user `user_id`.
    pub(super) async fn record_by<C: ConnectionTrait>(
        &self,
        db: &C,
        actor: Actor,
        kind: EventKind,
        user_id: Uuid,
        client: &ClientInfo,
        detail: Option<&str>,
    ) -> anyhow::Result<()> {
        write(
            db,
            kind,
            Some(user_id),
            None,
            client,
            detail,
            Some(actor.stored()),
        )
        .await
    }

    /// The principal's own security events, newest first.
    pub async fn my_events(
        &self,
        principal: &Principal,
        page: Page,
    ) -> Result<Slice<AuditEvent>, AuthError> {
        let filter = EventFilter {
            user_id: Some(principal.user_id),
            kind: None,
        };
        self.audit_events(filter, page).await
    }

    /// Events matching `filter`, newest first (for admins).
    pub async fn audit_events(
        &self,
        filter: EventFilter,
        page: Page,
    ) -> Result<Slice<AuditEvent>, AuthError> {
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
    kind: EventKind,
    user_id: Option<Uuid>,
    session_id: Option<Uuid>,
    client: &ClientInfo,
    detail: Option<&str>,
    actor: Option<String>,
) -> anyhow::Result<()> {
    store::events::record(
        db,
        NewEvent {
            kind,
            user_id,
            session_id,
            ip: client.ip.as_deref(),
            user_agent: client.user_agent.as_deref(),
            detail,
            actor,
            now: Utc::now(),
        },
    )
    .await
    .with_context(|| format!("cannot record the {} event", kind.as_str()))
}
