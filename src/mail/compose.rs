//! Letters from templates: built-in defaults, each replaceable by a file in
//! `AUTHQL_MAIL_TEMPLATES`. Values are escaped in HTML templates.

use std::time::Duration;

use anyhow::{Context, bail};
use minijinja::{Environment, Value, context};

use crate::config::MailSettings;

/// Every kind of mail authql sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailKind {
    /// A link that confirms the account's address.
    VerifyEmail,
    /// A link to choose a new password.
    PasswordReset,
    /// A link, to a new address, that makes it the account's.
    ChangeEmail,
    /// To the old address: a change to another was asked for.
    EmailChangeNotice,
    /// To the old address: the account moved to another address.
    EmailChanged,
    /// To the account's address: its password was changed or reset.
    PasswordChanged,
    /// To the account's address: an account at a provider was linked.
    IdentityLinked,
    /// To the account's address: two-step sign-in was turned on.
    SecondFactorAdded,
    /// To the account's address: a second factor was removed.
    SecondFactorRemoved,
    /// To the account's address: a recovery code signed in.
    RecoveryCodeUsed,
    /// To the account's address: a passkey was added.
    PasskeyAdded,
    /// To the account's address: a passkey was removed.
    PasskeyRemoved,
}

impl MailKind {
    pub const ALL: [Self; 12] = [
        Self::VerifyEmail,
        Self::PasswordReset,
        Self::ChangeEmail,
        Self::EmailChangeNotice,
        Self::EmailChanged,
        Self::PasswordChanged,
        Self::IdentityLinked,
        Self::SecondFactorAdded,
        Self::SecondFactorRemoved,
        Self::RecoveryCodeUsed,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
    ];

    /// Links, which the sending limits count; notices are always sent.
    pub const WITH_LINKS: [Self; 3] = [Self::VerifyEmail, Self::PasswordReset, Self::ChangeEmail];

    /// The name of its templates and of `outbox.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
            Self::ChangeEmail => "change_email",
            Self::EmailChangeNotice => "email_change_notice",
            Self::EmailChanged => "email_changed",
            Self::PasswordChanged => "password_changed",
            Self::IdentityLinked => "identity_linked",
            Self::SecondFactorAdded => "second_factor_added",
            Self::SecondFactorRemoved => "second_factor_removed",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
        }
    }

    fn defaults(self) -> [&'static str; 3] {
        macro_rules! built_in {
            ($name:literal) => {
                [
                    include_str!(concat!("templates/", $name, ".subject")),
                    include_str!(concat!("templates/", $name, ".txt")),
                    include_str!(concat!("templates/", $name, ".html")),
                ]
            };
        }
        match self {
            Self::VerifyEmail => built_in!("verify_email"),
            Self::PasswordReset => built_in!("password_reset"),
            Self::ChangeEmail => built_in!("change_email"),
            Self::EmailChangeNotice => built_in!("email_change_notice"),
            Self::EmailChanged => built_in!("email_changed"),
            Self::PasswordChanged => built_in!("password_changed"),
            Self::IdentityLinked => built_in!("identity_linked"),
            Self::SecondFactorAdded => built_in!("second_factor_added"),
            Self::SecondFactorRemoved => built_in!("second_factor_removed"),
            Self::RecoveryCodeUsed => built_in!("recovery_code_used"),
            Self::PasskeyAdded => built_in!("passkey_added"),
            Self::PasskeyRemoved => built_in!("passkey_removed"),
        }
    }
}

/// What a template may use besides `product`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Variables<'a> {
    /// The user's display name.
    pub name: &'a str,
    /// The address the mail goes to.
    pub email: &'a str,
    /// The link, in link mails.
    pub link: Option<&'a str>,
    /// How long the link works.
    pub expires_in: Option<Duration>,
    /// The new address, in the change notices.
    pub new_email: Option<&'a str>,
    /// The provider's name, in the link notice.
    pub provider: Option<&'a str>,
    /// Recovery codes left, in the notice of one used.
    pub codes_left: Option<u64>,
    /// The passkey's name, in the passkey notices.
    pub passkey: Option<&'a str>,
}

/// A letter ready for the outbox.
#[derive(Clone, PartialEq, Eq)]
pub struct Letter {
    pub kind: MailKind,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl std::fmt::Debug for Letter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Letter")
            .field("kind", &self.kind)
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// The templates of every kind, loaded and checked once at start-up.
pub struct Templates {
    env: Environment<'static>,
    product: String,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

const PARTS: [&str; 3] = ["subject", "txt", "html"];

impl Templates {
    /// The built-in templates, with the files of `settings.templates`
    /// instead where they exist. Every template is rendered once here, so a
    /// broken one stops start-up instead of a mail.
    pub fn load(settings: &MailSettings) -> anyhow::Result<Self> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for kind in MailKind::ALL {
            for (part, default) in PARTS.into_iter().zip(kind.defaults()) {
                let name = format!("{}.{part}", kind.as_str());
                let source = match &settings.templates {
                    Some(dir) if dir.join(&name).is_file() => {
                        std::fs::read_to_string(dir.join(&name))
                            .with_context(|| format!("AUTHQL_MAIL_TEMPLATES: cannot read {name}"))?
                    }
                    _ => default.to_owned(),
                };
                env.add_template_owned(name.clone(), source)
                    .with_context(|| format!("the mail template {name} does not parse"))?;
            }
        }
        let templates = Self {
            env,
            product: settings.product_name.clone(),
        };
        for kind in MailKind::ALL {
            templates
                .compose(
                    kind,
                    Variables {
                        name: "Ada",
                        email: "ada@example.com",
                        link: Some("https://app.example.com/?token=t"),
                        expires_in: Some(Duration::from_secs(1800)),
                        new_email: Some("ada@example.org"),
                        provider: Some("Google"),
                        codes_left: Some(2),
                        passkey: Some("YubiKey"),
                    },
                )
                .with_context(|| format!("the {} mail templates do not render", kind.as_str()))?;
        }
        Ok(templates)
    }

