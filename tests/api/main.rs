//! authql's integration tests: one binary, a real server per test.

mod cli;
mod helpers;
mod http;
mod login;
mod logout;
mod refresh;
mod register;
mod schema;
mod session;
mod tokens;
