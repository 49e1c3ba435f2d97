//! Cross-origin requests as browsers make them: preflights, credentials, the
//! server's own origin, refusals a developer can act on.

use serde_json::json;

use crate::helpers::{Reply, TestApp, spawn_app, spawn_app_with};

async fn preflight(app: &TestApp, origin: &str, headers: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url())
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", headers)
        .send()
        .await
        .expect("request sent")
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn any_local_dev_server_may_call_the_api_with_credentials_in_development() {
    let app = spawn_app().await;
    for origin in [
        "http://localhost:5173",
        "http://localhost",
        "https://localhost:3000",
        "http://127.0.0.1:8080",
        "http://[::1]:5173",
        "https://[::1]",
    ] {
        let response = preflight(&app, origin, "authorization,content-type,traceparent").await;
        assert!(
            response.status().is_success(),
            "{origin}: {}",
            response.status()
        );
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            Some(origin)
        );
        assert_eq!(
            header(&response, "access-control-allow-credentials"),
            Some("true")
        );
        let allowed = header(&response, "access-control-allow-headers").unwrap_or_default();
        for name in [
            "authorization",
            "content-type",
            "traceparent",
            "tracestate",
            "baggage",
            "x-request-id",
        ] {
            assert!(allowed.contains(name), "{name} in {allowed}");
        }

        let response = app
            .post_json(&[("origin", origin)], &json!({ "query": "{ __typename }" }))
            .await;
        assert_eq!(response.status(), 200, "{origin}");
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            Some(origin)
        );
        assert_eq!(
            header(&response, "access-control-allow-credentials"),
            Some("true")
        );
        assert!(
            header(&response, "access-control-expose-headers")
                .unwrap_or_default()
                .contains("x-request-id")
        );
        let vary: Vec<&str> = response
            .headers()
            .get_all("vary")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        assert!(
            vary.contains(&"Origin") && vary.contains(&"Accept"),
            "{vary:?}"
        );
    }
    // Not a local origin: refused even in development.
    let response = preflight(&app, "http://localhost.evil.example", "content-type").await;
    assert_eq!(response.status(), 403);
}

async fn a_refused_origin_gets_a_json_error_naming_the_setting() {
    let app = spawn_app_with(|s| s.cors.origins = vec!["https://app.example.com".into()]).await;
    let allowed = app
        .post_json(
            &[("origin", "https://app.example.com")],
            &json!({ "query": "{ __typename }" }),
        )
        .await;
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        Some("https://app.example.com")
    );

    for response in [
        app.post_json(
            &[("origin", "https://evil.example.net")],
            &json!({ "query": "{ __typename }" }),
        )
        .await,
        preflight(&app, "https://evil.example.net", "content-type").await,
    ] {
        assert_eq!(response.status(), 403);
        assert!(header(&response, "access-control-allow-origin").is_none());
        let reply = Reply::read(response).await;
        assert!(reply.content_type.starts_with("application/json"));
        assert_eq!(reply.code(), Some("ORIGIN_NOT_ALLOWED"));
        let message = reply.message().unwrap_or_default();
        assert!(message.contains("AUTHQL_CORS_ORIGINS"), "{message}");
        assert!(message.contains("https://evil.example.net"), "{message}");
    }

    // The public key set is readable from anywhere, without credentials.
    let jwks = app
        .client
        .get(format!("{}/.well-known/jwks.json", app.address))
        .header("origin", "https://evil.example.net")
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);
    assert_eq!(header(&jwks, "access-control-allow-origin"), Some("*"));
    assert!(header(&jwks, "access-control-allow-credentials").is_none());

    // Methods other than GET and POST are refused by name.
    let response = app
        .client
        .request(reqwest::Method::OPTIONS, app.url())
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "DELETE")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let reply = Reply::read(response).await;
    assert_eq!(reply.code(), Some("CORS_METHOD_NOT_ALLOWED"));

    // A header nobody allowed is refused by name.
    let response = preflight(&app, "https://app.example.com", "content-type,x-secret").await;
    assert_eq!(response.status(), 403);
    let reply = Reply::read(response).await;
    assert_eq!(reply.code(), Some("CORS_HEADER_NOT_ALLOWED"));
    assert!(reply.message().unwrap_or_default().contains("x-secret"));
}

async fn the_servers_own_origin_is_never_refused() {
    // Only another origin is listed: the browser's own-origin POSTs (which
    // carry Origin too, as GraphiQL's do) must still work.
    let app = spawn_app_with(|s| s.cors.origins = vec!["https://app.example.com".into()]).await;
    let own = app.address.clone();
    let response = app
        .post_json(&[("origin", &own)], &json!({ "query": "{ __typename }" }))
        .await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "access-control-allow-origin").is_none());

    // Behind a trusted proxy, the origin the browser saw is the proxy's.
    let proxied = spawn_app_with(|s| {
        s.cors.origins.clear();
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let through_proxy = [
        ("origin", "https://auth.example.com"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "auth.example.com"),
    ];
    let response = proxied
        .post_json(&through_proxy, &json!({ "query": "{ __typename }" }))
        .await;
    assert_eq!(response.status(), 200);
    // Without trusting the proxy, those headers are the client's word only.
    let untrusting = spawn_app_with(|s| s.cors.origins.clear()).await;
    let response = untrusting
        .post_json(&through_proxy, &json!({ "query": "{ __typename }" }))
        .await;
    assert_eq!(response.status(), 403);
}

async fn without_listed_origins_only_the_own_origin_and_non_browsers_are_served() {
    let app = spawn_app_with(|s| s.cors.origins.clear()).await;
    let foreign = app
        .post_json(
            &[("origin", "https://app.example.com")],
            &json!({ "query": "{ __typename }" }),
        )
        .await;
    assert_eq!(foreign.status(), 403);
    let no_origin = app
        .post_json(&[], &json!({ "query": "{ __typename }" }))
        .await;
    assert_eq!(no_origin.status(), 200);
    assert!(header(&no_origin, "access-control-allow-origin").is_none());
}

async fn a_wildcard_origin_never_carries_credentials() {
    let app = spawn_app_with(|s| s.cors.origins = vec!["*".into()]).await;
    let response = app
        .post_json(
            &[("origin", "https://anyone.example")],
            &json!({ "query": "{ __typename }" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some("https://anyone.example")
    );
    assert!(header(&response, "access-control-allow-credentials").is_none());
}

async fn allowed_headers_are_configurable() {
    let app = spawn_app_with(|s| {
        s.cors.allowed_headers = vec![
            "authorization".into(),
            "content-type".into(),
            "x-tenant".into(),
        ]
    })
    .await;
    let response = preflight(&app, "http://localhost:5173", "content-type,x-tenant").await;
    assert!(response.status().is_success());
    let response = preflight(&app, "http://localhost:5173", "traceparent").await;
    assert_eq!(response.status(), 403);
}

crate::on_every_backend!(
    any_local_dev_server_may_call_the_api_with_credentials_in_development,
    a_refused_origin_gets_a_json_error_naming_the_setting,
    the_servers_own_origin_is_never_refused,
    without_listed_origins_only_the_own_origin_and_non_browsers_are_served,
    a_wildcard_origin_never_carries_credentials,
    allowed_headers_are_configurable,
);
