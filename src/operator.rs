//! The operator's commands, run from a shell against the server's database
//! with the server's environment: `authql keys …`, `authql user …` and
//! `authql mail …`.
//! They go through the same service as the API, so every rule (the password
//! policy, the last admin, sessions ending with a disabled user) and every
//! audit record is the same.

use std::io::IsTerminal;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::auth::keys::Keyring;
use crate::auth::{
    Account, Actor, AuthError, AuthService, ClientInfo, FeedState, Registration, SessionNews,
    SessionStatusCache,
};
use crate::config::{KeysAction, MailAction, Settings, UserAction};
use crate::domain::Page;
use crate::domain::{Email, Password, Roles, UserName};
use crate::{startup, store};

/// The `User-Agent` the audit trail records for the CLI.
const CLI_AGENT: &str = "authql CLI";

/// The database of `settings`, migrated when the server would migrate it.
async fn database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let db = store::connect_with_retry(&settings.database).await?;
    if settings.database.migrate_on_start {
        startup::apply_migrations(&db).await?;
    }
    Ok(db)
}

fn date(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "-".to_owned(),
        |at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

/// `authql keys list|rotate|retire`.
pub async fn keys(settings: &Settings, action: KeysAction) -> anyhow::Result<()> {
    let db = database(settings).await?;
    let keyring = Keyring::start(&db, &settings.jwt, &settings.lifetimes).await?;
    match action {
        KeysAction::List => {
            println!(
                "{:<43}  {:<5}  {:<9}  {:<20}  {:<20}  {:<20}  {:<20}",
                "KID", "ALG", "STATE", "CREATED", "SIGNS FROM", "SIGNS UNTIL", "EXPIRES"
            );
            for key in keyring.list().await? {
                println!(
                    "{:<43}  {:<5}  {:<9}  {:<20}  {:<20}  {:<20}  {:<20}",
                    key.kid,
                    key.algorithm,
                    key.state,
                    date(Some(key.created_at)),
                    date(Some(key.starts_signing_at)),
                    date(key.stops_signing_at),
                    date(key.expires_at),
                );
            }
        }
        KeysAction::Rotate => {
            let kid = keyring.rotate().await?;
            println!(
                "published {kid}; it signs from {} (AUTHQL_KEY_PUBLISH_AHEAD)",
                humantime::format_duration(settings.jwt.publish_ahead)
            );
        }
        KeysAction::Retire { kid } => {
            if !keyring.retire(&kid).await? {
                bail!("no key in use has the kid {kid}");
            }
            println!(
                "retired {kid}: every instance stops trusting it within {} (AUTHQL_KEY_RELOAD_INTERVAL); sessions whose tokens it signed must sign in again",
                humantime::format_duration(keyring.reload_interval())
            );
        }
    }
    Ok(())
}

/// `authql user create|set-roles|disable|enable|list`.
pub async fn users(settings: &Settings, action: UserAction) -> anyhow::Result<()> {
    let db = database(settings).await?;
    let keyring = Keyring::start(&db, &settings.jwt, &settings.lifetimes).await?;
    // Statuses are never asked here; the servers hear of changes through the
    // revocation feed.
    let news = SessionNews::new(SessionStatusCache::new(Arc::new(FeedState::new(
        0,
        settings.sessions.feed.stale_after,
    ))));
    let service = AuthService::new(db.clone(), db, Arc::clone(&keyring), news, settings).await?;
    let client = ClientInfo {
        ip: None,
        user_agent: Some(CLI_AGENT.to_owned()),
    };
    match action {
        UserAction::Create { email, name, roles } => {
            let email = Email::parse(&email).map_err(|m| anyhow::anyhow!("--email {m}"))?;
            let name = UserName::parse(&name).map_err(|m| anyhow::anyhow!("--name {m}"))?;
            let roles = parse_roles(&roles)?;
            let raw = tokio::task::spawn_blocking(read_password)
                .await
                .context("cannot read the password")??;
            let password = Password::parse(
                raw,
                settings.protection.password.min_score,
                &[name.as_str(), email.as_str()],
            )
            .map_err(|m| anyhow::anyhow!("the password {m}"))?;
            let registration = Registration {
                name,
                email,
                password,
            };
            let account = service
                .create_account(Actor::Operator, registration, roles, &client)
                .await
                .map_err(refusal)?;
            println!("created {} {}", account.id, account.email);
        }
        UserAction::SetRoles { user, roles } => {
            let roles = parse_roles(&roles)?;
            let account = find(&service, &user).await?;
            let account = service
                .set_user_roles(Actor::Operator, account.id, roles, &client)
                .await
                .map_err(refusal)?
                .with_context(|| format!("no user {user}"))?;
            println!("{}: {}", account.email, account.roles.join(", "));
        }
        UserAction::Disable { user } => {
            let account = find(&service, &user).await?;
            service
                .disable_user(Actor::Operator, account.id, &client)
                .await
                .map_err(refusal)?
                .with_context(|| format!("no user {user}"))?;
            println!("disabled {}; every session of it has ended", account.email);
        }
        UserAction::Enable { user } => {
            let account = find(&service, &user).await?;
            service
                .enable_user(Actor::Operator, account.id, &client)
                .await
                .map_err(refusal)?
                .with_context(|| format!("no user {user}"))?;
            println!("enabled {}", account.email);
        }
        UserAction::List { query } => list(&service, query.as_deref()).await?,
        UserAction::CanonicalizeEmails => {
            let respelled = service
                .canonicalize_emails(Actor::Operator, &client)
                .await
                .map_err(refusal)?;
            for (id, stored, canonical) in &respelled.changed {
                println!("rewrote {id} {stored} -> {canonical}");
            }
            for (id, stored, canonical) in &respelled.clashes {
                println!(
                    "left {id} {stored}: another account has {canonical} (the same mailbox twice; decide which stays)"
                );
            }
            for (id, stored) in &respelled.refused {
                println!(
                    "left {id} {stored}: no longer accepted for new accounts; sign-in still finds it as typed"
                );
            }
            println!(
                "{} rewritten, {} clashes, {} left as they are",
                respelled.changed.len(),
                respelled.clashes.len(),
                respelled.refused.len()
            );
        }
    }
    Ok(())
}

/// `authql mail list|retry`.
pub async fn mail(settings: &Settings, action: MailAction) -> anyhow::Result<()> {
    let db = database(settings).await?;
    match action {
        MailAction::List => {
            println!(
                "{:<36}  {:<20}  {:<32}  {:<20}  {:>8}  {:<20}  {:<20}  LAST ERROR",
                "ID", "KIND", "TO", "QUEUED", "ATTEMPTS", "NEXT ATTEMPT", "GIVEN UP"
            );
            for mail in store::outbox::unsent(&db)
                .await
                .context("cannot read the outbox")?
            {
                println!(
                    "{:<36}  {:<20}  {:<32}  {:<20}  {:>8}  {:<20}  {:<20}  {}",
                    mail.id,
                    mail.kind,
                    mail.recipient,
                    date(Some(mail.created_at)),
                    mail.attempts,
                    date(mail.failed_at.is_none().then_some(mail.next_attempt_at)),
                    date(mail.failed_at),
                    mail.last_error.as_deref().unwrap_or("-"),
                );
            }
        }
        MailAction::Retry { id, .. } => {
            let due = store::outbox::retry_failed(&db, id, Utc::now())
                .await
                .context("cannot update the outbox")?;
            if let (Some(id), 0) = (id, due) {
                bail!("no mail {id} was given up on");
            }
            println!("{due} mail(s) due again; a running server sends them");
        }
    }
    Ok(())
}

/// Prints every matching user, a page at a time.
async fn list(service: &AuthService, query: Option<&str>) -> anyhow::Result<()> {
    println!(
        "{:<36}  {:<32}  {:<24}  {:<24}  {:<20}  {:<20}",
        "ID", "EMAIL", "NAME", "ROLES", "CREATED", "DISABLED"
    );
    let mut page = Page {
        first: 100,
        after: None,
    };
    loop {
        let slice = service.users(query, page).await.map_err(refusal)?;
        for account in &slice.items {
            println!(
                "{:<36}  {:<32}  {:<24}  {:<24}  {:<20}  {:<20}",
                account.id,
                account.email,
                account.name,
                account.roles.join(","),
                date(Some(account.created_at)),
                date(account.disabled_at),
            );
        }
        match slice.items.last() {
            Some(last) if slice.has_next => page.after = Some(last.id),
            _ => return Ok(()),
        }
    }
}

async fn find(service: &AuthService, user: &str) -> anyhow::Result<Account> {
    service
        .find_account(user)
        .await
        .map_err(refusal)?
        .with_context(|| format!("no user has the id or e-mail address {user}"))
}

fn parse_roles(roles: &[String]) -> anyhow::Result<Roles> {
    Roles::parse(roles).map_err(anyhow::Error::msg)
}

/// An error of the service as one line for the operator.
fn refusal(error: AuthError) -> anyhow::Error {
    match error {
        AuthError::LastAdmin => {
            anyhow::anyhow!("refused: no other enabled user would keep the admin role")
        }
        other => anyhow::Error::new(other),
    }
}

/// The new password: asked twice at a terminal (without echo), otherwise the
/// first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").context("cannot read the password")?;
        let again =
            rpassword::prompt_password("Password again: ").context("cannot read the password")?;
        if first != again {
            bail!("the two passwords differ");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input (give it as the first line)");
    }
    Ok(password)
}
