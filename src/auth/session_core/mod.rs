//! The session core: opening a session, issuing and signing within it,
//! ending sessions, and telling the rest of the process. Every way of
//! signing in reaches it through the one front door,
//! [`crate::auth::sign_in`]; every change that others must hear of commits
//! through a [`Unit`].

mod ending;
mod issuing;
mod news;
mod opening;
mod unit;

pub use ending::{EndReason, account_changed, end_sessions, retire_links};
pub use issuing::{RENEWAL_REACH, whole_seconds};
pub use news::{Change, SessionNews};
pub use opening::Opened;
pub use unit::Unit;
