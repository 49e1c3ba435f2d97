//! What an admin (through the API) or the operator (through the CLI) may do
//! to other accounts: find them, set their roles, end their sessions,
//! disable and enable them. API callers are checked for the admin role by
//! the GraphQL guard; these functions only do the work and record who did
//! it.

use anyhow::Context;
use chrono::Utc;
use uuid::Uuid;

use super::audit::{Action, Actor};
use super::session_core::{EndReason, Unit, account_changed, end_sessions};
use super::{Account, AuthError, AuthService, ClientInfo};
use crate::domain::{ADMIN_ROLE, Email, Roles};
use crate::domain::{Page, Slice};
use crate::store::sessions::Selection;
use crate::store::{self};

impl AuthService {
    /// The account with `id`, if any.
    pub async fn account(&self, id: Uuid) -> Result<Option<Account>, AuthError> {
        Ok(store::users::find(&self.db, id)
            .await
            .context("cannot load the user")?
            .map(Account::from))
    }

    /// The account named by `key`: its id, or its e-mail address (in any
    /// letter case).
    pub async fn find_account(&self, key: &str) -> Result<Option<Account>, AuthError> {
        let user = match key.trim().parse::<Uuid>() {
            Ok(id) => store::users::find(&self.db, id).await,
            Err(_) => {
                store::users::find_by_email(&self.db, &Email::normalize_for_lookup(key)).await
            }
        };
        Ok(user.context("cannot look the user up")?.map(Account::from))
    }

    /// A page of accounts, newest first; with `search`, those whose name or
    /// e-mail address contains it, in any letter case.
    pub async fn users(
        &self,
        search: Option<&str>,
        page: Page,
    ) -> Result<Slice<Account>, AuthError> {
        let slice = store::users::list(&self.reads, search, page)
            .await
            .context("cannot list the users")?;
        Ok(slice.map(Account::from))
    }

    /// Replaces the roles of user `id`; `None` when there is no such user.
    /// Refused with `LastAdmin` when it would leave nobody with the admin
    /// role. The new roles are in the user's next access token.
    pub async fn set_user_roles(
        &self,
        actor: Actor,
        id: Uuid,
        roles: Roles,
        client: &ClientInfo,
    ) -> Result<Option<Account>, AuthError> {
        // Under one lock: two admins demoting each other at once must not
        // both see the other still an admin.
        let mut tx = self.unit(store::begin_locked(&self.db, store::Lock::Roles).await?);
        let admins_before = enabled_admins(&tx).await?;
        let roles = roles.into_vec();
        let Some(user) = store::users::set_roles(&tx, id, roles.clone(), Utc::now())
            .await
            .context("cannot store the roles")?
        else {
            tx.rollback().await?;
            return Ok(None);
        };
        if took_the_last_admin(&tx, admins_before).await? {
            tx.rollback().await?;
            return Err(AuthError::LastAdmin);
        }
        // Every instance rereads the user's roles for the role guard: this
        // one at commit, the others from the feed.
        account_changed(&mut tx, user.id, Utc::now()).await?;
        self.record_by(&tx, actor, user.id, client, Action::SetRoles(&roles))
            .await?;
        tx.commit("the roles").await?;
        tracing::info!(%actor, user_id = %user.id, ?roles, "roles changed");
        Ok(Some(user.into()))
    }

