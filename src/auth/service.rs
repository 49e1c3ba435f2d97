use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use entity::{refresh_token, session, user};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use super::ip_limit::IpLimiter;
use super::keys::Keyring;
use super::mailer::Mail;
use super::password::PasswordHasher;
use super::principal::{Bearer, Principal, access_token_error};
use super::revocation::{SessionStatus, SessionStatusCache};
use super::throttle::AccountThrottle;
use super::tokens::{Grant, TokenKeys};
use super::{AuthError, UnauthenticatedReason};
use crate::config::{SessionPolicy, Settings, TokenLifetimes};
use crate::domain::{Email, Password, UserName};
use crate::store::account_tokens::Purpose;
use crate::store::page::{Page, Slice};
use crate::store::revocations::Revoked;
use crate::store::{self, events::EventKind};

/// `sessions.revoked_reason` of the oldest sessions a sign-in beyond
/// `AUTHQL_MAX_SESSIONS_PER_USER` ends.
pub const SESSION_LIMIT_REASON: &str = "session_limit";

/// Where a request came from, for sessions and the audit trail.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Proof that a request was charged to its client IP's budget
/// ([`AuthService::admit`]). The fields that take a new password need it
/// before their input is parsed, since judging a password's strength costs
/// CPU: the resolver admits first, parses on a hashing worker
/// ([`AuthService::judge`]), then hands the proof on.
#[derive(Debug)]
pub struct Admitted(());

/// A new account's details, already parsed.
#[derive(Debug)]
pub struct Registration {
    pub name: UserName,
    pub email: Email,
    pub password: Password,
}

/// A user as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub roles: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// When an admin disabled the account, while it is disabled.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Whether the user followed a link mailed to the current address.
    pub email_verified: bool,
}

impl From<user::Model> for Account {
    fn from(user: user::Model) -> Self {
        Self {
            id: user.id,
            name: user.name,
            email: user.email,
            roles: user.roles.0,
            created_at: user.created_at,
            disabled_at: user.disabled_at,
            email_verified: user.email_verified_at.is_some(),
        }
    }
}

/// A session as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionView {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub refreshed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When it ends unless refreshed before (the idle timeout).
    pub idle_expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// Whether it is the session of the request's access token.
    pub current: bool,
}

/// An access token and when it expires.
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// The answer to register, login and refresh: a token pair and its user.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub access: AccessToken,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub account: Account,
}

/// Lifetimes as `chrono` deltas, checked once at start-up.
#[derive(Clone, Copy, Debug)]
pub(super) struct Lifetimes {
    pub access: TimeDelta,
    pub refresh: TimeDelta,
    pub session_max: TimeDelta,
    pub session_idle: TimeDelta,
    pub reuse_grace: TimeDelta,
}

impl TryFrom<TokenLifetimes> for Lifetimes {
    type Error = anyhow::Error;

    fn try_from(value: TokenLifetimes) -> anyhow::Result<Self> {
        let delta = |d| TimeDelta::from_std(d).context("a token lifetime is too long");
        Ok(Self {
            access: delta(value.access)?,
            refresh: delta(value.refresh)?,
            session_max: delta(value.session_max)?,
            session_idle: delta(value.session_idle)?,
            reuse_grace: delta(value.reuse_grace)?,
        })
    }
}

/// authql's authentication logic: one per process, shared by every request.
pub struct AuthService {
    /// Every write, and reads that must see them in the same transaction.
    pub(super) db: DatabaseConnection,
    /// Reads of committed rows: beside the writer on SQLite (see
    /// [`store::connect_readers`]).
    pub(super) reads: DatabaseConnection,
    pub(super) hasher: PasswordHasher,
    pub(super) keys: TokenKeys,
    pub(super) lifetimes: Lifetimes,
    pub(super) policy: SessionPolicy,
    pub(super) sessions: SessionStatusCache,
    pub(super) throttle: AccountThrottle,
    pub(super) ip_limit: IpLimiter,
    /// Addresses whose refusal by the IP limit was recorded in the last
    /// minute: one audit row per address and minute, not one per request.
    pub(super) ip_refusals_recorded: moka::sync::Cache<std::net::IpAddr, ()>,
    /// Templates, links and limits of the mail flows.
    pub(super) mail: Mail,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService").finish_non_exhaustive()
    }
}

