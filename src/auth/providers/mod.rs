//! Signing in with an account at a provider (Google, Microsoft, GitLab,
//! Apple, any OpenID Connect provider, and GitHub's plain OAuth 2): the
//! authorization-code flow with PKCE, its state kept on the server so any
//! instance can finish what another began.
//!
//! 1. `start`: the frontend sends the S256 challenge of a verifier it keeps
//!    and where the browser should come back to (checked against
//!    `AUTHQL_REDIRECT_URLS`); authql stores the flow (a random `state`,
//!    kept hashed, a nonce and its own PKCE verifier toward the provider)
//!    and answers the provider's authorization URL.
//! 2. `answer` (the `/auth/callback/{provider}` route): the `state` is used
//!    up, the provider's code exchanged, the ID token verified (signature
//!    through the provider's keys, `iss`, `aud`, `azp`, `exp`, nonce); the
//!    account is found or made (`accounts`), and the browser goes back with
//!    a one-time code (60 s), never a token. `oidc.rs` and `github.rs` speak
//!    each protocol.
//! 3. `completion`: the frontend trades the code and its verifier for a
//!    session through the sign-in front door (or, for a link, for the
//!    identity linked to the signed-in user).

mod accounts;
mod answer;
mod completion;
mod flow;
mod github;
mod oidc;
mod outbound;
mod registry;

pub use answer::{Callback, Landing};
pub use completion::Identity;
pub use flow::{FlowStart, ProviderRedirect};
pub use registry::{ProviderInfo, Providers};

/// A verified account at a provider, as its ID token (and user info) say.
#[derive(Clone, Debug)]
pub(in crate::auth) struct ProvidedIdentity {
    pub subject: String,
    /// Lower-cased as the provider gave it.
    pub email: Option<String>,
    /// Whether the provider vouches that the address is its user's.
    pub email_verified: bool,
    pub name: Option<String>,
}
