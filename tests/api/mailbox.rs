//! Password reset, address verification and e-mail change, through a real
//! SMTP conversation: each mail is received by the test's SMTP sink, the
//! link's token is taken out of it, and the flow is completed over HTTP.

use std::time::Duration;

use authql::config::{Delivery, MailLimits, Settings, SmtpUrl};
use entity::outbox_mail;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{AUTH_PAYLOAD, PASSWORD, Reply, TestApp, Tokens, spawn_app_with};
use crate::smtp::{Behaviour, SmtpSink};

pub(crate) const NEW_PASSWORD: &str = "a completely different passphrase 42";
const RESET_URL: &str = "https://app.example.com/reset-password?token={token}";
const VERIFY_URL: &str = "https://app.example.com/verify-email?token={token}";

/// Mail goes through `sink`; links point to the example frontend.
pub(crate) fn through(sink: &SmtpSink) -> impl FnOnce(&mut Settings) {
    let url = sink.url();
    move |s: &mut Settings| {
        s.mail.delivery = Delivery::Smtp(SmtpUrl::parse(&url).expect("the sink's URL"));
        s.mail.reset_url = authql::config::LinkTemplate::parse("R", RESET_URL).unwrap();
        s.mail.verify_url = authql::config::LinkTemplate::parse("V", VERIFY_URL).unwrap();
        s.mail.product_name = "Example".into();
    }
}

pub(crate) fn fresh_email() -> String {
    format!("user-{}@example.com", Uuid::new_v4().simple())
}

pub(crate) async fn request_reset(app: &TestApp, email: &str) -> Reply {
    app.graphql(
        "mutation($email: String!) { requestPasswordReset(email: $email) }",
        json!({ "email": email }),
        None,
    )
    .await
}

pub(crate) async fn reset(app: &TestApp, token: &str, password: &str) -> Reply {
    app.graphql(
        &format!(
            "mutation($input: ResetPasswordInput!) {{ resetPassword(input: $input) {{ {AUTH_PAYLOAD} }} }}"
        ),
        json!({ "input": { "token": token, "newPassword": password } }),
        None,
    )
    .await
}

pub(crate) async fn verify(app: &TestApp, token: &str) -> Reply {
    app.graphql(
        "mutation($token: String!) { verifyEmail(token: $token) { id email emailVerified } }",
        json!({ "token": token }),
        None,
    )
    .await
}

pub(crate) async fn change_email(
    app: &TestApp,
    bearer: &str,
    new_email: &str,
    password: &str,
) -> Reply {
    app.graphql(
        "mutation($input: ChangeEmailInput!) { changeEmail(input: $input) }",
        json!({ "input": { "newEmail": new_email, "password": password } }),
        Some(bearer),
    )
    .await
}

pub(crate) async fn me(app: &TestApp, bearer: &str) -> Value {
    app.graphql("{ me { email emailVerified } }", json!({}), Some(bearer))
        .await
        .ok("me")
        .clone()
}

