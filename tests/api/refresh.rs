//! `refresh`: rotation, the grace period, reuse detection, races.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{Tokens, claim_uuid, decode_jwt, now_secs, spawn_app, spawn_app_with};

async fn refresh_rotates_both_tokens_within_the_same_session() {
    let app = spawn_app().await;
    let first = app.signed_up().await;
    let reply = app.refresh(&first.refresh).await;
    let next = Tokens::from_payload(reply.ok("refresh"));

    assert_ne!(next.access, first.access);
    assert_ne!(next.refresh, first.refresh);
    assert_eq!(
        claim_uuid(&next.access, "sid"),
        claim_uuid(&first.access, "sid")
    );
    assert_eq!(reply.ok("refresh")["tokenType"], "Bearer");
    assert_eq!(reply.ok("refresh")["user"]["id"], first.user_id.as_str());
    app.me(Some(&next.access)).await.ok("me");

    let sid = claim_uuid(&first.access, "sid");
    let rows = app.refresh_token_rows(sid).await;
    assert_eq!(rows.len(), 2);
    let (old, new) = (&rows[0], &rows[1]);
    assert_eq!(old.jti, claim_uuid(&first.refresh, "jti"));
    assert!(old.used_at.is_some());
    assert_eq!(new.jti, claim_uuid(&next.refresh, "jti"));
    assert_eq!(new.parent_jti, Some(old.jti));
    assert_eq!(new.xpair, claim_uuid(&next.access, "jti"));
    assert_eq!(
        decode_jwt(&next.refresh).1["xpair"],
        decode_jwt(&next.access).1["jti"]
    );
    assert!(new.used_at.is_none());
    assert!(app.event_kinds().await.contains(&"refreshed".to_owned()));
}

async fn an_access_token_given_to_refresh_is_misused() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    assert_eq!(
        app.refresh(&tokens.access).await.code(),
        Some("TOKEN_MISUSED")
    );
}

async fn the_same_token_within_the_grace_period_gets_the_very_same_pair() {
    let app = spawn_app().await;
    let first = app.signed_up().await;
    let one = app.refresh(&first.refresh).await;
    let two = app.refresh(&first.refresh).await;
    let one = Tokens::from_payload(one.ok("refresh"));
    let two = Tokens::from_payload(two.ok("refresh"));
    assert_eq!(one.access, two.access);
    assert_eq!(one.refresh, two.refresh);

    let rows = app
        .refresh_token_rows(claim_uuid(&first.access, "sid"))
        .await;
    assert_eq!(rows.len(), 2, "no second branch is created");
    // The session is intact: the successor rotates normally.
    app.refresh(&one.refresh).await.ok("refresh");
}

