use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // How and when the user of a session proved who they are: the
        // `amr` (RFC 8176 values, space-separated) and `auth_time` of its
        // access tokens, and what second factors and "sign in again" rules
        // read. Every session before this migration began with a password
        // (registration, login; a reset link's session is counted so too)
        // at its creation. SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(string(Sessions::AuthMethods).default("pwd"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(timestamp_with_time_zone_null(Sessions::AuthenticatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(Sessions::Table)
                    .value(Sessions::AuthenticatedAt, Expr::col(Sessions::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::AuthenticatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::AuthMethods)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    CreatedAt,
    AuthMethods,
    AuthenticatedAt,
}
