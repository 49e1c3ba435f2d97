use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row per login e-mail with recent failures, whether or not an
        // account has that address (so throttling reveals nothing). The key is
        // a SHA-256 of the normalised address: no addresses typed in error
        // are kept in clear.
        manager
            .create_table(
                Table::create()
                    .table(LoginThrottles::Table)
                    .if_not_exists()
                    .col(string_len(LoginThrottles::Key, 64).primary_key())
                    .col(integer(LoginThrottles::Failures))
                    .col(timestamp_with_time_zone(LoginThrottles::LastFailedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_login_throttles_last_failed_at")
                    .table(LoginThrottles::Table)
                    .col(LoginThrottles::LastFailedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginThrottles::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum LoginThrottles {
    Table,
    Key,
    Failures,
    LastFailedAt,
}
