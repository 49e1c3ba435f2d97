//! Authentication: passwords, tokens, sessions and the per-request principal.
//! The GraphQL layer calls [`AuthService`]; it calls the store.

mod accounts;
mod admin;
mod audit;
mod error;
pub mod feed;
mod ip_limit;
pub mod keys;
mod mailbox;
mod mailer;
pub mod password;
mod principal;
mod revocation;
mod rotation;
mod service;
mod sessions;
mod throttle;
pub mod tokens;

pub use admin::Respelled;
pub use audit::{Actor, AuditEvent};
pub use error::{AuthError, UnauthenticatedReason};
pub use mailbox::PASSWORD_RESET_REASON;
pub use mailer::Mail;
pub use principal::{Bearer, Principal, RequestCredentials};
pub use revocation::{FeedState, SessionStatusCache};
pub use service::{
    AccessToken, Account, AuthService, ClientInfo, Registration, SessionView, SignedIn,
};
pub use sessions::LogoutScope;
