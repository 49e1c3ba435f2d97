//! The audit trail, read back: a user's own events and an admin's view.

use serde_json::{Value, json};

use crate::admin::{set_roles, signed_in_with_roles};
use crate::helpers::{PASSWORD, Reply, TestApp, Tokens, spawn_app};

async fn my_events(app: &TestApp, bearer: Option<&str>, args: Value) -> Reply {
    app.graphql(
        "query($first: Int, $after: String) { myEvents(first: $first, after: $after) { \
           totalCount pageInfo { hasNextPage endCursor } \
           nodes { id kind createdAt sessionId ip userAgent byAdmin } } }",
        args,
        bearer,
    )
    .await
}

async fn audit_events(app: &TestApp, bearer: &str, args: Value) -> Reply {
    app.graphql(
        "query($first: Int, $after: String, $userId: ID, $kind: AuditEventKind) { \
           auditEvents(first: $first, after: $after, userId: $userId, kind: $kind) { \
           totalCount pageInfo { hasNextPage endCursor } \
           nodes { id kind createdAt userId sessionId actor ip userAgent detail } } }",
        args,
        Some(bearer),
    )
    .await
}

fn kinds(reply: &Reply, field: &str) -> Vec<String> {
    reply.ok(field)["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["kind"].as_str().expect("kind").to_owned())
        .collect()
}

async fn a_user_reads_their_own_security_events_newest_first() {
    let app = spawn_app().await;
    let ada = app.signed_up().await;
    let email = app.me(Some(&ada.access)).await.ok("me")["email"]
        .as_str()
        .unwrap()
        .to_owned();
    // Someone else's activity is not Ada's.
    let bob = app.signed_up().await;
    app.login(&email, "a wrong password entirely")
        .await
        .code()
        .expect("refused");
    let phone = Tokens::from_payload(app.login(&email, PASSWORD).await.ok("login"));
    let phone = Tokens::from_payload(app.refresh(&phone.refresh).await.ok("refresh"));
    app.logout(Some(&phone.access), None).await.ok("logout");

    let reply = my_events(&app, Some(&ada.access), json!({})).await;
    assert_eq!(
        kinds(&reply, "myEvents"),
        [
            "LOGOUT",
            "REFRESHED",
            "LOGIN_SUCCEEDED",
            "LOGIN_FAILED",
            "REGISTERED"
        ]
    );
    let page = reply.ok("myEvents");
    assert_eq!(page["totalCount"], 5);
    let newest = &page["nodes"][0];
    assert_eq!(newest["ip"], "127.0.0.1");
    assert_eq!(newest["userAgent"], "authql-tests/1.0");
    assert_eq!(newest["byAdmin"], false);
    assert_eq!(
        newest["sessionId"].as_str(),
        Some(
            crate::helpers::claim_uuid(&phone.access, "sid")
                .to_string()
                .as_str()
        )
    );
    assert_eq!(
        kinds(
            &my_events(&app, Some(&bob.access), json!({})).await,
            "myEvents"
        ),
        ["REGISTERED"]
    );

    // A page at a time, with nothing repeated or lost.
    let first = my_events(&app, Some(&ada.access), json!({ "first": 3 })).await;
    assert_eq!(first.ok("myEvents")["pageInfo"]["hasNextPage"], true);
    let after = first.ok("myEvents")["pageInfo"]["endCursor"].clone();
    let rest = my_events(
        &app,
        Some(&ada.access),
        json!({ "first": 3, "after": after }),
    )
    .await;
    assert_eq!(kinds(&rest, "myEvents"), ["LOGIN_FAILED", "REGISTERED"]);
    assert_eq!(rest.ok("myEvents")["pageInfo"]["hasNextPage"], false);

    // Without an access token: nothing.
    let reply = my_events(&app, None, json!({})).await;
    assert_eq!(reply.code(), Some("UNAUTHENTICATED"));
}

async fn what_an_admin_did_shows_in_the_users_trail_without_the_admins_address() {
    let app = spawn_app().await;
    let admin = signed_in_with_roles(&app, "root@example.com", &["user", "admin"]).await;
    let ada = app.signed_up().await;
    set_roles(&app, &admin.access, &ada.user_id, &["editor"])
        .await
        .ok("setUserRoles");

    let reply = my_events(&app, Some(&ada.access), json!({ "first": 1 })).await;
    let event = &reply.ok("myEvents")["nodes"][0];
    assert_eq!(event["kind"], "ROLES_CHANGED");
    assert_eq!(event["byAdmin"], true);
    assert_eq!(event["ip"], Value::Null);
    assert_eq!(event["userAgent"], Value::Null);

    // The admin's view names who did it, and from where.
    let reply = audit_events(
        &app,
        &admin.access,
        json!({ "userId": ada.user_id, "kind": "ROLES_CHANGED" }),
    )
    .await;
    let page = reply.ok("auditEvents");
    assert_eq!(page["totalCount"], 1);
    let event = &page["nodes"][0];
    assert_eq!(event["actor"], Value::String(admin.user_id.clone()));
    assert_eq!(event["userId"], Value::String(ada.user_id.clone()));
    assert_eq!(event["detail"], "user,editor");
    assert_eq!(event["ip"], "127.0.0.1");
}

async fn admins_filter_the_audit_trail_by_user_and_kind() {
    let app = spawn_app().await;
    let admin = signed_in_with_roles(&app, "root@example.com", &["user", "admin"]).await;
    let ada = app.signed_up().await;
    app.login("nobody@example.com", PASSWORD)
        .await
        .code()
        .expect("refused");

    // A sign-in attempt on an unknown address belongs to no user.
    let reply = audit_events(&app, &admin.access, json!({ "kind": "LOGIN_FAILED" })).await;
    let page = reply.ok("auditEvents");
    assert_eq!(page["totalCount"], 1);
    assert_eq!(page["nodes"][0]["userId"], Value::Null);
    assert_eq!(page["nodes"][0]["detail"], "unknown_email");

    let reply = audit_events(&app, &admin.access, json!({ "userId": ada.user_id })).await;
    assert_eq!(kinds(&reply, "auditEvents"), ["REGISTERED"]);

    // Everything: root's registration and sign-in, Ada's, the failure.
    let reply = audit_events(&app, &admin.access, json!({})).await;
    assert_eq!(reply.ok("auditEvents")["totalCount"], 4);

    let reply = audit_events(&app, &admin.access, json!({ "userId": "junk" })).await;
    assert_eq!(reply.code(), Some("BAD_USER_INPUT"));
    assert!(reply.body["errors"][0]["extensions"]["fields"]["userId"].is_string());
    let reply = audit_events(&app, &ada.access, json!({})).await;
    assert_eq!(reply.code(), Some("FORBIDDEN"));
}

crate::on_every_backend!(
    a_user_reads_their_own_security_events_newest_first,
    what_an_admin_did_shows_in_the_users_trail_without_the_admins_address,
    admins_filter_the_audit_trail_by_user_and_kind,
);
