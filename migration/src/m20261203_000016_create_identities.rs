use sea_orm_migration::{prelude::*, schema::*};

use super::m20261122_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Accounts at sign-in providers linked to users: one per provider
        // and user, and a provider's subject belongs to one user only.
        manager
            .create_table(
                Table::create()
                    .table(Identities::Table)
                    .if_not_exists()
                    .col(pk_uuid(Identities::Id))
                    .col(uuid(Identities::UserId))
                    .col(string_len(Identities::Provider, 64))
                    .col(string_len(Identities::Subject, 255))
                    .col(string_len_null(Identities::Email, 255))
                    .col(timestamp_with_time_zone(Identities::LinkedAt))
                    .col(timestamp_with_time_zone_null(Identities::LastSignInAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_identities_user_id")
                            .from(Identities::Table, Identities::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_identities_provider_subject")
                    .table(Identities::Table)
                    .col(Identities::Provider)
                    .col(Identities::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_identities_user_id_provider")
                    .table(Identities::Table)
                    .col(Identities::UserId)
                    .col(Identities::Provider)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // Sign-ins and links in flight through a provider, kept on the server
        // so that any instance can finish what another started and nothing
        // rides in a cookie. Its two secrets (the `state` sent to the
        // provider, the one-time code handed back to the frontend) are kept
        // only as SHA-256; each is good once.
        manager
            .create_table(
                Table::create()
                    .table(ProviderFlows::Table)
                    .if_not_exists()
                    .col(pk_uuid(ProviderFlows::Id))
                    .col(string_len(ProviderFlows::Provider, 64))
                    .col(string_len(ProviderFlows::Purpose, 16))
                    .col(string_len(ProviderFlows::StateHash, 64).unique_key())
                    .col(string_len_null(ProviderFlows::Nonce, 128))
                    .col(string_len_null(ProviderFlows::ProviderVerifier, 128))
                    .col(string_len(ProviderFlows::CodeChallenge, 128))
                    .col(text(ProviderFlows::RedirectTo))
                    .col(uuid_null(ProviderFlows::UserId))
                    .col(string_len_null(ProviderFlows::CodeHash, 64).unique_key())
                    .col(string_len_null(ProviderFlows::Subject, 255))
                    .col(string_len_null(ProviderFlows::Email, 255))
                    .col(timestamp_with_time_zone(ProviderFlows::CreatedAt))
                    .col(timestamp_with_time_zone(ProviderFlows::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_provider_flows_user_id")
                            .from(ProviderFlows::Table, ProviderFlows::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_provider_flows_expires_at")
                    .table(ProviderFlows::Table)
                    .col(ProviderFlows::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProviderFlows::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Identities::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Identities {
    Table,
    Id,
    UserId,
    Provider,
    Subject,
    Email,
    LinkedAt,
    LastSignInAt,
}

#[derive(DeriveIden)]
enum ProviderFlows {
    Table,
    Id,
    Provider,
    Purpose,
    StateHash,
    Nonce,
    ProviderVerifier,
    CodeChallenge,
    RedirectTo,
    UserId,
    CodeHash,
    Subject,
    Email,
    CreatedAt,
    ExpiresAt,
}
