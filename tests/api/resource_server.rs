//! `examples/resource-server`: another API that trusts authql's access
//! tokens through the published key set only, started beside authql.

use std::sync::Arc;
use std::time::Duration;

use authql_resource_server::{Config, KeySet};
use entity::prelude::User;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{PASSWORD, TestApp, Tokens, now_secs, spawn_app_with, time_until};

struct ResourceServer {
    url: String,
    keys: Arc<KeySet>,
    client: reqwest::Client,
}

impl ResourceServer {
    async fn start(authql: &TestApp) -> Self {
        let keys = Arc::new(KeySet::new(Config {
            jwks_url: format!("{}/.well-known/jwks.json", authql.address),
            issuer: "authql".into(),
            audience: "authql".into(),
            min_refetch_interval: Duration::from_millis(500),
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let address = format!("127.0.0.1:{port}");
        let server = poem::Server::new(poem::listener::TcpListener::bind(address.clone()));
        tokio::spawn(server.run(authql_resource_server::app(Arc::clone(&keys))));
        let client = reqwest::Client::new();
        let url = format!("http://{address}/graphql");
        let up = time_until(Duration::from_secs(5), || {
            let (client, url) = (client.clone(), url.clone());
            async move {
                client
                    .post(&url)
                    .json(&json!({ "query": "{ status }" }))
                    .send()
                    .await
                    .is_ok()
            }
        })
        .await;
        assert!(up.is_some(), "the resource server starts");
        Self { url, keys, client }
    }

    async fn query(&self, query: &str, token: &str) -> Value {
        self.client
            .post(&self.url)
            .bearer_auth(token)
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `viewer.userId`, or the error code.
    async fn viewer(&self, token: &str) -> Result<String, String> {
        let body = self.query("{ viewer { userId roles } }", token).await;
        match body["data"]["viewer"]["userId"].as_str() {
            Some(id) => Ok(id.to_owned()),
            None => Err(body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or("none")
                .to_owned()),
        }
    }
}

async fn another_api_accepts_authqls_tokens_and_refuses_the_rest() {
    let authql = spawn_app_with(|s| {
        s.jwt.publish_ahead = Duration::from_secs(2);
        s.jwt.reload_interval = Duration::from_millis(200);
    })
    .await;
    let api = ResourceServer::start(&authql).await;
    let email = format!("ada-{}@example.com", Uuid::new_v4());
    let ada = Tokens::from_payload(
        authql
            .register("Ada Lovelace", &email, PASSWORD)
            .await
            .ok("register"),
    );

    assert_eq!(api.viewer(&ada.access).await, Ok(ada.user_id.clone()));

    let refusals = [
        (
            "expired",
            authql.resign(&ada.access, |_, c| c["exp"] = json!(now_secs() - 60)),
        ),
        ("tampered", {
            let parts: Vec<&str> = ada.access.split('.').collect();
            let (_, mut claims) = crate::helpers::decode_jwt(&ada.access);
            claims["roles"] = json!(["user", "admin"]);
            let payload = base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                serde_json::to_vec(&claims).unwrap(),
            );
            format!("{}.{payload}.{}", parts[0], parts[2])
        }),
        (
            "wrong audience",
            authql.resign(&ada.access, |_, c| c["aud"] = json!("another-api")),
        ),
        ("refresh token", ada.refresh.clone()),
        ("forged", authql.forge(&ada.access)),
    ];
    for (what, token) in &refusals {
        assert_eq!(
            api.viewer(token).await,
            Err("UNAUTHENTICATED".to_owned()),
            "{what}"
        );
    }

    // Junk kids: refused, and at most one refetch per interval.
    let fetched = api.keys.fetches();
    for i in 0..20 {
        let junk = authql.resign(&ada.access, |h, _| h["kid"] = json!(format!("junk-{i}")));
        assert_eq!(api.viewer(&junk).await, Err("UNAUTHENTICATED".to_owned()));
    }
    assert!(
        api.keys.fetches() - fetched <= 1,
        "{} fetches for 20 junk kids",
        api.keys.fetches() - fetched
    );

    // The role guard: forbidden for a user, allowed once the role is granted.
    let body = api.query("{ adminReport }", &ada.access).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let user = User::find_by_id(Uuid::parse_str(&ada.user_id).unwrap())
        .one(&authql.db)
        .await
        .unwrap()
        .unwrap();
    let mut active = user.into_active_model();
    active.roles = Set(entity::user::Roles(vec!["user".into(), "admin".into()]));
    active.update(&authql.db).await.unwrap();
    let admin = Tokens::from_payload(authql.login(&email, PASSWORD).await.ok("login"));
    let body = api.query("{ adminReport }", &admin.access).await;
    assert_eq!(
        body["data"]["adminReport"],
        format!("report for {}", ada.user_id)
    );

    // Rotation: after the publish-ahead time the new key signs; the API
    // accepts tokens of both keys (it refetches for the new kid).
    let printed = authql.keys_cli(&["rotate"]).await;
    let new_kid = crate::keys::printed_kid(&printed);
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let fresh = Tokens::from_payload(authql.login(&email, PASSWORD).await.ok("login"));
    assert_eq!(
        crate::helpers::decode_jwt(&fresh.access).0["kid"],
        new_kid.as_str()
    );
    assert_eq!(api.viewer(&fresh.access).await, Ok(ada.user_id.clone()));
    assert_eq!(api.viewer(&ada.access).await, Ok(ada.user_id.clone()));

    // Retiring the old key: once the API's cached set ages out (max-age is
    // half the publish-ahead time), the old key's tokens are refused.
    authql.keys_cli(&["retire", &authql.signer.kid]).await;
    let refused = time_until(Duration::from_secs(5), || async {
        api.viewer(&ada.access).await.is_err()
    })
    .await;
    assert!(refused.is_some(), "the retired key's token is refused");
    assert_eq!(api.viewer(&fresh.access).await, Ok(ada.user_id.clone()));
}

crate::on_every_backend!(another_api_accepts_authqls_tokens_and_refuses_the_rest);

crate::on_every_backend_with!(
    totp_tests, "AUTHQL_TEST_PYOTP is not set";
    another_api_can_require_a_second_factor_through_aal,
);

async fn another_api_can_require_a_second_factor_through_aal() {
    let authql = crate::helpers::spawn_app().await;
    let api = ResourceServer::start(&authql).await;
    let (email, uri, _) = crate::second_factor::with_two_steps(&authql).await;
    // An account without a second factor gets aal1 tokens: refused.
    let other = authql.signed_up().await;
    let refused = api.query("{ sensitiveReport }", &other.access).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(
        refused["errors"][0]["extensions"]["reason"],
        "second_factor_required"
    );
    let both = crate::second_factor::two_steps(&authql, &email, &uri, 0).await;
    let answered = api.query("{ sensitiveReport }", &both.access).await;
    assert!(
        answered["data"]["sensitiveReport"]
            .as_str()
            .is_some_and(|report| report.starts_with("sensitive report for")),
        "{answered}"
    );
}
