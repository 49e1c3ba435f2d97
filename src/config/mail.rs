//! Mail: the SMTP server, the sender, the frontend routes links point to,
//! the templates, the sending limits and the outbox worker's pace.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use lettre::message::Mailbox;
use secrecy::{ExposeSecret, SecretString};

use super::Environment;
use super::defaults::duration;
use super::parse_duration;

const PASSWORD_RESET_TTL: &str = "30m";
const EMAIL_VERIFICATION_TTL: &str = "24h";
const MAIL_POLL_INTERVAL: &str = "2s";
const MAIL_RETRY_DELAY: &str = "30s";
const MAIL_MAX_RETRY_DELAY: &str = "1h";
const MAIL_SEND_TIMEOUT: &str = "30s";
const MAIL_MAX_ATTEMPTS: u32 = 10;
const MAIL_PER_ADDRESS_PER_HOUR: u32 = 5;
const MAIL_PER_IP_PER_HOUR: u32 = 20;
const DEVELOPMENT_FROM: &str = "authql <no-reply@localhost>";
const DEVELOPMENT_RESET_URL: &str = "http://localhost:3000/reset-password?token={token}";
const DEVELOPMENT_VERIFY_URL: &str = "http://localhost:3000/verify-email?token={token}";
/// Where a link template puts the token.
pub const TOKEN_PLACEHOLDER: &str = "{token}";

/// `Mail` flags.
#[derive(Args)]
#[command(next_help_heading = "Mail")]
pub struct MailArgs {
    /// The SMTP server: `smtps://user:pass@host:465`,
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtp://host:25`
    /// (no TLS: a relay on the same host). Unset in development: mails are
    /// written to the log instead. Required in production.
    #[arg(long, env = "AUTHQL_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<String>,
    /// The sender, e.g. `Example <no-reply@example.com>`. Required in
    /// production.
    #[arg(long, env = "AUTHQL_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,
    /// The product's name in subjects and bodies.
    #[arg(
        long,
        env = "AUTHQL_PRODUCT_NAME",
        default_value = "authql",
        global = true
    )]
    pub product_name: String,
    /// The frontend's page that asks for a new password; `{token}` is
    /// replaced by the reset token. Required in production.
    #[arg(long, env = "AUTHQL_RESET_URL", global = true)]
    pub reset_url: Option<String>,
    /// The frontend's page that confirms an address (after registration and
    /// after `changeEmail`) by calling `verifyEmail`; `{token}` is replaced
    /// by the token. Required in production.
    #[arg(long, env = "AUTHQL_VERIFY_URL", global = true)]
    pub verify_url: Option<String>,
    /// A directory whose `KIND.subject`, `KIND.txt` and `KIND.html` files
    /// replace the built-in templates (see the README).
    #[arg(long, env = "AUTHQL_MAIL_TEMPLATES", global = true)]
    pub mail_templates: Option<PathBuf>,
    /// Refuse login (`EMAIL_NOT_VERIFIED`) until the address is confirmed.
    #[arg(long, env = "AUTHQL_REQUIRE_VERIFIED_EMAIL", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub require_verified_email: bool,
    /// How long a password reset link works.
    #[arg(long, env = "AUTHQL_PASSWORD_RESET_TTL", default_value = PASSWORD_RESET_TTL, value_parser = parse_duration, global = true)]
    pub password_reset_ttl: Duration,
    /// How long a verification or e-mail change link works.
    #[arg(long, env = "AUTHQL_EMAIL_VERIFICATION_TTL", default_value = EMAIL_VERIFICATION_TTL, value_parser = parse_duration, global = true)]
    pub email_verification_ttl: Duration,
    /// Most link mails to one address per hour; more are not sent.
    #[arg(long, env = "AUTHQL_MAIL_PER_ADDRESS_PER_HOUR", default_value_t = MAIL_PER_ADDRESS_PER_HOUR, global = true)]
    pub mail_per_address_per_hour: u32,
    /// Most link mails caused from one client IP per hour; more are not sent.
    #[arg(long, env = "AUTHQL_MAIL_PER_IP_PER_HOUR", default_value_t = MAIL_PER_IP_PER_HOUR, global = true)]
    pub mail_per_ip_per_hour: u32,
    /// How often each instance looks for mail queued by others.
    #[arg(long, env = "AUTHQL_MAIL_POLL_INTERVAL", default_value = MAIL_POLL_INTERVAL, value_parser = parse_duration, global = true)]
    pub mail_poll_interval: Duration,
    /// The wait after a first failed attempt; it doubles with each failure.
    #[arg(long, env = "AUTHQL_MAIL_RETRY_DELAY", default_value = MAIL_RETRY_DELAY, value_parser = parse_duration, global = true)]
    pub mail_retry_delay: Duration,
    /// Attempts before a mail is given up on (kept for `authql mail list`).
    #[arg(long, env = "AUTHQL_MAIL_MAX_ATTEMPTS", default_value_t = MAIL_MAX_ATTEMPTS, global = true)]
    pub mail_max_attempts: u32,
    /// The longest one SMTP conversation may take.
    #[arg(long, env = "AUTHQL_MAIL_SEND_TIMEOUT", default_value = MAIL_SEND_TIMEOUT, value_parser = parse_duration, global = true)]
    pub mail_send_timeout: Duration,
}

