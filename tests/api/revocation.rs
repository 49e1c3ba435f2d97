//! The revocation feed: every change that must stop access tokens reaches a
//! second instance within the bound; statuses are read once and kept; an
//! instance that cannot read the feed fails closed.

use std::time::Duration;

use entity::session;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use crate::admin::{set_roles, signed_in_with_roles};
use authql::auth::{Change, EndReason};
use authql::store::revocations::Revoked;

use crate::helpers::{PASSWORD, TestApp, Tokens, claim_uuid, spawn_app_with, time_until};

/// What every test here expects of the slowest backend (SQLite polling).
const BOUND: Duration = Duration::from_secs(1);

/// Two instances on one database, the second warmed with nothing yet.
async fn two_instances() -> (TestApp, TestApp) {
    let a = spawn_app_with(|settings| {
        // Reuse is detected at once, for the reuse case.
        settings.lifetimes.reuse_grace = Duration::ZERO;
    })
    .await;
    let b = a.another_instance().await;
    (a, b)
}

/// Asserts that `b` answers `me` for `access` now, then, after `change`,
/// refuses it as revoked within [`BOUND`].
async fn assert_stopped_on(b: &TestApp, access: &str, what: &str, change: impl AsyncFnOnce()) {
    b.me(Some(access)).await.ok("me");
    change().await;
    let elapsed = time_until(Duration::from_secs(3), || async {
        b.me(Some(access)).await.reason() == Some("revoked")
    })
    .await
    .unwrap_or_else(|| panic!("{what}: the other instance still accepts the token"));
    assert!(elapsed < BOUND, "{what}: took {elapsed:?}");
}

/// Marks a session revoked in the database alone, as no code path of
/// authql does: only an instance that asks the database sees it.
async fn revoke_without_the_feed(app: &TestApp, session_id: uuid::Uuid) {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(chrono::Utc::now()))
        .filter(session::Column::Id.eq(session_id))
        .exec(&app.db)
        .await
        .expect("session updated");
}

async fn login(app: &TestApp, email: &str) -> Tokens {
    Tokens::from_payload(app.login(email, PASSWORD).await.ok("login"))
}

async fn every_kind_of_revocation_stops_the_other_instances_access_tokens() {
    let (a, b) = two_instances().await;
    a.register("Ada", "ada@example.com", PASSWORD)
        .await
        .ok("register");

    let t = login(&a, "ada@example.com").await;
    assert_stopped_on(&b, &t.access, "logout", async || {
        a.logout(Some(&t.access), None).await.ok("logout");
    })
    .await;

    let keep = login(&a, "ada@example.com").await;
    let other = login(&a, "ada@example.com").await;
    assert_stopped_on(&b, &other.access, "logout OTHERS", async || {
        a.logout_scope(Some(&keep.access), "OTHERS")
            .await
            .ok("logout");
    })
    .await;
    b.me(Some(&keep.access)).await.ok("me");
    assert_stopped_on(&b, &keep.access, "logout GLOBAL", async || {
        a.logout_scope(Some(&keep.access), "GLOBAL")
            .await
            .ok("logout");
    })
    .await;

    let phone = login(&a, "ada@example.com").await;
    let laptop = login(&a, "ada@example.com").await;
    let phone_session = crate::helpers::claim_uuid(&phone.access, "sid").to_string();
    assert_stopped_on(&b, &phone.access, "revokeSession", async || {
        assert_eq!(
            a.revoke_session(&laptop.access, &phone_session)
                .await
                .ok("revokeSession"),
            true
        );
    })
    .await;

    // Reuse: the chain moved on twice, then its first token comes back.
    let first = login(&a, "ada@example.com").await;
    let second = Tokens::from_payload(a.refresh(&first.refresh).await.ok("refresh"));
    let third = Tokens::from_payload(a.refresh(&second.refresh).await.ok("refresh"));
    assert_stopped_on(&b, &third.access, "reuse", async || {
        assert_eq!(
            a.refresh(&first.refresh).await.code(),
            Some("INVALID_REFRESH_TOKEN")
        );
    })
    .await;

    let current = login(&a, "ada@example.com").await;
    let elsewhere = login(&a, "ada@example.com").await;
    let new_password = "a different horse staple battery";
    assert_stopped_on(&b, &elsewhere.access, "changePassword", async || {
        a.change_password(&current.access, PASSWORD, new_password)
            .await
            .ok("changePassword");
    })
    .await;
}

