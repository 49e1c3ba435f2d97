//! GraphQL over HTTP: methods, media types, status codes, limits, GraphiQL.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{INTROSPECTION, Reply, spawn_app};

async fn get_runs_queries_with_operation_name() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url())
        .query(&[
            (
                "query",
                "query A { a: __typename } query B { b: __typename }",
            ),
            ("operationName", "B"),
        ])
        .header("accept", "application/graphql-response+json")
        .send()
        .await
        .unwrap();
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply
            .content_type
            .starts_with("application/graphql-response+json")
    );
    assert_eq!(reply.body["data"], json!({ "b": "Query" }));
}

/// Clients that do not know `application/graphql-response+json` (axios,
/// bare `fetch`, curl) send no `Accept` or `*/*`: they get
/// `application/json`, so a request error is a 200 they can read, not a
/// 400 they throw on.
async fn no_accept_or_a_wildcard_gets_application_json() {
    let app = spawn_app().await;
    for accept in [
        None,
        Some("*/*"),
        Some("application/*"),
        Some("text/html;q=0.9, */*;q=0.8"),
    ] {
        let mut request = app
            .client
            .post(app.url())
            .json(&json!({ "query": "{ noSuchField }" }));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let reply = Reply::read(request.send().await.unwrap()).await;
        assert_eq!(reply.status, 200, "{accept:?}");
        assert!(
            reply.content_type.starts_with("application/json"),
            "{accept:?}: {}",
            reply.content_type
        );
        assert_eq!(reply.code(), Some("GRAPHQL_VALIDATION_FAILED"));
    }
    let response = app
        .client
        .get(app.url())
        .query(&[("query", "{ __typename }")])
        .header("accept", "application/graphql-response+json, */*;q=0.5")
        .send()
        .await
        .unwrap();
    assert!(
        Reply::read(response)
            .await
            .content_type
            .starts_with("application/graphql-response+json")
    );
}

async fn post_honours_operation_name() {
    let app = spawn_app().await;
    let response = app.post_json(&[], &json!({ "query": "query A { a: __typename } query B { b: __typename }", "operationName": "A" })).await;
    assert_eq!(
        Reply::read(response).await.body["data"],
        json!({ "a": "Query" })
    );
}

async fn a_mutation_over_get_is_405_allowing_post() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url())
        .query(&[("query", "mutation { logout { revokedSessions } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
}

async fn other_methods_are_405() {
    let app = spawn_app().await;
    let response = app.client.put(app.url()).body("{}").send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, POST");
}

async fn post_bodies_other_than_json_are_415() {
    let app = spawn_app().await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = app
            .post_raw(
                &[("content-type", content_type)],
                r#"{"query":"{ __typename }"}"#,
            )
            .await;
        assert_eq!(response.status(), 415, "{content_type}");
    }
    let response = app.post_raw(&[], r#"{"query":"{ __typename }"}"#).await;
    assert_eq!(response.status(), 415, "no content type");
}

async fn json_with_a_charset_is_accepted() {
    let app = spawn_app().await;
    let response = app
        .post_raw(
            &[("content-type", "application/json; charset=utf-8")],
            r#"{"query":"{ __typename }"}"#,
        )
        .await;
    assert_eq!(response.status(), 200);
}

async fn bodies_over_64_kib_are_413() {
    let app = spawn_app().await;
    let padding = " ".repeat(64 * 1024);
    let response = app
        .post_raw(
            &[("content-type", "application/json")],
            format!(r#"{{"query":"{{ __typename }}"}}{padding}"#),
        )
        .await;
    assert_eq!(response.status(), 413);
}

async fn an_unacceptable_accept_header_is_406() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            &[("accept", "text/plain")],
            &json!({ "query": "{ __typename }" }),
        )
        .await;
    assert_eq!(response.status(), 406);
}

async fn accept_application_json_gets_json_and_200_even_for_request_errors() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            &[("accept", "application/json")],
            &json!({ "query": "{ noSuchField }" }),
        )
        .await;
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, 200);
    assert!(reply.content_type.starts_with("application/json"));
    assert_eq!(reply.code(), Some("GRAPHQL_VALIDATION_FAILED"));
}