/// The SMTP URL's password is never shown.
impl std::fmt::Debug for MailArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailArgs")
            .field("smtp_url", &self.smtp_url.as_deref().map(super::redact_url))
            .field("mail_from", &self.mail_from)
            .field("product_name", &self.product_name)
            .field("require_verified_email", &self.require_verified_email)
            .finish_non_exhaustive()
    }
}

/// An SMTP URL; it may hold a password, so `Debug` hides it.
#[derive(Clone)]
pub struct SmtpUrl(SecretString);

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&super::redact_url(self.0.expose_secret()))
    }
}

impl SmtpUrl {
    /// Checks that lettre understands `url` (scheme, `tls` parameter, host).
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url).map_err(|e| {
            anyhow::anyhow!(
                "AUTHQL_SMTP_URL is not a usable SMTP URL ({e}); write smtps://user:pass@host:465 or smtp://user:pass@host:587?tls=required"
            )
        })?;
        Ok(Self(SecretString::from(url)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// A frontend URL with a `{token}` placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkTemplate(String);

impl LinkTemplate {
    pub fn parse(variable: &str, raw: &str) -> anyhow::Result<Self> {
        let raw = raw.trim();
        if raw.matches(TOKEN_PLACEHOLDER).count() != 1 {
            bail!("{variable} must contain {TOKEN_PLACEHOLDER} once, where the token goes");
        }
        let example = raw.replace(TOKEN_PLACEHOLDER, "token");
        let url = url::Url::parse(&example)
            .with_context(|| format!("{variable} is not an absolute URL"))?;
        if !matches!(url.scheme(), "https" | "http") {
            bail!("{variable} must be an http or https URL");
        }
        Ok(Self(raw.to_owned()))
    }

    /// The link for `token` (unpadded base64url, so nothing to escape).
    pub fn link(&self, token: &str) -> String {
        self.0.replace(TOKEN_PLACEHOLDER, token)
    }
}

/// Where mail goes.
#[derive(Clone, Debug)]
pub enum Delivery {
    Smtp(SmtpUrl),
    /// Development without SMTP: each mail, links included, is logged.
    Log,
}

/// The outbox worker's pace.
#[derive(Clone, Copy, Debug)]
pub struct WorkerSettings {
    pub poll_interval: Duration,
    pub retry_delay: Duration,
    pub max_retry_delay: Duration,
    pub max_attempts: u32,
    pub send_timeout: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            poll_interval: duration(MAIL_POLL_INTERVAL),
            retry_delay: duration(MAIL_RETRY_DELAY),
            max_retry_delay: duration(MAIL_MAX_RETRY_DELAY),
            max_attempts: MAIL_MAX_ATTEMPTS,
            send_timeout: duration(MAIL_SEND_TIMEOUT),
        }
    }
}

/// At most this many link mails per hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailLimits {
    pub per_address_per_hour: u32,
    pub per_ip_per_hour: u32,
}

/// Mail settings, checked.
#[derive(Clone, Debug)]
pub struct MailSettings {
    pub delivery: Delivery,
    pub from: Mailbox,
    pub product_name: String,
    pub reset_url: LinkTemplate,
    pub verify_url: LinkTemplate,
    pub templates: Option<PathBuf>,
    pub require_verified_email: bool,
    pub reset_ttl: Duration,
    pub verification_ttl: Duration,
    pub limits: MailLimits,
    pub worker: WorkerSettings,
}

impl Default for MailSettings {
    /// Development's: mails are logged, links point to `localhost:3000`.
    fn default() -> Self {
        Self {
            delivery: Delivery::Log,
            from: DEVELOPMENT_FROM.parse().expect("a valid mailbox"),
            product_name: "authql".into(),
            reset_url: LinkTemplate(DEVELOPMENT_RESET_URL.into()),
            verify_url: LinkTemplate(DEVELOPMENT_VERIFY_URL.into()),
            templates: None,
            require_verified_email: false,
            reset_ttl: duration(PASSWORD_RESET_TTL),
            verification_ttl: duration(EMAIL_VERIFICATION_TTL),
            limits: MailLimits {
                per_address_per_hour: MAIL_PER_ADDRESS_PER_HOUR,
                per_ip_per_hour: MAIL_PER_IP_PER_HOUR,
            },
            worker: WorkerSettings::default(),
        }
    }
}

