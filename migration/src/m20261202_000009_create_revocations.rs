use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The revocation feed: every change other instances' access-token
        // checks must hear of, in the order it committed. Instances follow it
        // by position; old rows are cleaned up.
        manager
            .create_table(
                Table::create()
                    .table(Revocations::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Revocations::Position))
                    .col(string_len(Revocations::Kind, 16))
                    .col(string_len(Revocations::Subject, 64))
                    .col(timestamp_with_time_zone(Revocations::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_revocations_created_at")
                    .table(Revocations::Table)
                    .col(Revocations::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Revocations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Revocations {
    Table,
    Position,
    Kind,
    Subject,
    CreatedAt,
}
