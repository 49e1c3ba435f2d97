//! The sessions a user can see and end, logout scopes, changing the
//! password, and the idle timeout.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{PASSWORD, TestApp, Tokens, claim_uuid, spawn_app, spawn_app_with};

const NEW_PASSWORD: &str = "a different horse, stapled anew";

/// Ada signed in on three devices, in order: returns their tokens.
async fn three_devices(app: &TestApp) -> [Tokens; 3] {
    app.register("Ada", "ada@example.com", PASSWORD)
        .await
        .ok("register");
    let mut devices = Vec::new();
    for agent in ["phone", "laptop", "tablet"] {
        let reply = app
            .client
            .post(app.url())
            .header("user-agent", agent)
            .json(&serde_json::json!({
                "query": format!("mutation($input: LoginInput!) {{ login(input: $input) {{ {} }} }}", crate::helpers::AUTH_PAYLOAD),
                "variables": { "input": { "email": "ada@example.com", "password": PASSWORD } },
            }))
            .send()
            .await
            .expect("request sent");
        let reply = crate::helpers::Reply::read(reply).await;
        devices.push(Tokens::from_payload(reply.ok("login")));
    }
    devices.try_into().expect("three devices")
}

fn ids(reply: &crate::helpers::Reply) -> Vec<String> {
    reply.ok("sessions")["nodes"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect()
}

fn sid(tokens: &Tokens) -> String {
    claim_uuid(&tokens.access, "sid").to_string()
}

async fn sessions_lists_the_callers_live_sessions_newest_first() {
    let app = spawn_app().await;
    let [phone, laptop, tablet] = three_devices(&app).await;
    // Someone else's session is not listed.
    app.signed_up().await;

    let reply = app.sessions(&laptop.access).await;
    let listed = reply.ok("sessions")["nodes"].as_array().unwrap().clone();
    assert_eq!(reply.ok("sessions")["totalCount"], 4);
    // The registration's session, then the three logins.
    assert_eq!(listed.len(), 4, "{listed:?}");
    assert_eq!(
        ids(&reply)[..3],
        [sid(&tablet), sid(&laptop), sid(&phone)],
        "newest first"
    );
    let current: Vec<&Value> = listed.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], sid(&laptop).as_str());
    assert_eq!(current[0]["userAgent"], "laptop");
    assert_eq!(current[0]["ip"], "127.0.0.1");
    for field in ["createdAt", "refreshedAt", "expiresAt", "idleExpiresAt"] {
        assert!(current[0][field].is_string(), "{field}");
    }

    // An ended session leaves the list.
    app.logout(Some(&phone.access), None).await.ok("logout");
    assert!(!ids(&app.sessions(&laptop.access).await).contains(&sid(&phone)));
    assert_eq!(
        app.graphql("{ sessions { nodes { id } } }", serde_json::json!({}), None)
            .await
            .code(),
        Some("UNAUTHENTICATED")
    );
}

