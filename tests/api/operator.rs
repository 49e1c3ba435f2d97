//! The operator CLI (`authql user …`) against the server's real database,
//! checked over HTTP as clients see its effects.

use std::process::Output;
use std::time::Duration;

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, Tokens, decode_jwt, spawn_app, time_until};

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

impl TestApp {
    /// `authql user ARGS`, which must succeed; its standard output.
    async fn user_cli(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut all = vec!["user"];
        all.extend_from_slice(args);
        let output = self.cli(&all, stdin).await;
        assert!(
            output.status.success(),
            "authql user {args:?} failed: {}",
            stderr(&output)
        );
        stdout(&output)
    }

    /// `authql user ARGS`, which must fail with one line on stderr that
    /// contains `expected`.
    async fn user_cli_refused(&self, args: &[&str], stdin: Option<&str>, expected: &str) {
        let mut all = vec!["user"];
        all.extend_from_slice(args);
        let output = self.cli(&all, stdin).await;
        let stderr = stderr(&output);
        assert!(!output.status.success(), "expected a refusal: {args:?}");
        assert!(stderr.contains(expected), "{stderr:?} lacks {expected:?}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

async fn the_operator_creates_the_first_admin_who_can_then_use_the_admin_api() {
    let app = spawn_app().await;
    let printed = app
        .user_cli(
            &[
                "create",
                "--email",
                "Root@Example.com",
                "--name",
                "Root",
                "--role",
                "admin",
            ],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    assert!(printed.starts_with("created "), "{printed}");
    assert!(printed.contains("root@example.com"), "{printed}");

    // The operator vouches for the address: it is verified, so the admin
    // signs in even where verification is required.
    let strict = app
        .another_instance_with(|s| s.mail.require_verified_email = true)
        .await;
    let root = Tokens::from_payload(strict.login("root@example.com", PASSWORD).await.ok("login"));
    assert_eq!(
        app.graphql("{ me { emailVerified } }", json!({}), Some(&root.access))
            .await
            .ok("me")["emailVerified"],
        true
    );
    assert_eq!(
        decode_jwt(&root.access).1["roles"],
        json!(["user", "admin"])
    );
    let reply = app
        .graphql(
            "{ users { totalCount } auditEvents(kind: REGISTERED) { nodes { actor userAgent } } }",
            json!({}),
            Some(&root.access),
        )
        .await;
    assert_eq!(reply.ok("users")["totalCount"], 1);
    assert_eq!(
        reply.ok("auditEvents")["nodes"][0],
        json!({ "actor": "operator", "userAgent": "authql CLI" })
    );

    // The same rules as the API: the address is taken, the password policy
    // holds, the password is never an argument.
    app.user_cli_refused(
        &["create", "--email", "root@example.com", "--name", "Again"],
        Some(&format!("{PASSWORD}\n")),
        "already registered",
    )
    .await;
    app.user_cli_refused(
        &["create", "--email", "weak@example.com", "--name", "Weak"],
        Some("password\n"),
        "the password",
    )
    .await;
    app.user_cli_refused(
        &["create", "--email", "empty@example.com", "--name", "Empty"],
        None,
        "no password on standard input",
    )
    .await;
    app.user_cli_refused(
        &[
            "create",
            "--email",
            "arg@example.com",
            "--name",
            "Arg",
            "--password",
            PASSWORD,
        ],
        None,
        "--password",
    )
    .await;
    app.user_cli_refused(
        &[
            "create",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "Not A Role",
        ],
        Some(&format!("{PASSWORD}\n")),
        "is not a role name",
    )
    .await;
    assert_eq!(
        app.login("weak@example.com", "password").await.code(),
        Some("INVALID_CREDENTIALS")
    );
}

async fn the_operator_lists_sets_roles_disables_and_enables_users() {
    let app = spawn_app().await;
    let other = app.another_instance().await;
    app.user_cli(
        &[
            "create",
            "--email",
            "root@example.com",
            "--name",
            "Root",
            "--role",
            "admin",
        ],
        Some(&format!("{PASSWORD}\n")),
    )
    .await;
    app.register("Ada Lovelace", "ada@example.com", PASSWORD)
        .await
        .ok("register");
    let ada = Tokens::from_payload(app.login("ada@example.com", PASSWORD).await.ok("login"));

    let list = app.user_cli(&["list"], None).await;
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert!(lines[0].starts_with("ID"), "{list}");
    assert!(lines[1].contains("ada@example.com") && lines[1].contains("Ada Lovelace"));
    assert!(lines[2].contains("root@example.com") && lines[2].contains("user,admin"));
    let found = app.user_cli(&["list", "--query", "LOVELACE"], None).await;
    assert_eq!(found.lines().count(), 2, "{found}");

    // Roles, by e-mail address: in Ada's next access token.
    let printed = app
        .user_cli(&["set-roles", "ADA@example.com", "editor"], None)
        .await;
    assert_eq!(printed.trim(), "ada@example.com: user, editor");
    let next = Tokens::from_payload(app.refresh(&ada.refresh).await.ok("refresh"));
    assert_eq!(
        decode_jwt(&next.access).1["roles"],
        json!(["user", "editor"])
    );

    // Disable, by id: Ada's live tokens stop on every instance within a
    // second, and her login says why only after the right password.
    other.me(Some(&next.access)).await.ok("me");
    app.user_cli(&["disable", &ada.user_id], None).await;
    let elapsed = time_until(Duration::from_secs(2), || async {
        other.me(Some(&next.access)).await.reason() == Some("revoked")
    })
    .await
    .expect("the other instance refuses the access token");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    assert_eq!(
        app.refresh(&next.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
    assert_eq!(
        app.login("ada@example.com", PASSWORD).await.code(),
        Some("ACCOUNT_DISABLED")
    );
    let list = app.user_cli(&["list", "--query", "ada"], None).await;
    assert!(
        !list.lines().nth(1).unwrap().trim_end().ends_with('-'),
        "{list}"
    );

    app.user_cli(&["enable", "ada@example.com"], None).await;
    app.login("ada@example.com", PASSWORD).await.ok("login");

    // The last admin stays, whoever asks; unknown users are named.
    app.user_cli_refused(&["disable", "root@example.com"], None, "admin role")
        .await;
    app.user_cli_refused(&["set-roles", "root@example.com"], None, "admin role")
        .await;
    app.user_cli_refused(&["enable", "nobody@example.com"], None, "no user")
        .await;
    app.login("root@example.com", PASSWORD).await.ok("login");
}

/// Stores `email` for the account registered as `registered`, as a
/// version before canonical addresses would have.
async fn store_legacy_spelling(app: &TestApp, registered: &str, email: &str) {
    use entity::user;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    user::Entity::update_many()
        .col_expr(user::Column::Email, Expr::value(email))
        .filter(user::Column::Email.eq(registered))
        .exec(&app.db)
        .await
        .expect("the address is rewritten");
}

async fn the_operator_rewrites_addresses_stored_before_they_were_canonical() {
    let app = spawn_app().await;
    for (registered, legacy) in [
        ("ada@legacy.example", "ada@bücher.example"),
        ("bob@legacy.example", "\"bob\"@example.com"),
        ("bob2@legacy.example", "bob@example.com"),
        ("eve@legacy.example", "\"eve smith\"@example.com"),
    ] {
        app.register("Legacy", registered, PASSWORD)
            .await
            .ok("register");
        store_legacy_spelling(&app, registered, legacy).await;
    }
    // Before: lookups canonicalise what is typed, so the stored U-label
    // spelling is not found.
    assert_eq!(
        app.login("ada@bücher.example", PASSWORD).await.code(),
        Some("INVALID_CREDENTIALS")
    );
    let out = app.user_cli(&["canonicalize-emails"], None).await;
    assert!(
        out.contains("ada@bücher.example -> ada@xn--bcher-kva.example"),
        "{out}"
    );
    assert!(out.contains("another account has bob@example.com"), "{out}");
    assert!(
        out.contains("\"eve smith\"@example.com: no longer accepted"),
        "{out}"
    );
    assert!(
        out.contains("1 rewritten, 1 clashes, 1 left as they are"),
        "{out}"
    );
    // After: every spelling of Ada's mailbox signs her in; the others stay.
    for spelling in ["ada@bücher.example", "ADA@xn--bcher-kva.example"] {
        let reply = app.login(spelling, PASSWORD).await;
        assert_eq!(
            reply.ok("login")["user"]["email"],
            "ada@xn--bcher-kva.example"
        );
    }
    app.login("bob@example.com", PASSWORD).await.ok("login");
    app.login("\"eve smith\"@example.com", PASSWORD)
        .await
        .ok("login");
    // Running it again changes nothing.
    let again = app.user_cli(&["canonicalize-emails"], None).await;
    assert!(
        again.contains("0 rewritten, 1 clashes, 1 left as they are"),
        "{again}"
    );
}

crate::on_every_backend!(
    the_operator_rewrites_addresses_stored_before_they_were_canonical,
    the_operator_creates_the_first_admin_who_can_then_use_the_admin_api,
    the_operator_lists_sets_roles_disables_and_enables_users,
);
