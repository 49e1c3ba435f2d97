use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Mail to send, written in the transaction of the change that causes
        // it and sent by a worker on some instance, which claims a row until
        // `claimed_until`. A sent mail keeps its envelope (for the sending
        // limits) but loses its bodies; one that kept failing is kept, with
        // its last error, for operators.
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .if_not_exists()
                    .col(pk_uuid(Outbox::Id))
                    .col(string_len(Outbox::Kind, 32))
                    .col(uuid_null(Outbox::UserId))
                    .col(string_len(Outbox::Recipient, 255))
                    .col(string_len_null(Outbox::Ip, 64))
                    .col(string_len(Outbox::Subject, 255))
                    .col(text_null(Outbox::TextBody))
                    .col(text_null(Outbox::HtmlBody))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(integer(Outbox::Attempts))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Outbox::ClaimedUntil))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .col(timestamp_with_time_zone_null(Outbox::FailedAt))
                    .col(string_len_null(Outbox::LastError, 512))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_outbox_due",
                [Outbox::SentAt, Outbox::FailedAt, Outbox::NextAttemptAt].as_slice(),
            ),
            (
                "idx_outbox_recipient_created_at",
                [Outbox::Recipient, Outbox::CreatedAt].as_slice(),
            ),
            (
                "idx_outbox_ip_created_at",
                [Outbox::Ip, Outbox::CreatedAt].as_slice(),
            ),
            ("idx_outbox_created_at", [Outbox::CreatedAt].as_slice()),
        ] {
            let mut index = Index::create();
            index.name(name).table(Outbox::Table);
            for column in columns {
                index.col(column.clone());
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Outbox::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone)]
enum Outbox {
    Table,
    Id,
    Kind,
    UserId,
    Recipient,
    Ip,
    Subject,
    TextBody,
    HtmlBody,
    CreatedAt,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    SentAt,
    FailedAt,
    LastError,
}
