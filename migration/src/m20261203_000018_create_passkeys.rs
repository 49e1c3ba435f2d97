use sea_orm_migration::{prelude::*, schema::*};

use super::m20261122_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Passkeys (WebAuthn credentials): the public key and sign counter as
        // webauthn-rs keeps them (JSON), found by the SHA-256 of their
        // credential id, which belongs to one account only.
        manager
            .create_table(
                Table::create()
                    .table(Passkeys::Table)
                    .if_not_exists()
                    .col(pk_uuid(Passkeys::Id))
                    .col(uuid(Passkeys::UserId))
                    .col(string_len(Passkeys::CredentialHash, 64).unique_key())
                    .col(string_len(Passkeys::Name, 64))
                    .col(text(Passkeys::Credential))
                    .col(boolean(Passkeys::BackedUp))
                    .col(timestamp_with_time_zone(Passkeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(Passkeys::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_passkeys_user_id")
                            .from(Passkeys::Table, Passkeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_passkeys_user_id")
                    .table(Passkeys::Table)
                    .col(Passkeys::UserId)
                    .to_owned(),
            )
            .await?;
        // A WebAuthn ceremony between its start and its finish, kept in the
        // database so that any instance can finish what another started;
        // good once, for minutes.
        manager
            .create_table(
                Table::create()
                    .table(PasskeyCeremonies::Table)
                    .if_not_exists()
                    .col(pk_uuid(PasskeyCeremonies::Id))
                    .col(string_len(PasskeyCeremonies::Purpose, 16))
                    .col(uuid_null(PasskeyCeremonies::UserId))
                    .col(string_len_null(PasskeyCeremonies::Email, 255))
                    .col(string_len_null(PasskeyCeremonies::Name, 255))
                    .col(uuid_null(PasskeyCeremonies::MfaChallengeId))
                    .col(text(PasskeyCeremonies::State))
                    .col(timestamp_with_time_zone(PasskeyCeremonies::CreatedAt))
                    .col(timestamp_with_time_zone(PasskeyCeremonies::ExpiresAt))
                    .col(timestamp_with_time_zone_null(PasskeyCeremonies::UsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_passkey_ceremonies_expires_at")
                    .table(PasskeyCeremonies::Table)
                    .col(PasskeyCeremonies::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PasskeyCeremonies::Table.into_iden(),
            Passkeys::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    UserId,
    CredentialHash,
    Name,
    Credential,
    BackedUp,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum PasskeyCeremonies {
    Table,
    Id,
    Purpose,
    UserId,
    Email,
    Name,
    MfaChallengeId,
    State,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}