async fn request_errors_as_graphql_response_json_are_400_without_data() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            &[("accept", "application/graphql-response+json")],
            &json!({ "query": "{ noSuchField }" }),
        )
        .await;
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.get("data").is_none());
    assert_eq!(reply.code(), Some("GRAPHQL_VALIDATION_FAILED"));

    let reply = app.graphql("{ me { id ", json!({}), None).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), Some("GRAPHQL_PARSE_FAILED"));
}

async fn field_errors_are_200_with_data() {
    let app = spawn_app().await;
    let reply = app.me(None).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.get("data").is_some());
}

async fn batched_requests_are_refused() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            &[],
            &json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]),
        )
        .await;
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), Some("BATCHING_NOT_SUPPORTED"));
}

async fn a_body_that_is_not_a_graphql_request_is_400() {
    let app = spawn_app().await;
    for body in ["not json", r#"{"query": 42}"#, "{}"] {
        let response = app
            .post_raw(&[("content-type", "application/json")], body)
            .await;
        assert_eq!(response.status(), 400, "{body}");
    }
}

async fn responses_are_not_cached_and_carry_a_request_id() {
    let app = spawn_app().await;
    let response = app
        .post_json(&[], &json!({ "query": "{ __typename }" }))
        .await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
}

async fn browsers_get_graphiql_in_development() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url())
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(response.text().await.unwrap().contains("graphiql"));
}

async fn production_serves_no_graphiql_and_no_introspection() {
    let app =
        crate::helpers::spawn_app_with(|s| s.environment = authql::config::Environment::Production)
            .await;
    let response = app
        .client
        .get(app.url())
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_ne!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or_default(),
        "text/html; charset=utf-8"
    );
    let reply = app
        .graphql("{ __schema { types { name } } }", json!({}), None)
        .await;
    assert_eq!(
        reply.body["data"]["__schema"],
        serde_json::Value::Null,
        "{}",
        reply.body
    );
    // A misspelt field gives no hint of the real one: the schema cannot be
    // read back a suggestion at a time.
    let misspelt = app.graphql("{ sesions { id } }", json!({}), None).await;
    assert_eq!(misspelt.code(), Some("GRAPHQL_VALIDATION_FAILED"));
    let message = misspelt.message().unwrap_or_default();
    assert!(message.contains("sesions"), "{message}");
    assert!(!message.contains("Did you mean"), "{message}");
    assert!(
        !misspelt.body.to_string().contains("\"sessions\""),
        "{}",
        misspelt.body
    );
    // Development keeps the hints (so the check above can fail).
    let development = spawn_app().await;
    let hinted = development
        .graphql("{ sesions { id } }", json!({}), None)
        .await;
    assert!(
        hinted
            .message()
            .unwrap_or_default()
            .contains("Did you mean"),
        "{}",
        hinted.body
    );
}

async fn the_introspection_query_graphiql_sends_fits_the_limits() {
    let app = spawn_app().await;
    let reply = app.graphql(INTROSPECTION, json!({}), None).await;
    assert!(reply.ok("__schema")["types"].as_array().unwrap().len() > 10);
}

async fn overly_deep_queries_are_refused() {
    let app = spawn_app().await;
    let deep = format!(
        "{{ __schema {{ types {{ {} name {} }} }} }}",
        "ofType { ".repeat(20),
        "} ".repeat(20)
    );
    let reply = app.graphql(&deep, json!({}), None).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.code(), Some("GRAPHQL_VALIDATION_FAILED"));
}

async fn every_response_forbids_sniffing_and_running_anything() {
    let app = spawn_app().await;
    let url = |path: &str| format!("{}{path}", app.address);
    let responses = vec![
        (
            "a GraphQL answer",
            app.post_json(&[], &json!({ "query": "{ __typename }" }))
                .await,
        ),
        (
            "a request error",
            app.post_json(&[], &json!({ "query": "{" })).await,
        ),
        (
            "a refused media type",
            app.post_raw(&[("content-type", "text/plain")], "{ __typename }")
                .await,
        ),
        (
            "a refused origin",
            app.post_json(
                &[("origin", "https://evil.example")],
                &json!({ "query": "{ __typename }" }),
            )
            .await,
        ),
        (
            "the health check",
            app.client.get(url("/healthz")).send().await.unwrap(),
        ),
        (
            "the key set",
            app.client
                .get(url("/.well-known/jwks.json"))
                .send()
                .await
                .unwrap(),
        ),
        (
            "an unknown path",
            app.client.get(url("/no/such/page")).send().await.unwrap(),
        ),
    ];
    for (what, response) in responses {
        let headers = response.headers();
        assert_eq!(
            headers
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{what}: {headers:?}"
        );
        assert_eq!(
            headers
                .get("content-security-policy")
                .map(|v| v.to_str().unwrap()),
            Some("default-src 'none'; frame-ancestors 'none'"),
            "{what}: {headers:?}"
        );
    }
    // The GraphiQL page keeps its own policy, which lets its scripts run.
    let page = app
        .client
        .get(app.url())
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
}

