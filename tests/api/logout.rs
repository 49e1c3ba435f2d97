//! `logout`: the session ends, access tokens included.

use serde_json::json;

use crate::helpers::{PASSWORD, Tokens, claim_uuid, now_secs, spawn_app};

async fn logout_with_the_access_token_ends_every_token_of_the_session() {
    let app = spawn_app().await;
    let first = app.signed_up().await;
    let rotated = Tokens::from_payload(app.refresh(&first.refresh).await.ok("refresh"));

    let reply = app.logout(Some(&rotated.access), None).await;
    assert_eq!(reply.ok("logout")["revokedSessions"], 1);

    for access in [&first.access, &rotated.access] {
        let me = app.me(Some(access)).await;
        assert_eq!(me.code(), Some("UNAUTHENTICATED"));
        assert_eq!(me.reason(), Some("revoked"));
    }
    for refresh in [&first.refresh, &rotated.refresh] {
        assert_eq!(
            app.refresh(refresh).await.code(),
            Some("INVALID_REFRESH_TOKEN")
        );
    }
    let session = app.session_row(claim_uuid(&first.access, "sid")).await;
    assert_eq!(session.revoked_reason.as_deref(), Some("logout"));
    assert!(app.event_kinds().await.contains(&"logout".to_owned()));
}

async fn logout_with_only_a_refresh_token_ends_its_session() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    let reply = app.logout(None, Some(&tokens.refresh)).await;
    assert_eq!(reply.ok("logout")["revokedSessions"], 1);
    assert_eq!(app.me(Some(&tokens.access)).await.reason(), Some("revoked"));
    assert_eq!(
        app.refresh(&tokens.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
}

async fn logout_with_an_expired_access_token_falls_back_to_the_refresh_token() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    let expired = app.resign(&tokens.access, |_, claims| {
        claims["exp"] = json!(now_secs() - 60)
    });
    let reply = app.logout(Some(&expired), Some(&tokens.refresh)).await;
    assert_eq!(reply.ok("logout")["revokedSessions"], 1);
    assert_eq!(
        app.refresh(&tokens.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
}

async fn logout_without_any_token_is_unauthenticated() {
    let app = spawn_app().await;
    let reply = app.logout(None, None).await;
    assert_eq!(reply.code(), Some("UNAUTHENTICATED"));
    assert_eq!(reply.reason(), Some("missing"));
}

async fn logout_refuses_a_refresh_token_as_bearer_and_bad_refresh_tokens() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    assert_eq!(
        app.logout(Some(&tokens.refresh), None).await.code(),
        Some("TOKEN_MISUSED")
    );
    assert_eq!(
        app.logout(None, Some(&tokens.access)).await.code(),
        Some("TOKEN_MISUSED")
    );
    assert_eq!(
        app.logout(None, Some("garbage")).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
    // Nothing was ended.
    app.me(Some(&tokens.access)).await.ok("me");
}

async fn logout_leaves_the_users_other_sessions_alone() {
    let app = spawn_app().await;
    app.register("Ada", "ada@example.com", PASSWORD)
        .await
        .ok("register");
    let phone = Tokens::from_payload(app.login("ada@example.com", PASSWORD).await.ok("login"));
    let laptop = Tokens::from_payload(app.login("ada@example.com", PASSWORD).await.ok("login"));
    app.logout(Some(&phone.access), None).await.ok("logout");
    app.me(Some(&laptop.access)).await.ok("me");
    app.refresh(&laptop.refresh).await.ok("refresh");
}

async fn logging_out_twice_with_the_refresh_token_is_refused_the_second_time() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    app.logout(None, Some(&tokens.refresh)).await.ok("logout");
    let again = app.logout(None, Some(&tokens.refresh)).await;
    assert_eq!(again.code(), Some("INVALID_REFRESH_TOKEN"));
}

async fn a_superseded_refresh_token_cannot_end_the_users_other_sessions() {
    // A thief who copied a refresh token that has since been rotated by its
    // owner may end that one session, never every session of the user.
    let app = spawn_app().await;
    let laptop = app.signed_up().await;
    let email = app.me(Some(&laptop.access)).await.ok("me")["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let phone = Tokens::from_payload(app.login(&email, PASSWORD).await.ok("login"));
    let stolen = laptop.refresh.clone();
    let rotated = Tokens::from_payload(app.refresh(&laptop.refresh).await.ok("refresh"));
    let logout = |token: String, scope: &'static str| {
        let app = &app;
        async move {
            app.graphql(
                "mutation($token: String, $scope: LogoutScope!) { logout(refreshToken: $token, scope: $scope) { revokedSessions } }",
                json!({ "token": token, "scope": scope }),
                None,
            )
            .await
        }
    };
    for scope in ["GLOBAL", "OTHERS"] {
        let refused = logout(stolen.clone(), scope).await;
        assert_eq!(refused.code(), Some("INVALID_REFRESH_TOKEN"), "{scope}");
    }
    app.me(Some(&phone.access)).await.ok("me");
    app.me(Some(&rotated.access)).await.ok("me");
    // Its current token still signs out everywhere.
    let everywhere = logout(rotated.refresh.clone(), "GLOBAL").await;
    assert_eq!(everywhere.ok("logout")["revokedSessions"], 2);
    assert_eq!(app.me(Some(&phone.access)).await.reason(), Some("revoked"));
}

crate::on_every_backend!(
    a_superseded_refresh_token_cannot_end_the_users_other_sessions,
    logout_with_the_access_token_ends_every_token_of_the_session,
    logout_with_only_a_refresh_token_ends_its_session,
    logout_with_an_expired_access_token_falls_back_to_the_refresh_token,
    logout_without_any_token_is_unauthenticated,
    logout_refuses_a_refresh_token_as_bearer_and_bad_refresh_tokens,
    logout_leaves_the_users_other_sessions_alone,
    logging_out_twice_with_the_refresh_token_is_refused_the_second_time,
);
