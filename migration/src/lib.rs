//! authql's schema migrations: one file per migration, each with `up` and `down`.
//! The `authql migrate up|down|status` subcommand drives them.
#![forbid(unsafe_code)]

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_users;
mod m20261122_000002_create_sessions;
mod m20261122_000003_create_refresh_tokens;
mod m20261122_000004_create_auth_events;
mod m20261123_000005_create_login_throttles;
mod m20261123_000006_create_signing_keys;
mod m20261123_000007_add_user_disabled_at;
mod m20261202_000008_add_auth_event_actor;
mod m20261202_000009_create_revocations;
mod m20261202_000010_add_user_email_verified_at;
mod m20261202_000011_create_account_tokens;
mod m20261202_000012_create_outbox;
mod m20261203_000013_add_credential_version;
mod m20261203_000014_add_outbox_user_agent;
mod m20261203_000015_add_session_authentication;
mod m20261203_000016_create_identities;
mod m20261203_000017_create_second_factors;
mod m20261203_000018_create_passkeys;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_users::Migration),
            Box::new(m20261122_000002_create_sessions::Migration),
            Box::new(m20261122_000003_create_refresh_tokens::Migration),
            Box::new(m20261122_000004_create_auth_events::Migration),
            Box::new(m20261123_000005_create_login_throttles::Migration),
            Box::new(m20261123_000006_create_signing_keys::Migration),
            Box::new(m20261123_000007_add_user_disabled_at::Migration),
            Box::new(m20261202_000008_add_auth_event_actor::Migration),
            Box::new(m20261202_000009_create_revocations::Migration),
            Box::new(m20261202_000010_add_user_email_verified_at::Migration),
            Box::new(m20261202_000011_create_account_tokens::Migration),
            Box::new(m20261202_000012_create_outbox::Migration),
            Box::new(m20261203_000013_add_credential_version::Migration),
            Box::new(m20261203_000014_add_outbox_user_agent::Migration),
            Box::new(m20261203_000015_add_session_authentication::Migration),
            Box::new(m20261203_000016_create_identities::Migration),
            Box::new(m20261203_000017_create_second_factors::Migration),
            Box::new(m20261203_000018_create_passkeys::Migration),
        ]
    }
}
