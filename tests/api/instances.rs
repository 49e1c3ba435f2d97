//! Several instances on one database, as behind a load balancer, and the
//! periodic cleanup.

use std::time::Duration;

use authql::store::maintenance::{Deleted, delete_expired};
use entity::prelude::{RefreshToken, Session};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::{
    PASSWORD, Tokens, assert_one_successor, spawn_app, spawn_app_with, time_until,
};

async fn concurrent_refreshes_on_two_instances_leave_exactly_one_successor() {
    let a = spawn_app().await;
    let b = a.another_instance().await;
    let first = a.signed_up().await;

    let calls = (0..32).map(|i| {
        let instance = if i % 2 == 0 { &a } else { &b };
        instance.refresh(&first.refresh)
    });
    let replies = futures::future::join_all(calls).await;

    assert_one_successor(&a, &first, &replies).await;
}

async fn reuse_is_detected_by_whichever_instance_sees_it() {
    let a = spawn_app_with(|s| s.lifetimes.reuse_grace = Duration::from_millis(200)).await;
    let b = a.another_instance().await;
    let first = a.signed_up().await;
    let second = Tokens::from_payload(a.refresh(&first.refresh).await.ok("refresh"));
    let next = Tokens::from_payload(a.refresh(&second.refresh).await.ok("refresh"));
    // A has the session cached as live.
    a.me(Some(&next.access)).await.ok("me");
    tokio::time::sleep(Duration::from_millis(400)).await;

    assert_eq!(
        b.refresh(&first.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
    assert_eq!(
        a.refresh(&next.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
    let elapsed = time_until(Duration::from_secs(2), || async {
        a.me(Some(&next.access)).await.reason() == Some("revoked")
    })
    .await;
    let elapsed = elapsed.expect("the access token stops working on the other instance");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
}

async fn logout_on_one_instance_ends_access_tokens_on_the_other_within_a_second() {
    let a = spawn_app().await;
    let b = a.another_instance().await;
    let tokens = a.signed_up().await;
    // B has seen the session live and cached that answer.
    b.me(Some(&tokens.access)).await.ok("me");

    a.logout(Some(&tokens.access), None).await.ok("logout");
    assert_eq!(
        a.me(Some(&tokens.access)).await.reason(),
        Some("revoked"),
        "at once on A"
    );
    let elapsed = time_until(Duration::from_secs(2), || async {
        b.me(Some(&tokens.access)).await.reason() == Some("revoked")
    })
    .await;
    let elapsed = elapsed.expect("the access token stops working on B");
    println!("logout on A reached B after {elapsed:?}");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
}

async fn cleanup_deletes_only_long_expired_rows_and_is_safe_to_run_at_once() {
    // Sessions opened on `short` last 1 s; those opened on `app`, 30 days.
    let short = spawn_app_with(|s| s.lifetimes.session_max = Duration::from_secs(1)).await;
    let app = short
        .another_instance_with(|s| s.lifetimes = Default::default())
        .await;
    short
        .register("Old", "old@example.com", PASSWORD)
        .await
        .ok("register");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let live = app.signed_up().await;

    let now = chrono::Utc::now();
    let runs = (0..4).map(|_| delete_expired(&app.db, now));
    let results: Vec<Deleted> = futures::future::join_all(runs)
        .await
        .into_iter()
        .map(|r| r.expect("cleanup runs"))
        .collect();
    let sessions: u64 = results.iter().map(|d| d.sessions).sum();
    let tokens: u64 = results.iter().map(|d| d.refresh_tokens).sum();
    assert_eq!(
        (sessions, tokens),
        (1, 1),
        "each expired row is deleted exactly once"
    );

    assert_eq!(Session::find().count(&app.db).await.unwrap(), 1);
    assert_eq!(RefreshToken::find().count(&app.db).await.unwrap(), 1);
    app.me(Some(&live.access)).await.ok("me");
    app.refresh(&live.refresh).await.ok("refresh");
}

async fn the_periodic_cleanup_runs_on_its_own() {
    let app = spawn_app_with(|s| {
        s.lifetimes.session_max = Duration::from_secs(1);
        s.cleanup.interval = Duration::from_millis(100);
        s.cleanup.retention = Duration::ZERO;
    })
    .await;
    app.signed_up().await;
    let emptied = time_until(Duration::from_secs(5), || async {
        Session::find().count(&app.db).await.unwrap() == 0
            && RefreshToken::find().count(&app.db).await.unwrap() == 0
    })
    .await;
    assert!(emptied.is_some(), "expired rows were deleted");
}

async fn instances_starting_together_on_an_empty_database_all_come_up() {
    let instances = crate::helpers::spawn_instances_at_once(3).await;
    // Every one serves, on one schema: a user registered on one logs in on another.
    let tokens = instances[0].signed_up().await;
    for instance in &instances {
        instance.me(Some(&tokens.access)).await.ok("me");
    }
}

crate::on_every_backend!(
    instances_starting_together_on_an_empty_database_all_come_up,
    concurrent_refreshes_on_two_instances_leave_exactly_one_successor,
    reuse_is_detected_by_whichever_instance_sees_it,
    logout_on_one_instance_ends_access_tokens_on_the_other_within_a_second,
    cleanup_deletes_only_long_expired_rows_and_is_safe_to_run_at_once,
    the_periodic_cleanup_runs_on_its_own,
);