async fn what_admins_do_reaches_the_other_instance_within_the_bound() {
    let (a, b) = two_instances().await;
    let root = signed_in_with_roles(&a, "root@example.com", &["user", "admin"]).await;
    let second = signed_in_with_roles(&a, "second@example.com", &["user", "admin"]).await;
    a.register("Ada", "ada@example.com", PASSWORD)
        .await
        .ok("register");

    let ada = login(&a, "ada@example.com").await;
    assert_stopped_on(&b, &ada.access, "revokeUserSessions", async || {
        a.graphql(
            "mutation($id: ID!) { revokeUserSessions(id: $id) }",
            json!({ "id": ada.user_id }),
            Some(&root.access),
        )
        .await
        .ok("revokeUserSessions");
    })
    .await;

    let ada = login(&a, "ada@example.com").await;
    assert_stopped_on(&b, &ada.access, "disableUser", async || {
        a.graphql(
            "mutation($id: ID!) { disableUser(id: $id) { id } }",
            json!({ "id": ada.user_id }),
            Some(&root.access),
        )
        .await
        .ok("disableUser");
    })
    .await;

    // A demotion: the other instance's cached roles are dropped.
    let users = "{ users { totalCount } }";
    b.graphql(users, json!({}), Some(&second.access))
        .await
        .ok("users");
    set_roles(&a, &root.access, &second.user_id, &[])
        .await
        .ok("setUserRoles");
    let elapsed = time_until(Duration::from_secs(3), || async {
        b.graphql(users, json!({}), Some(&second.access))
            .await
            .code()
            == Some("FORBIDDEN")
    })
    .await
    .expect("the demoted admin is refused on the other instance");
    assert!(elapsed < BOUND, "demotion took {elapsed:?}");
}

async fn a_retired_key_is_refused_by_the_other_instance_before_its_reload_interval() {
    let a = spawn_app_with(|settings| {
        settings.jwt.reload_interval = Duration::from_secs(600);
    })
    .await;
    let b = a.another_instance().await;
    let tokens = a.signed_up().await;
    b.me(Some(&tokens.access)).await.ok("me");
    a.keys_cli(&["retire", &a.signer.kid]).await;
    let elapsed = time_until(Duration::from_secs(3), || async {
        b.me(Some(&tokens.access)).await.code() == Some("UNAUTHENTICATED")
    })
    .await
    .expect("the other instance refuses a token of the retired key");
    assert!(elapsed < BOUND, "took {elapsed:?}");
}

async fn a_sessions_status_is_read_once_and_kept_until_the_feed_says_otherwise() {
    let (a, b) = two_instances().await;
    let tokens = a.signed_up().await;
    b.me(Some(&tokens.access)).await.ok("me");
    // A change made behind the feed's back is not seen: the instance does
    // not ask the database again for a session it knows.
    let sid = crate::helpers::claim_uuid(&tokens.access, "sid");
    revoke_without_the_feed(&a, sid).await;
    tokio::time::sleep(BOUND + Duration::from_millis(500)).await;
    b.me(Some(&tokens.access)).await.ok("me");
    // A newly started instance reads it fresh, and refuses it at once.
    let c = a.another_instance().await;
    assert_eq!(c.me(Some(&tokens.access)).await.reason(), Some("revoked"));
}

async fn an_instance_started_after_a_revocation_refuses_the_token_at_once() {
    let a = spawn_app_with(|_| {}).await;
    let tokens = a.signed_up().await;
    a.logout(Some(&tokens.access), None).await.ok("logout");
    let b = a.another_instance().await;
    assert_eq!(b.me(Some(&tokens.access)).await.reason(), Some("revoked"));
}

