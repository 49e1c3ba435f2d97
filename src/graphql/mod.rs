//! The GraphQL schema: roots merged per feature, apart from HTTP wiring.

mod account;
mod admin;
mod audit;
mod context;
pub mod errors;
mod guards;
pub mod limits;
mod mailbox;
mod pagination;
mod passkeys;
mod providers;
pub mod refresh_cookie;
mod schema;
mod second_factor;
mod session;
pub mod types;
mod user;

pub use schema::{AuthqlSchema, MutationRoot, QueryRoot, build_schema, sdl};
