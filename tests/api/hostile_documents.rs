//! Documents built to crash or stall the server: each is refused quickly with
//! an error that names the limit, and the server keeps answering.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{INTROSPECTION, PASSWORD, Reply, TestApp, spawn_app};

/// Far deeper than the ~1,700 levels that used to overflow a worker's stack,
/// and within the 64 KiB body limit.
const DEEP: usize = 6_000;

fn deep_documents() -> Vec<(&'static str, String)> {
    vec![
        (
            "list argument",
            format!(
                "{{ __typename(x: {}1{}) }}",
                "[".repeat(DEEP),
                "]".repeat(DEEP)
            ),
        ),
        (
            "object argument",
            format!(
                "{{ __typename(x: {}1{}) }}",
                "{a:".repeat(DEEP),
                "}".repeat(DEEP)
            ),
        ),
        (
            "variable default",
            format!(
                "query($v: [Int] = {}1{}) {{ __typename }}",
                "[".repeat(DEEP),
                "]".repeat(DEEP)
            ),
        ),
        (
            "selection sets",
            format!(
                "{{ {}__typename{} }}",
                "me { ".repeat(DEEP),
                " }".repeat(DEEP)
            ),
        ),
        (
            "parentheses",
            format!("{{ __typename{} }}", "(".repeat(DEEP)),
        ),
    ]
}

/// The server still answers an ordinary query.
async fn assert_still_up(app: &TestApp) {
    let reply = app.graphql("{ __typename }", json!({}), None).await;
    assert_eq!(reply.body["data"]["__typename"], "Query", "{}", reply.body);
}

fn assert_refused(reply: &Reply, code: &str, limit: &str, started: Instant) {
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.code(), Some(code), "{}", reply.body);
    assert_eq!(
        reply.body["errors"][0]["extensions"]["limit"], limit,
        "{}",
        reply.body
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refused in {:?}",
        started.elapsed()
    );
}

async fn deeply_nested_documents_are_refused_by_post_and_get() {
    let app = spawn_app().await;
    for (kind, document) in deep_documents() {
        let started = Instant::now();
        let reply = app.graphql(&document, json!({}), None).await;
        assert_refused(&reply, "GRAPHQL_PARSE_FAILED", "nesting", started);
        assert!(
            reply
                .message()
                .unwrap_or_default()
                .contains("AUTHQL_MAX_NESTING"),
            "{kind}: {}",
            reply.body
        );

        // By GET, as an <img src> on a hostile page would send it (the URL
        // of the selection-set document stays under the usual header limits).
        let document: String = document.chars().take(8_000).collect();
        let started = Instant::now();
        let response = app
            .client
            .get(app.url())
            .query(&[("query", document.as_str())])
            .header("accept", "application/graphql-response+json")
            .send()
            .await
            .expect("request sent");
        let reply = Reply::read(response).await;
        assert_refused(&reply, "GRAPHQL_PARSE_FAILED", "nesting", started);
    }
    assert_still_up(&app).await;
}

async fn deeply_nested_variables_are_refused() {
    let app = spawn_app().await;
    let deep = format!("{}1{}", "[".repeat(DEEP), "]".repeat(DEEP));
    let body =
        format!(r#"{{"query":"query($v: String) {{ __typename }}","variables":{{"v":{deep}}}}}"#);
    let started = Instant::now();
    let response = app
        .post_raw(&[("content-type", "application/json")], body)
        .await;
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.code(), Some("GRAPHQL_PARSE_FAILED"));
    assert!(started.elapsed() < Duration::from_secs(2));

    let response = app
        .client
        .get(app.url())
        .query(&[
            ("query", "query($v: String) { __typename }"),
            (
                "variables",
                &format!(r#"{{"v":{}}}"#, &deep[..8_000.min(deep.len())]),
            ),
        ])
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 400);
    assert_still_up(&app).await;
}

