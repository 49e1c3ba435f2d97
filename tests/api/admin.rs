//! Roles and the admin API: the role guard, setting roles, the last admin,
//! ending a user's sessions, finding users a page at a time.

use std::time::Duration;

use entity::user;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use crate::helpers::{PASSWORD, Reply, TestApp, Tokens, decode_jwt, spawn_app, time_until};

/// Registers `email` with `roles` granted in the database, then signs in,
/// so the tokens carry them.
pub async fn signed_in_with_roles(app: &TestApp, email: &str, roles: &[&str]) -> Tokens {
    app.register("Admin", email, PASSWORD).await.ok("register");
    let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
    user::Entity::update_many()
        .col_expr(user::Column::Roles, Expr::value(user::Roles(roles)))
        .filter(user::Column::Email.eq(email))
        .exec(&app.db)
        .await
        .expect("roles stored");
    Tokens::from_payload(app.login(email, PASSWORD).await.ok("login"))
}

pub async fn set_roles(app: &TestApp, bearer: &str, id: &str, roles: &[&str]) -> Reply {
    app.graphql(
        "mutation($id: ID!, $roles: [String!]!) { setUserRoles(id: $id, roles: $roles) { id roles } }",
        json!({ "id": id, "roles": roles }),
        Some(bearer),
    )
    .await
}

async fn revoke_user_sessions(app: &TestApp, bearer: &str, id: &str) -> Reply {
    app.graphql(
        "mutation($id: ID!) { revokeUserSessions(id: $id) }",
        json!({ "id": id }),
        Some(bearer),
    )
    .await
}

async fn user(app: &TestApp, bearer: Option<&str>, id: &str) -> Reply {
    app.graphql(
        "query($id: ID!) { user(id: $id) { id email roles } }",
        json!({ "id": id }),
        bearer,
    )
    .await
}

async fn admin_fields_require_the_admin_role() {
    let app = spawn_app().await;
    let ada = app.signed_up().await;
    let bob = app.signed_up().await;
    for reply in [
        user(&app, Some(&ada.access), &bob.user_id).await,
        set_roles(&app, &ada.access, &ada.user_id, &["admin"]).await,
        revoke_user_sessions(&app, &ada.access, &bob.user_id).await,
    ] {
        assert_eq!(reply.code(), Some("FORBIDDEN"), "{}", reply.body);
        assert_eq!(
            reply.body["errors"][0]["extensions"]["requiredRole"],
            "admin"
        );
    }
    assert_eq!(
        user(&app, None, &bob.user_id).await.code(),
        Some("UNAUTHENTICATED")
    );
    // Nothing changed.
    app.me(Some(&bob.access)).await.ok("me");
    assert_eq!(
        app.me(Some(&ada.access)).await.ok("me")["roles"],
        json!(["user"])
    );
}

async fn an_admin_sets_roles_that_the_next_access_token_carries() {
    let app = spawn_app().await;
    let admin = signed_in_with_roles(&app, "root@example.com", &["user", "admin"]).await;
    let ada = app.signed_up().await;

    let reply = user(&app, Some(&admin.access), &ada.user_id).await;
    assert_eq!(reply.ok("user")["roles"], json!(["user"]));
    assert_eq!(
        user(&app, Some(&admin.access), &uuid::Uuid::new_v4().to_string())
            .await
            .ok("user"),
        &serde_json::Value::Null
    );

    let reply = set_roles(
        &app,
        &admin.access,
        &ada.user_id,
        &["editor", "billing:read"],
    )
    .await;
    assert_eq!(
        reply.ok("setUserRoles")["roles"],
        json!(["user", "editor", "billing:read"])
    );
    // The old token keeps its roles; the next one has the new ones, whether
    // from refresh or from renewAccessToken.
    assert_eq!(decode_jwt(&ada.access).1["roles"], json!(["user"]));
    let renewed = app.renew_access_token(&ada.access).await;
    let renewed = renewed.ok("renewAccessToken")["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        decode_jwt(&renewed).1["roles"],
        json!(["user", "editor", "billing:read"])
    );
    let next = Tokens::from_payload(app.refresh(&ada.refresh).await.ok("refresh"));
    assert_eq!(
        decode_jwt(&next.access).1["roles"],
        json!(["user", "editor", "billing:read"])
    );

    // Malformed role names and unknown users are input errors.
    let bad = set_roles(&app, &admin.access, &ada.user_id, &["Not A Role"]).await;
    assert_eq!(bad.code(), Some("BAD_USER_INPUT"));
    let unknown = set_roles(&app, &admin.access, "nobody", &[]).await;
    assert_eq!(unknown.code(), Some("BAD_USER_INPUT"));
    assert!(
        app.event_kinds()
            .await
            .contains(&"roles_changed".to_owned())
    );
}

