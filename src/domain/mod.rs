//! Typed domain values parsed at the edge: once a value exists it is valid.

mod email;
mod password;
mod roles;
mod user_name;

pub use email::Email;
pub use password::Password;
pub use roles::{ADMIN_ROLE, DEFAULT_ROLE, Roles};
pub use user_name::UserName;
