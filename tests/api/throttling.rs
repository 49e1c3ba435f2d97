//! Credential guessing: per account (shared by every instance), per client
//! IP, and shedding when the hashing workers are saturated.

use std::time::Duration;

use entity::login_throttle;
use sea_orm::EntityTrait;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{PASSWORD, Reply, TestApp, spawn_app, spawn_app_with};

fn retry_after(reply: &Reply) -> u64 {
    reply.body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap_or_else(|| panic!("retryAfter in {}", reply.body))
}

async fn registered(app: &TestApp) -> String {
    let email = format!("guess-{}@example.com", Uuid::new_v4());
    app.register("Ada", &email, PASSWORD).await.ok("register");
    email
}

async fn failures_recorded(app: &TestApp) -> Vec<i32> {
    login_throttle::Entity::find()
        .all(&app.db)
        .await
        .expect("throttles readable")
        .into_iter()
        .map(|row| row.failures)
        .collect()
}

async fn after_five_failures_even_the_right_password_waits() {
    let app = spawn_app().await;
    let email = registered(&app).await;
    for i in 0..5 {
        let reply = app.login(&email, &format!("wrong guess {i}")).await;
        assert_eq!(reply.code(), Some("INVALID_CREDENTIALS"), "{}", reply.body);
    }
    // The right password gets the very same answer as a wrong one.
    let right = app.login(&email, PASSWORD).await;
    let wrong = app.login(&email, "wrong guess 6").await;
    for reply in [&right, &wrong] {
        assert_eq!(reply.code(), Some("TOO_MANY_REQUESTS"), "{}", reply.body);
        assert!((1..=2).contains(&retry_after(reply)));
    }
    assert_eq!(right.body, wrong.body);
    // Refused attempts were not checked, so not counted.
    assert_eq!(failures_recorded(&app).await, [5]);
    let kinds = app.event_kinds().await;
    assert_eq!(kinds.iter().filter(|k| *k == "login_throttled").count(), 2);

    tokio::time::sleep(Duration::from_secs(retry_after(&right))).await;
    let reply = app.login(&email, PASSWORD).await;
    assert!(reply.ok("login")["accessToken"].is_string());
    // A success forgets the failures.
    assert!(failures_recorded(&app).await.is_empty());
    for i in 0..5 {
        let reply = app.login(&email, &format!("again {i}")).await;
        assert_eq!(reply.code(), Some("INVALID_CREDENTIALS"));
    }
}

async fn the_delay_doubles_with_each_further_failure() {
    let app = spawn_app().await;
    let email = registered(&app).await;
    for i in 0..5 {
        app.login(&email, &format!("wrong {i}")).await;
    }
    let first = app.login(&email, "wrong 5").await;
    assert_eq!(retry_after(&first), 1);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let sixth = app.login(&email, "wrong 6").await;
    assert_eq!(sixth.code(), Some("INVALID_CREDENTIALS"), "{}", sixth.body);
    let second = app.login(&email, PASSWORD).await;
    assert_eq!(second.code(), Some("TOO_MANY_REQUESTS"));
    assert_eq!(retry_after(&second), 2);
}

async fn unknown_addresses_are_throttled_alike() {
    let app = spawn_app().await;
    let email = format!("nobody-{}@example.com", Uuid::new_v4());
    for i in 0..5 {
        let reply = app.login(&email, &format!("wrong {i}")).await;
        assert_eq!(reply.code(), Some("INVALID_CREDENTIALS"));
    }
    let reply = app.login(&email, PASSWORD).await;
    assert_eq!(reply.code(), Some("TOO_MANY_REQUESTS"));
}