async fn reuse_after_the_grace_period_revokes_the_whole_session() {
    let app = spawn_app_with(|s| s.lifetimes.reuse_grace = Duration::from_millis(300)).await;
    let first = app.signed_up().await;
    let second = Tokens::from_payload(app.refresh(&first.refresh).await.ok("refresh"));
    // The chain moves on: the first token's successor is used.
    let next = Tokens::from_payload(app.refresh(&second.refresh).await.ok("refresh"));
    tokio::time::sleep(Duration::from_millis(500)).await;

    let reuse = app.refresh(&first.refresh).await;
    assert_eq!(reuse.code(), Some("INVALID_REFRESH_TOKEN"));

    // Every token of the session is dead: the successor refresh token...
    assert_eq!(
        app.refresh(&next.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
    // ...and the access tokens, at once on this instance.
    for access in [&first.access, &second.access, &next.access] {
        let me = app.me(Some(access)).await;
        assert_eq!(me.code(), Some("UNAUTHENTICATED"));
        assert_eq!(me.reason(), Some("revoked"));
    }
    let sid = claim_uuid(&first.access, "sid");
    let session = app.session_row(sid).await;
    assert_eq!(
        session.revoked_reason.as_deref(),
        Some("refresh_token_reused")
    );
    assert!(
        app.refresh_token_rows(sid)
            .await
            .iter()
            .all(|row| row.revoked_at.is_some())
    );
    assert!(
        app.event_kinds()
            .await
            .contains(&"refresh_token_reused".to_owned())
    );
}

async fn reuse_does_not_touch_the_users_other_sessions() {
    let app = spawn_app_with(|s| s.lifetimes.reuse_grace = Duration::from_millis(100)).await;
    app.register("Ada", "ada@example.com", crate::helpers::PASSWORD)
        .await
        .ok("register");
    let phone = Tokens::from_payload(
        app.login("ada@example.com", crate::helpers::PASSWORD)
            .await
            .ok("login"),
    );
    let laptop = Tokens::from_payload(
        app.login("ada@example.com", crate::helpers::PASSWORD)
            .await
            .ok("login"),
    );
    let rotated = Tokens::from_payload(app.refresh(&phone.refresh).await.ok("refresh"));
    app.refresh(&rotated.refresh).await.ok("refresh");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        app.refresh(&phone.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );

    app.me(Some(&laptop.access)).await.ok("me");
    app.refresh(&laptop.refresh).await.ok("refresh");
}

async fn concurrent_refreshes_with_one_token_leave_exactly_one_successor() {
    let app = spawn_app().await;
    let first = app.signed_up().await;
    let calls = (0..16).map(|_| app.refresh(&first.refresh));
    let replies = futures::future::join_all(calls).await;

    crate::helpers::assert_one_successor(&app, &first, &replies).await;
}

async fn unknown_forged_expired_and_missing_refresh_tokens_are_invalid() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;

    let unknown = app.resign(&tokens.refresh, |_, claims| {
        claims["jti"] = json!(uuid::Uuid::new_v4());
    });
    let forged = app.forge(&tokens.refresh);
    let expired = app.resign(&tokens.refresh, |_, claims| {
        claims["exp"] = json!(now_secs() - 10);
    });
    for token in [
        unknown.as_str(),
        forged.as_str(),
        expired.as_str(),
        "garbage",
        "",
    ] {
        let reply = app.refresh(token).await;
        assert_eq!(reply.code(), Some("INVALID_REFRESH_TOKEN"), "{token}");
        assert_eq!(reply.message(), Some("Invalid refresh token"));
    }
    let reply = app
        .graphql("mutation { refresh { accessToken } }", json!({}), None)
        .await;
    assert_eq!(reply.code(), Some("INVALID_REFRESH_TOKEN"));

    // None of these did any harm: the genuine token still rotates.
    app.refresh(&tokens.refresh).await.ok("refresh");
}

async fn a_refresh_token_never_outlives_its_session() {
    let app = spawn_app_with(|s| s.lifetimes.session_max = Duration::from_secs(120)).await;
    let tokens = app.signed_up().await;
    let sid = claim_uuid(&tokens.access, "sid");
    let session = app.session_row(sid).await;

    let refreshed = app.refresh(&tokens.refresh).await;
    let payload = refreshed.ok("refresh");
    let refresh_exp = decode_jwt(payload["refreshToken"].as_str().unwrap()).1["exp"]
        .as_i64()
        .unwrap();
    assert!(refresh_exp <= session.expires_at.timestamp());
    assert!(payload["refreshExpiresIn"].as_i64().unwrap() <= 120);
    let access_exp = decode_jwt(payload["accessToken"].as_str().unwrap()).1["exp"]
        .as_i64()
        .unwrap();
    assert!(access_exp <= refresh_exp);
}

async fn an_expired_session_cannot_be_refreshed() {
    let app = spawn_app_with(|s| {
        s.lifetimes.session_max = Duration::from_secs(1);
        s.lifetimes.reuse_grace = Duration::from_secs(5);
    })
    .await;
    let tokens = app.signed_up().await;
    // The refresh JWT itself expires with the session (plus the 5 s leeway),
    // so the row check is what refuses it in the gap.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        app.refresh(&tokens.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
}

async fn racing_tabs_on_one_chain_all_get_the_sessions_newest_pair() {
    let app = spawn_app().await;
    let first = app.signed_up().await;
    // Two tabs rotate the shared chain twice in a row...
    let second = Tokens::from_payload(app.refresh(&first.refresh).await.ok("refresh"));
    let third = Tokens::from_payload(app.refresh(&second.refresh).await.ok("refresh"));
    // ...and a late tab still holds the oldest token.
    for late in [&first, &second] {
        let reply = app.refresh(&late.refresh).await;
        let got = Tokens::from_payload(reply.ok("refresh"));
        assert_eq!(got.refresh, third.refresh, "the newest pair");
        assert_eq!(got.access, third.access);
    }
    // Every tab stays signed in and the chain goes on.
    app.me(Some(&third.access)).await.ok("me");
    app.refresh(&third.refresh).await.ok("refresh");
    let sid = claim_uuid(&first.access, "sid");
    assert!(app.session_row(sid).await.revoked_at.is_none());
}

async fn a_client_that_lost_the_answer_gets_it_again_after_the_grace_period() {
    let app = spawn_app_with(|s| s.lifetimes.reuse_grace = Duration::from_millis(200)).await;
    let first = app.signed_up().await;
    // The answer to this refresh never reaches the client...
    let lost = Tokens::from_payload(app.refresh(&first.refresh).await.ok("refresh"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    // ...which retries later, and gets the very same pair.
    let retried = Tokens::from_payload(app.refresh(&first.refresh).await.ok("refresh"));
    assert_eq!(retried.refresh, lost.refresh);
    assert_eq!(retried.access, lost.access);
    let next = Tokens::from_payload(app.refresh(&retried.refresh).await.ok("refresh"));

    // Once that successor was used, the old token is reuse again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.refresh(&first.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
    assert_eq!(app.me(Some(&next.access)).await.reason(), Some("revoked"));
}

async fn the_strict_policy_forgives_only_a_retry_of_the_direct_successor() {
    let app = spawn_app_with(|s| {
        s.lifetimes.reuse_grace = Duration::from_millis(300);
        s.sessions.reuse = authql::config::ReusePolicy::Strict;
    })
    .await;
    // A retry within the grace gets the same successor.
    let first = app.signed_up().await;
    let one = Tokens::from_payload(app.refresh(&first.refresh).await.ok("refresh"));
    let two = Tokens::from_payload(app.refresh(&first.refresh).await.ok("refresh"));
    assert_eq!(one.refresh, two.refresh);
    // A lost answer retried after the grace revokes the session.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.refresh(&first.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
    assert_eq!(app.me(Some(&one.access)).await.reason(), Some("revoked"));

    // A late tab within the grace, after the chain moved twice, does too.
    let first = app.signed_up().await;
    let second = Tokens::from_payload(app.refresh(&first.refresh).await.ok("refresh"));
    app.refresh(&second.refresh).await.ok("refresh");
    assert_eq!(
        app.refresh(&first.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
    assert_eq!(app.me(Some(&second.access)).await.reason(), Some("revoked"));
}

crate::on_every_backend!(
    racing_tabs_on_one_chain_all_get_the_sessions_newest_pair,
    a_client_that_lost_the_answer_gets_it_again_after_the_grace_period,
    the_strict_policy_forgives_only_a_retry_of_the_direct_successor,
    refresh_rotates_both_tokens_within_the_same_session,
    an_access_token_given_to_refresh_is_misused,
    the_same_token_within_the_grace_period_gets_the_very_same_pair,
    reuse_after_the_grace_period_revokes_the_whole_session,
    reuse_does_not_touch_the_users_other_sessions,
    concurrent_refreshes_with_one_token_leave_exactly_one_successor,
    unknown_forged_expired_and_missing_refresh_tokens_are_invalid,
    a_refresh_token_never_outlives_its_session,
    an_expired_session_cannot_be_refreshed,
);