impl MailArgs {
    pub fn resolve(self, environment: Environment) -> anyhow::Result<MailSettings> {
        let production = environment == Environment::Production;
        let required = |value: Option<String>, variable: &str, development: &str| match value {
            Some(value) => Ok(value),
            None if production => bail!(
                "{variable} is required in production (mail for password resets and address verification)"
            ),
            None => Ok(development.to_owned()),
        };
        let delivery = match self.smtp_url.filter(|url| !url.trim().is_empty()) {
            Some(url) => Delivery::Smtp(SmtpUrl::parse(url.trim())?),
            None if production => bail!(
                "AUTHQL_SMTP_URL is required in production: password resets and address verification go by mail"
            ),
            None => Delivery::Log,
        };
        let from = required(self.mail_from, "AUTHQL_MAIL_FROM", DEVELOPMENT_FROM)?;
        let from: Mailbox = from.trim().parse().map_err(|_| {
            anyhow::anyhow!(
                "AUTHQL_MAIL_FROM is not a mailbox: write `Name <address@example.com>` or `address@example.com`"
            )
        })?;
        let reset_url = LinkTemplate::parse(
            "AUTHQL_RESET_URL",
            &required(self.reset_url, "AUTHQL_RESET_URL", DEVELOPMENT_RESET_URL)?,
        )?;
        let verify_url = LinkTemplate::parse(
            "AUTHQL_VERIFY_URL",
            &required(self.verify_url, "AUTHQL_VERIFY_URL", DEVELOPMENT_VERIFY_URL)?,
        )?;
        if self.product_name.trim().is_empty() {
            bail!("AUTHQL_PRODUCT_NAME must not be empty");
        }
        for (variable, value) in [
            ("AUTHQL_PASSWORD_RESET_TTL", self.password_reset_ttl),
            ("AUTHQL_EMAIL_VERIFICATION_TTL", self.email_verification_ttl),
        ] {
            if value < Duration::from_secs(60) {
                bail!("{variable} must be at least 1m");
            }
        }
        if self.mail_poll_interval < Duration::from_millis(10) {
            bail!("AUTHQL_MAIL_POLL_INTERVAL must be at least 10ms");
        }
        if self.mail_retry_delay < Duration::from_millis(10) {
            bail!("AUTHQL_MAIL_RETRY_DELAY must be at least 10ms");
        }
        if self.mail_max_attempts == 0 {
            bail!("AUTHQL_MAIL_MAX_ATTEMPTS must be at least 1");
        }
        if self.mail_send_timeout < Duration::from_secs(1) {
            bail!("AUTHQL_MAIL_SEND_TIMEOUT must be at least 1s");
        }
        if let Some(dir) = &self.mail_templates
            && !dir.is_dir()
        {
            bail!(
                "AUTHQL_MAIL_TEMPLATES: {} is not a directory",
                dir.display()
            );
        }
        Ok(MailSettings {
            delivery,
            from,
            product_name: self.product_name.trim().to_owned(),
            reset_url,
            verify_url,
            templates: self.mail_templates,
            require_verified_email: self.require_verified_email,
            reset_ttl: self.password_reset_ttl,
            verification_ttl: self.email_verification_ttl,
            limits: MailLimits {
                per_address_per_hour: self.mail_per_address_per_hour,
                per_ip_per_hour: self.mail_per_ip_per_hour,
            },
            worker: WorkerSettings {
                poll_interval: self.mail_poll_interval,
                retry_delay: self.mail_retry_delay,
                max_retry_delay: duration(MAIL_MAX_RETRY_DELAY).max(self.mail_retry_delay),
                max_attempts: self.mail_max_attempts,
                send_timeout: self.mail_send_timeout,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_templates_need_one_token_placeholder_in_an_http_url() {
        let template =
            LinkTemplate::parse("X", "https://app.example.com/reset?token={token}").unwrap();
        assert_eq!(
            template.link("abc"),
            "https://app.example.com/reset?token=abc"
        );
        assert!(LinkTemplate::parse("X", "https://app.example.com/reset").is_err());
        assert!(LinkTemplate::parse("X", "https://a/{token}/{token}").is_err());
        assert!(LinkTemplate::parse("X", "/reset?token={token}").is_err());
        assert!(LinkTemplate::parse("X", "javascript:alert({token})").is_err());
    }

    #[test]
    fn smtp_urls_are_checked_and_never_printed_with_their_password() {
        let url = SmtpUrl::parse("smtps://user:s3cret@mail.example.com:465").unwrap();
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(SmtpUrl::parse("smtp://mail.example.com:587?tls=required").is_ok());
        assert!(SmtpUrl::parse("http://mail.example.com").is_err());
        assert!(SmtpUrl::parse("smtp://mail.example.com?tls=sometimes").is_err());
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let mail = MailSettings::default();
        assert_eq!(mail.reset_ttl, Duration::from_secs(30 * 60));
        assert_eq!(mail.verification_ttl, Duration::from_secs(24 * 3600));
        assert_eq!(mail.limits.per_address_per_hour, 5);
        assert_eq!(mail.limits.per_ip_per_hour, 20);
        assert_eq!(mail.worker.max_attempts, 10);
        assert!(!mail.require_verified_email);
        assert!(matches!(mail.delivery, Delivery::Log));
    }
}
