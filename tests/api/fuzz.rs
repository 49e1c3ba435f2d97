//! Random and hostile documents and bodies thrown at the request path: each
//! gets an answer that is not a server error, and the server stays up.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;

use crate::helpers::spawn_app;

/// A GraphQL-ish document built to hurt a parser.
fn hostile_document() -> impl Strategy<Value = String> {
    let opener = prop_oneof![Just('['), Just('{'), Just('(')];
    prop_oneof![
        // Deep nesting of every kind, mixed.
        (prop::collection::vec(opener, 1..4_000), any::<bool>()).prop_map(|(open, close)| {
            let mut doc = String::from("{ a(x: ");
            doc.extend(open.iter());
            if close {
                doc.extend(open.iter().rev().map(|c| match c {
                    '[' => ']',
                    '{' => '}',
                    _ => ')',
                }));
            }
            doc.push_str(") }");
            doc
        }),
        // Long tokens: names, numbers, strings.
        (1usize..20_000).prop_map(|n| format!("{{ {} }}", "a".repeat(n))),
        (1usize..20_000).prop_map(|n| format!("{{ a(x: {}) }}", "9".repeat(n))),
        (1usize..20_000).prop_map(|n| format!("{{ a(x: \"{}\") }}", "s".repeat(n))),
        Just("{ a(x: 1e999999999) }".to_owned()),
        Just("{ a(x: -0.0e-99999999) }".to_owned()),
        // Unterminated strings, block strings, comments.
        "[a-z ]{0,50}".prop_map(|s| format!("{{ a(x: \"{s}")),
        "[a-z ]{0,50}".prop_map(|s| format!("{{ a(x: \"\"\"{s}")),
        "[a-z ]{0,50}".prop_map(|s| format!("{{ a # {s}")),
        // Control characters and NUL anywhere.
        prop::collection::vec(0u8..32, 1..200).prop_map(|bytes| {
            let noise: String = bytes.into_iter().map(char::from).collect();
            format!("{{ __typename{noise} }}")
        }),
        // Thousands of directives or arguments.
        (1usize..5_000)
            .prop_map(|n| format!("{{ __typename {} }}", "@include(if: true) ".repeat(n))),
        (1usize..5_000).prop_map(|n| {
            let args: Vec<String> = (0..n).map(|i| format!("a{i}: {i}")).collect();
            format!("{{ __typename({}) }}", args.join(", "))
        }),
        // Anything at all.
        any::<String>(),
    ]
}

/// A request body: JSON around a hostile document, or raw bytes.
fn hostile_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => hostile_document().prop_map(|query| json!({ "query": query }).to_string().into_bytes()),
        1 => hostile_document().prop_map(|query| {
            json!({ "query": "query($v: String) { __typename }", "variables": { "v": query } })
                .to_string()
                .into_bytes()
        }),
        1 => prop::collection::vec(any::<u8>(), 0..2_000),
        1 => prop::collection::vec(prop_oneof![Just(b'['), Just(b'{')], 0..60_000),
        1 => prop::collection::vec(any::<u8>(), 0..200).prop_map(|tail| {
            // Invalid UTF-8 inside an otherwise plausible body.
            let mut body = br#"{"query":"{ __typename }", "x": ""#.to_vec();
            body.extend(tail);
            body.extend(br#""}"#);
            body
        }),
    ]
}

async fn random_and_hostile_requests_never_break_the_server() {
    const CASES: usize = 96;
    let app = spawn_app().await;
    let mut runner = TestRunner::new(Config {
        rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
        ..Config::default()
    });
    let strategy = hostile_body();
    for case in 0..CASES {
        let body = strategy
            .new_tree(&mut runner)
            .expect("a case is generated")
            .current();
        let by_get = case % 4 == 3;
        let response = if by_get {
            let query = String::from_utf8_lossy(&body)
                .chars()
                .take(6_000)
                .collect::<String>();
            app.client
                .get(app.url())
                .query(&[("query", query)])
                .send()
                .await
        } else {
            app.client
                .post(app.url())
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
        };
        let response = response.unwrap_or_else(|e| {
            panic!(
                "case {case} got no answer ({e}); body starts {:?}",
                &body[..body.len().min(80)]
            )
        });
        let status = response.status();
        assert!(
            !status.is_server_error(),
            "case {case}: {status}; body starts {:?}",
            String::from_utf8_lossy(&body[..body.len().min(80)])
        );
    }
    let reply = app.graphql("{ __typename }", json!({}), None).await;
    assert_eq!(reply.body["data"]["__typename"], "Query");
}

crate::on_every_backend!(random_and_hostile_requests_never_break_the_server);
