use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Indexes for reading the audit trail newest first: a user's own events,
/// and an admin's filter by kind.
const INDEXES: [(&str, AuthEvents); 2] = [
    ("idx_auth_events_user_id_created_at", AuthEvents::UserId),
    ("idx_auth_events_kind_created_at", AuthEvents::Kind),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Who caused an event when it was not its user (roles changed, user
        // disabled, ...): an admin's user id, or `operator` for the CLI.
        manager
            .alter_table(
                Table::alter()
                    .table(AuthEvents::Table)
                    .add_column(string_len_null(AuthEvents::Actor, 64))
                    .to_owned(),
            )
            .await?;
        for (name, column) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuthEvents::Table)
                        .col(column)
                        .col(AuthEvents::CreatedAt)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(AuthEvents::Table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(AuthEvents::Table)
                    .drop_column(AuthEvents::Actor)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum AuthEvents {
    Table,
    UserId,
    Kind,
    Actor,
    CreatedAt,
}
