//! Two-step sign-in: a second factor (an authenticator app's TOTP codes,
//! with recovery codes) that every way of signing in must be followed by
//! once a user turned it on.
//!
//! - `enrollment.rs`: a pending factor (its secret sealed under the master
//!   key), confirmed with a first code; the recovery codes.
//! - `challenge.rs`: the front door's first step (`SECOND_FACTOR_REQUIRED`
//!   with an `mfaToken`), and the second (`verifySecondFactor`), which opens
//!   the session through the front door with `amr` `otp` and `mfa`.
//! - `totp.rs`: RFC 6238 through `totp-rs`; a code's time step is used up by
//!   one conditional update, so a code is good once.

mod challenge;
mod enrollment;
mod management;
mod recovery;
mod totp;

pub use challenge::SecondFactorCode;
pub use enrollment::{FactorView, TotpEnrollment};

use crate::auth::keys::Sealer;

/// What two-step sign-in needs from the settings.
pub struct SecondFactors {
    /// Seals TOTP secrets: the master key's; `None` without one (HS256),
    /// where second factors cannot be enrolled.
    pub(in crate::auth) sealer: Option<Sealer>,
    /// The product name apps show beside the code.
    pub(in crate::auth) issuer: String,
    /// `AUTHQL_ADMIN_REQUIRES_SECOND_FACTOR`.
    pub(in crate::auth) admin_requires: bool,
}

impl std::fmt::Debug for SecondFactors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondFactors")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}
