use chrono::{DateTime, Utc};
use entity::auth_event;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::page;
use crate::domain::{EventKind, Page, Slice};

/// One audit record.
pub struct NewEvent<'a> {
    pub kind: EventKind,
    pub user_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub detail: Option<&'a str>,
    /// Who caused it when not the user: an admin's id, or `operator`.
    pub actor: Option<String>,
    pub now: DateTime<Utc>,
}

pub async fn record<C: ConnectionTrait>(db: &C, event: NewEvent<'_>) -> Result<(), DbErr> {
    auth_event::ActiveModel {
        id: Set(Uuid::new_v4()),
        kind: Set(event.kind.as_str().to_owned()),
        user_id: Set(event.user_id),
        session_id: Set(event.session_id),
        ip: Set(event.ip.map(str::to_owned)),
        user_agent: Set(event.user_agent.map(str::to_owned)),
        detail: Set(event.detail.map(str::to_owned)),
        actor: Set(event.actor),
        created_at: Set(event.now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Which events to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub user_id: Option<Uuid>,
    pub kind: Option<EventKind>,
}

/// A page of events matching `filter`, newest first. Only kinds this version
/// knows are read, so during a rolling upgrade an older instance leaves out
/// what it could not name rather than failing.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: EventFilter,
    page: Page,
) -> Result<Slice<auth_event::Model>, DbErr> {
    let kinds: Vec<&str> = match filter.kind {
        Some(kind) => vec![kind.as_str()],
        None => EventKind::ALL.iter().map(|k| k.as_str()).collect(),
    };
    let mut select = auth_event::Entity::find().filter(auth_event::Column::Kind.is_in(kinds));
    if let Some(user_id) = filter.user_id {
        select = select.filter(auth_event::Column::UserId.eq(user_id));
    }
    page::read(db, select, "auth_events", page).await
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn every_kind_parses_back_from_its_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("from_a_newer_version"), None);
    }
}
