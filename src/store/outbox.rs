//! The outbox: mail written in the transaction of the change that causes it,
//! claimed by one worker at a time, marked sent (its bodies erased), retried
//! later, or given up on and kept for operators.

use chrono::{DateTime, Utc};
use entity::outbox_mail;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait,
    Order, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

/// A mail about to be queued.
pub struct NewMail {
    pub kind: &'static str,
    pub user_id: Option<Uuid>,
    pub recipient: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub now: DateTime<Utc>,
}

/// Queues `mail`, due at once.
pub async fn enqueue<C: ConnectionTrait>(db: &C, mail: NewMail) -> Result<Uuid, DbErr> {
    let id = Uuid::new_v4();
    outbox_mail::ActiveModel {
        id: Set(id),
        kind: Set(mail.kind.to_owned()),
        user_id: Set(mail.user_id),
        recipient: Set(mail.recipient),
        ip: Set(mail.ip),
        user_agent: Set(mail.user_agent),
        subject: Set(mail.subject),
        text_body: Set(Some(mail.text_body)),
        html_body: Set(Some(mail.html_body)),
        created_at: Set(mail.now),
        attempts: Set(0),
        next_attempt_at: Set(mail.now),
        claimed_until: Set(None),
        sent_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// A request the worker expands into mail (or into nothing) once it has
/// looked the database up: `kind` names it, `recipient` is the address as
/// the client gave it (normalised, maybe nobody's).
pub struct NewRequest {
    pub kind: &'static str,
    pub recipient: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub now: DateTime<Utc>,
}

/// Queues `request`, due at once: one insert, the same whatever it names.
pub async fn enqueue_request<C: ConnectionTrait>(db: &C, request: NewRequest) -> Result<(), DbErr> {
    outbox_mail::ActiveModel {
        id: Set(Uuid::new_v4()),
        kind: Set(request.kind.to_owned()),
        user_id: Set(None),
        recipient: Set(request.recipient),
        ip: Set(request.ip),
        user_agent: Set(request.user_agent),
        subject: Set(String::new()),
        text_body: Set(None),
        html_body: Set(None),
        created_at: Set(request.now),
        attempts: Set(0),
        next_attempt_at: Set(request.now),
        claimed_until: Set(None),
        sent_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Marks a request handled (as sent), unless it was already: `false` then.
pub async fn mark_handled<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use outbox_mail::Column;
    let updated = outbox_mail::Entity::update_many()
        .col_expr(Column::SentAt, Expr::value(now))
        .col_expr(
            Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::LastError, Expr::value(Option::<String>::None))
        .filter(Column::Id.eq(id))
        .filter(Column::SentAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Whose mail a count is of.
#[derive(Clone, Copy, Debug)]
pub enum CountedBy<'a> {
    Recipient(&'a str),
    /// The client IP of the requests that caused them.
    Ip(&'a str),
}

/// How many mails of `kinds` were queued for `by` since `since`, whatever
/// became of them.
pub async fn count_since<C: ConnectionTrait>(
    db: &C,
    by: CountedBy<'_>,
    kinds: &[&str],
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let select = outbox_mail::Entity::find()
        .filter(outbox_mail::Column::Kind.is_in(kinds.iter().copied()))
        .filter(outbox_mail::Column::CreatedAt.gt(since));
    let select = match by {
        CountedBy::Recipient(recipient) => {
            select.filter(outbox_mail::Column::Recipient.eq(recipient))
        }
        CountedBy::Ip(ip) => select.filter(outbox_mail::Column::Ip.eq(ip)),
    };
    select.count(db).await
}

/// Claims up to `limit` mails that are due, neither sent nor given up on,
/// and not claimed by a live worker, until `until`; counts an attempt for
/// each. One statement, and on PostgreSQL rows another worker is claiming
/// are skipped (`FOR UPDATE SKIP LOCKED`), so each mail goes to one worker.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<outbox_mail::Model>, DbErr> {
    use outbox_mail::Column;
    let mut due = Query::select();
    due.column(Column::Id)
        .from(outbox_mail::Entity)
        .cond_where(
            Condition::all()
                .add(Expr::col(Column::SentAt).is_null())
                .add(Expr::col(Column::FailedAt).is_null())
                .add(Expr::col(Column::NextAttemptAt).lte(now))
                .add(
                    Condition::any()
                        .add(Expr::col(Column::ClaimedUntil).is_null())
                        .add(Expr::col(Column::ClaimedUntil).lt(now)),
                ),
        )
        .order_by(Column::NextAttemptAt, Order::Asc)
        .limit(limit);
    if db.get_database_backend() == DbBackend::Postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    outbox_mail::Entity::update_many()
        .col_expr(Column::ClaimedUntil, Expr::value(until))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.in_subquery(due))
        .exec_with_returning(db)
        .await
}

/// Marks the mail sent and erases its bodies (they hold links).
pub async fn mark_sent<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use outbox_mail::Column;
    outbox_mail::Entity::update_many()
        .col_expr(Column::SentAt, Expr::value(now))
        .col_expr(
            Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::TextBody, Expr::value(Option::<String>::None))
        .col_expr(Column::HtmlBody, Expr::value(Option::<String>::None))
        .col_expr(Column::LastError, Expr::value(Option::<String>::None))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// What becomes of a mail whose attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failed {
    /// Due again at this time.
    RetryAt(DateTime<Utc>),
    /// Given up on now: kept, with its error, for operators.
    GivenUp(DateTime<Utc>),
}

/// Releases the mail after a failed attempt, with `error`.
pub async fn release<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    failed: Failed,
    error: &str,
) -> Result<(), DbErr> {
    use outbox_mail::Column;
    let (column, at) = match failed {
        Failed::RetryAt(at) => (Column::NextAttemptAt, at),
        Failed::GivenUp(at) => (Column::FailedAt, at),
    };
    outbox_mail::Entity::update_many()
        .col_expr(column, Expr::value(at))
        .col_expr(
            Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::LastError, Expr::value(error))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Mails not sent yet, waiting or given up on, oldest first.
pub async fn unsent<C: ConnectionTrait>(db: &C) -> Result<Vec<outbox_mail::Model>, DbErr> {
    outbox_mail::Entity::find()
        .filter(outbox_mail::Column::SentAt.is_null())
        .order_by_asc(outbox_mail::Column::CreatedAt)
        .all(db)
        .await
}

/// Makes given-up mails (one, or with `None` all) due again with a fresh
/// count of attempts; how many.
pub async fn retry_failed<C: ConnectionTrait>(
    db: &C,
    id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use outbox_mail::Column;
    let mut update = outbox_mail::Entity::update_many()
        .col_expr(Column::FailedAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::Attempts, Expr::value(0))
        .col_expr(Column::NextAttemptAt, Expr::value(now))
        .filter(Column::FailedAt.is_not_null())
        .filter(Column::SentAt.is_null());
    if let Some(id) = id {
        update = update.filter(Column::Id.eq(id));
    }
    Ok(update.exec(db).await?.rows_affected)
}

/// Deletes mails sent before `cutoff`.
pub async fn delete_sent_before<C: ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(outbox_mail::Entity::delete_many()
        .filter(outbox_mail::Column::SentAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
