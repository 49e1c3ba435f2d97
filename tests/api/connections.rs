//! Slow and idle clients are cut off and never delay others; slow bodies and
//! long requests end at their deadlines.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, spawn_app_with};

async fn connect(app: &TestApp) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    TcpStream::connect(address).await.expect("connected")
}

/// Waits until the server closes `stream` (EOF or reset, after any final
/// response), writing `dribble` every 200 ms meanwhile; how long it took,
/// or `None` if it stayed open for `limit`.
async fn closed_within(
    stream: &mut TcpStream,
    dribble: &[u8],
    limit: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    while started.elapsed() < limit {
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue, // a final response (408) before the close
            Err(_) => {
                if !dribble.is_empty() && stream.write_all(dribble).await.is_err() {
                    return Some(started.elapsed());
                }
            }
        }
    }
    None
}

fn quick_timeouts(s: &mut authql::config::Settings) {
    s.protection.server.header_read_timeout = Duration::from_secs(1);
    s.protection.server.body_read_timeout = Duration::from_secs(1);
}

async fn slowloris_connections_are_cut_off_and_others_are_served() {
    let app = spawn_app_with(quick_timeouts).await;
    let mut sockets = Vec::new();
    for _ in 0..50 {
        let mut socket = connect(&app).await;
        socket
            .write_all(b"POST /graphql HTTP/1.1\r\nHost: localhost\r\n")
            .await
            .unwrap();
        sockets.push(socket);
    }
    let dribbles = sockets.iter_mut().map(|socket| async move {
        closed_within(socket, b"X-Slow: 1\r\n", Duration::from_secs(5)).await
    });
    let (closed, reply) = tokio::join!(futures::future::join_all(dribbles), async {
        let started = Instant::now();
        let reply = app.graphql("{ __typename }", json!({}), None).await;
        (reply, started.elapsed())
    });
    assert!(
        closed
            .iter()
            .all(|c| c.is_some_and(|d| d < Duration::from_secs(3))),
        "every slow client is cut off: {closed:?}"
    );
    assert_eq!(reply.0.body["data"]["__typename"], "Query");
    assert!(reply.1 < Duration::from_secs(1), "served in {:?}", reply.1);
}

async fn idle_connections_do_not_hold_the_connection_cap() {
    let app = spawn_app_with(|s| {
        quick_timeouts(s);
        s.protection.server.max_connections = 4;
    })
    .await;
    // Four sockets that never send a byte hold every slot …
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(connect(&app).await);
    }
    // … until the header deadline frees them; then a real client gets in.
    let started = Instant::now();
    let reply = app.graphql("{ __typename }", json!({}), None).await;
    assert_eq!(reply.body["data"]["__typename"], "Query");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    for socket in &mut idle {
        assert!(
            closed_within(socket, b"", Duration::from_secs(3))
                .await
                .is_some()
        );
    }
}

async fn an_idle_keep_alive_connection_is_closed() {
    let app = spawn_app_with(quick_timeouts).await;
    let mut socket = connect(&app).await;
    let body = r#"{"query":"{ __typename }"}"#;
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut buffer = [0u8; 4096];
    let read = socket.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
    assert!(
        closed_within(&mut socket, b"", Duration::from_secs(4))
            .await
            .is_some()
    );
}

async fn a_body_sent_too_slowly_is_408() {
    let app = spawn_app_with(quick_timeouts).await;
    let mut socket = connect(&app).await;
    socket
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\"",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut response)).await;
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("REQUEST_TIMEOUT"));
    assert!(started.elapsed() < Duration::from_secs(3));
}

async fn a_request_past_its_deadline_is_answered_503() {
    // One hashing worker and a 300 ms deadline: the last of 32 queued logins
    // (about 20 ms of argon2 each) cannot finish in time.
    let app = spawn_app_with(|s| {
        s.protection.server.request_timeout = Duration::from_millis(300);
        s.protection.hashing.workers = 1;
    })
    .await;
    let logins = (0..32).map(|i| {
        let app = &app;
        async move {
            app.client
                .post(app.url())
                .json(&json!({
                    "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                    "variables": { "i": { "email": format!("late-{i}@example.com"), "password": "not the one" } }
                }))
                .send()
                .await
                .expect("answered")
        }
    });
    let responses = futures::future::join_all(logins).await;
    let late: Vec<_> = responses.iter().filter(|r| r.status() == 503).collect();
    assert!(!late.is_empty(), "some logins passed the deadline");
    assert!(
        late.iter()
            .all(|r| r.headers().get("retry-after").is_some())
    );
    // The server is fine afterwards.
    let reply = app.graphql("{ __typename }", json!({}), None).await;
    assert_eq!(reply.body["data"]["__typename"], "Query");
}

crate::on_every_backend!(
    slowloris_connections_are_cut_off_and_others_are_served,
    idle_connections_do_not_hold_the_connection_cap,
    an_idle_keep_alive_connection_is_closed,
    a_body_sent_too_slowly_is_408,
    a_request_past_its_deadline_is_answered_503,
);
