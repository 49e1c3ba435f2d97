//! `register`: validation, uniqueness, hashing, and the session it opens.

use entity::prelude::User;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::{AUTH_PAYLOAD, PASSWORD, spawn_app, spawn_app_with};

async fn register_creates_the_user_and_signs_them_in() {
    let app = spawn_app().await;
    let reply = app
        .register("  Ada Lovelace ", "  Ada@Example.COM ", PASSWORD)
        .await;
    let payload = reply.ok("register");

    assert_eq!(payload["tokenType"], "Bearer");
    assert_eq!(payload["user"]["name"], "Ada Lovelace");
    assert_eq!(payload["user"]["email"], "ada@example.com");
    assert_eq!(payload["user"]["roles"], json!(["user"]));
    let access_in = payload["accessExpiresIn"].as_i64().unwrap();
    assert!(
        (895..=900).contains(&access_in),
        "accessExpiresIn = {access_in}"
    );
    let refresh_in = payload["refreshExpiresIn"].as_i64().unwrap();
    assert!(
        (7 * 86400 - 5..=7 * 86400).contains(&refresh_in),
        "refreshExpiresIn = {refresh_in}"
    );
    for field in ["accessTokenExpiresAt", "refreshTokenExpiresAt"] {
        let at = payload[field].as_str().unwrap();
        chrono::DateTime::parse_from_rfc3339(at)
            .unwrap_or_else(|_| panic!("{field} is RFC 3339: {at}"));
    }
    chrono::DateTime::parse_from_rfc3339(payload["user"]["createdAt"].as_str().unwrap()).unwrap();
    assert_eq!(app.event_kinds().await, ["registered"]);
}

async fn passwords_are_stored_as_argon2id_hashes() {
    let app = spawn_app().await;
    app.register("Ada", "ada@example.com", PASSWORD)
        .await
        .ok("register");
    let users = User::find().all(&app.db).await.unwrap();
    assert_eq!(users.len(), 1);
    assert!(
        users[0]
            .password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        users[0].password_hash
    );
    assert!(!users[0].password_hash.contains(PASSWORD));
}

async fn invalid_input_is_bad_user_input_naming_every_offending_field() {
    let app = spawn_app().await;
    let reply = app
        .graphql(
            &format!("mutation($input: RegisterInput!) {{ register(input: $input) {{ {AUTH_PAYLOAD} }} }}"),
            json!({ "input": {
                "name": "   ", "email": "not-an-email", "password": "short", "passwordConfirmation": "different"
            }}),
            None,
        )
        .await;
    assert_eq!(reply.code(), Some("BAD_USER_INPUT"));
    let fields = &reply.body["errors"][0]["extensions"]["fields"];
    assert_eq!(fields["name"], "must not be empty");
    assert_eq!(fields["email"], "must be a valid e-mail address");
    assert_eq!(fields["password"], "must be at least 8 characters");
    assert_eq!(fields["passwordConfirmation"], "must equal the password");
    assert!(User::find().all(&app.db).await.unwrap().is_empty());
}

async fn length_limits_apply_to_name_email_and_password() {
    let app = spawn_app().await;
    let long_email = format!("{}@example.com", "a".repeat(250));
    let reply = app
        .register(&"n".repeat(256), &long_email, &"p".repeat(129))
        .await;
    assert_eq!(reply.code(), Some("BAD_USER_INPUT"));
    let fields = &reply.body["errors"][0]["extensions"]["fields"];
    assert_eq!(fields["name"], "must be at most 255 characters");
    assert_eq!(fields["email"], "must be at most 255 characters");
    assert_eq!(fields["password"], "must be at most 128 characters");

    // The bounds themselves are accepted (with a password hard to guess).
    let strong: String = (0..4)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect();
    assert_eq!(strong.chars().count(), 128);
    let reply = app
        .register(&"n".repeat(255), "edge@example.com", &strong)
        .await;
    reply.ok("register");
}

async fn a_mismatched_confirmation_alone_is_rejected() {
    let app = spawn_app().await;
    let reply = app
        .graphql(
            "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }",
            json!({ "input": {
                "name": "Ada", "email": "ada@example.com", "password": PASSWORD, "passwordConfirmation": "something else"
            }}),
            None,
        )
        .await;
    assert_eq!(reply.code(), Some("BAD_USER_INPUT"));
    let fields = reply.body["errors"][0]["extensions"]["fields"]
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["passwordConfirmation"]);
}

async fn an_email_taken_in_another_letter_case_is_email_taken() {
    let app = spawn_app().await;
    app.register("Ada", "ada@example.com", PASSWORD)
        .await
        .ok("register");
    let reply = app.register("Impostor", " ADA@Example.com", PASSWORD).await;
    assert_eq!(reply.code(), Some("EMAIL_TAKEN"));
    assert_eq!(
        reply.body["errors"][0]["extensions"]["fields"]["email"],
        "is already registered"
    );
    assert_eq!(User::find().all(&app.db).await.unwrap().len(), 1);
}

