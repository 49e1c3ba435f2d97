//! Typed domain values parsed at the edge: once a value exists it is valid.

mod email;
mod event_kind;
mod link_token;
mod page;
mod passkey_name;
mod password;
mod pkce;
mod roles;
mod user_name;

pub use email::Email;
pub use event_kind::EventKind;
pub use link_token::{LinkToken, sha256_hex};
pub use page::{Page, Slice};
pub use passkey_name::PasskeyName;
pub use password::Password;
pub use pkce::CodeChallenge;
pub use roles::{ADMIN_ROLE, DEFAULT_ROLE, Roles};
pub use user_name::UserName;
