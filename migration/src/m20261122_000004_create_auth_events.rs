use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // No foreign keys: the audit trail outlives the rows it mentions.
        manager
            .create_table(
                Table::create()
                    .table(AuthEvents::Table)
                    .if_not_exists()
                    .col(pk_uuid(AuthEvents::Id))
                    .col(string_len(AuthEvents::Kind, 64))
                    .col(uuid_null(AuthEvents::UserId))
                    .col(uuid_null(AuthEvents::SessionId))
                    .col(string_len_null(AuthEvents::Ip, 64))
                    .col(string_len_null(AuthEvents::UserAgent, 512))
                    .col(string_len_null(AuthEvents::Detail, 255))
                    .col(timestamp_with_time_zone(AuthEvents::CreatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_auth_events_user_id", AuthEvents::UserId),
            ("idx_auth_events_session_id", AuthEvents::SessionId),
            ("idx_auth_events_created_at", AuthEvents::CreatedAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuthEvents::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuthEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuthEvents {
    Table,
    Id,
    Kind,
    UserId,
    SessionId,
    Ip,
    UserAgent,
    Detail,
    CreatedAt,
}
