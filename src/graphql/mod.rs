//! The GraphQL schema: roots merged per feature, apart from HTTP wiring.

mod account;
mod context;
pub mod errors;
mod guards;
mod session;
pub mod types;

use async_graphql::{EmptySubscription, MergedObject, SDLExportOptions, Schema, SchemaBuilder};

use crate::auth::AuthService;

/// Queries: the signed-in user and their session.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(account::AccountQuery, session::SessionQuery);

/// Mutations: register, log in, refresh, renew and log out.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(account::AccountMutation, session::SessionMutation);

pub type AuthqlSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Limits that keep hostile queries cheap (GraphiQL's introspection query fits).
const MAX_DEPTH: usize = 16;
const MAX_COMPLEXITY: usize = 500;
const MAX_RECURSIVE_DEPTH: usize = 32;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(MAX_RECURSIVE_DEPTH)
}

/// The executable schema. Introspection is on in development only;
/// production clients use the committed `schema.graphql`.
pub fn build_schema(service: AuthService, introspection: bool) -> AuthqlSchema {
    let builder = builder().data(service);
    if introspection {
        builder.finish()
    } else {
        builder.disable_introspection().finish()
    }
}

/// The schema's SDL, fields sorted: what `schema.graphql` must equal.
pub fn sdl() -> String {
    builder().finish().sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_arguments()
            .sorted_enum_items(),
    )
}