async fn the_last_admin_cannot_lose_the_role_and_a_demotion_takes_effect_at_once() {
    let app = spawn_app().await;
    let root = signed_in_with_roles(&app, "root@example.com", &["user", "admin"]).await;
    let reply = set_roles(&app, &root.access, &root.user_id, &[]).await;
    assert_eq!(reply.code(), Some("LAST_ADMIN"));
    user(&app, Some(&root.access), &root.user_id)
        .await
        .ok("user");

    // With a second admin, one may go; their still-valid token stops
    // opening admin fields (at once: the change is on the revocation feed).
    let second = signed_in_with_roles(&app, "second@example.com", &["user", "admin"]).await;
    set_roles(&app, &root.access, &second.user_id, &[])
        .await
        .ok("setUserRoles");
    let elapsed = time_until(Duration::from_secs(2), || async {
        user(&app, Some(&second.access), &root.user_id).await.code() == Some("FORBIDDEN")
    })
    .await
    .expect("the demoted admin is refused");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    // And now root is the last one again.
    let reply = set_roles(&app, &root.access, &root.user_id, &["user"]).await;
    assert_eq!(reply.code(), Some("LAST_ADMIN"));
}

async fn a_demotion_applies_on_the_instance_that_made_it_without_waiting_for_the_feed() {
    // The feed is read once at start and then not for an hour, and the
    // cached statuses stay trusted meanwhile: only the instance applying its
    // own change at commit can refuse the demoted admin.
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.sessions.feed.poll_interval = Duration::from_secs(3600);
        settings.sessions.feed.stale_after = Duration::from_secs(7200);
    })
    .await;
    let root = signed_in_with_roles(&app, "root@example.com", &["user", "admin"]).await;
    let second = signed_in_with_roles(&app, "second@example.com", &["user", "admin"]).await;
    // The second admin's session is cached as live, with the admin role.
    user(&app, Some(&second.access), &root.user_id)
        .await
        .ok("user");

    set_roles(&app, &root.access, &second.user_id, &["user"])
        .await
        .ok("setUserRoles");
    let reply = user(&app, Some(&second.access), &root.user_id).await;
    assert_eq!(reply.code(), Some("FORBIDDEN"), "{:?}", reply.body);
    // Promoted back, the role counts again from the next access token.
    set_roles(&app, &root.access, &second.user_id, &["user", "admin"])
        .await
        .ok("setUserRoles");
    let again = Tokens::from_payload(app.login("second@example.com", PASSWORD).await.ok("login"));
    user(&app, Some(&again.access), &root.user_id)
        .await
        .ok("user");
}

