//! A unit of work: a database transaction together with the changes the
//! rest of the process must hear of once it commits.

use anyhow::Context;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
    TransactionTrait,
};

use super::news::{Change, SessionNews};
use crate::auth::AuthService;

/// A transaction whose changes (sessions ended, accounts changed, sessions
/// opened) are applied to this instance's status cache and published to
/// in-process listeners by [`Unit::commit`], after the commit and never
/// before: a listener never hears of a change that was rolled back, and
/// dropping a unit rolls back and announces nothing.
///
/// Store functions take it as they take any connection.
pub struct Unit {
    tx: DatabaseTransaction,
    news: SessionNews,
    heard: Vec<Change>,
}

impl Unit {
    /// Begins a transaction on `db`.
    pub async fn begin(
        db: &sea_orm::DatabaseConnection,
        news: &SessionNews,
    ) -> anyhow::Result<Self> {
        let tx = db.begin().await.context("cannot begin a transaction")?;
        Ok(Self::wrap(tx, news))
    }

    /// Makes `tx` (begun elsewhere, under a lock for example) a unit.
    pub fn wrap(tx: DatabaseTransaction, news: &SessionNews) -> Self {
        Self {
            tx,
            news: news.clone(),
            heard: Vec::new(),
        }
    }

    /// Records `change`, to be announced when the unit commits.
    pub fn announce(&mut self, change: Change) {
        self.heard.push(change);
    }

    /// Commits, then applies and publishes every recorded change in order.
    /// `what` completes "cannot commit …" should the commit fail.
    pub async fn commit(self, what: &str) -> anyhow::Result<()> {
        self.tx
            .commit()
            .await
            .with_context(|| format!("cannot commit {what}"))?;
        for change in self.heard {
            self.news.announce(change);
        }
        Ok(())
    }

    /// Rolls back; nothing is announced.
    pub async fn rollback(self) -> anyhow::Result<()> {
        self.tx.rollback().await.context("cannot roll back")
    }
}

impl AuthService {
    /// A unit of work on the writer.
    pub(in crate::auth) async fn begin(&self) -> anyhow::Result<Unit> {
        Unit::begin(&self.db, &self.news).await
    }

    /// `tx` (begun under a lock, say) as a unit of work.
    pub(in crate::auth) fn unit(&self, tx: DatabaseTransaction) -> Unit {
        Unit::wrap(tx, &self.news)
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Unit {
    fn get_database_backend(&self) -> DbBackend {
        self.tx.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.tx.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.tx.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.tx.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.tx.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.tx.support_returning()
    }

    fn is_mock_connection(&self) -> bool {
        self.tx.is_mock_connection()
    }
}
