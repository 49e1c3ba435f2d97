//! The schema: the roots merged from each feature, and how it is built.

use async_graphql::{EmptySubscription, MergedObject, SDLExportOptions, Schema, SchemaBuilder};

use super::limits::DocumentLimits;
use super::refresh_cookie::RefreshCookie;
use super::{account, admin, audit, mailbox, passkeys, providers, second_factor, session};
use crate::auth::AuthService;
use crate::config::PasswordPolicy;

/// Queries: the signed-in user, their sessions and security events; users
/// and the audit trail, for admins.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    account::AccountQuery,
    providers::ProviderQuery,
    session::SessionQuery,
    audit::AuditQuery,
    admin::AdminQuery,
);

/// Mutations: register, log in, refresh, renew, log out, end a session,
/// change the password; reset it, verify or change the address by mail;
/// roles and sessions of users, for admins.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    account::AccountMutation,
    providers::ProviderMutation,
    second_factor::SecondFactorMutation,
    passkeys::PasskeyMutation,
    session::SessionMutation,
    mailbox::MailboxMutation,
    admin::AdminMutation,
);

pub type AuthqlSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// async-graphql's own limits, as a second line behind [`limits`] (which
/// runs first, without expanding fragments).
fn builder(limits: &DocumentLimits) -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_recursive_depth(limits.max_nesting)
}

/// The executable schema. Introspection, and the "Did you mean …?" hints
/// that would give the schema away field by field, are on in development
/// only; production clients use the committed `schema.graphql`.
pub fn build_schema(
    service: std::sync::Arc<AuthService>,
    limits: &DocumentLimits,
    password_policy: PasswordPolicy,
    refresh_cookie: RefreshCookie,
    introspection: bool,
) -> AuthqlSchema {
    let builder = builder(limits)
        .data(service)
        .data(password_policy)
        .data(refresh_cookie);
    if introspection {
        builder.finish()
    } else {
        builder
            .disable_introspection()
            .disable_suggestions()
            .finish()
    }
}

/// The schema's SDL, fields sorted: what `schema.graphql` must equal.
pub fn sdl() -> String {
    builder(&DocumentLimits::default())
        .finish()
        .sdl_with_options(
            SDLExportOptions::new()
                .sorted_fields()
                .sorted_arguments()
                .sorted_enum_items(),
        )
}