pub(crate) async fn my_event_kinds(app: &TestApp, bearer: &str) -> Vec<String> {
    app.graphql(
        "{ myEvents(first: 50) { nodes { kind } } }",
        json!({}),
        Some(bearer),
    )
    .await
    .ok("myEvents")["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// Registers `email` and returns its tokens.
pub(crate) async fn sign_up(app: &TestApp, email: &str) -> Tokens {
    Tokens::from_payload(
        app.register("Ada Lovelace", email, PASSWORD)
            .await
            .ok("register"),
    )
}

/// Waits (at most 10 s) until the outbox worker has handled every recorded
/// reset request.
pub(crate) async fn settle_requests(app: &TestApp) {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let pending = outbox_mail::Entity::find()
                .filter(outbox_mail::Column::Kind.eq("password_reset_request"))
                .filter(outbox_mail::Column::SentAt.is_null())
                .all(&app.db)
                .await
                .expect("the outbox is readable");
            if pending.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("every reset request handled within 10 s");
}

pub(crate) async fn outbox_rows(app: &TestApp, recipient: &str) -> Vec<outbox_mail::Model> {
    outbox_mail::Entity::find()
        .filter(outbox_mail::Column::Recipient.eq(recipient))
        .all(&app.db)
        .await
        .expect("the outbox is readable")
}

async fn a_forgotten_password_is_reset_from_the_mailed_link() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(through(&sink)).await;
    let email = fresh_email();
    let laptop = sign_up(&app, &email).await;
    let phone = Tokens::from_payload(app.login(&email, PASSWORD).await.ok("login"));

    assert_eq!(
        request_reset(&app, &email.to_uppercase())
            .await
            .ok("requestPasswordReset"),
        true
    );
    let mail = sink.mail_to(&email, "Reset your Example password").await;
    assert_eq!(mail.rcpt, [format!("<{email}>")]);
    assert!(
        mail.text
            .contains("https://app.example.com/reset-password?token="),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("30 minutes"));
    let token = mail.token();

    // A weak password is refused without using the link up.
    let weak = reset(&app, &token, "password1").await;
    assert_eq!(weak.code(), Some("BAD_USER_INPUT"));
    assert!(weak.body["errors"][0]["extensions"]["fields"]["newPassword"].is_string());

    let reply = reset(&app, &token, NEW_PASSWORD).await;
    let signed_in = Tokens::from_payload(reply.ok("resetPassword"));
    assert_eq!(reply.ok("resetPassword")["user"]["email"], email.as_str());
    // The session was opened by a one-time secret from the mailbox.
    let (_, claims) = crate::helpers::decode_jwt(&signed_in.access);
    assert_eq!(claims["amr"], serde_json::json!(["otp"]));
    let row = app
        .session_row(crate::helpers::claim_uuid(&signed_in.access, "sid"))
        .await;
    assert_eq!(row.auth_methods, "otp");

    // Every earlier session ended, access tokens included.
    for old in [&laptop, &phone] {
        assert_eq!(app.me(Some(&old.access)).await.reason(), Some("revoked"));
        assert_eq!(
            app.refresh(&old.refresh).await.code(),
            Some("INVALID_REFRESH_TOKEN")
        );
    }
    assert_eq!(
        app.login(&email, PASSWORD).await.code(),
        Some("INVALID_CREDENTIALS")
    );
    app.login(&email, NEW_PASSWORD).await.ok("login");
    // The link reached the mailbox: the address counts as verified.
    assert_eq!(me(&app, &signed_in.access).await["emailVerified"], true);

    // The link works once.
    assert_eq!(
        reset(&app, &token, "yet another long passphrase 7")
            .await
            .code(),
        Some("INVALID_TOKEN")
    );
    // The owner is told.
    let notice = sink
        .mail_to(&email, "Your Example password was changed")
        .await;
    assert!(notice.text.contains(&email));
    assert!(
        my_event_kinds(&app, &signed_in.access)
            .await
            .contains(&"PASSWORD_RESET".to_owned())
    );
    // Sent mail keeps no body: the links are gone from the database.
    let rows = outbox_rows(&app, &email).await;
    assert!(
        rows.iter()
            .all(|row| row.sent_at.is_some() && row.text_body.is_none() && row.html_body.is_none()),
        "{rows:?}"
    );
}

async fn a_reset_for_an_unknown_address_answers_the_same_and_sends_nothing() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(through(&sink)).await;
    let known = fresh_email();
    sign_up(&app, &known).await;
    let unknown = fresh_email();

    let for_unknown = request_reset(&app, &unknown).await;
    let for_known = request_reset(&app, &known).await;
    assert_eq!(for_unknown.status, for_known.status);
    assert_eq!(for_unknown.body, for_known.body);
    assert_eq!(
        for_unknown.body,
        json!({ "data": { "requestPasswordReset": true } })
    );

    sink.mail_to(&known, "Reset").await;
    assert_eq!(
        sink.count_after(Duration::from_millis(500), &unknown, "")
            .await,
        0
    );
    // Both requests were recorded alike, and handled: only the known
    // address got a mail.
    settle_requests(&app).await;
    let kinds = |rows: Vec<outbox_mail::Model>| -> Vec<String> {
        let mut kinds: Vec<String> = rows.into_iter().map(|row| row.kind).collect();
        kinds.sort();
        kinds
    };
    assert_eq!(
        kinds(outbox_rows(&app, &unknown).await),
        ["password_reset_request"]
    );
    assert_eq!(
        kinds(outbox_rows(&app, &known).await),
        ["password_reset", "password_reset_request", "verify_email"]
    );
    assert_eq!(
        request_reset(&app, "  ").await.code(),
        Some("BAD_USER_INPUT")
    );
}

