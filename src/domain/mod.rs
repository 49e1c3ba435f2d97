//! Typed domain values parsed at the edge: once a value exists it is valid.

mod email;
mod password;
mod user_name;

pub use email::Email;
pub use password::Password;
pub use user_name::UserName;

/// The role every new account gets.
pub const DEFAULT_ROLE: &str = "user";
