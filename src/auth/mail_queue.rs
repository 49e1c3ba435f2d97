//! Queuing mail: letters go into the outbox in the caller's transaction,
//! within the sending limits, and this instance's worker is woken once the
//! transaction commits.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use entity::user;
use sea_orm::ConnectionTrait;
use tokio::sync::Notify;

use super::audit::{Event, LinkRequest};
use super::{AuthService, ClientInfo};
use crate::config::{LinkTemplate, MailSettings};
use crate::domain::{LinkToken, UserName};
use crate::mail::{MailKind, Templates, Variables};
use crate::store::account_tokens::{NewToken, Purpose};
use crate::store::outbox::{CountedBy, NewMail};
use crate::store::{self};

/// Notices of one kind to one proven address are coalesced over this long.
const NOTICE_INTERVAL: TimeDelta = TimeDelta::minutes(15);

/// What the mail flows need: templates, links, limits, and the bell of this
/// instance's worker.
pub struct Mail {
    templates: Templates,
    settings: MailSettings,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail").finish_non_exhaustive()
    }
}

impl Mail {
    pub fn new(settings: &MailSettings) -> anyhow::Result<Self> {
        Ok(Self {
            templates: Templates::load(settings)?,
            settings: settings.clone(),
            wake: Arc::new(Notify::new()),
        })
    }

    /// Rung after mail is queued; the worker listens.
    pub fn bell(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    pub fn require_verified_email(&self) -> bool {
        self.settings.require_verified_email
    }

    fn link_of(&self, purpose: Purpose) -> (&LinkTemplate, std::time::Duration, MailKind) {
        match purpose {
            Purpose::PasswordReset => (
                &self.settings.reset_url,
                self.settings.reset_ttl,
                MailKind::PasswordReset,
            ),
            Purpose::VerifyEmail => (
                &self.settings.verify_url,
                self.settings.verification_ttl,
                MailKind::VerifyEmail,
            ),
            Purpose::ChangeEmail => (
                &self.settings.verify_url,
                self.settings.verification_ttl,
                MailKind::ChangeEmail,
            ),
        }
    }
}

/// Whether `to` is `user`'s address and the user proved they read its mail.
fn proven(user: &user::Model, to: &str) -> bool {
    user.email == to && user.email_verified_at.is_some()
}

/// The name a mail to `to` greets: the account's display name only when
/// `to` is the account's verified address. Anyone can register a stranger's
/// address with any name, so mail to an address nobody proved greets
/// neutrally and carries no text of the requester's.
/// A name stored before names were held to [`UserName`]'s rules (one that
/// hides or reorders text) is not shown either.
fn greeting<'a>(user: &'a user::Model, to: &str) -> &'a str {
    if proven(user, to) && UserName::parse(&user.name).is_ok() {
        &user.name
    } else {
        ""
    }
}

/// Whose account a mail is about, which request caused it, and when.
#[derive(Clone, Copy, Debug)]
pub(super) struct Cause<'a> {
    pub user: &'a user::Model,
    pub client: &'a ClientInfo,
    pub now: DateTime<Utc>,
}

/// What became of a link mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Queued {
    Sent,
    /// Not sent: a limit was reached (recorded in the audit trail).
    Limited,
}

impl From<Queued> for LinkRequest {
    fn from(queued: Queued) -> Self {
        match queued {
            Queued::Sent => Self::Sent,
            Queued::Limited => Self::Limited,
        }
    }
}

/// What a notice says of the change besides its kind.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct About<'a> {
    /// The new address, in the change notices.
    pub new_email: Option<&'a str>,
    /// The provider's name, in the link notice.
    pub provider: Option<&'a str>,
    /// Recovery codes left, in the notice of one used.
    pub codes_left: Option<u64>,
    /// The passkey's name, in the passkey notices.
    pub passkey: Option<&'a str>,
}

