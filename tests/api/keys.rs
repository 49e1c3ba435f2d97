//! Signing keys: the published key set, each algorithm, rotation and
//! retirement through the operator CLI, sealed keys, several instances.

use std::time::Duration;

use entity::prelude::SigningKey;
use entity::signing_key;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, PaginatorTrait, Set};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, decode_jwt, shared_secret, spawn_app, spawn_app_with, spawn_instances_at_once,
    time_until,
};
use authql::config::SigningAlgorithm;

impl TestApp {
    /// `GET /.well-known/jwks.json`: status, `Cache-Control` and body.
    pub async fn jwks(&self) -> (u16, String, Value) {
        let response = self
            .client
            .get(format!("{}/.well-known/jwks.json", self.address))
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        let cache = response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, cache, response.json().await.expect("JSON"))
    }

    /// The kids in the published key set.
    pub async fn published_kids(&self) -> Vec<String> {
        let (_, _, body) = self.jwks().await;
        body["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| k["kid"].as_str().expect("kid").to_owned())
            .collect()
    }

    /// Runs `authql keys ARGS` against this server's database, as an
    /// operator would; its stdout, or a panic with its stderr.
    pub async fn keys_cli(&self, args: &[&str]) -> String {
        let mut all = vec!["keys"];
        all.extend_from_slice(args);
        let output = self.cli(&all, None).await;
        assert!(
            output.status.success(),
            "authql keys {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

/// Settings for rotation tests: a short publish-ahead, a fast reload.
fn quick_rotation(settings: &mut authql::config::Settings) {
    settings.jwt.publish_ahead = Duration::from_secs(2);
    settings.jwt.reload_interval = Duration::from_millis(200);
}

/// The kid `authql keys rotate` printed.
pub fn printed_kid(printed: &str) -> String {
    printed
        .split(|c: char| c.is_whitespace() || c == ';')
        .nth(1)
        .expect("rotate prints the new kid")
        .to_owned()
}

pub fn kid(token: &str) -> String {
    decode_jwt(token).0["kid"]
        .as_str()
        .expect("a kid")
        .to_owned()
}

async fn the_key_set_publishes_the_public_signing_key_only() {
    let app = spawn_app().await;
    let (status, cache, body) = app.jwks().await;
    assert_eq!(status, 200);
    assert_eq!(
        cache, "public, max-age=600",
        "cacheable, for less than the publish-ahead time (1 h)"
    );
    let keys = body["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["kid"], app.signer.kid.as_str());
    assert!(key.get("d").is_none(), "no private part: {key}");

    let tokens = app.signed_up().await;
    assert_eq!(kid(&tokens.access), app.signer.kid);
    assert_eq!(kid(&tokens.refresh), app.signer.kid);
}

/// A token of `app` verified by jsonwebtoken with the published key alone,
/// as any other service would.
async fn verify_with_the_key_set(app: &TestApp, token: &str) -> Value {
    let (_, _, body) = app.jwks().await;
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(body).expect("a JWK set");
    let header = jsonwebtoken::decode_header(token).expect("a header");
    let jwk = set
        .find(header.kid.as_deref().expect("kid"))
        .expect("published");
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_issuer(&["authql"]);
    validation.set_audience(&["authql"]);
    jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).expect("a key"),
        &validation,
    )
    .expect("the token verifies with the published key")
    .claims
}

async fn es256_and_rs256_sign_tokens_the_key_set_verifies() {
    for (algorithm, alg, kty) in [
        (SigningAlgorithm::Es256, "ES256", "EC"),
        (SigningAlgorithm::Rs256, "RS256", "RSA"),
    ] {
        let app = spawn_app_with(|s| {
            if let authql::config::Signing::Managed { algorithm: a, .. } = &mut s.jwt.signing {
                *a = algorithm;
            }
        })
        .await;
        let tokens = app.signed_up().await;
        assert_eq!(decode_jwt(&tokens.access).0["alg"], alg);
        app.me(Some(&tokens.access)).await.ok("me");
        let claims = verify_with_the_key_set(&app, &tokens.access).await;
        assert_eq!(claims["sub"], tokens.user_id.as_str());
        let (_, _, body) = app.jwks().await;
        assert_eq!(body["keys"][0]["kty"], kty);
        assert!(body["keys"][0].get("d").is_none());
        // Refresh works too, and an impostor of that algorithm is refused.
        app.refresh(&tokens.refresh).await.ok("refresh");
    }
}

async fn hs256_keeps_the_shared_secret_and_publishes_nothing() {
    let app = spawn_app_with(shared_secret).await;
    let (status, _, body) = app.jwks().await;
    assert_eq!(status, 404);
    assert!(body["message"].as_str().unwrap().contains("HS256"));
    let tokens = app.signed_up().await;
    let (header, _) = decode_jwt(&tokens.access);
    assert_eq!(header["alg"], "HS256");
    assert!(header["kid"].as_str().unwrap().starts_with("hs256-"));
    app.me(Some(&tokens.access)).await.ok("me");
    let next = app.refresh(&tokens.refresh).await;
    next.ok("refresh");
    // The secret is not usable as an Ed25519 key or anything else.
    let forged = app.forge(&tokens.access);
    assert_eq!(app.me(Some(&forged)).await.reason(), Some("invalid"));
    assert_eq!(
        SigningKey::find().count(&app.db).await.unwrap(),
        0,
        "no keys are stored with HS256"
    );
}

async fn hasura_claims_are_added_when_asked_for() {
    let app = spawn_app_with(|s| s.jwt.hasura_claims = true).await;
    let tokens = app.signed_up().await;
    let claims = verify_with_the_key_set(&app, &tokens.access).await;
    assert_eq!(
        claims["https://hasura.io/jwt/claims"],
        json!({
            "x-hasura-user-id": tokens.user_id,
            "x-hasura-default-role": "user",
            "x-hasura-allowed-roles": ["user"],
        })
    );
    app.me(Some(&tokens.access)).await.ok("me");
    let renewed = app.renew_access_token(&tokens.access).await;
    let token = renewed.ok("renewAccessToken")["accessToken"]
        .as_str()
        .unwrap();
    assert!(decode_jwt(token).1["https://hasura.io/jwt/claims"].is_object());
    // Refresh tokens are for authql only.
    assert!(
        decode_jwt(&tokens.refresh)
            .1
            .get("https://hasura.io/jwt/claims")
            .is_none()
    );
}

async fn a_rotation_publishes_ahead_and_old_tokens_keep_working_until_retired() {
    let app = spawn_app_with(quick_rotation).await;
    let other = app.another_instance().await;
    let old_kid = app.signer.kid.clone();
    let before = app.signed_up().await;

    let printed = app.keys_cli(&["rotate"]).await;
    let new_kid = printed_kid(&printed);
    assert_ne!(new_kid, old_kid);

    // Published on both instances before it signs.
    for instance in [&app, &other] {
        let seen = time_until(Duration::from_secs(2), || async {
            instance.published_kids().await.contains(&new_kid)
        })
        .await;
        assert!(
            seen.is_some(),
            "the new key is published within the reload interval"
        );
    }
    let early = app.signed_up().await;
    assert_eq!(kid(&early.access), old_kid, "not signing before its start");

    // After the publish-ahead time it signs; tokens of both keys verify.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let after = other.signed_up().await;
    assert_eq!(kid(&after.access), new_kid);
    for instance in [&app, &other] {
        instance.me(Some(&before.access)).await.ok("me");
        instance.me(Some(&after.access)).await.ok("me");
    }
    let list = app.keys_cli(&["list"]).await;
    assert!(
        list.contains(&format!("{new_kid}  EdDSA  signing")),
        "{list}"
    );
    assert!(
        list.contains(&format!("{old_kid}  EdDSA  verifying")),
        "{list}"
    );
    let published = app.published_kids().await;
    assert!(published.contains(&old_kid) && published.contains(&new_kid));

    // Retiring the old key: its tokens are refused everywhere, access and
    // refresh alike (verified earlier or not); the new key's still work.
    app.keys_cli(&["retire", &old_kid]).await;
    for instance in [&app, &other] {
        let refused = time_until(Duration::from_secs(2), || async {
            instance.me(Some(&before.access)).await.reason() == Some("invalid")
        })
        .await;
        assert!(refused.is_some(), "a retired key's token is refused");
        assert_eq!(
            instance.refresh(&early.refresh).await.code(),
            Some("INVALID_REFRESH_TOKEN")
        );
        instance.me(Some(&after.access)).await.ok("me");
        assert!(!instance.published_kids().await.contains(&old_kid));
    }
    let list = app.keys_cli(&["list"]).await;
    assert!(
        list.contains(&format!("{old_kid}  EdDSA  retired")),
        "{list}"
    );
}

async fn retiring_the_signing_key_puts_a_new_one_in_its_place_at_once() {
    let app = spawn_app_with(quick_rotation).await;
    let compromised = app.signer.kid.clone();
    let tokens = app.signed_up().await;
    app.keys_cli(&["retire", &compromised]).await;
    let refused = time_until(Duration::from_secs(2), || async {
        app.me(Some(&tokens.access)).await.reason() == Some("invalid")
    })
    .await;
    assert!(refused.is_some());
    let fresh = app.signed_up().await;
    assert_ne!(kid(&fresh.access), compromised, "a new key signs at once");
    app.me(Some(&fresh.access)).await.ok("me");
    // Unknown kids do not stop the server answering.
    assert_eq!(
        app.refresh(&tokens.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
    let output = app.cli(&["keys", "retire", &compromised], None).await;
    assert!(!output.status.success(), "retiring twice is an error");
}

async fn a_key_that_does_not_open_is_never_used() {
    let app = spawn_app_with(quick_rotation).await;
    let printed = app.keys_cli(&["rotate"]).await;
    let new_kid = printed_kid(&printed);
    // Someone with write access to the database alters the new key's seal.
    let row = SigningKey::find_by_id(new_kid.clone())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut sealed = row.private_key.clone().unwrap();
    *sealed.last_mut().unwrap() ^= 1;
    let mut active = row.into_active_model();
    active.private_key = Set(Some(sealed));
    active.update(&app.db).await.unwrap();

    // An instance that opens the keys now never uses it. (One that opened
    // it before the change keeps the genuine key it holds in memory.)
    let other = app.another_instance_with(quick_rotation).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for instance in [&other] {
        assert!(
            !instance.published_kids().await.contains(&new_kid),
            "an altered key is not published"
        );
        let tokens = instance.signed_up().await;
        assert_ne!(kid(&tokens.access), new_kid, "nor does it sign");
        instance.me(Some(&tokens.access)).await.ok("me");
    }
}

async fn instances_starting_together_create_one_key() {
    let apps = spawn_instances_at_once(3).await;
    assert_eq!(SigningKey::find().count(&apps[0].db).await.unwrap(), 1);
    let kids: Vec<String> = futures::future::join_all(apps.iter().map(|a| a.published_kids()))
        .await
        .concat();
    assert!(kids.iter().all(|k| k == &kids[0]) && kids.len() == 3);
    let tokens = apps[0].signed_up().await;
    apps[2].me(Some(&tokens.access)).await.ok("me");
}

async fn automatic_rotation_happens_once_for_all_instances() {
    // A 4 s interval with 2 s ahead: the first key is due at once for its
    // successor.
    let configure = |s: &mut authql::config::Settings| {
        quick_rotation(s);
        s.jwt.rotation_interval = Duration::from_secs(4);
    };
    let a = spawn_app_with(configure).await;
    let b = a.another_instance().await;
    let rotated = time_until(Duration::from_secs(5), || async {
        SigningKey::find().count(&a.db).await.unwrap() == 2
    })
    .await;
    assert!(rotated.is_some(), "a successor is published");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        SigningKey::find().count(&a.db).await.unwrap(),
        2,
        "by exactly one instance"
    );
    let rows = SigningKey::find().all(&a.db).await.unwrap();
    let (first, second): (Vec<&signing_key::Model>, Vec<_>) =
        rows.iter().partition(|k| k.kid == a.signer.kid);
    assert_eq!(first[0].stops_signing_at, Some(second[0].starts_signing_at));
    assert!(second[0].starts_signing_at >= second[0].created_at + chrono::TimeDelta::seconds(1));
    for instance in [&a, &b] {
        assert_eq!(instance.published_kids().await.len(), 2);
    }
}

async fn instances_with_another_algorithm_do_not_replace_each_others_keys() {
    // A rolling deploy that changes AUTHQL_JWT_ALGORITHM: old and new
    // settings side by side keep the current key until the next rotation.
    let app = spawn_app_with(quick_rotation).await;
    let other = app
        .another_instance_with(|s| {
            if let authql::config::Signing::Managed { algorithm, .. } = &mut s.jwt.signing {
                *algorithm = SigningAlgorithm::Es256;
            }
        })
        .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(SigningKey::find().count(&app.db).await.unwrap(), 1);
    let tokens = other.signed_up().await;
    assert_eq!(kid(&tokens.access), app.signer.kid);
    app.me(Some(&tokens.access)).await.ok("me");
}

crate::on_every_backend!(
    instances_with_another_algorithm_do_not_replace_each_others_keys,
    the_key_set_publishes_the_public_signing_key_only,
    es256_and_rs256_sign_tokens_the_key_set_verifies,
    hs256_keeps_the_shared_secret_and_publishes_nothing,
    hasura_claims_are_added_when_asked_for,
    a_rotation_publishes_ahead_and_old_tokens_keep_working_until_retired,
    retiring_the_signing_key_puts_a_new_one_in_its_place_at_once,
    a_key_that_does_not_open_is_never_used,
    instances_starting_together_create_one_key,
    automatic_rotation_happens_once_for_all_instances,
);