async fn healthz_is_200_when_the_database_answers() {
    let app = spawn_app().await;
    assert_eq!(app.healthz().await, (StatusCode::OK, "ok".to_owned()));
}

async fn get_takes_variables_as_json_and_requires_a_query() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url())
        .query(&[
            (
                "query",
                "query($wanted: Boolean!) { me @include(if: $wanted) { id } }",
            ),
            ("variables", r#"{"wanted": false}"#),
        ])
        .send()
        .await
        .unwrap();
    // Without the variable this would be a validation error (400).
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.get("errors").is_none(), "{}", reply.body);

    let response = app.client.get(app.url()).send().await.unwrap();
    assert_eq!(response.status(), 400);
}

async fn a_database_failure_is_an_opaque_internal_error_with_the_request_id() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    app.register("Ada", "ada@example.com", crate::helpers::PASSWORD)
        .await
        .ok("register");
    // Break the database under the running server: the audit table vanishes.
    app.db
        .execute_unprepared("DROP TABLE auth_events")
        .await
        .unwrap();

    let response = app
        .post_json(
            &[],
            &json!({
                "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                "variables": { "i": { "email": "ada@example.com", "password": crate::helpers::PASSWORD } }
            }),
        )
        .await;
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let reply = Reply::read(response).await;
    assert_eq!(reply.code(), Some("INTERNAL_SERVER_ERROR"));
    assert_eq!(reply.message(), Some("Internal server error"));
    assert_eq!(
        reply.body["errors"][0]["extensions"]["requestId"],
        request_id.as_str()
    );
    let text = reply.body.to_string().to_lowercase();
    for leak in [
        "auth_events",
        "table",
        "sql",
        "database",
        "relation",
        "error returned",
    ] {
        assert!(!text.contains(leak), "{leak:?} leaked: {text}");
    }
}

#[tokio::test]
#[cfg_attr(not(postgres_tests), ignore = "AUTHQL_TEST_POSTGRES_URL is not set")]
async fn healthz_is_503_when_the_database_is_gone() {
    use crate::helpers::{Backend, on_backend};
    use sea_orm::ConnectionTrait;
    on_backend(Backend::Postgres, async {
        let app = spawn_app().await;
        let name = url::Url::parse(&app.settings.database.url)
            .unwrap()
            .path()
            .trim_start_matches('/')
            .to_owned();
        let admin = sea_orm::Database::connect(std::env::var("AUTHQL_TEST_POSTGRES_URL").unwrap())
            .await
            .unwrap();
        admin
            .execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .await
            .unwrap();
        let started = std::time::Instant::now();
        assert_eq!(
            app.healthz().await,
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable".to_owned())
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
    })
    .await;
}

crate::on_every_backend!(
    no_accept_or_a_wildcard_gets_application_json,
    a_database_failure_is_an_opaque_internal_error_with_the_request_id,
    get_runs_queries_with_operation_name,
    post_honours_operation_name,
    a_mutation_over_get_is_405_allowing_post,
    other_methods_are_405,
    post_bodies_other_than_json_are_415,
    json_with_a_charset_is_accepted,
    bodies_over_64_kib_are_413,
    an_unacceptable_accept_header_is_406,
    accept_application_json_gets_json_and_200_even_for_request_errors,
    request_errors_as_graphql_response_json_are_400_without_data,
    field_errors_are_200_with_data,
    batched_requests_are_refused,
    a_body_that_is_not_a_graphql_request_is_400,
    responses_are_not_cached_and_carry_a_request_id,
    browsers_get_graphiql_in_development,
    production_serves_no_graphiql_and_no_introspection,
    the_introspection_query_graphiql_sends_fits_the_limits,
    overly_deep_queries_are_refused,
    healthz_is_200_when_the_database_answers,
    every_response_forbids_sniffing_and_running_anything,
    get_takes_variables_as_json_and_requires_a_query,
);