/// `fragment F1 on Query { ...F0 ...F0 }` … `Fk { ...Fk-1 ...Fk-1 }`: 2^k
/// fields in about 40·k bytes.
fn fragment_doubling(k: usize) -> String {
    let mut document = format!("query {{ ...F{k} }}\nfragment F0 on Query {{ __typename }}\n");
    for i in 1..=k {
        document.push_str(&format!(
            "fragment F{i} on Query {{ ...F{j} ...F{j} }}\n",
            j = i - 1
        ));
    }
    document
}

async fn fragment_doubling_is_refused_in_milliseconds() {
    let app = spawn_app().await;
    let token = app.signed_up().await.access;
    // Two at once, as in the report that stalled other users for seconds.
    let (k22, k40) = (fragment_doubling(22), fragment_doubling(40));
    let started = Instant::now();
    let (first, second, me) = tokio::join!(
        app.graphql(&k22, json!({}), None),
        app.graphql(&k40, json!({}), None),
        app.me(Some(&token)),
    );
    for reply in [&first, &second] {
        assert_refused(reply, "GRAPHQL_VALIDATION_FAILED", "complexity", started);
        assert!(
            reply
                .message()
                .unwrap_or_default()
                .contains("AUTHQL_MAX_COMPLEXITY")
        );
    }
    assert!(me.ok("me")["id"].is_string());
    // A small doubling document is an ordinary one and runs.
    let reply = app.graphql(&fragment_doubling(4), json!({}), None).await;
    assert_eq!(reply.ok("__typename"), "Query");
}

async fn every_limit_names_itself() {
    let app = spawn_app().await;
    let deep = format!("{{ {}__typename{} }}", "me { ".repeat(17), " }".repeat(17));
    let aliases: String = (0..31).map(|i| format!("a{i}: __typename ")).collect();
    let roots = "__typename ".repeat(21);
    let directives = "__typename @include(if: true) ".repeat(16);
    let tokens = format!("{{ {} }}", "__typename ".repeat(2_001));
    for (document, code, limit) in [
        (deep, "GRAPHQL_VALIDATION_FAILED", "depth"),
        (
            format!("{{ {aliases} }}"),
            "GRAPHQL_VALIDATION_FAILED",
            "aliases",
        ),
        (
            format!("{{ {roots} }}"),
            "GRAPHQL_VALIDATION_FAILED",
            "rootFields",
        ),
        (
            format!("{{ ... on Query {{ {directives} }} {directives} }}"),
            "GRAPHQL_VALIDATION_FAILED",
            "directives",
        ),
        (tokens, "GRAPHQL_PARSE_FAILED", "tokens"),
    ] {
        let started = Instant::now();
        let reply = app.graphql(&document, json!({}), None).await;
        assert_refused(&reply, code, limit, started);
    }
}

async fn graphiql_introspection_and_ordinary_operations_fit_the_limits() {
    let app = spawn_app().await;
    let reply = app.graphql(INTROSPECTION, json!({}), None).await;
    assert!(reply.ok("__schema")["types"].is_array(), "{}", reply.body);
    // An Apollo-style login with __typename everywhere.
    let email = format!("fit-{}@example.com", uuid::Uuid::new_v4());
    app.register("Ada", &email, PASSWORD).await.ok("register");
    let reply = app
        .graphql(
            "mutation Login($input: LoginInput!) { login(input: $input) { __typename accessToken refreshToken \
             user { __typename id name email roles createdAt } } }",
            json!({ "input": { "email": email, "password": PASSWORD } }),
            None,
        )
        .await;
    assert!(reply.ok("login")["accessToken"].is_string());
}