async fn reset_requests_take_as_long_for_registered_and_unknown_addresses() {
    // 600 pairs of requests, one for a registered address and one
    // for an unknown one back to back (in alternating order), timed as a
    // prober would: the median difference within a pair must be near zero.
    // (Before the request was recorded as it came, the lookup and two
    // inserts made a registered address 0.4-2 ms slower.)
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|s| {
        through(&sink)(s);
        s.protection.throttle.ip_credential_requests_per_minute = 0;
    })
    .await;
    let known = fresh_email();
    sign_up(&app, &known).await;
    let unknown = fresh_email();
    for _ in 0..20 {
        request_reset(&app, &unknown)
            .await
            .ok("requestPasswordReset");
    }
    let timed = |email: String| {
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            request_reset(app, &email).await.ok("requestPasswordReset");
            started.elapsed().as_secs_f64() * 1e6
        }
    };
    let mut differences = Vec::new();
    for pair in 0..600 {
        let (registered, nobody) = if pair % 2 == 0 {
            let registered = timed(known.clone()).await;
            (registered, timed(unknown.clone()).await)
        } else {
            let nobody = timed(unknown.clone()).await;
            (timed(known.clone()).await, nobody)
        };
        differences.push(registered - nobody);
    }
    differences.sort_by(f64::total_cmp);
    let median = differences[differences.len() / 2];
    eprintln!("median difference (registered - unknown): {median:.0} µs");
    assert!(
        median.abs() <= 250.0,
        "a registered address's request took {median:.0} µs longer (median of 600 pairs)"
    );
    settle_requests(&app).await;
}

async fn a_newer_link_supersedes_older_ones_and_tokens_keep_to_their_purpose() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(through(&sink)).await;
    let email = fresh_email();
    sign_up(&app, &email).await;
    let verification = sink.mail_to(&email, "Confirm your e-mail").await.token();

    request_reset(&app, &email).await.ok("requestPasswordReset");
    let first = sink.mail_to(&email, "Reset").await.token();
    request_reset(&app, &email).await.ok("requestPasswordReset");
    let second = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let tokens: Vec<String> = sink
                .received()
                .iter()
                .filter(|m| m.subject.contains("Reset"))
                .map(|m| m.token())
                .collect();
            if tokens.len() == 2 {
                return tokens[1].clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a second reset mail");
    assert_ne!(first, second);

    assert_eq!(
        reset(&app, &first, NEW_PASSWORD).await.code(),
        Some("INVALID_TOKEN")
    );
    // A verification token does not reset a password, nor a reset token verify.
    assert_eq!(
        reset(&app, &verification, NEW_PASSWORD).await.code(),
        Some("INVALID_TOKEN")
    );
    assert_eq!(verify(&app, &second).await.code(), Some("INVALID_TOKEN"));
    for garbage in ["", "not-a-token", &"A".repeat(43), &format!("{second}x")] {
        assert_eq!(
            reset(&app, garbage, NEW_PASSWORD).await.code(),
            Some("INVALID_TOKEN"),
            "{garbage}"
        );
    }
    reset(&app, &second, NEW_PASSWORD).await.ok("resetPassword");
    // The reset proved the address, and like every recovery it retired the
    // account's other links.
    assert_eq!(
        verify(&app, &verification).await.code(),
        Some("INVALID_TOKEN")
    );
}