    /// Ends every session of user `id`; returns how many.
    pub async fn revoke_user_sessions(
        &self,
        actor: Actor,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<u64, AuthError> {
        let revoked = self
            .end_sessions(
                Selection::AllOfUser {
                    user_id: id,
                    except: None,
                },
                EndReason::RevokedByAdmin,
                Utc::now(),
            )
            .await?;
        if revoked > 0 {
            self.record_by(&self.db, actor, id, client, Action::EndedSessions)
                .await?;
        }
        tracing::info!(%actor, user_id = %id, revoked, "sessions revoked by an admin");
        Ok(revoked as u64)
    }

    /// Disables user `id`: every session ends (access tokens included, on
    /// every instance as soon as it reads the revocation feed), and logins
    /// with the right password answer `ACCOUNT_DISABLED`. `None` when there
    /// is no such user; `LastAdmin` when no enabled admin would remain.
    pub async fn disable_user(
        &self,
        actor: Actor,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<Option<Account>, AuthError> {
        let now = Utc::now();
        let mut tx = self.unit(store::begin_locked(&self.db, store::Lock::Roles).await?);
        let admins_before = enabled_admins(&tx).await?;
        let Some(user) = store::users::set_disabled(&tx, id, Some(now), now)
            .await
            .context("cannot disable the user")?
        else {
            tx.rollback().await?;
            return Ok(None);
        };
        if took_the_last_admin(&tx, admins_before).await? {
            tx.rollback().await?;
            return Err(AuthError::LastAdmin);
        }
        let revoked = end_sessions(
            &mut tx,
            Selection::AllOfUser {
                user_id: id,
                except: None,
            },
            EndReason::UserDisabled,
            now,
        )
        .await?;
        self.record_by(&tx, actor, id, client, Action::Disabled)
            .await?;
        tx.commit("the disabling").await?;
        tracing::info!(%actor, user_id = %id, ended_sessions = revoked, "user disabled");
        Ok(Some(user.into()))
    }

    /// Enables user `id` again; `None` when there is no such user.
    pub async fn enable_user(
        &self,
        actor: Actor,
        id: Uuid,
        client: &ClientInfo,
    ) -> Result<Option<Account>, AuthError> {
        let now = Utc::now();
        let tx = self.unit(store::begin_locked(&self.db, store::Lock::Roles).await?);
        let Some(user) = store::users::set_disabled(&tx, id, None, now)
            .await
            .context("cannot enable the user")?
        else {
            tx.rollback().await?;
            return Ok(None);
        };
        self.record_by(&tx, actor, id, client, Action::Enabled)
            .await?;
        tx.commit("the enabling").await?;
        tracing::info!(%actor, user_id = %id, "user enabled");
        Ok(Some(user.into()))
    }
}

/// What [`AuthService::canonicalize_emails`] did: each account as
/// `(id, stored address, canonical address)`.
#[derive(Debug, Default)]
pub struct Respelled {
    /// Rewritten in their canonical spelling.
    pub changed: Vec<(Uuid, String, String)>,
    /// Left as they are: another account has the canonical spelling already
    /// (the same mailbox registered twice; an operator decides which stays).
    pub clashes: Vec<(Uuid, String, String)>,
    /// Left as they are: stored addresses that are no longer accepted (a
    /// non-ASCII local part, quotes that matter); lookups still find them
    /// as they were typed.
    pub refused: Vec<(Uuid, String)>,
}

impl AuthService {
    /// Rewrites every address stored before addresses were canonicalised
    /// (an IDN domain as its U-label, unneeded quotes, compatibility forms)
    /// into its canonical spelling, so that lookups, which canonicalise what
    /// they are given, find it. Each change is audited as the operator's.
    pub async fn canonicalize_emails(
        &self,
        actor: Actor,
        client: &ClientInfo,
    ) -> Result<Respelled, AuthError> {
        let mut respelled = Respelled::default();
        let mut page = Page {
            first: 500,
            after: None,
        };
        loop {
            let slice = store::users::list(&self.db, None, page)
                .await
                .context("cannot list the users")?;
            for user in &slice.items {
                let canonical = match Email::parse(&user.email) {
                    Ok(email) if email.as_str() == user.email => continue,
                    Ok(email) => email.as_str().to_owned(),
                    Err(_) => {
                        respelled.refused.push((user.id, user.email.clone()));
                        continue;
                    }
                };
                let entry = (user.id, user.email.clone(), canonical.clone());
                let now = Utc::now();
                let mut tx = self.begin().await?;
                match store::users::respell_email(&tx, user.id, &canonical, now).await {
                    Err(error) if store::is_unique_violation(&error) => {
                        respelled.clashes.push(entry);
                        continue;
                    }
                    other => other.context("cannot rewrite the address")?,
                }
                account_changed(&mut tx, user.id, now).await?;
                self.record_by(&tx, actor, user.id, client, Action::RespelledEmail)
                    .await?;
                tx.commit("the new spelling").await?;
                respelled.changed.push(entry);
            }
            match slice.items.last() {
                Some(last) if slice.has_next => page.after = Some(last.id),
                _ => return Ok(respelled),
            }
        }
    }
}

/// How many enabled users hold the admin role, as `tx` sees it (under
/// [`store::Lock::Roles`], so no concurrent change slips past).
async fn enabled_admins(tx: &Unit) -> anyhow::Result<u64> {
    store::users::count_with_role(tx, ADMIN_ROLE)
        .await
        .context("cannot count the admins")
}

/// Whether the change just made in `tx` took away the last enabled admin:
/// there were some (`before`) and none remain. A deployment with no admin
/// yet can still disable users and set roles (through the operator CLI).
async fn took_the_last_admin(tx: &Unit, before: u64) -> anyhow::Result<bool> {
    Ok(before > 0 && enabled_admins(tx).await? == 0)
}
