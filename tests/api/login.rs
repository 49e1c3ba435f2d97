//! `login`: credentials, sessions, and failures that reveal nothing.

use serde_json::json;

use crate::helpers::{PASSWORD, claim_uuid, spawn_app};

async fn login_with_the_right_password_opens_a_new_session_each_time() {
    let app = spawn_app().await;
    let registered = app.register("Ada", "ada@example.com", PASSWORD).await;
    let first_sid = claim_uuid(
        registered.ok("register")["accessToken"].as_str().unwrap(),
        "sid",
    );

    let one = app.login("ada@example.com", PASSWORD).await;
    let two = app.login("ada@example.com", PASSWORD).await;
    let one_sid = claim_uuid(one.ok("login")["accessToken"].as_str().unwrap(), "sid");
    let two_sid = claim_uuid(two.ok("login")["accessToken"].as_str().unwrap(), "sid");
    assert_ne!(one_sid, two_sid);
    assert_ne!(one_sid, first_sid);
    assert_eq!(one.ok("login")["user"]["email"], "ada@example.com");
    assert_eq!(one.ok("login")["tokenType"], "Bearer");
    assert_eq!(
        app.event_kinds().await,
        ["registered", "login_succeeded", "login_succeeded"]
    );
}

async fn the_email_is_matched_trimmed_and_case_insensitively() {
    let app = spawn_app().await;
    app.register("Ada", "ada@example.com", PASSWORD)
        .await
        .ok("register");
    app.login("  ADA@Example.Com  ", PASSWORD).await.ok("login");
}

async fn a_wrong_password_and_an_unknown_email_fail_alike() {
    let app = spawn_app().await;
    app.register("Ada", "ada@example.com", PASSWORD)
        .await
        .ok("register");

    let wrong_password = app.login("ada@example.com", "not the password").await;
    let unknown_email = app.login("nobody@example.com", PASSWORD).await;
    for reply in [&wrong_password, &unknown_email] {
        assert_eq!(reply.code(), Some("INVALID_CREDENTIALS"));
        assert_eq!(reply.body["data"], serde_json::Value::Null);
    }
    assert_eq!(wrong_password.body["errors"], unknown_email.body["errors"]);
    assert_eq!(
        app.event_kinds().await,
        ["registered", "login_failed", "login_failed"]
    );
}

async fn an_empty_password_or_email_is_bad_user_input() {
    let app = spawn_app().await;
    let reply = app.login("", "").await;
    assert_eq!(reply.code(), Some("BAD_USER_INPUT"));
    let fields = &reply.body["errors"][0]["extensions"]["fields"];
    assert_eq!(fields["email"], "must not be empty");
    assert_eq!(fields["password"], "must not be empty");
}

async fn a_missing_input_field_is_a_validation_error() {
    let app = spawn_app().await;
    let reply = app
        .graphql(
            "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
            json!({ "input": { "email": "ada@example.com" } }),
            None,
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), Some("GRAPHQL_VALIDATION_FAILED"));
    assert!(reply.body.get("data").is_none());
}

crate::on_every_backend!(
    login_with_the_right_password_opens_a_new_session_each_time,
    the_email_is_matched_trimmed_and_case_insensitively,
    a_wrong_password_and_an_unknown_email_fail_alike,
    an_empty_password_or_email_is_bad_user_input,
    a_missing_input_field_is_a_validation_error,
);