async fn a_document_may_check_only_one_credential() {
    let app = spawn_app().await;
    let email = format!("multi-{}@example.com", uuid::Uuid::new_v4());
    app.register("Ada", &email, PASSWORD).await.ok("register");
    let guesses: String = (0..100)
        .map(|i| {
            format!(
                "g{i}: login(input: {{ email: \"{email}\", password: \"guess-{i}\" }}) {{ accessToken }} "
            )
        })
        .collect();
    let login = format!(
        "login(input: {{ email: \"{email}\", password: \"{PASSWORD}\" }}) {{ accessToken }}"
    );
    for document in [
        format!("mutation {{ {guesses} }}"),
        format!("mutation {{ ...L ...L }} fragment L on Mutation {{ {login} }}"),
        format!("mutation {{ {login} refresh(refreshToken: \"x\") {{ accessToken }} }}"),
        format!("mutation A {{ {login} }} mutation B {{ {login} }}"),
        format!(
            "mutation {{ a: requestPasswordReset(email: \"{email}\") b: requestPasswordReset(email: \"{email}\") }}"
        ),
        format!(
            "mutation {{ requestPasswordReset(email: \"{email}\") resetPassword(input: {{ token: \"t\", newPassword: \"p\" }}) {{ accessToken }} }}"
        ),
    ] {
        let started = Instant::now();
        let reply = app.graphql(&document, json!({}), None).await;
        assert_refused(
            &reply,
            "GRAPHQL_VALIDATION_FAILED",
            "credentialFields",
            started,
        );
    }
    // Nothing was checked: only the registration is in the audit trail.
    assert_eq!(app.event_kinds().await, ["registered"]);
}

async fn input_of_the_wrong_shape_is_a_client_error() {
    let app = spawn_app().await;
    let login = "mutation($input: LoginInput!) { login(input: $input) { accessToken } }";
    for input in [
        json!([{ "email": "ada@example.com", "password": PASSWORD }]),
        json!({ "email": 42, "password": PASSWORD }),
        json!({ "email": "ada@example.com", "password": { "a": [1, { "b": null }] } }),
        json!("ada@example.com"),
        json!({ "email": "ada@example.com" }),
    ] {
        let reply = app.graphql(login, json!({ "input": input }), None).await;
        let code = reply.code().unwrap_or_default().to_owned();
        assert!(
            code == "BAD_USER_INPUT" || code == "GRAPHQL_VALIDATION_FAILED",
            "{input}: {}",
            reply.body
        );
        assert!(
            !reply.body.to_string().contains(PASSWORD),
            "the password is not echoed: {}",
            reply.body
        );
    }
    let reply = app
        .graphql(
            "mutation { login(input: [1, 2]) { accessToken } }",
            json!({}),
            None,
        )
        .await;
    assert!(
        matches!(
            reply.code(),
            Some("BAD_USER_INPUT" | "GRAPHQL_VALIDATION_FAILED")
        ),
        "{}",
        reply.body
    );
}

async fn control_characters_in_strings_are_bad_user_input() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    for (document, variables, field) in [
        (
            "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
            json!({ "input": { "email": "ada\u{0}@example.com", "password": PASSWORD } }),
            "email",
        ),
        (
            "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }",
            json!({ "input": { "name": "Ada\u{1b}[31m", "email": "ada@example.com",
                "password": PASSWORD, "passwordConfirmation": PASSWORD } }),
            "name",
        ),
        (
            "mutation($t: String) { refresh(refreshToken: $t) { accessToken } }",
            json!({ "t": format!("{}\u{0}", tokens.refresh) }),
            "t",
        ),
        (
            "mutation { login(input: { email: \"a@example.com\", password: \"pass\\u0000word\" }) { accessToken } }",
            json!({}),
            "password",
        ),
    ] {
        let reply = app.graphql(document, variables, None).await;
        assert_eq!(reply.code(), Some("BAD_USER_INPUT"), "{}", reply.body);
        assert_eq!(
            reply.body["errors"][0]["extensions"]["fields"][field],
            "must not contain control characters"
        );
    }
    assert_still_up(&app).await;
}

on_every_backend!(
    deeply_nested_documents_are_refused_by_post_and_get,
    deeply_nested_variables_are_refused,
    fragment_doubling_is_refused_in_milliseconds,
    every_limit_names_itself,
    graphiql_introspection_and_ordinary_operations_fit_the_limits,
    a_document_may_check_only_one_credential,
    input_of_the_wrong_shape_is_a_client_error,
    control_characters_in_strings_are_bad_user_input,
);
