use sea_orm_migration::{prelude::*, schema::*};

use super::m20261122_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Second factors (authenticator apps): the secret sealed under the
        // master key, the last time step used (a code is good once), and the
        // wrong codes that lock the account's second-factor checks.
        manager
            .create_table(
                Table::create()
                    .table(SecondFactors::Table)
                    .if_not_exists()
                    .col(pk_uuid(SecondFactors::Id))
                    .col(uuid(SecondFactors::UserId))
                    .col(string_len(SecondFactors::Kind, 16))
                    .col(blob(SecondFactors::Secret))
                    .col(timestamp_with_time_zone(SecondFactors::CreatedAt))
                    .col(timestamp_with_time_zone_null(SecondFactors::ConfirmedAt))
                    .col(timestamp_with_time_zone_null(SecondFactors::PendingUntil))
                    .col(timestamp_with_time_zone_null(SecondFactors::LastUsedAt))
                    .col(big_integer_null(SecondFactors::LastUsedStep))
                    .col(integer(SecondFactors::Failures).default(0))
                    .col(timestamp_with_time_zone_null(SecondFactors::LockedUntil))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_second_factors_user_id")
                            .from(SecondFactors::Table, SecondFactors::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_second_factors_user_id")
                    .table(SecondFactors::Table)
                    .col(SecondFactors::UserId)
                    .to_owned(),
            )
            .await?;
        // Recovery codes, kept as SHA-256 only; each is good once.
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .if_not_exists()
                    .col(pk_uuid(RecoveryCodes::Id))
                    .col(uuid(RecoveryCodes::UserId))
                    .col(string_len(RecoveryCodes::CodeHash, 64).unique_key())
                    .col(timestamp_with_time_zone(RecoveryCodes::CreatedAt))
                    .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_recovery_codes_user_id")
                            .from(RecoveryCodes::Table, RecoveryCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_recovery_codes_user_id")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::UserId)
                    .to_owned(),
            )
            .await?;
        // A first factor proven, waiting for the second: its token kept as
        // SHA-256, good once, for minutes, burnt by wrong codes.
        manager
            .create_table(
                Table::create()
                    .table(MfaChallenges::Table)
                    .if_not_exists()
                    .col(pk_uuid(MfaChallenges::Id))
                    .col(uuid(MfaChallenges::UserId))
                    .col(string_len(MfaChallenges::TokenHash, 64).unique_key())
                    .col(string_len(MfaChallenges::Methods, 64))
                    .col(string_len_null(MfaChallenges::Provider, 64))
                    .col(big_integer(MfaChallenges::CredentialVersion))
                    .col(integer(MfaChallenges::Failures).default(0))
                    .col(timestamp_with_time_zone(MfaChallenges::CreatedAt))
                    .col(timestamp_with_time_zone(MfaChallenges::ExpiresAt))
                    .col(timestamp_with_time_zone_null(MfaChallenges::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mfa_challenges_user_id")
                            .from(MfaChallenges::Table, MfaChallenges::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mfa_challenges_expires_at")
                    .table(MfaChallenges::Table)
                    .col(MfaChallenges::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MfaChallenges::Table.into_iden(),
            RecoveryCodes::Table.into_iden(),
            SecondFactors::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum SecondFactors {
    Table,
    Id,
    UserId,
    Kind,
    Secret,
    CreatedAt,
    ConfirmedAt,
    PendingUntil,
    LastUsedAt,
    LastUsedStep,
    Failures,
    LockedUntil,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum MfaChallenges {
    Table,
    Id,
    UserId,
    TokenHash,
    Methods,
    Provider,
    CredentialVersion,
    Failures,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}
