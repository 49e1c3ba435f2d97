//! Mail: composing letters from templates ([`compose`]), handing them to
//! SMTP or the log ([`postman`]), and the worker that sends what the outbox
//! holds ([`worker`]). The auth flows queue letters in the outbox, in the
//! transaction of the change that causes them; nothing is sent from a
//! request.

pub mod compose;
pub mod postman;
pub mod worker;

pub use compose::{Letter, MailKind, Templates, Variables};
pub use postman::Postman;
pub use worker::{MailWorker, PASSWORD_RESET_REQUEST, Requests};