impl AuthService {
    /// Issues a token of `purpose` for `user` and queues its link to `to`
    /// (the account's address, or the new one), unless a sending limit is
    /// reached: then nothing is issued, and the refusal is recorded.
    pub(super) async fn queue_link<C: ConnectionTrait>(
        &self,
        db: &C,
        purpose: Purpose,
        to: &str,
        cause: Cause<'_>,
    ) -> anyhow::Result<Queued> {
        let Cause { user, client, now } = cause;
        let (url, ttl, kind) = self.mail.link_of(purpose);
        if let Some(limit) = self.sending_limit_reached(db, to, client, now).await? {
            self.record(
                db,
                client,
                Event::MailLimited {
                    user_id: user.id,
                    mail: kind,
                    limit,
                },
            )
            .await?;
            tracing::info!(user_id = %user.id, kind = kind.as_str(), limit, "mail not sent: sending limit reached");
            return Ok(Queued::Limited);
        }
        let token = LinkToken::generate()?;
        store::account_tokens::issue(
            db,
            NewToken {
                user_id: user.id,
                purpose,
                token_hash: token.hash(),
                email: to,
                now,
                expires_at: now
                    + TimeDelta::from_std(ttl).context("a link lifetime is too long")?,
                credential_version: user.credential_version,
            },
        )
        .await
        .context("cannot store the link's token")?;
        let link = url.link(&token.expose());
        let letter = self.mail.templates.compose(
            kind,
            Variables {
                name: greeting(user, to),
                email: to,
                link: Some(&link),
                expires_in: Some(ttl),
                new_email: None,
                provider: None,
                codes_left: None,
                passkey: None,
            },
        )?;
        self.enqueue(db, letter, user, client, now).await?;
        Ok(Queued::Sent)
    }

    /// Queues a notice of `kind` to `to` about `user`'s account (with what
    /// `about` says of the change), unless one
    /// of the same kind went there lately: notices to an address are
    /// coalesced, one a kind per [`NOTICE_INTERVAL`] (the first already
    /// tells the owner to act), and an address nobody proved gets only the
    /// first of a kind (while the outbox keeps its history), so alternating
    /// changes cannot turn authql into a mail cannon at a stranger.
    pub(super) async fn queue_notice<C: ConnectionTrait>(
        &self,
        db: &C,
        kind: MailKind,
        to: &str,
        about: About<'_>,
        cause: Cause<'_>,
    ) -> anyhow::Result<()> {
        let Cause { user, client, now } = cause;
        let proven = proven(user, to);
        let since = if proven {
            now - NOTICE_INTERVAL
        } else {
            DateTime::<Utc>::UNIX_EPOCH
        };
        let sent =
            store::outbox::count_since(db, CountedBy::Recipient(to), &[kind.as_str()], since)
                .await
                .context("cannot count the address's notices")?;
        if sent > 0 {
            tracing::info!(user_id = %user.id, kind = kind.as_str(), proven, "notice not sent: one went there lately");
            return Ok(());
        }
        let letter = self.mail.templates.compose(
            kind,
            Variables {
                name: greeting(user, to),
                email: to,
                link: None,
                expires_in: None,
                new_email: about.new_email,
                provider: about.provider,
                codes_left: about.codes_left,
                passkey: about.passkey,
            },
        )?;
        self.enqueue(db, letter, user, client, now).await
    }

    async fn enqueue<C: ConnectionTrait>(
        &self,
        db: &C,
        letter: crate::mail::Letter,
        user: &user::Model,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        store::outbox::enqueue(
            db,
            NewMail {
                kind: letter.kind.as_str(),
                user_id: Some(user.id),
                recipient: letter.to,
                ip: client.ip.clone(),
                user_agent: client.user_agent.clone(),
                subject: letter.subject,
                text_body: letter.text,
                html_body: letter.html,
                now,
            },
        )
        .await
        .context("cannot queue the mail")?;
        Ok(())
    }

    /// The limit (`address` or `ip`) that a link mail to `to` would pass.
    /// Every link mail counts against both: a registration's first mail too,
    /// since it goes to an address nobody has proven yet (the account is
    /// created all the same, and `resendVerificationEmail` sends it later).
    async fn sending_limit_reached<C: ConnectionTrait>(
        &self,
        db: &C,
        to: &str,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<&'static str>> {
        let kinds: Vec<&str> = MailKind::WITH_LINKS.iter().map(|k| k.as_str()).collect();
        let since = now - TimeDelta::hours(1);
        let limit = self.mail.settings.limits;
        let sent = store::outbox::count_since(db, CountedBy::Recipient(to), &kinds, since)
            .await
            .context("cannot count the address's mail")?;
        if sent >= u64::from(limit.per_address_per_hour) {
            return Ok(Some("address"));
        }
        if let Some(ip) = client.ip.as_deref() {
            let sent = store::outbox::count_since(db, CountedBy::Ip(ip), &kinds, since)
                .await
                .context("cannot count the client's mail")?;
            if sent >= u64::from(limit.per_ip_per_hour) {
                return Ok(Some("ip"));
            }
        }
        Ok(None)
    }

    /// Wakes this instance's worker: call after the transaction that queued
    /// mail commits.
    pub(super) fn mail_queued(&self) {
        self.mail.wake.notify_one();
    }
}