async fn an_expired_reset_link_is_invalid() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|s| {
        through(&sink)(s);
        s.mail.reset_ttl = Duration::from_secs(1);
    })
    .await;
    let email = fresh_email();
    sign_up(&app, &email).await;
    request_reset(&app, &email).await.ok("requestPasswordReset");
    let token = sink.mail_to(&email, "Reset").await.token();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        reset(&app, &token, NEW_PASSWORD).await.code(),
        Some("INVALID_TOKEN")
    );
    app.login(&email, PASSWORD).await.ok("login");
}

async fn registration_mails_a_link_that_verifies_the_address() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(through(&sink)).await;
    let email = fresh_email();
    let ada = sign_up(&app, &email).await;
    assert_eq!(me(&app, &ada.access).await["emailVerified"], false);

    let mail = sink
        .mail_to(&email, "Confirm your e-mail address for Example")
        .await;
    assert!(
        mail.text
            .contains("https://app.example.com/verify-email?token=")
    );
    // Nobody has proven the address yet: the mail greets neutrally and
    // carries none of the registrant's text.
    assert!(!mail.html.contains("Ada Lovelace"), "{}", mail.html);
    assert!(mail.text.starts_with("Hello,"), "{}", mail.text);
    assert!(
        mail.message_id.ends_with("@localhost"),
        "{}",
        mail.message_id
    );

    let reply = verify(&app, &mail.token()).await;
    assert_eq!(reply.ok("verifyEmail")["emailVerified"], true);
    assert_eq!(reply.ok("verifyEmail")["email"], email.as_str());
    // The signed-in session sees it at once.
    assert_eq!(me(&app, &ada.access).await["emailVerified"], true);
    assert_eq!(
        verify(&app, &mail.token()).await.code(),
        Some("INVALID_TOKEN")
    );

    let resend = app
        .graphql(
            "mutation { resendVerificationEmail }",
            json!({}),
            Some(&ada.access),
        )
        .await;
    assert_eq!(resend.ok("resendVerificationEmail"), false);
    let anonymous = app
        .graphql("mutation { resendVerificationEmail }", json!({}), None)
        .await;
    assert_eq!(anonymous.code(), Some("UNAUTHENTICATED"));
    assert!(
        my_event_kinds(&app, &ada.access)
            .await
            .contains(&"EMAIL_VERIFIED".to_owned())
    );
}

async fn with_verification_required_login_waits_for_the_link() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|s| {
        through(&sink)(s);
        s.mail.require_verified_email = true;
    })
    .await;
    let email = fresh_email();
    let registered = app.register("Ada Lovelace", &email, PASSWORD).await;
    assert_eq!(registered.code(), Some("EMAIL_NOT_VERIFIED"));
    let first = sink.mail_to(&email, "Confirm").await.token();

    // Said only after the right password.
    assert_eq!(
        app.login(&email, "not the password at all").await.code(),
        Some("INVALID_CREDENTIALS")
    );
    assert_eq!(
        app.login(&email, PASSWORD).await.code(),
        Some("EMAIL_NOT_VERIFIED")
    );
    // That login sent a fresh link, which supersedes the first.
    let second = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let tokens: Vec<String> = sink.received().iter().map(|m| m.token()).collect();
            if tokens.len() == 2 {
                return tokens[1].clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a second verification mail");
    assert_eq!(verify(&app, &first).await.code(), Some("INVALID_TOKEN"));
    verify(&app, &second).await.ok("verifyEmail");
    let tokens = Tokens::from_payload(app.login(&email, PASSWORD).await.ok("login"));
    assert_eq!(me(&app, &tokens.access).await["emailVerified"], true);
}

