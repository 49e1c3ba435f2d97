//! Changing the password while signed in: the current one is confirmed,
//! every other session ends, and this session continues with a fresh pair.

use anyhow::Context;
use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::ConnectionTrait;

use super::audit::Event;
use super::mail_queue::{About, Cause};
use super::password_sign_in::Confirming;
use super::principal::Principal;
use super::session_core::{EndReason, end_sessions};
use super::{Admitted, AuthError, AuthService, ClientInfo, SignedIn, UnauthenticatedReason};
use crate::domain::Password;
use crate::mail::MailKind;
use crate::store::sessions::Selection;
use crate::store::{self};

impl AuthService {
    /// Replaces the password of the principal's user after checking the
    /// current one (throttled as logins are), ends every other session of
    /// the user, and returns a fresh pair for this session: the old refresh
    /// token of this session stops working too.
    pub async fn change_password(
        &self,
        _admitted: Admitted,
        principal: &Principal,
        current: &Password,
        new: &Password,
        client: &ClientInfo,
    ) -> Result<SignedIn, AuthError> {
        let gone = AuthError::Unauthenticated(UnauthenticatedReason::Revoked);
        let user = store::users::find(&self.db, principal.user_id)
            .await
            .context("cannot load the user")?
            .ok_or(gone.clone())?;
        self.confirm_password(
            principal,
            &user,
            current,
            Confirming::PasswordChange,
            client,
        )
        .await?;
        let password_hash = self.hasher.hash(new).await?;

        let now = Utc::now();
        let mut tx = self.begin().await?;
        // The first statement writes: SQLite takes its write lock here.
        // Links asked for before stop working with the other sessions
        // (`end_sessions` below); the owner is told.
        let user = self
            .replace_password(&tx, user, password_hash, client, now)
            .await?;
        let session = store::sessions::find(&tx, principal.session_id)
            .await
            .context("cannot load the session")?
            .filter(|session| session.revoked_at.is_none() && session.expires_at > now)
            .ok_or(gone)?;
        let others = end_sessions(
            &mut tx,
            Selection::AllOfUser {
                user_id: user.id,
                except: Some(session.id),
            },
            EndReason::PasswordChanged,
            now,
        )
        .await?;
        // This session's own earlier refresh tokens end; a fresh one begins.
        store::refresh_tokens::revoke_for_sessions(&tx, &[session.id], now)
            .await
            .context("cannot revoke the session's refresh tokens")?;
        let row = self.reissue(&tx, &session, None, now).await?;
        self.record(
            &tx,
            client,
            Event::PasswordChanged {
                user_id: user.id,
                session_id: session.id,
            },
        )
        .await?;
        let signed_in = self.sign_pair(&row, &session, user)?;
        tx.commit("the password change").await?;
        self.mail_queued();
        tracing::info!(user_id = %row.user_id, ended_sessions = others, "password changed");
        Ok(signed_in)
    }

    /// Stores `user`'s new password hash and queues the notice to the
    /// account's address, in `db` (the transaction of the change); returns
    /// the user as it now is. A password change and a reset both end here.
    pub(super) async fn replace_password<C: ConnectionTrait>(
        &self,
        db: &C,
        user: user::Model,
        password_hash: String,
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> anyhow::Result<user::Model> {
        store::users::set_password_hash(db, user.id, password_hash.clone(), now)
            .await
            .context("cannot store the new password hash")?;
        let user = user::Model {
            password_hash,
            ..user
        };
        self.queue_notice(
            db,
            MailKind::PasswordChanged,
            &user.email,
            About::default(),
            Cause {
                user: &user,
                client,
                now,
            },
        )
        .await?;
        Ok(user)
    }
}