async fn concurrent_registrations_of_one_email_create_one_user() {
    let app = spawn_app().await;
    let attempts = (0..4).map(|_| app.register("Ada", "race@example.com", PASSWORD));
    let replies = futures::future::join_all(attempts).await;
    let ok = replies
        .iter()
        .filter(|r| r.body.get("errors").is_none())
        .count();
    let taken = replies
        .iter()
        .filter(|r| r.code() == Some("EMAIL_TAKEN"))
        .count();
    assert_eq!((ok, taken), (1, 3), "{replies:?}");
    assert_eq!(User::find().all(&app.db).await.unwrap().len(), 1);
}

async fn guessable_passwords_are_refused_with_advice() {
    let app = spawn_app().await;
    let email = "ada.lovelace@example.com";
    for weak in [
        "password",
        "12345678",
        "qwertyuiop",
        email,
        "ada.lovelace",
        "Ada Lovelace",
    ] {
        let reply = app.register("Ada Lovelace", email, weak).await;
        assert_eq!(
            reply.code(),
            Some("BAD_USER_INPUT"),
            "{weak}: {}",
            reply.body
        );
        let advice = reply.body["errors"][0]["extensions"]["fields"]["password"]
            .as_str()
            .unwrap_or_default();
        assert!(
            advice.starts_with("is too easy to guess"),
            "{weak}: {advice}"
        );
    }
    assert!(User::find().all(&app.db).await.unwrap().is_empty());
    // The policy is a setting: score 0 takes anything of the right length.
    let lenient = spawn_app_with(|s| s.protection.password.min_score = 0).await;
    lenient
        .register("Ada Lovelace", email, "password")
        .await
        .ok("register");
}

async fn a_password_typed_composed_or_decomposed_is_the_same_password() {
    let app = spawn_app().await;
    let composed = "th\u{e9} au caf\u{e9} de Lovelace";
    let decomposed = "the\u{301} au cafe\u{301} de Lovelace";
    assert_ne!(composed, decomposed);
    app.register("Ada", "nfc@example.com", composed)
        .await
        .ok("register");
    let reply = app.login("nfc@example.com", decomposed).await;
    assert!(reply.ok("login")["accessToken"].is_string());
}

async fn names_that_hide_or_reorder_text_are_refused() {
    let app = spawn_app().await;
    let zalgo = format!("A{}da", "\u{300}\u{301}\u{302}\u{303}\u{304}".repeat(60));
    for (i, name) in [
        "Ada\u{202E}moc.live",
        "\u{2067}Ada\u{2069}",
        "\u{200B}\u{200B}\u{200B}",
        "\u{2060}",
        zalgo.as_str(),
    ]
    .into_iter()
    .enumerate()
    {
        let reply = app
            .register(name, &format!("name-{i}@example.com"), PASSWORD)
            .await;
        assert_eq!(
            reply.code(),
            Some("BAD_USER_INPUT"),
            "{name:?}: {}",
            reply.body
        );
        assert!(
            reply.body["errors"][0]["extensions"]["fields"]["name"].is_string(),
            "{}",
            reply.body
        );
    }
    // Names in other scripts, with their accents, are welcome.
    for (i, name) in ["Nguyễn Thị Ánh", "محمد عبد الله", "देवनागरी"]
        .into_iter()
        .enumerate()
    {
        let reply = app
            .register(name, &format!("script-{i}@example.com"), PASSWORD)
            .await;
        assert_eq!(reply.ok("register")["user"]["name"], name);
    }
}

async fn one_mailbox_is_one_account_whatever_its_spelling() {
    let app = spawn_app().await;
    let first = app.register("Ada", "Ada@Bücher.example", PASSWORD).await;
    assert_eq!(
        first.ok("register")["user"]["email"],
        "ada@xn--bcher-kva.example"
    );
    for spelling in [
        "ada@xn--bcher-kva.example",
        "\"ada\"@bücher.example",
        "ａｄａ@BÜCHER.example",
        "ada@bu\u{308}cher.example",
    ] {
        let again = app.register("Ada", spelling, PASSWORD).await;
        assert_eq!(
            again.code(),
            Some("EMAIL_TAKEN"),
            "{spelling}: {}",
            again.body
        );
        app.login(spelling, PASSWORD).await.ok("login");
    }
    for refused in ["\"ada lovelace\"@example.com", "\u{430}da@example.com"] {
        let reply = app.register("Ada", refused, PASSWORD).await;
        assert_eq!(reply.code(), Some("BAD_USER_INPUT"), "{refused}");
        assert!(reply.body["errors"][0]["extensions"]["fields"]["email"].is_string());
    }
}

crate::on_every_backend!(
    one_mailbox_is_one_account_whatever_its_spelling,
    names_that_hide_or_reorder_text_are_refused,
    register_creates_the_user_and_signs_them_in,
    passwords_are_stored_as_argon2id_hashes,
    invalid_input_is_bad_user_input_naming_every_offending_field,
    length_limits_apply_to_name_email_and_password,
    a_mismatched_confirmation_alone_is_rejected,
    an_email_taken_in_another_letter_case_is_email_taken,
    concurrent_registrations_of_one_email_create_one_user,
    guessable_passwords_are_refused_with_advice,
    a_password_typed_composed_or_decomposed_is_the_same_password,
);
