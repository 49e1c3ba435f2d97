//! Authentication: the session core and the one sign-in front door, the
//! ways of proving who you are, tokens and keys, throttles, the session
//! status cache and its feed, and the audit trail. The GraphQL layer calls
//! [`AuthService`]; it calls the store.

mod address;
mod admin;
mod admission;
mod audit;
mod error;
pub mod feed;
mod ip_limit;
pub mod keys;
mod mail_queue;
mod model;
pub mod passkeys;
pub mod password;
mod password_change;
mod password_sign_in;
mod principal;
pub mod providers;
mod registration;
mod reset_link;
mod rotation;
pub mod second_factor;
pub mod session_core;
mod sessions;
mod sign_in;
mod state;
mod status_cache;
mod throttle;
pub mod tokens;

pub use admin::Respelled;
pub use admission::Admitted;
pub use audit::{Actor, AuditEvent};
pub use error::{AuthError, UnauthenticatedReason};
pub use mail_queue::Mail;
pub use model::{AccessToken, Account, ClientInfo, Registration, SessionView, SignedIn};
pub use principal::{Bearer, Principal, RequestCredentials};
pub use session_core::{Change, EndReason, SessionNews};
pub use sessions::LogoutScope;
pub use sign_in::{SecondFactorChallenge, SignInMethod, SignInOutcome};
pub use state::AuthService;
pub use status_cache::{FeedState, SessionStatusCache};
