use sea_orm::entity::prelude::*;

/// A mail to send, sent, or given up on. `Debug` hides the bodies, which
/// hold links.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// What it is (`password_reset`, `password_changed`, …).
    pub kind: String,
    pub user_id: Option<Uuid>,
    pub recipient: String,
    /// The client IP of the request that caused it.
    pub ip: Option<String>,
    /// The `User-Agent` of the request that caused it.
    pub user_agent: Option<String>,
    pub subject: String,
    /// Erased once sent.
    pub text_body: Option<String>,
    /// Erased once sent.
    pub html_body: Option<String>,
    pub created_at: DateTimeUtc,
    /// Sending attempts begun so far.
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// While a worker is sending it.
    pub claimed_until: Option<DateTimeUtc>,
    pub sent_at: Option<DateTimeUtc>,
    /// When the worker gave up on it.
    pub failed_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxMail")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("user_id", &self.user_id)
            .field("recipient", &self.recipient)
            .field("subject", &self.subject)
            .field("attempts", &self.attempts)
            .field("next_attempt_at", &self.next_attempt_at)
            .field("sent_at", &self.sent_at)
            .field("failed_at", &self.failed_at)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
