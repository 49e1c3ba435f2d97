//! No log line ever contains a password or a token: every mutation is sent
//! with hostile input, and the captured log is searched for each secret sent.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::json;
use uuid::Uuid;

use authql::config::{Delivery, SmtpUrl};

use crate::helpers::{Tokens, spawn_app_with};
use crate::smtp::SmtpSink;

/// Everything the test binary logs, at the levels production would use and
/// finer for authql itself.
fn captured_log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        let installed = tracing_subscriber::fmt()
            .with_env_filter("info,authql=trace,sea_orm=debug,sqlx::query=info")
            .with_ansi(false)
            .with_writer(move || Sink(Arc::clone(&sink)))
            .try_init();
        assert!(installed.is_ok(), "the log capture is the only subscriber");
        log
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn secret(label: &str) -> String {
    format!("{label}-{}", Uuid::new_v4().simple())
}

async fn no_password_or_token_reaches_the_log() {
    let log = captured_log();
    // Statement logging on: SQL is logged, the values bound to it never.
    // Mail goes through SMTP, as in production: its links are secrets too.
    let sink = SmtpSink::start().await;
    let smtp = SmtpUrl::parse(&sink.url()).expect("the sink's URL");
    let app = spawn_app_with(|settings| {
        settings.database.log_statements = true;
        settings.mail.delivery = Delivery::Smtp(smtp);
    })
    .await;
    let email = format!("logs-{}@example.com", Uuid::new_v4());
    let login = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";
    let register = "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }";
    let mut passwords = Vec::new();
    let mut tokens = Vec::new();

    let password = secret("Registered Password");
    passwords.push(password.clone());
    let first = Tokens::from_payload(app.register("Ada", &email, &password).await.ok("register"));
    tokens.extend([first.access.clone(), first.refresh.clone()]);

    for (document, variables) in [
        (
            login,
            json!({ "i": { "email": email, "password": secret("wrong") } }),
        ),
        (
            login,
            json!({ "i": [{ "email": email, "password": secret("as a list") }] }),
        ),
        (
            login,
            json!({ "i": { "email": 42, "password": secret("beside a number") } }),
        ),
        (
            login,
            json!({ "i": { "email": email, "password": format!("{}\u{0}", secret("nul")) } }),
        ),
        (
            login,
            json!({ "i": { "email": email, "password": { "nested": [secret("garbage")] } } }),
        ),
        (
            register,
            json!({ "i": { "name": "Ada", "email": "weak@example.com",
            "password": "password", "passwordConfirmation": "password" } }),
        ),
        (
            register,
            json!({ "i": { "name": "Ada", "email": "mismatch@example.com",
            "password": secret("first Of Two"), "passwordConfirmation": secret("second Of Two") } }),
        ),
        (
            register,
            json!({ "i": { "name": ["Ada"], "email": "shape@example.com",
            "password": secret("badly shaped"), "passwordConfirmation": 7 } }),
        ),
    ] {
        for value in variables.to_string().split('"') {
            if value.contains('-') && value.len() > 32 && !value.contains('@') {
                passwords.push(value.trim_end_matches("\\u0000").to_owned());
            }
        }
        let reply = app.graphql(document, variables, None).await;
        assert!(reply.body.get("errors").is_some(), "{}", reply.body);
    }
    // Throttled attempts with the right password.
    for i in 0..7 {
        let guess = if i < 5 {
            secret("guess")
        } else {
            password.clone()
        };
        passwords.push(guess.clone());
        app.login(&email, &guess).await;
    }

    // Tokens: rotated, replayed, forged, misused, logged out.
    let second = Tokens::from_payload(app.refresh(&first.refresh).await.ok("refresh"));
    tokens.extend([second.access.clone(), second.refresh.clone()]);
    app.refresh(&first.refresh).await;
    let forged = app.forge(&second.refresh);
    tokens.push(forged.clone());
    app.refresh(&forged).await;
    app.refresh(&second.access).await;
    app.me(Some(&second.access)).await;
    app.me(Some(&forged)).await;
    // Password changes (another account: this one is throttled now): a
    // wrong current password, then a real change.
    let other_password = secret("other Account Password");
    passwords.push(other_password.clone());
    let other = Tokens::from_payload(
        app.register("Bea", &format!("other-{email}"), &other_password)
            .await
            .ok("register"),
    );
    tokens.extend([other.access.clone(), other.refresh.clone()]);
    // The verification link (before the password change, which retires it).
    let verification = sink
        .mail_to(&format!("other-{email}"), "Confirm")
        .await
        .token();
    tokens.push(verification.clone());
    app.graphql(
        "mutation($t: String!) { verifyEmail(token: $t) { id } }",
        json!({ "t": verification }),
        None,
    )
    .await
    .ok("verifyEmail");
    let wrong = secret("wrong Current Password");
    let unused = secret("never Applied Password");
    passwords.extend([wrong.clone(), unused.clone()]);
    app.change_password(&other.access, &wrong, &unused).await;
    let changed = secret("changed Password Value");
    passwords.push(changed.clone());
    let third = Tokens::from_payload(
        app.change_password(&other.access, &other_password, &changed)
            .await
            .ok("changePassword"),
    );
    tokens.extend([third.access.clone(), third.refresh.clone()]);
    // The refresh token as a cookie.
    app.post_json(
        &[("cookie", &format!("authql-refresh={}", third.refresh))],
        &json!({ "query": "mutation { refresh { accessToken } }" }),
    )
    .await;
    app.logout(Some(&forged), Some(&second.refresh)).await;
    app.me(Some(&second.access)).await;
    // Links by mail: reset (the new password too).
    let other_email = format!("other-{email}");
    app.graphql(
        "mutation($e: String!) { requestPasswordReset(email: $e) }",
        json!({ "e": other_email }),
        None,
    )
    .await
    .ok("requestPasswordReset");
    let reset = sink.mail_to(&other_email, "Reset").await.token();
    tokens.push(reset.clone());
    let after_reset = secret("reset Password Value");
    passwords.push(after_reset.clone());
    app.graphql(
        "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) { accessToken } }",
        json!({ "i": { "token": reset, "newPassword": after_reset } }),
        None,
    )
    .await
    .ok("resetPassword");
    // A refused origin is logged, naming the origin.
    let refused = format!("https://refused-{}.example", Uuid::new_v4().simple());
    let response = app
        .post_json(
            &[("origin", &refused)],
            &json!({ "query": "{ __typename }" }),
        )
        .await;
    assert_eq!(response.status(), 403);

    let text = String::from_utf8_lossy(&log.lock().expect("log lock")).into_owned();
    assert!(text.contains("login failed"), "the capture works");
    assert!(text.contains("login throttled"), "the capture works");
    assert!(text.contains("sqlx::query"), "statements are logged");
    assert!(
        text.lines()
            .any(|line| line.contains("cross-origin request refused") && line.contains(&refused)),
        "a refused origin is logged"
    );
    for password in &passwords {
        assert!(
            !text.contains(password.as_str()),
            "a password is in the log: {password}"
        );
    }
    for token in &tokens {
        assert!(!text.contains(token.as_str()), "a token is in the log");
        // Nor its signature alone.
        let signature = token.rsplit('.').next().unwrap_or_default();
        assert!(!text.contains(signature), "a token signature is in the log");
    }
}

crate::on_every_backend!(no_password_or_token_reaches_the_log);
