//! authql's integration tests: one binary, a real server per test.
#![forbid(unsafe_code)]

/// Runs each named test on every backend: `<name>::sqlite` always, and
/// `<name>::postgres` when `AUTHQL_TEST_POSTGRES_URL` was set for the build
/// (otherwise it is reported as ignored, by name).
macro_rules! on_every_backend {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                $crate::helpers::on_backend($crate::helpers::Backend::Sqlite, super::$name()).await
            }

            #[tokio::test]
            #[cfg_attr(not(postgres_tests), ignore = "AUTHQL_TEST_POSTGRES_URL is not set")]
            async fn postgres() {
                $crate::helpers::on_backend($crate::helpers::Backend::Postgres, super::$name()).await
            }
        }
    )+};
}
pub(crate) use on_every_backend;

/// As [`on_every_backend`], for tests that need a partner the build was told
/// of (`cfg` from `build.rs`): reported as ignored, by name, with `reason`,
/// unless its variable was set for the build.
macro_rules! on_every_backend_with {
    ($cfg:meta, $reason:literal; $($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            #[cfg_attr(not($cfg), ignore = $reason)]
            async fn sqlite() {
                $crate::helpers::on_backend($crate::helpers::Backend::Sqlite, super::$name()).await
            }

            #[tokio::test]
            #[cfg_attr(not(postgres_tests), ignore = "AUTHQL_TEST_POSTGRES_URL is not set")]
            #[cfg_attr(all(postgres_tests, not($cfg)), ignore = $reason)]
            async fn postgres() {
                $crate::helpers::on_backend($crate::helpers::Backend::Postgres, super::$name()).await
            }
        }
    )+};
}
pub(crate) use on_every_backend_with;

mod admin;
mod audit;
mod cli;
mod connections;
mod cookies;
mod cors;
mod faults;
mod fuzz;
mod graphiql;
mod helpers;
mod hostile_documents;
mod http;
mod instances;
mod keys;
mod login;
mod logout;
mod logs;
mod mailbox;
mod oidc;
mod operator;
mod passkeys;
mod providers;
mod recovery;
mod refresh;
mod register;
mod resource_server;
mod revocation;
mod schema;
mod second_factor;
mod session;
mod sessions;
mod smtp;
mod throttling;
mod tokens;