async fn an_email_change_takes_effect_when_the_new_address_confirms_it() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(through(&sink)).await;
    let old = fresh_email();
    let ada = sign_up(&app, &old).await;
    let taken = fresh_email();
    sign_up(&app, &taken).await;
    let new = fresh_email();
    // A reset link sent to the old address, unused.
    request_reset(&app, &old).await.ok("requestPasswordReset");
    let old_reset = sink.mail_to(&old, "Reset").await.token();

    let wrong = change_email(&app, &ada.access, &new, "not the password").await;
    assert_eq!(wrong.code(), Some("INVALID_CREDENTIALS"));
    assert!(wrong.body["errors"][0]["extensions"]["fields"]["password"].is_string());
    let clash = change_email(&app, &ada.access, &taken, PASSWORD).await;
    assert_eq!(clash.code(), Some("EMAIL_TAKEN"));
    assert!(clash.body["errors"][0]["extensions"]["fields"]["newEmail"].is_string());
    assert_eq!(
        change_email(&app, &ada.access, &old, PASSWORD).await.code(),
        Some("BAD_USER_INPUT")
    );
    assert_eq!(
        change_email(&app, &ada.access, "nope", PASSWORD)
            .await
            .code(),
        Some("BAD_USER_INPUT")
    );

    assert_eq!(
        change_email(&app, &ada.access, &new.to_uppercase(), PASSWORD)
            .await
            .ok("changeEmail"),
        true
    );
    let confirm = sink.mail_to(&new, "Confirm your new e-mail address").await;
    let notice = sink.mail_to(&old, "is being changed").await;
    assert!(notice.text.contains(&new), "{}", notice.text);
    // Nothing changes until the new address confirms.
    assert_eq!(me(&app, &ada.access).await["email"], old.as_str());

    let reply = verify(&app, &confirm.token()).await;
    assert_eq!(reply.ok("verifyEmail")["email"], new.as_str());
    assert_eq!(reply.ok("verifyEmail")["emailVerified"], true);
    assert_eq!(me(&app, &ada.access).await["email"], new.as_str());
    // The old address is told the change happened, and to which address.
    let told = sink.mail_to(&old, "has a new e-mail address").await;
    assert!(told.text.contains(&new), "{}", told.text);
    assert_eq!(
        app.login(&old, PASSWORD).await.code(),
        Some("INVALID_CREDENTIALS")
    );
    app.login(&new, PASSWORD).await.ok("login");
    // Links sent to the old address no longer work.
    assert_eq!(
        reset(&app, &old_reset, NEW_PASSWORD).await.code(),
        Some("INVALID_TOKEN")
    );
    let kinds = my_event_kinds(&app, &ada.access).await;
    assert!(
        kinds.contains(&"EMAIL_CHANGE_REQUESTED".to_owned()),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"EMAIL_CHANGED".to_owned()), "{kinds:?}");
}

async fn a_changed_password_is_announced_to_the_account_address() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(through(&sink)).await;
    let email = fresh_email();
    let ada = sign_up(&app, &email).await;
    request_reset(&app, &email).await.ok("requestPasswordReset");
    let reset_token = sink.mail_to(&email, "Reset").await.token();
    app.change_password(&ada.access, PASSWORD, NEW_PASSWORD)
        .await
        .ok("changePassword");
    let notice = sink.mail_to(&email, "password was changed").await;
    assert!(notice.html.contains(&email));
    // A reset link asked for before the change stops working.
    assert_eq!(
        reset(&app, &reset_token, "yet another long passphrase 7")
            .await
            .code(),
        Some("INVALID_TOKEN")
    );
}

