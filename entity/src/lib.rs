//! authql's database tables as sea-orm entities: one module per table, no logic.
//!
//! These types never reach the GraphQL API; `src/graphql` has its own output
//! types, so a column such as `password_hash` cannot be published by accident.
#![forbid(unsafe_code)]

pub mod account_token;
pub mod auth_event;
pub mod identity;
pub mod login_throttle;
pub mod mfa_challenge;
pub mod outbox_mail;
pub mod passkey;
pub mod passkey_ceremony;
pub mod prelude;
pub mod provider_flow;
pub mod recovery_code;
pub mod refresh_token;
pub mod revocation;
pub mod second_factor;
pub mod session;
pub mod signing_key;
pub mod user;