async fn revoke_session_ends_one_of_the_callers_sessions_only() {
    let app = spawn_app().await;
    let [phone, laptop, _] = three_devices(&app).await;
    let stranger = app.signed_up().await;

    // Another user's id answers exactly as an unknown or malformed id does.
    for id in [
        sid(&stranger),
        uuid::Uuid::new_v4().to_string(),
        "not-a-uuid".into(),
    ] {
        let reply = app.revoke_session(&laptop.access, &id).await;
        assert_eq!(reply.ok("revokeSession"), false, "{id}");
    }
    app.me(Some(&stranger.access)).await.ok("me");

    let reply = app.revoke_session(&laptop.access, &sid(&phone)).await;
    assert_eq!(reply.ok("revokeSession"), true);
    assert_eq!(app.me(Some(&phone.access)).await.reason(), Some("revoked"));
    assert_eq!(
        app.refresh(&phone.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
    app.me(Some(&laptop.access)).await.ok("me");
    // Already ended: nothing more to do.
    let again = app.revoke_session(&laptop.access, &sid(&phone)).await;
    assert_eq!(again.ok("revokeSession"), false);
    assert!(
        app.event_kinds()
            .await
            .contains(&"session_revoked".to_owned())
    );
}

async fn logout_others_keeps_this_session_and_global_ends_all() {
    let app = spawn_app().await;
    let [phone, laptop, tablet] = three_devices(&app).await;

    let reply = app.logout_scope(Some(&laptop.access), "OTHERS").await;
    // The registration's session, the phone and the tablet.
    assert_eq!(reply.ok("logout")["revokedSessions"], 3);
    for ended in [&phone, &tablet] {
        assert_eq!(app.me(Some(&ended.access)).await.reason(), Some("revoked"));
    }
    app.me(Some(&laptop.access)).await.ok("me");
    let laptop = Tokens::from_payload(app.refresh(&laptop.refresh).await.ok("refresh"));
    assert_eq!(ids(&app.sessions(&laptop.access).await), [sid(&laptop)]);

    let phone = Tokens::from_payload(app.login("ada@example.com", PASSWORD).await.ok("login"));
    let reply = app.logout_scope(Some(&phone.access), "GLOBAL").await;
    assert_eq!(reply.ok("logout")["revokedSessions"], 2);
    for ended in [&phone, &laptop] {
        assert_eq!(app.me(Some(&ended.access)).await.reason(), Some("revoked"));
        assert_eq!(
            app.refresh(&ended.refresh).await.code(),
            Some("INVALID_REFRESH_TOKEN")
        );
    }
}

async fn change_password_ends_other_sessions_and_keeps_this_one() {
    let app = spawn_app().await;
    let [phone, laptop, _] = three_devices(&app).await;

    let reply = app
        .change_password(&laptop.access, PASSWORD, NEW_PASSWORD)
        .await;
    let fresh = Tokens::from_payload(reply.ok("changePassword"));
    assert_eq!(sid(&fresh), sid(&laptop), "the same session continues");

    // The other sessions are over; this one continues with the fresh pair,
    // and its own earlier refresh token is spent.
    assert_eq!(app.me(Some(&phone.access)).await.reason(), Some("revoked"));
    app.me(Some(&fresh.access)).await.ok("me");
    app.me(Some(&laptop.access)).await.ok("me");
    assert_eq!(
        app.refresh(&laptop.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
    app.refresh(&fresh.refresh).await.ok("refresh");

    // The new password signs in; the old one does not.
    app.login("ada@example.com", NEW_PASSWORD).await.ok("login");
    assert_eq!(
        app.login("ada@example.com", PASSWORD).await.code(),
        Some("INVALID_CREDENTIALS")
    );
    assert!(
        app.event_kinds()
            .await
            .contains(&"password_changed".to_owned())
    );
}

async fn change_password_refuses_a_wrong_current_password_and_a_weak_new_one() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;

    let wrong = app
        .change_password(&tokens.access, "not my password at all", NEW_PASSWORD)
        .await;
    assert_eq!(wrong.code(), Some("INVALID_CREDENTIALS"));
    assert_eq!(
        wrong.body["errors"][0]["extensions"]["fields"]["currentPassword"],
        "is wrong"
    );
    let weak = app
        .change_password(&tokens.access, PASSWORD, "password1")
        .await;
    assert_eq!(weak.code(), Some("BAD_USER_INPUT"));
    assert!(weak.body["errors"][0]["extensions"]["fields"]["newPassword"].is_string());
    let anonymous = app
        .graphql(
            "mutation { changePassword(input: { currentPassword: \"x\", newPassword: \"y\" }) { accessToken } }",
            serde_json::json!({}),
            None,
        )
        .await;
    assert_eq!(anonymous.code(), Some("UNAUTHENTICATED"));
    // Nothing changed: the session and the password are as they were.
    app.me(Some(&tokens.access)).await.ok("me");
    app.refresh(&tokens.refresh).await.ok("refresh");
}

async fn change_password_is_throttled_like_login() {
    let app = spawn_app_with(|s| {
        s.protection.throttle.free_login_failures = 2;
    })
    .await;
    let tokens = app.signed_up().await;
    for _ in 0..2 {
        let reply = app
            .change_password(&tokens.access, "guess guess guess", NEW_PASSWORD)
            .await;
        assert_eq!(reply.code(), Some("INVALID_CREDENTIALS"));
    }
    // Throttled now, even with the right password.
    let reply = app
        .change_password(&tokens.access, PASSWORD, NEW_PASSWORD)
        .await;
    assert_eq!(reply.code(), Some("TOO_MANY_REQUESTS"), "{}", reply.body);
    assert!(reply.body["errors"][0]["extensions"]["retryAfter"].as_u64() > Some(0));
}

async fn a_session_not_refreshed_within_the_idle_timeout_ends() {
    let app = spawn_app_with(|s| {
        s.lifetimes.session_idle = Duration::from_secs(2);
    })
    .await;
    let tokens = app.signed_up().await;
    let session = app.sessions(&tokens.access).await;
    let listed = &session.ok("sessions")["nodes"][0];
    let idle_ends = listed["idleExpiresAt"].as_str().expect("idleExpiresAt");
    let ends = listed["expiresAt"].as_str().expect("expiresAt");
    assert!(idle_ends < ends, "{idle_ends} before {ends}");

    // A refresh within the timeout keeps the session going...
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let next = Tokens::from_payload(app.refresh(&tokens.refresh).await.ok("refresh"));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let next = Tokens::from_payload(app.refresh(&next.refresh).await.ok("refresh"));
    // ...and none for longer than it ends the session.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(
        app.refresh(&next.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
}

async fn sessions_come_a_page_at_a_time_and_a_user_keeps_at_most_the_cap() {
    let app = spawn_app_with(|s| s.sessions.max_per_user = 5).await;
    let first = app.signed_up().await;
    let email = app.me(Some(&first.access)).await.ok("me")["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut signed_in = vec![first];
    for _ in 0..7 {
        signed_in.push(Tokens::from_payload(
            app.login(&email, PASSWORD).await.ok("login"),
        ));
    }
    let newest = signed_in.last().unwrap().clone();
    // Eight sign-ins, five kept: the three oldest ended, tokens and all.
    for old in &signed_in[..3] {
        assert_eq!(app.me(Some(&old.access)).await.reason(), Some("revoked"));
        assert_eq!(
            app.refresh(&old.refresh).await.code(),
            Some("INVALID_REFRESH_TOKEN")
        );
        let row = app.session_row(claim_uuid(&old.access, "sid")).await;
        assert_eq!(row.revoked_reason.as_deref(), Some("session_limit"));
    }
    app.me(Some(&signed_in[3].access)).await.ok("me");

    let page = |after: Option<String>| {
        let (app, bearer) = (&app, newest.access.clone());
        async move {
            app.graphql(
                "query($after: String) { sessions(first: 2, after: $after) { totalCount \
                 pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id current } } } }",
                serde_json::json!({ "after": after }),
                Some(&bearer),
            )
            .await
            .ok("sessions")
            .clone()
        }
    };
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let connection = page(after.clone()).await;
        assert_eq!(connection["totalCount"], 5);
        assert_eq!(connection["pageInfo"]["hasPreviousPage"], after.is_some());
        for edge in connection["edges"].as_array().unwrap() {
            seen.push(edge["node"]["id"].as_str().unwrap().to_owned());
        }
        if connection["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = connection["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    let kept: Vec<String> = signed_in[3..].iter().rev().map(sid).collect();
    assert_eq!(seen, kept, "newest first, each once");
    let too_many = app
        .graphql(
            "{ sessions(first: 101) { nodes { id } } }",
            serde_json::json!({}),
            Some(&newest.access),
        )
        .await;
    assert_eq!(too_many.code(), Some("BAD_USER_INPUT"));
}

async fn aliased_session_pages_cannot_make_a_huge_answer() {
    // Twenty aliases of a hundred sessions with every field: refused before
    // anything runs, by the page's weight against AUTHQL_MAX_COMPLEXITY.
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    let fields = "id createdAt refreshedAt expiresAt idleExpiresAt userAgent ip current";
    let aliases: String = (0..20)
        .map(|i| format!("s{i}: sessions(first: 100) {{ nodes {{ {fields} }} }} "))
        .collect();
    let reply = app
        .graphql(
            &format!("{{ {aliases} }}"),
            serde_json::json!({}),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(
        reply.code(),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{}",
        reply.body
    );
    assert!(reply.body["data"].is_null(), "{}", reply.body);
    // One page of the default size with every field is fine.
    let one = app
        .graphql(
            &format!("{{ sessions {{ nodes {{ {fields} }} }} }}"),
            serde_json::json!({}),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(one.ok("sessions")["nodes"].as_array().unwrap().len(), 1);
}

crate::on_every_backend!(
    sessions_come_a_page_at_a_time_and_a_user_keeps_at_most_the_cap,
    aliased_session_pages_cannot_make_a_huge_answer,
    sessions_lists_the_callers_live_sessions_newest_first,
    revoke_session_ends_one_of_the_callers_sessions_only,
    logout_others_keeps_this_session_and_global_ends_all,
    change_password_ends_other_sessions_and_keeps_this_one,
    change_password_refuses_a_wrong_current_password_and_a_weak_new_one,
    change_password_is_throttled_like_login,
    a_session_not_refreshed_within_the_idle_timeout_ends,
);