    /// The letter of `kind` to `variables.email`.
    pub fn compose(&self, kind: MailKind, variables: Variables<'_>) -> anyhow::Result<Letter> {
        let context = context! {
            product => self.product.as_str(),
            name => variables.name,
            email => variables.email,
            link => variables.link.map(Value::from),
            expires_in => variables.expires_in.map(|d| Value::from(spoken(d))),
            new_email => variables.new_email.map(Value::from),
            provider => variables.provider.map(Value::from),
            codes_left => variables.codes_left.map(Value::from),
            passkey => variables.passkey.map(Value::from),
        };
        let render = |part: &str| -> anyhow::Result<String> {
            let name = format!("{}.{part}", kind.as_str());
            Ok(self.env.get_template(&name)?.render(context.clone())?)
        };
        let subject = render("subject")?.trim().to_owned();
        if subject.is_empty() || subject.contains(['\r', '\n']) {
            bail!(
                "the subject of {} must be one non-empty line",
                kind.as_str()
            );
        }
        Ok(Letter {
            kind,
            to: variables.email.to_owned(),
            subject,
            text: render("txt")?,
            html: render("html")?,
        })
    }
}

/// `30 minutes`, `24 hours`, `2 days`: a link's lifetime as a mail says it.
fn spoken(duration: Duration) -> String {
    let minutes = duration.as_secs() / 60;
    let (count, unit) = if minutes.is_multiple_of(24 * 60) && minutes >= 24 * 60 {
        (minutes / (24 * 60), "day")
    } else if minutes.is_multiple_of(60) && minutes >= 60 {
        (minutes / 60, "hour")
    } else {
        (minutes.max(1), "minute")
    };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates() -> Templates {
        Templates::load(&MailSettings::default()).unwrap()
    }

    #[test]
    fn every_built_in_template_renders_with_the_link_and_the_product() {
        let letter = templates()
            .compose(
                MailKind::PasswordReset,
                Variables {
                    name: "Ada",
                    email: "ada@example.com",
                    link: Some("https://app.example.com/reset?token=abc"),
                    expires_in: Some(Duration::from_secs(1800)),
                    new_email: None,
                    provider: None,
                    codes_left: None,
                    passkey: None,
                },
            )
            .unwrap();
        assert_eq!(letter.subject, "Reset your authql password");
        assert!(
            letter
                .text
                .contains("https://app.example.com/reset?token=abc")
        );
        assert!(letter.text.contains("30 minutes"));
        // Escaped as HTML (`/` as `&#x2f;`), which mail clients decode.
        assert!(
            letter
                .html
                .contains("href=\"https:&#x2f;&#x2f;app.example.com&#x2f;reset?token=abc\""),
            "{}",
            letter.html
        );
        assert_eq!(letter.to, "ada@example.com");
    }

    #[test]
    fn values_are_escaped_in_html_only() {
        let letter = templates()
            .compose(
                MailKind::PasswordChanged,
                Variables {
                    name: "<script>x</script>",
                    email: "ada@example.com",
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(letter.text.contains("<script>x</script>"));
        assert!(!letter.html.contains("<script>"));
        assert!(letter.html.contains("&lt;script&gt;"));
    }

    #[test]
    fn templates_from_the_directory_replace_the_built_in_ones_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("password_reset.subject"),
            "{{ product }}: new password for {{ name }}",
        )
        .unwrap();
        let settings = MailSettings {
            templates: Some(dir.path().to_owned()),
            product_name: "Acme".into(),
            ..MailSettings::default()
        };
        let letter = Templates::load(&settings)
            .unwrap()
            .compose(
                MailKind::PasswordReset,
                Variables {
                    name: "Ada",
                    email: "ada@example.com",
                    link: Some("https://x/?t=1"),
                    expires_in: Some(Duration::from_secs(3600)),
                    new_email: None,
                    provider: None,
                    codes_left: None,
                    passkey: None,
                },
            )
            .unwrap();
        assert_eq!(letter.subject, "Acme: new password for Ada");
        assert!(letter.text.contains("1 hour"));

        std::fs::write(dir.path().join("verify_email.txt"), "{{ no_such_value }}").unwrap();
        let error = Templates::load(&settings).unwrap_err();
        assert!(format!("{error:#}").contains("verify_email"), "{error:#}");
    }

    #[test]
    fn lifetimes_are_spoken() {
        assert_eq!(spoken(Duration::from_secs(1800)), "30 minutes");
        assert_eq!(spoken(Duration::from_secs(3600)), "1 hour");
        assert_eq!(spoken(Duration::from_secs(86400)), "1 day");
        assert_eq!(spoken(Duration::from_secs(90 * 60)), "90 minutes");
    }
}