async fn mail_beyond_the_hourly_limits_is_answered_the_same_but_not_sent() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|s| {
        through(&sink)(s);
        s.mail.limits = MailLimits {
            per_address_per_hour: 2,
            per_ip_per_hour: 4,
        };
    })
    .await;
    let (ada, bob, carol) = (fresh_email(), fresh_email(), fresh_email());
    let ada_tokens = sign_up(&app, &ada).await;
    sign_up(&app, &bob).await;
    // Ada: her verification and one reset; the next is over her limit.
    request_reset(&app, &ada).await.ok("requestPasswordReset");
    settle_requests(&app).await;
    assert_eq!(
        request_reset(&app, &ada).await.ok("requestPasswordReset"),
        true
    );
    settle_requests(&app).await;
    // Bob: fourth link mail from this IP, still sent.
    request_reset(&app, &bob).await.ok("requestPasswordReset");
    settle_requests(&app).await;
    // Carol registers: her account is created, but the verification mail
    // counts against this IP's limit too, and is not sent; nor is a reset.
    let carol_tokens = sign_up(&app, &carol).await;
    assert_eq!(me(&app, &carol_tokens.access).await["emailVerified"], false);
    assert_eq!(
        request_reset(&app, &carol).await.ok("requestPasswordReset"),
        true
    );

    sink.mail_to(&bob, "Reset").await;
    let settle = Duration::from_millis(500);
    assert_eq!(sink.count_after(settle, &ada, "Reset").await, 1);
    assert_eq!(sink.count_after(Duration::ZERO, &carol, "Reset").await, 0);
    assert_eq!(sink.count_after(Duration::ZERO, &carol, "Confirm").await, 0);
    assert!(
        my_event_kinds(&app, &ada_tokens.access)
            .await
            .contains(&"MAIL_LIMITED".to_owned())
    );
    assert!(
        my_event_kinds(&app, &carol_tokens.access)
            .await
            .contains(&"MAIL_LIMITED".to_owned())
    );
}

async fn a_disabled_account_gets_no_reset_link_and_cannot_use_an_earlier_one() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(through(&sink)).await;
    let email = fresh_email();
    sign_up(&app, &email).await;
    request_reset(&app, &email).await.ok("requestPasswordReset");
    let earlier = sink.mail_to(&email, "Reset").await.token();
    let operator = |action: &'static str| {
        let email = email.clone();
        let app = &app;
        async move {
            let output = app.cli(&["user", action, &email], None).await;
            assert!(output.status.success(), "{output:?}");
        }
    };
    operator("disable").await;

    // Answered as usual, nothing sent.
    assert_eq!(
        request_reset(&app, &email).await.ok("requestPasswordReset"),
        true
    );
    assert_eq!(
        sink.count_after(Duration::from_millis(500), &email, "Reset")
            .await,
        1
    );
    // Disabling the account retired its pending links, for good.
    assert_eq!(
        reset(&app, &earlier, NEW_PASSWORD).await.code(),
        Some("INVALID_TOKEN")
    );
    operator("enable").await;
    assert_eq!(
        reset(&app, &earlier, NEW_PASSWORD).await.code(),
        Some("INVALID_TOKEN")
    );
    // Enabled again, a new link works.
    request_reset(&app, &email).await.ok("requestPasswordReset");
    let fresh = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let tokens: Vec<String> = sink
                .received()
                .iter()
                .filter(|m| m.to.contains(&email) && m.subject.contains("Reset"))
                .map(|m| m.token())
                .collect();
            if tokens.len() == 2 {
                return tokens[1].clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a second reset mail");
    reset(&app, &fresh, NEW_PASSWORD).await.ok("resetPassword");
}

async fn a_new_address_taken_before_it_is_confirmed_is_refused_and_the_old_one_stays() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(through(&sink)).await;
    let old = fresh_email();
    let ada = sign_up(&app, &old).await;
    let new = fresh_email();
    change_email(&app, &ada.access, &new, PASSWORD)
        .await
        .ok("changeEmail");
    let confirm = sink.mail_to(&new, "Confirm your new").await.token();
    // Someone registers the new address first.
    sign_up(&app, &new).await;

    assert_eq!(verify(&app, &confirm).await.code(), Some("EMAIL_TAKEN"));
    assert_eq!(me(&app, &ada.access).await["email"], old.as_str());
    app.login(&old, PASSWORD).await.ok("login");
}