async fn an_admin_ends_every_session_of_a_user() {
    let app = spawn_app().await;
    let admin = signed_in_with_roles(&app, "root@example.com", &["user", "admin"]).await;
    app.register("Ada", "ada@example.com", PASSWORD)
        .await
        .ok("register");
    let phone = Tokens::from_payload(app.login("ada@example.com", PASSWORD).await.ok("login"));

    let reply = revoke_user_sessions(&app, &admin.access, &phone.user_id).await;
    assert_eq!(reply.ok("revokeUserSessions"), 2);
    assert_eq!(app.me(Some(&phone.access)).await.reason(), Some("revoked"));
    assert_eq!(
        app.refresh(&phone.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
    app.me(Some(&admin.access)).await.ok("me");
    let again = revoke_user_sessions(&app, &admin.access, &phone.user_id).await;
    assert_eq!(again.ok("revokeUserSessions"), 0);
}

async fn a_disabled_user_is_signed_out_everywhere_and_cannot_sign_in() {
    let app = spawn_app().await;
    let other = app.another_instance().await;
    let admin = signed_in_with_roles(&app, "root@example.com", &["user", "admin"]).await;
    app.register("Ada", "ada@example.com", PASSWORD)
        .await
        .ok("register");
    let ada = Tokens::from_payload(app.login("ada@example.com", PASSWORD).await.ok("login"));
    // The other instance has Ada's session cached as live.
    other.me(Some(&ada.access)).await.ok("me");

    let disable = |id: String| {
        let app = &app;
        let bearer = admin.access.clone();
        async move {
            app.graphql(
                "mutation($id: ID!) { disableUser(id: $id) { id disabledAt } }",
                json!({ "id": id }),
                Some(&bearer),
            )
            .await
        }
    };
    let reply = disable(ada.user_id.clone()).await;
    assert!(reply.ok("disableUser")["disabledAt"].is_string());

    assert_eq!(app.me(Some(&ada.access)).await.reason(), Some("revoked"));
    let elapsed = time_until(Duration::from_secs(2), || async {
        other.me(Some(&ada.access)).await.reason() == Some("revoked")
    })
    .await
    .expect("the other instance refuses the access token");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    assert_eq!(
        app.refresh(&ada.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
    // Said only after the right password.
    assert_eq!(
        app.login("ada@example.com", PASSWORD).await.code(),
        Some("ACCOUNT_DISABLED")
    );
    assert_eq!(
        app.login("ada@example.com", "not the password at all")
            .await
            .code(),
        Some("INVALID_CREDENTIALS")
    );

    let enabled = app
        .graphql(
            "mutation($id: ID!) { enableUser(id: $id) { disabledAt } }",
            json!({ "id": ada.user_id }),
            Some(&admin.access),
        )
        .await;
    assert_eq!(
        enabled.ok("enableUser")["disabledAt"],
        serde_json::Value::Null
    );
    app.login("ada@example.com", PASSWORD).await.ok("login");

    // The last enabled admin cannot be disabled.
    assert_eq!(
        disable(admin.user_id.clone()).await.code(),
        Some("LAST_ADMIN")
    );
    app.me(Some(&admin.access)).await.ok("me");
    let kinds = app.event_kinds().await;
    assert!(
        kinds.contains(&"user_disabled".to_owned()) && kinds.contains(&"user_enabled".to_owned())
    );
}

/// `users(...)` with every field a client pages with.
async fn users(app: &TestApp, bearer: &str, args: serde_json::Value) -> Reply {
    app.graphql(
        "query($first: Int, $after: String, $query: String) { users(first: $first, after: $after, query: $query) { \
           totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } \
           edges { cursor node { id name email roles } } nodes { id } } }",
        args,
        Some(bearer),
    )
    .await
}

async fn admins_page_through_users_and_find_them_by_name_or_email() {
    let app = spawn_app().await;
    let admin = signed_in_with_roles(&app, "root@example.com", &["user", "admin"]).await;
    let names = [
        "Grace Hopper",
        "Ada Lovelace",
        "Alan Turing",
        "100% Cotton",
        "Edsger Dijkstra",
    ];
    for (i, name) in names.iter().enumerate() {
        app.register(name, &format!("person{i}@corp.example"), PASSWORD)
            .await
            .ok("register");
    }

    // Pages of two, newest first, until the end: every user exactly once.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let reply = users(&app, &admin.access, json!({ "first": 2, "after": after })).await;
        let page = reply.ok("users");
        assert_eq!(page["totalCount"], 6, "{page}");
        assert_eq!(page["pageInfo"]["hasPreviousPage"], after.is_some());
        let edges = page["edges"].as_array().unwrap();
        assert!(edges.len() <= 2);
        assert_eq!(page["nodes"].as_array().unwrap().len(), edges.len());
        seen.extend(
            edges
                .iter()
                .map(|e| e["node"]["name"].as_str().unwrap().to_owned()),
        );
        assert_eq!(
            page["pageInfo"]["endCursor"],
            edges.last().unwrap()["cursor"]
        );
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    let mut expected: Vec<&str> = names.iter().rev().copied().collect();
    expected.push("Admin");
    assert_eq!(seen, expected);

    // Search: name or e-mail, any letter case, wildcards taken literally.
    let found = |reply: Reply| -> Vec<String> {
        reply.ok("users")["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let lovelace = found(users(&app, &admin.access, json!({ "query": "LOVELACE" })).await);
    assert_eq!(lovelace.len(), 1);
    let reply = users(&app, &admin.access, json!({ "query": "Person3@CORP" })).await;
    assert_eq!(reply.ok("users")["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(reply.ok("users")["totalCount"], 1);
    let reply = users(&app, &admin.access, json!({ "query": "%" })).await;
    assert_eq!(reply.ok("users")["edges"][0]["node"]["name"], "100% Cotton");
    assert_eq!(reply.ok("users")["totalCount"], 1);
    let reply = users(&app, &admin.access, json!({ "query": "nobody-like-this" })).await;
    assert_eq!(reply.ok("users")["totalCount"], 0);
    assert_eq!(
        reply.ok("users")["pageInfo"]["endCursor"],
        serde_json::Value::Null
    );

    // Bad arguments are input errors naming the argument.
    for (args, field) in [
        (json!({ "first": 0 }), "first"),
        (json!({ "first": 101 }), "first"),
        (json!({ "after": "not-a-cursor" }), "after"),
        (json!({ "query": "x".repeat(256) }), "query"),
    ] {
        let reply = users(&app, &admin.access, args).await;
        assert_eq!(reply.code(), Some("BAD_USER_INPUT"), "{}", reply.body);
        assert!(
            reply.body["errors"][0]["extensions"]["fields"][field].is_string(),
            "{}",
            reply.body
        );
    }
    // Not for users without the admin role.
    let ada = Tokens::from_payload(
        app.login("person1@corp.example", PASSWORD)
            .await
            .ok("login"),
    );
    let reply = users(&app, &ada.access, json!({})).await;
    assert_eq!(reply.code(), Some("FORBIDDEN"));
    assert_eq!(reply.body["data"], serde_json::Value::Null);
}

crate::on_every_backend!(
    admins_page_through_users_and_find_them_by_name_or_email,
    a_disabled_user_is_signed_out_everywhere_and_cannot_sign_in,
    admin_fields_require_the_admin_role,
    an_admin_sets_roles_that_the_next_access_token_carries,
    the_last_admin_cannot_lose_the_role_and_a_demotion_takes_effect_at_once,
    a_demotion_applies_on_the_instance_that_made_it_without_waiting_for_the_feed,
    an_admin_ends_every_session_of_a_user,
);
