//! `session` and `renewAccessToken`.

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::{claim_uuid, decode_jwt, spawn_app, spawn_app_with};

async fn session_describes_the_access_tokens_session() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    let reply = app.session(&tokens.access).await;
    let session = reply.ok("session");
    assert_eq!(session["id"], claim_uuid(&tokens.access, "sid").to_string());
    assert_eq!(session["current"], true);
    assert_eq!(session["userAgent"], "authql-tests/1.0");
    assert_eq!(session["ip"], "127.0.0.1");
    for field in ["createdAt", "refreshedAt", "expiresAt"] {
        chrono::DateTime::parse_from_rfc3339(session[field].as_str().unwrap()).unwrap();
    }
}

async fn session_requires_an_access_token() {
    let app = spawn_app().await;
    let reply = app
        .graphql("{ session { id } }", serde_json::json!({}), None)
        .await;
    assert_eq!(reply.code(), Some("UNAUTHENTICATED"));
}

async fn renew_access_token_issues_a_new_token_for_the_same_session() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    let reply = app.renew_access_token(&tokens.access).await;
    let payload = reply.ok("renewAccessToken");
    let renewed = payload["accessToken"].as_str().unwrap();
    assert_eq!(payload["tokenType"], "Bearer");
    assert_ne!(renewed, tokens.access);
    assert_eq!(
        claim_uuid(renewed, "sid"),
        claim_uuid(&tokens.access, "sid")
    );
    assert_ne!(
        claim_uuid(renewed, "jti"),
        claim_uuid(&tokens.access, "jti")
    );
    assert_eq!(decode_jwt(renewed).0["typ"], "at+jwt");
    app.me(Some(renewed)).await.ok("me");
}

async fn a_renewed_access_token_never_outlives_the_current_refresh_token() {
    let app = spawn_app_with(|s| {
        s.lifetimes.access = Duration::from_secs(3600);
        s.lifetimes.refresh = Duration::from_secs(60);
    })
    .await;
    let tokens = app.signed_up().await;
    let refresh_exp = decode_jwt(&tokens.refresh).1["exp"].as_i64().unwrap();
    let reply = app.renew_access_token(&tokens.access).await;
    let renewed = reply.ok("renewAccessToken")["accessToken"]
        .as_str()
        .unwrap();
    assert!(decode_jwt(renewed).1["exp"].as_i64().unwrap() <= refresh_exp);
    assert!(
        reply.ok("renewAccessToken")["accessExpiresIn"]
            .as_i64()
            .unwrap()
            <= 60
    );
}

async fn renewal_cannot_keep_an_access_token_alive_without_refreshes() {
    // A thief with an access token but no refresh token renews it over and
    // over; once the session's last refresh lies two access lifetimes back,
    // renewal stops, and only a refresh (which needs the refresh token)
    // brings it back.
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    let sid = claim_uuid(&tokens.access, "sid");
    let renewed = app.renew_access_token(&tokens.access).await;
    let stolen = renewed.ok("renewAccessToken")["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    // Time passes with no refresh: the pair was issued 31 minutes ago (the
    // access lifetime is 15).
    entity::refresh_token::Entity::update_many()
        .col_expr(
            entity::refresh_token::Column::IssuedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::TimeDelta::minutes(31)),
        )
        .filter(entity::refresh_token::Column::SessionId.eq(sid))
        .exec(&app.db)
        .await
        .unwrap();
    let refused = app.renew_access_token(&stolen).await;
    assert_eq!(refused.code(), Some("UNAUTHENTICATED"), "{}", refused.body);
    assert_eq!(refused.reason(), Some("expired"));
    // The owner refreshes: renewal works again, bounded by the new pair.
    let fresh = app.refresh(&tokens.refresh).await;
    let fresh = crate::helpers::Tokens::from_payload(fresh.ok("refresh"));
    let reply = app.renew_access_token(&fresh.access).await;
    let renewed = reply.ok("renewAccessToken")["accessToken"]
        .as_str()
        .unwrap();
    let iat = decode_jwt(&fresh.refresh).1["iat"].as_i64().unwrap();
    assert!(decode_jwt(renewed).1["exp"].as_i64().unwrap() <= iat + 2 * 15 * 60);
}

async fn a_revoked_session_gets_no_renewed_access_token() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    app.logout(Some(&tokens.access), None).await.ok("logout");
    let reply = app.renew_access_token(&tokens.access).await;
    assert_eq!(reply.code(), Some("UNAUTHENTICATED"));
    assert_eq!(reply.reason(), Some("revoked"));
}

async fn renew_access_token_refuses_a_refresh_token() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    assert_eq!(
        app.renew_access_token(&tokens.refresh).await.code(),
        Some("TOKEN_MISUSED")
    );
}

/// Registers through a client that sends `X-Forwarded-For` and returns the
/// session's recorded IP.
async fn recorded_ip(app: &crate::helpers::TestApp, forwarded_for: &str) -> String {
    let body = serde_json::json!({
        "query": "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        "variables": { "i": {
            "name": "Ada", "email": format!("{}@example.com", uuid::Uuid::new_v4()),
            "password": crate::helpers::PASSWORD, "passwordConfirmation": crate::helpers::PASSWORD
        }}
    });
    let response = app
        .post_json(&[("x-forwarded-for", forwarded_for)], &body)
        .await;
    let reply = crate::helpers::Reply::read(response).await;
    let token = reply.ok("register")["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    app.session(&token).await.ok("session")["ip"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn behind_a_trusted_proxy_the_forwarded_client_ip_is_recorded() {
    let app = spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    assert_eq!(recorded_ip(&app, "203.0.113.7").await, "203.0.113.7");
    // What the client itself put in front is not believed.
    assert_eq!(
        recorded_ip(&app, "1.2.3.4, 203.0.113.7").await,
        "203.0.113.7"
    );
}

async fn without_trusted_proxies_x_forwarded_for_is_ignored() {
    let app = spawn_app().await;
    assert_eq!(recorded_ip(&app, "203.0.113.7").await, "127.0.0.1");
}

crate::on_every_backend!(
    behind_a_trusted_proxy_the_forwarded_client_ip_is_recorded,
    without_trusted_proxies_x_forwarded_for_is_ignored,
    session_describes_the_access_tokens_session,
    session_requires_an_access_token,
    renew_access_token_issues_a_new_token_for_the_same_session,
    a_renewed_access_token_never_outlives_the_current_refresh_token,
    a_revoked_session_gets_no_renewed_access_token,
    renewal_cannot_keep_an_access_token_alive_without_refreshes,
    renew_access_token_refuses_a_refresh_token,
);
