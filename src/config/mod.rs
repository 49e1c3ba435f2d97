//! Typed settings from environment variables and the matching CLI flags.
//!
//! The variable names are a contract operators script against; the README
//! lists every one with its default.

mod cli;
mod cors;
mod mail;
mod passkeys;
mod protection;
mod providers;
mod redact;
mod secret;
mod sessions;
mod settings;
mod signing;

pub use cli::{Cli, Command, KeysAction, MailAction, MigrateAction, UserAction};
pub use cors::{CorsSettings, DEFAULT_CORS_ALLOWED_HEADERS, DEVELOPMENT_CORS_ORIGINS};
pub use mail::{
    Delivery, LinkTemplate, MailLimits, MailSettings, SmtpUrl, TOKEN_PLACEHOLDER, WorkerSettings,
};
pub use passkeys::{PasskeyArgs, PasskeySettings};
pub use protection::{
    DocumentLimits, HashingSettings, PasswordPolicy, Protection, ServerLimits, ThrottleSettings,
};
pub use providers::{
    ClientSecret, Protocol, ProviderConfig, ProviderKind, ProviderSettings, RedirectAllowList,
    ResponseMode, pkcs8_der,
};
pub use redact::redact_url;
pub use secret::development_secret_path;
pub use sessions::{FeedSettings, RefreshTransport, ReusePolicy, SessionPolicy, TokenLifetimes};
pub use settings::{
    CleanupSettings, DatabaseSettings, Environment, Settings, SettingsArgs, defaults,
    parse_duration,
};
pub use signing::{JwtSettings, MasterKey, Signing, SigningAlgorithm};