async fn a_refusing_smtp_server_gets_the_mail_once_it_accepts_again() {
    let sink = SmtpSink::start_on(0, Behaviour::Refuse).await;
    let app = spawn_app_with(through(&sink)).await;
    let email = fresh_email();
    sign_up(&app, &email).await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while sink.connections() < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("authql retries");
    let row = outbox_rows(&app, &email).await.remove(0);
    assert!(row.sent_at.is_none());
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("451"),
        "{row:?}"
    );

    sink.behave(Behaviour::Accept);
    let mail = sink.mail_to(&email, "Confirm").await;
    assert_eq!(
        sink.count_after(Duration::from_secs(1), &email, "").await,
        1,
        "sent once"
    );
    verify(&app, &mail.token()).await.ok("verifyEmail");
    let row = outbox_rows(&app, &email).await.remove(0);
    assert!(row.sent_at.is_some() && row.attempts >= 2, "{row:?}");
}

async fn a_down_smtp_server_gets_the_mail_when_it_comes_back() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(through(&sink)).await;
    let port = sink.stop();
    let email = fresh_email();
    sign_up(&app, &email).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(outbox_rows(&app, &email).await[0].attempts >= 1);

    let sink = SmtpSink::start_on(port, Behaviour::Accept).await;
    let mail = sink.mail_to(&email, "Confirm").await;
    assert_eq!(
        sink.count_after(Duration::from_secs(1), &email, "").await,
        1,
        "sent once"
    );
    verify(&app, &mail.token()).await.ok("verifyEmail");
}

async fn mail_that_keeps_failing_is_kept_for_operators_and_sent_when_retried() {
    let sink = SmtpSink::start_on(0, Behaviour::Refuse).await;
    let app = spawn_app_with(|s| {
        through(&sink)(s);
        s.mail.worker.max_attempts = 2;
    })
    .await;
    let email = fresh_email();
    sign_up(&app, &email).await;
    let given_up = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let rows = outbox_rows(&app, &email).await;
            if rows.iter().any(|row| row.failed_at.is_some()) {
                return rows.into_iter().next().unwrap();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the mail is given up on after two attempts");
    assert_eq!(given_up.attempts, 2);
    // Given up on: no further attempts.
    let connections = sink.connections();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.connections(), connections);

    let output = app.cli(&["mail", "list"], None).await;
    let list = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    let line = list
        .lines()
        .find(|line| line.contains(&email))
        .unwrap_or_else(|| panic!("the given-up mail is listed: {list}"));
    assert!(
        line.contains(&given_up.id.to_string()) && line.contains("verify_email"),
        "{line}"
    );
    assert!(line.contains("451"), "with its last error: {line}");
    assert!(!list.contains("token="), "no link is printed: {list}");

    let unknown = app
        .cli(&["mail", "retry", &Uuid::new_v4().to_string()], None)
        .await;
    assert!(!unknown.status.success());
    sink.behave(Behaviour::Accept);
    let output = app.cli(&["mail", "retry", "--all"], None).await;
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 mail(s) due again"));
    let mail = sink.mail_to(&email, "Confirm").await;
    verify(&app, &mail.token()).await.ok("verifyEmail");
    let listed = app.cli(&["mail", "list"], None).await;
    assert!(!String::from_utf8_lossy(&listed.stdout).contains(&email));
}