async fn an_instance_that_cannot_read_the_feed_checks_every_request_against_the_database() {
    let stale_after = Duration::from_millis(800);
    let a = spawn_app_with(|settings| {
        settings.sessions.feed.poll_interval = Duration::from_millis(100);
        settings.sessions.feed.stale_after = stale_after;
    })
    .await;
    let b = a.another_instance().await;
    let revoked = a.signed_up().await;
    let kept = a.signed_up().await;
    b.me(Some(&revoked.access)).await.ok("me");
    b.me(Some(&kept.access)).await.ok("me");

    // The feed goes away; a revocation it cannot announce still counts once
    // the instance stops trusting what it cached.
    let rename = |from: &str, to: &str| format!("ALTER TABLE {from} RENAME TO {to}");
    a.db.execute_unprepared(&rename("revocations", "revocations_away"))
        .await
        .expect("feed renamed");
    let sid = crate::helpers::claim_uuid(&revoked.access, "sid");
    revoke_without_the_feed(&a, sid).await;
    let elapsed = time_until(Duration::from_secs(4), || async {
        b.me(Some(&revoked.access)).await.reason() == Some("revoked")
    })
    .await
    .expect("the instance stops trusting its cache");
    assert!(
        elapsed < stale_after + Duration::from_millis(700),
        "took {elapsed:?}"
    );
    // Sessions that are live keep working meanwhile, from the database.
    b.me(Some(&kept.access)).await.ok("me");

    // The feed comes back: the instance follows it again.
    a.db.execute_unprepared(&rename("revocations_away", "revocations"))
        .await
        .expect("feed restored");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_stopped_on(&b, &kept.access, "logout after recovery", async || {
        a.logout(Some(&kept.access), None).await.ok("logout");
    })
    .await;
    assert_eq!(b.me(Some(&revoked.access)).await.reason(), Some("revoked"));
}

/// The next change `heard` hears that `matches`, within [`BOUND`].
async fn hear(
    heard: &mut tokio::sync::broadcast::Receiver<Change>,
    what: &str,
    matches: impl Fn(&Change) -> bool,
) -> Change {
    tokio::time::timeout(BOUND, async {
        loop {
            match heard.recv().await {
                Ok(change) if matches(&change) => return change,
                Ok(_) => {}
                Err(error) => panic!("{what}: {error}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: not heard within {BOUND:?}"))
}

async fn the_process_hears_every_session_change_at_commit_and_the_others_through_the_feed() {
    let (a, b) = two_instances().await;
    let mut on_a = a.news.subscribe();
    let mut on_b = b.news.subscribe();

    let laptop = a.signed_up().await;
    let laptop_session = claim_uuid(&laptop.access, "sid");
    let user_id: uuid::Uuid = laptop.user_id.parse().unwrap();
    hear(&mut on_a, "sign-up", |c| {
        *c == Change::SessionOpened {
            user_id,
            session_id: laptop_session,
        }
    })
    .await;

    // A logout on a: a hears it at commit, with its reason; b reads it from
    // the feed.
    a.logout(Some(&laptop.access), None).await.ok("logout");
    hear(&mut on_a, "logout", |c| {
        matches!(c, Change::SessionsEnded { sessions, reason: EndReason::Logout } if sessions[..] == [laptop_session])
    })
    .await;
    hear(&mut on_b, "logout on the other instance", |c| {
        matches!(c, Change::FromFeed(changes) if changes.contains(&Revoked::Session(laptop_session)))
    })
    .await;

    // A demotion on b: b hears that the account changed.
    let root = signed_in_with_roles(&b, "root@example.com", &["user", "admin"]).await;
    let other = signed_in_with_roles(&b, "other@example.com", &["user", "admin"]).await;
    let other_id: uuid::Uuid = other.user_id.parse().unwrap();
    set_roles(&b, &root.access, &other.user_id, &["user"])
        .await
        .ok("setUserRoles");
    hear(&mut on_b, "demotion", |c| {
        *c == Change::AccountChanged { user_id: other_id }
    })
    .await;
    hear(
        &mut on_a,
        "demotion on the other instance",
        |c| matches!(c, Change::FromFeed(changes) if changes.contains(&Revoked::User(other_id))),
    )
    .await;
}

crate::on_every_backend!(
    the_process_hears_every_session_change_at_commit_and_the_others_through_the_feed,
    every_kind_of_revocation_stops_the_other_instances_access_tokens,
    what_admins_do_reaches_the_other_instance_within_the_bound,
    a_retired_key_is_refused_by_the_other_instance_before_its_reload_interval,
    a_sessions_status_is_read_once_and_kept_until_the_feed_says_otherwise,
    an_instance_started_after_a_revocation_refuses_the_token_at_once,
    an_instance_that_cannot_read_the_feed_checks_every_request_against_the_database,
);