impl AuthService {
    /// The service on `db`, signing with `keyring`'s keys, keeping session
    /// statuses in `sessions` (which the revocation feed keeps current).
    pub async fn new(
        db: DatabaseConnection,
        reads: DatabaseConnection,
        keyring: Arc<Keyring>,
        sessions: SessionStatusCache,
        settings: &Settings,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            reads,
            hasher: PasswordHasher::new(&settings.protection.hashing).await?,
            keys: TokenKeys::new(keyring, &settings.jwt, &settings.lifetimes),
            lifetimes: settings.lifetimes.try_into()?,
            policy: settings.sessions,
            sessions,
            throttle: AccountThrottle::new(&settings.protection.throttle),
            ip_limit: IpLimiter::new(
                settings
                    .protection
                    .throttle
                    .ip_credential_requests_per_minute,
            ),
            ip_refusals_recorded: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(60))
                .build(),
            mail: Mail::new(&settings.mail)?,
        })
    }

    /// Rung whenever this instance queues mail: its outbox worker listens.
    pub fn mail_bell(&self) -> Arc<tokio::sync::Notify> {
        self.mail.bell()
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Turns the request's bearer credential into a principal: a valid access
    /// token whose session is live.
    pub async fn authenticate(&self, bearer: &Bearer) -> Result<Principal, AuthError> {
        let token = match bearer {
            Bearer::Missing => {
                return Err(AuthError::Unauthenticated(UnauthenticatedReason::Missing));
            }
            Bearer::Malformed => {
                return Err(AuthError::Unauthenticated(UnauthenticatedReason::Malformed));
            }
            Bearer::Token(token) => token,
        };
        let claims = self
            .keys
            .verify_access(token)
            .await
            .map_err(access_token_error)?;
        match self.sessions.status(&self.reads, claims.common.sid).await? {
            SessionStatus::Revoked => {
                Err(AuthError::Unauthenticated(UnauthenticatedReason::Revoked))
            }
            SessionStatus::Live { expires_at, .. } if expires_at <= Utc::now() => {
                Err(AuthError::Unauthenticated(UnauthenticatedReason::Expired))
            }
            // A token whose `sub` is not the session's user is not ours to honour.
            SessionStatus::Live { account, .. } if account.id != claims.common.sub => {
                Err(AuthError::Unauthenticated(UnauthenticatedReason::Invalid))
            }
            SessionStatus::Live { account, .. } => Ok(Principal::from_claims(&claims, account)),
        }
    }

    /// The session the principal's access token belongs to.
    pub async fn session(&self, principal: &Principal) -> Result<SessionView, AuthError> {
        store::sessions::find(&self.reads, principal.session_id)
            .await
            .context("cannot load the session")?
            .map(|session| self.view(session, principal))
            .ok_or(AuthError::Unauthenticated(UnauthenticatedReason::Revoked))
    }

    /// A page of the principal's user's live sessions, newest first.
    pub async fn sessions(
        &self,
        principal: &Principal,
        page: Page,
    ) -> Result<Slice<SessionView>, AuthError> {
        let now = Utc::now();
        let sessions = store::sessions::list_live(
            &self.reads,
            principal.user_id,
            now,
            now - self.lifetimes.session_idle,
            page,
        )
        .await
        .context("cannot list the sessions")?;
        Ok(sessions.map(|session| self.view(session, principal)))
    }

    fn view(&self, session: session::Model, principal: &Principal) -> SessionView {
        SessionView {
            id: session.id,
            created_at: session.created_at,
            refreshed_at: session.refreshed_at,
            idle_expires_at: (session.refreshed_at + self.lifetimes.session_idle)
                .min(session.expires_at),
            expires_at: session.expires_at,
            user_agent: session.user_agent,
            ip: session.ip,
            current: session.id == principal.session_id,
        }
    }

    /// Admits a request to a field that checks a credential, or refuses it
    /// (`TOO_MANY_REQUESTS`) when its client IP has spent its budget.
    pub async fn admit(&self, client: &ClientInfo, field: &str) -> Result<Admitted, AuthError> {
        let ip = client.ip.as_deref().and_then(|ip| ip.parse().ok());
        let Err(retry_after) = self.ip_limit.check(ip) else {
            return Ok(Admitted(()));
        };
        if let Some(ip) = ip
            && !self.ip_refusals_recorded.contains_key(&ip)
        {
            self.ip_refusals_recorded.insert(ip, ());
            let detail = format!("ip_limit:{field}");
            self.record(
                &self.db,
                EventKind::LoginThrottled,
                None,
                None,
                client,
                Some(&detail),
            )
            .await?;
        }
        tracing::info!(
            ip = client.ip.as_deref(),
            field,
            retry_after,
            "client IP throttled"
        );
        Err(AuthError::Throttled { retry_after })
    }

    /// Runs the parsing of input that holds a new password (its strength
    /// estimate costs milliseconds of CPU) on a hashing worker, within the
    /// pool's queue: `SERVER_BUSY` when it is full.
    pub async fn judge<T: Send + 'static>(
        &self,
        parse: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        self.hasher.run(parse).await
    }

    /// Opens a session for `user` (register, login, reset): the session row,
    /// its first refresh token row and the audit record `kind`, on `db` (the
    /// caller's transaction), and signs the first pair. The user's oldest
    /// sessions beyond `AUTHQL_MAX_SESSIONS_PER_USER` end; their ids come
    /// back for the caller to tell the status cache after committing
    /// ([`Self::sessions_ended`]).
    pub async fn start_session<C: ConnectionTrait>(
        &self,
        db: &C,
        user: user::Model,
        client: &ClientInfo,
        kind: EventKind,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(SignedIn, Vec<Uuid>)> {
        let session = store::sessions::insert(
            db,
            store::sessions::NewSession {
                user_id: user.id,
                now,
                expires_at: whole_seconds(now + self.lifetimes.session_max),
                user_agent: client.user_agent.clone(),
                ip: client.ip.clone(),
            },
        )
        .await
        .context("cannot create the session")?;
        let row = self.next_refresh_row(&session, None, now);
        let row = store::refresh_tokens::insert(db, row)
            .await
            .context("cannot store the refresh token")?;
        self.record(db, kind, Some(user.id), Some(session.id), client, None)
            .await?;
        let crowded_out = end_sessions(
            db,
            store::sessions::Selection::OldestOfUser {
                user_id: user.id,
                keep: self.policy.max_per_user.into(),
            },
            SESSION_LIMIT_REASON,
            now,
        )
        .await?;
        tracing::info!(user_id = %user.id, session_id = %session.id, event = kind.as_str(), crowded_out = crowded_out.len(), "session started");
        Ok((self.sign_pair(&row, user)?, crowded_out))
    }

    /// The row of a new refresh token for `session`, with the expiries of the
    /// pair: the refresh token never outlives the session or its idle
    /// timeout, nor the access token its refresh token. Times are whole
    /// seconds, as in the JWTs.
    pub fn next_refresh_row(
        &self,
        session: &session::Model,
        parent: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> refresh_token::Model {
        let issued_at = whole_seconds(now);
        let expires_at = whole_seconds(
            (issued_at + self.lifetimes.refresh.min(self.lifetimes.session_idle))
                .min(session.expires_at),
        );
        let access_expires_at = (issued_at + self.lifetimes.access).min(expires_at);
        refresh_token::Model {
            jti: Uuid::new_v4(),
            xpair: Uuid::new_v4(),
            session_id: session.id,
            user_id: session.user_id,
            parent_jti: parent,
            issued_at,
            expires_at,
            access_expires_at,
            used_at: None,
            revoked_at: None,
        }
    }

    /// Signs the pair a refresh token row describes. Deterministic while the
    /// signing key is the same: the same row and roles give the very same two
    /// strings (Ed25519, RFC 6979 ECDSA, PKCS#1 v1.5 and HMAC all are).
    pub fn sign_pair(
        &self,
        row: &refresh_token::Model,
        user: user::Model,
    ) -> anyhow::Result<SignedIn> {
        let grant = |jti, expires_at| Grant {
            user_id: row.user_id,
            session_id: row.session_id,
            jti,
            issued_at: row.issued_at,
            expires_at,
        };
        let access = grant(row.xpair, row.access_expires_at);
        let refresh = grant(row.jti, row.expires_at);
        Ok(SignedIn {
            access: AccessToken {
                token: self.keys.issue_access(&access, &user.roles.0)?,
                expires_at: row.access_expires_at,
            },
            refresh_token: self.keys.issue_refresh(&refresh, row.xpair)?,
            refresh_expires_at: row.expires_at,
            account: user.into(),
        })
    }

    /// Ends the selected sessions: the session rows, every refresh token of
    /// them, and (via the status cache) every access token of them. Returns
    /// the ids this call ended.
    pub async fn revoke_sessions(
        &self,
        selection: store::sessions::Selection,
        reason: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Vec<Uuid>> {
        use sea_orm::TransactionTrait;
        let tx = self
            .db
            .begin()
            .await
            .context("cannot begin a transaction")?;
        let revoked = end_sessions(&tx, selection, reason, now).await?;
        tx.commit().await.context("cannot commit the revocation")?;
        self.sessions_ended(&revoked);
        Ok(revoked)
    }

    /// Tells the status cache that `sessions` ended, once their ending is
    /// committed, so their access tokens stop at once on this instance: the
    /// same step as a change read from the feed, so a status read racing it
    /// is not cached either.
    pub(super) fn sessions_ended(&self, sessions: &[Uuid]) {
        let ended: Vec<Revoked> = sessions.iter().copied().map(Revoked::Session).collect();
        self.sessions.apply(&ended);
    }

    /// Ends one session; `true` when this call did.
    pub async fn revoke_session(
        &self,
        session_id: Uuid,
        reason: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let revoked = self
            .revoke_sessions(store::sessions::Selection::One(session_id), reason, now)
            .await?;
        Ok(!revoked.is_empty())
    }
}

/// Ends the selected sessions and every refresh token of them on `db` (the
/// caller's transaction), and announces them on the revocation feed; returns
/// the ids ended. The caller tells this instance's status cache after
/// committing ([`AuthService::sessions_ended`]).
///
/// Ending all of a user's sessions (or all but the caller's) is a recovery
/// step: logout everywhere, a password changed or reset, an admin ending
/// them or disabling the account. It also retires the user's pending mailed
/// links ([`retire_links`]), so a link someone asked for while they held the
/// account cannot take it back afterwards.
pub(super) async fn end_sessions<C: ConnectionTrait>(
    db: &C,
    selection: store::sessions::Selection,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Uuid>> {
    if let store::sessions::Selection::AllOfUser { user_id, .. } = selection {
        retire_links(db, user_id, now).await?;
    }
    let ended = store::sessions::revoke(db, selection, reason, now)
        .await
        .context("cannot revoke sessions")?;
    store::refresh_tokens::revoke_for_sessions(db, &ended, now)
        .await
        .context("cannot revoke the sessions' refresh tokens")?;
    // Other instances stop the sessions' access tokens when they read this.
    let announced: Vec<Revoked> = ended.iter().copied().map(Revoked::Session).collect();
    store::revocations::append(db, &announced, now)
        .await
        .context("cannot append to the revocation feed")?;
    Ok(ended)
}

/// Retires every pending link mailed for `user_id` (address change,
/// verification, reset): they are marked used, and the account's credential
/// version moves on, so a link issued concurrently under the old version is
/// refused too when it is followed. Every recovery step and an address
/// change call it.
pub(super) async fn retire_links<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    store::users::advance_credential_version(db, user_id)
        .await
        .context("cannot advance the credential version")?;
    store::account_tokens::retire(db, user_id, &Purpose::ALL, now)
        .await
        .context("cannot retire the user's links")?;
    Ok(())
}

/// `at` without its fraction of a second, as JWT times are.
pub(super) fn whole_seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}
