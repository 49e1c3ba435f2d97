//! Opening a session: its row, recording how and when its user proved who
//! they are, and its first refresh token. Only the sign-in front door
//! ([`crate::auth::sign_in`]) calls it.

use anyhow::Context;
use chrono::{DateTime, Utc};
use entity::{refresh_token, session};
use uuid::Uuid;

use super::ending::{EndReason, end_sessions};
use super::issuing::whole_seconds;
use super::news::Change;
use super::unit::Unit;
use crate::auth::{AuthService, ClientInfo};
use crate::store::sessions::{NewSession, Selection};
use crate::store::{self};

/// A session just opened, with its first refresh token.
pub struct Opened {
    pub session: session::Model,
    pub first: refresh_token::Model,
    /// How many of the user's oldest sessions it crowded out.
    pub crowded_out: usize,
}

impl AuthService {
    /// Opens a session for `user_id`, who proved who they are by `methods`
    /// (RFC 8176 values) at `now`: the session row and its first refresh
    /// token, in `unit`. The user's oldest sessions beyond
    /// `AUTHQL_MAX_SESSIONS_PER_USER` end.
    pub(in crate::auth) async fn open_session(
        &self,
        unit: &mut Unit,
        user_id: Uuid,
        methods: &[&str],
        client: &ClientInfo,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Opened> {
        let session = store::sessions::insert(
            unit,
            NewSession {
                user_id,
                now,
                expires_at: whole_seconds(now + self.lifetimes.session_max),
                user_agent: client.user_agent.clone(),
                ip: client.ip.clone(),
                auth_methods: methods.join(" "),
                authenticated_at: whole_seconds(now),
            },
        )
        .await
        .context("cannot create the session")?;
        let first = self.next_refresh_row(&session, None, now);
        let first = store::refresh_tokens::insert(unit, first)
            .await
            .context("cannot store the refresh token")?;
        let crowded_out = end_sessions(
            unit,
            Selection::OldestOfUser {
                user_id,
                keep: self.policy.max_per_user.into(),
            },
            EndReason::SessionLimit,
            now,
        )
        .await?;
        unit.announce(Change::SessionOpened {
            user_id,
            session_id: session.id,
        });
        Ok(Opened {
            session,
            first,
            crowded_out,
        })
    }
}