async fn with_several_instances_each_mail_is_sent_once() {
    let sink = SmtpSink::start().await;
    let first = spawn_app_with(through(&sink)).await;
    let second = first.another_instance().await;
    let third = first.another_instance().await;
    let emails: Vec<String> = (0..9).map(|_| fresh_email()).collect();
    let instances = [&first, &second, &third];
    futures::future::join_all(
        emails
            .iter()
            .enumerate()
            .map(|(i, email)| sign_up(instances[i % 3], email)),
    )
    .await;
    for email in &emails {
        sink.mail_to(email, "Confirm").await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = sink.received();
    assert_eq!(received.len(), emails.len(), "one mail per registration");
    for email in &emails {
        assert_eq!(
            received.iter().filter(|m| &m.to == email).count(),
            1,
            "{email}"
        );
    }
}

/// `authql serve` as its own process on `url`, sending through `smtp`.
fn serve_process(url: &str, smtp: &str) -> (std::process::Child, String) {
    use base64::Engine;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_authql"))
        .env_clear()
        .env("RUST_LOG", "warn")
        .env("AUTHQL_DATABASE_URL", url)
        .env(
            "AUTHQL_MASTER_KEY",
            base64::engine::general_purpose::STANDARD.encode(crate::helpers::MASTER_KEY),
        )
        .env("AUTHQL_LISTEN", format!("127.0.0.1:{port}"))
        .env("AUTHQL_SMTP_URL", smtp)
        .env("AUTHQL_MAIL_SEND_TIMEOUT", "2s")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("authql starts");
    (child, format!("http://127.0.0.1:{port}"))
}

async fn a_server_killed_while_sending_leaves_the_mail_to_the_next() {
    let database = crate::helpers::TestDatabase::create(crate::helpers::current_backend()).await;
    // The first server's SMTP server takes the connection and never answers.
    let stalled = SmtpSink::start_on(0, Behaviour::Stall).await;
    let (mut first, address) = serve_process(&database.url, &stalled.url());
    let client = reqwest::Client::new();
    let email = fresh_email();
    let registered = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let sent = client
                .post(format!("{address}/graphql"))
                .json(&json!({
                    "query": "mutation($input: RegisterInput!) { register(input: $input) { user { id } } }",
                    "variables": { "input": {
                        "name": "Ada Lovelace", "email": email,
                        "password": PASSWORD, "passwordConfirmation": PASSWORD
                    }}
                }))
                .send()
                .await;
            match sent {
                Ok(response) => return response.json::<Value>().await.expect("JSON"),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await
    .expect("the first server answers");
    assert!(
        registered["data"]["register"]["user"]["id"].is_string(),
        "{registered}"
    );
    // It is in the middle of sending the verification mail: kill it there.
    tokio::time::timeout(Duration::from_secs(10), async {
        while stalled.connections() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the first server began to send");
    first.kill().expect("the first server is killed");
    first.wait().expect("the first server ended");

    // The restarted server sends it once the dead one's claim runs out.
    let sink = SmtpSink::start().await;
    let app = crate::helpers::spawn_app_on_with(&database.url, through(&sink)).await;
    let mail = sink.mail_to(&email, "Confirm").await;
    assert_eq!(
        sink.count_after(Duration::from_secs(1), &email, "").await,
        1,
        "sent once"
    );
    verify(&app, &mail.token()).await.ok("verifyEmail");
}

crate::on_every_backend!(
    reset_requests_take_as_long_for_registered_and_unknown_addresses,
    mail_that_keeps_failing_is_kept_for_operators_and_sent_when_retried,
    with_several_instances_each_mail_is_sent_once,
    a_server_killed_while_sending_leaves_the_mail_to_the_next,
    a_forgotten_password_is_reset_from_the_mailed_link,
    a_reset_for_an_unknown_address_answers_the_same_and_sends_nothing,
    a_newer_link_supersedes_older_ones_and_tokens_keep_to_their_purpose,
    an_expired_reset_link_is_invalid,
    registration_mails_a_link_that_verifies_the_address,
    with_verification_required_login_waits_for_the_link,
    an_email_change_takes_effect_when_the_new_address_confirms_it,
    a_changed_password_is_announced_to_the_account_address,
    mail_beyond_the_hourly_limits_is_answered_the_same_but_not_sent,
    a_disabled_account_gets_no_reset_link_and_cannot_use_an_earlier_one,
    a_new_address_taken_before_it_is_confirmed_is_refused_and_the_old_one_stays,
    a_refusing_smtp_server_gets_the_mail_once_it_accepts_again,
    a_down_smtp_server_gets_the_mail_when_it_comes_back,
);