async fn concurrent_failures_on_two_instances_are_all_counted() {
    let a = spawn_app().await;
    let b = a.another_instance().await;
    let email = registered(&a).await;
    let attempts = (0..32).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        let email = email.clone();
        async move { app.login(&email, &format!("concurrent guess {i}")).await }
    });
    let replies = futures::future::join_all(attempts).await;
    let checked = replies
        .iter()
        .filter(|r| r.code() == Some("INVALID_CREDENTIALS"))
        .count();
    let refused = replies
        .iter()
        .filter(|r| r.code() == Some("TOO_MANY_REQUESTS"))
        .count();
    assert_eq!(checked + refused, 32, "every attempt answered as a guess");
    assert!(checked >= 5);
    // Every password that was checked was counted, on either instance.
    assert_eq!(
        failures_recorded(&a).await,
        [i32::try_from(checked).unwrap()]
    );
    let reply = b.login(&email, PASSWORD).await;
    assert_eq!(reply.code(), Some("TOO_MANY_REQUESTS"));
}

async fn one_client_ip_has_a_budget_that_spoofing_does_not_change() {
    let app = spawn_app_with(|s| s.protection.throttle.ip_credential_requests_per_minute = 4).await;
    let tokens = app.signed_up().await; // register: 1 of 4
    app.refresh(&tokens.refresh).await.ok("refresh"); // 2
    app.login("a@example.com", "wrong password 1").await; // 3
    app.login("b@example.com", "wrong password 2").await; // 4
    let response = app
        .post_json(
            &[("x-forwarded-for", "203.0.113.99")],
            &json!({
                "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                "variables": { "i": { "email": "c@example.com", "password": "wrong password 3" } }
            }),
        )
        .await;
    let header = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let reply = Reply::read(response).await;
    assert_eq!(reply.code(), Some("TOO_MANY_REQUESTS"), "{}", reply.body);
    let seconds = retry_after(&reply);
    assert!((1..=15).contains(&seconds));
    assert_eq!(header, Some(seconds.to_string()));
    assert!(
        app.event_kinds()
            .await
            .contains(&"login_throttled".to_owned())
    );
    // Fields that check no credential are not limited.
    assert!(app.me(Some(&tokens.access)).await.ok("me")["id"].is_string());
}

async fn behind_a_trusted_proxy_each_client_has_its_own_budget() {
    let app = spawn_app_with(|s| {
        s.protection.throttle.ip_credential_requests_per_minute = 2;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let login_from = |ip: &'static str| {
        let app = &app;
        async move {
            Reply::read(
                app.post_json(
                    &[("x-forwarded-for", ip)],
                    &json!({
                        "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                        "variables": { "i": { "email": "x@example.com", "password": "not it at all" } }
                    }),
                )
                .await,
            )
            .await
        }
    };
    for _ in 0..2 {
        assert_eq!(
            login_from("203.0.113.1").await.code(),
            Some("INVALID_CREDENTIALS")
        );
    }
    assert_eq!(
        login_from("203.0.113.1").await.code(),
        Some("TOO_MANY_REQUESTS")
    );
    assert_eq!(
        login_from("203.0.113.2").await.code(),
        Some("INVALID_CREDENTIALS")
    );
}

async fn a_flood_beyond_the_hashing_queue_is_shed_and_me_stays_available() {
    let app = spawn_app_with(|s| {
        s.protection.hashing.workers = 1;
        s.protection.hashing.max_queue = 2;
    })
    .await;
    let tokens = app.signed_up().await;
    let logins = (0..24).map(|i| {
        let app = &app;
        async move {
            app.login(&format!("flood-{i}@example.com"), "not the password")
                .await
        }
    });
    let (replies, me) = tokio::join!(futures::future::join_all(logins), async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        app.me(Some(&tokens.access)).await
    });
    assert!(me.ok("me")["id"].is_string());
    let busy: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.code() == Some("SERVER_BUSY"))
        .collect();
    assert!(!busy.is_empty(), "some logins were shed");
    assert!(busy.iter().all(|r| retry_after(r) >= 1));
    assert!(
        replies
            .iter()
            .all(|r| matches!(r.code(), Some("SERVER_BUSY" | "INVALID_CREDENTIALS"))),
        "every login answered"
    );
}

