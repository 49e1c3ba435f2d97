//! Every database query. Plain `async fn(db, …) -> Result<_, DbErr>` over any
//! sea-orm connection or transaction; nothing here knows about GraphQL.

pub mod account_tokens;
mod database;
pub mod events;
pub mod identities;
pub mod login_throttles;
pub mod maintenance;
pub mod mfa_challenges;
pub mod outbox;
pub mod page;
pub mod passkey_ceremonies;
pub mod passkeys;
pub mod provider_flows;
pub mod recovery_codes;
pub mod refresh_tokens;
pub mod revocations;
pub mod second_factors;
pub mod sessions;
pub mod signing_keys;
pub mod users;

pub use database::{
    Health, Lock, begin_locked, connect, connect_options, connect_readers, connect_with_retry,
    health, is_sqlite, is_unique_violation,
};
