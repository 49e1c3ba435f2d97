//! The keys tokens are signed and verified with, and the key set published
//! for everyone else.
//!
//! With HS256 there is one key, the shared secret, and nothing is published.
//! Otherwise keys live in the database (sealed by the master key) so every
//! instance has the same set; each instance rereads it every
//! `AUTHQL_KEY_RELOAD_INTERVAL` (10 s), at once when a token names a key it
//! does not know (at most once a second), and keeps the rotation schedule.

mod keyring;
pub mod material;
mod schedule;
mod sealing;

pub use keyring::{KeyInfo, Keyring, LEEWAY_SECONDS, SigningKey, VerifyingKey};
pub use schedule::Request;
pub use sealing::Sealer;