/// 128 symbols in no pattern zxcvbn knows: its costliest kind of input.
fn costly_password(seed: u64) -> String {
    const SYMBOLS: &[u8] = b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..128)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            SYMBOLS[(state >> 33) as usize % SYMBOLS.len()] as char
        })
        .collect()
}

async fn the_ip_budget_is_charged_before_a_new_password_is_judged() {
    let app = spawn_app_with(|s| s.protection.throttle.ip_credential_requests_per_minute = 3).await;
    let tokens = app.signed_up().await; // 1 of 3
    // A weak password is judged (and refused) within the budget …
    let weak = app.register("Ada", "weak@example.com", "password").await; // 2
    assert_eq!(weak.code(), Some("BAD_USER_INPUT"));
    let weak = app
        .change_password(&tokens.access, PASSWORD, "password")
        .await; // 3
    assert_eq!(weak.code(), Some("BAD_USER_INPUT"));
    // … and past it nothing is parsed: not even a malformed input is judged.
    let costly = costly_password(1);
    for reply in [
        app.register("Ada", "not an address", &costly).await,
        app.change_password(&tokens.access, PASSWORD, &costly).await,
        app.graphql(
            "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) { accessToken } }",
            json!({ "i": { "token": "not a token", "newPassword": costly } }),
            None,
        )
        .await,
    ] {
        assert_eq!(reply.code(), Some("TOO_MANY_REQUESTS"), "{}", reply.body);
    }
}

async fn costly_passwords_wait_for_a_hashing_worker_and_never_stall_the_server() {
    // Four clients sending the costliest passwords at once, with one hashing
    // worker: the estimates queue on it (and are shed beyond its queue),
    // while health checks and `me` on the async workers stay fast.
    let app = spawn_app_with(|s| {
        s.protection.throttle.ip_credential_requests_per_minute = 0;
        s.protection.hashing.workers = 1;
        s.protection.hashing.max_queue = 2;
    })
    .await;
    let tokens = app.signed_up().await;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let flood = (0..4u64).map(|client| {
        let (app, stop) = (&app, &stop);
        async move {
            let mut codes = Vec::new();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let reply = app
                    .register(
                        "Mallory",
                        &format!("costly-{client}-{n}-{}@example.com", Uuid::new_v4()),
                        &costly_password(client * 1000 + n),
                    )
                    .await;
                codes.push(reply.code().map(str::to_owned));
            }
            codes
        }
    });
    let probe = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut slowest = Duration::ZERO;
        for _ in 0..20 {
            let started = std::time::Instant::now();
            assert_eq!(app.healthz().await.0, 200);
            assert!(app.me(Some(&tokens.access)).await.ok("me")["id"].is_string());
            slowest = slowest.max(started.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        slowest
    };
    let (codes, slowest) = tokio::join!(futures::future::join_all(flood), probe);
    assert!(
        slowest < Duration::from_millis(500),
        "a health check and me took {slowest:?} under the flood"
    );
    let codes: Vec<Option<String>> = codes.into_iter().flatten().collect();
    assert!(
        codes
            .iter()
            .all(|c| matches!(c.as_deref(), None | Some("SERVER_BUSY"))),
        "{codes:?}"
    );
    assert!(
        codes.iter().any(|c| c.as_deref() == Some("SERVER_BUSY")),
        "some estimates were shed by the hashing queue: {codes:?}"
    );
}

crate::on_every_backend!(
    the_ip_budget_is_charged_before_a_new_password_is_judged,
    costly_passwords_wait_for_a_hashing_worker_and_never_stall_the_server,
    after_five_failures_even_the_right_password_waits,
    the_delay_doubles_with_each_further_failure,
    unknown_addresses_are_throttled_alike,
    concurrent_failures_on_two_instances_are_all_counted,
    one_client_ip_has_a_budget_that_spoofing_does_not_change,
    behind_a_trusted_proxy_each_client_has_its_own_budget,
    a_flood_beyond_the_hashing_queue_is_shed_and_me_stays_available,
);
