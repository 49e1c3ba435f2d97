//! authql: a self-hosted authentication API for GraphQL frontends.
//!
//! Data flows one way: [`http`] → [`graphql`] → [`auth`] / [`domain`] →
//! [`store`] → database. Mail leaves through the outbox: [`auth`] queues
//! it in the store, [`mail`]'s worker sends it.
#![forbid(unsafe_code)]

pub mod auth;
pub mod config;
pub mod domain;
pub mod graphql;
pub mod http;
pub mod mail;
pub mod operator;
pub mod startup;
pub mod store;
pub mod telemetry;
