//! Access-token validation, seen through the guarded `me` query.

use serde_json::json;

use crate::helpers::{decode_jwt, impostor, now_secs, sign_jwt, spawn_app};

async fn me_returns_the_signed_in_user() {
    let app = spawn_app().await;
    let reply = app
        .register("Ada Lovelace", "Ada@Example.com", "correct horse battery")
        .await;
    let tokens = crate::helpers::Tokens::from_payload(reply.ok("register"));

    let me = app.me(Some(&tokens.access)).await;
    let user = me.ok("me");
    assert_eq!(user["id"], tokens.user_id.as_str());
    assert_eq!(user["name"], "Ada Lovelace");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["roles"], json!(["user"]));
}

async fn issued_tokens_carry_the_documented_headers_and_claims() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;

    let (access_header, access) = decode_jwt(&tokens.access);
    assert_eq!(access_header["alg"], "EdDSA", "the default algorithm");
    assert_eq!(access_header["typ"], "at+jwt");
    assert_eq!(access_header["kid"], app.signer.kid.as_str());
    assert!(
        access.get("https://hasura.io/jwt/claims").is_none(),
        "Hasura's claims only when asked for"
    );
    assert_eq!(access["xtype"], "auth");
    assert_eq!(access["iss"], "authql");
    assert_eq!(access["aud"], "authql");
    assert_eq!(access["sub"], tokens.user_id.as_str());
    assert_eq!(access["roles"], json!(["user"]));
    let lifetime = access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 15 * 60);

    let (refresh_header, refresh) = decode_jwt(&tokens.refresh);
    assert_eq!(refresh_header["typ"], "refresh+jwt");
    assert_eq!(refresh_header["kid"], app.signer.kid.as_str());
    assert_eq!(refresh["xtype"], "refresh");
    assert_eq!(refresh["xpair"], access["jti"]);
    assert_eq!(refresh["sid"], access["sid"]);
    assert_ne!(refresh["jti"], access["jti"]);
    let lifetime = refresh["exp"].as_i64().unwrap() - refresh["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 7 * 24 * 3600);
}

async fn access_tokens_say_how_and_when_the_user_signed_in_for_the_whole_session() {
    let app = spawn_app().await;
    let before = now_secs();
    let tokens = app.signed_up().await;
    let (_, registered) = decode_jwt(&tokens.access);
    assert_eq!(registered["amr"], json!(["pwd"]));
    let signed_up_at = registered["auth_time"].as_i64().expect("auth_time");
    assert!(
        (before..=now_secs()).contains(&signed_up_at),
        "{registered}"
    );

    // A login is a new proof: its own session and time.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let email = app.me(Some(&tokens.access)).await.ok("me")["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let login = crate::helpers::Tokens::from_payload(
        app.login(&email, crate::helpers::PASSWORD)
            .await
            .ok("login"),
    );
    let (_, logged_in) = decode_jwt(&login.access);
    assert_eq!(logged_in["amr"], json!(["pwd"]));
    let logged_in_at = logged_in["auth_time"].as_i64().unwrap();
    assert!(logged_in_at > signed_up_at);
    let row = app
        .session_row(crate::helpers::claim_uuid(&login.access, "sid"))
        .await;
    assert_eq!(row.auth_methods, "pwd");
    assert_eq!(
        row.authenticated_at.map(|at| at.timestamp()),
        Some(logged_in_at)
    );

    // Rotation and renewal continue the session: the same proof, the same
    // time, though the tokens are newer.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let rotated =
        crate::helpers::Tokens::from_payload(app.refresh(&login.refresh).await.ok("refresh"));
    let (_, refreshed) = decode_jwt(&rotated.access);
    assert_eq!(refreshed["amr"], json!(["pwd"]));
    assert_eq!(refreshed["auth_time"], logged_in_at);
    assert!(refreshed["iat"].as_i64().unwrap() > logged_in_at);
    let renewed = app.renew_access_token(&rotated.access).await;
    let renewed = renewed.ok("renewAccessToken")["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, renewed) = decode_jwt(&renewed);
    assert_eq!(renewed["amr"], json!(["pwd"]));
    assert_eq!(renewed["auth_time"], logged_in_at);
    // Refresh tokens say neither: they are not shown to resource servers.
    let (_, refresh) = decode_jwt(&rotated.refresh);
    assert!(refresh.get("amr").is_none() && refresh.get("auth_time").is_none());
}

async fn a_guarded_field_without_a_token_is_unauthenticated_missing() {
    let app = spawn_app().await;
    let reply = app.me(None).await;
    assert_eq!(reply.code(), Some("UNAUTHENTICATED"));
    assert_eq!(reply.reason(), Some("missing"));
    assert_eq!(reply.body["data"], serde_json::Value::Null);
}

async fn a_header_that_is_not_a_bearer_jwt_is_malformed() {
    let app = spawn_app().await;
    for header in ["Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "Bearer a.b.c"] {
        let response = app
            .post_json(
                &[("authorization", header)],
                &json!({ "query": "{ me { id } }" }),
            )
            .await;
        let reply = crate::helpers::Reply::read(response).await;
        assert_eq!(reply.code(), Some("UNAUTHENTICATED"), "{header}");
        assert_eq!(reply.reason(), Some("malformed"), "{header}");
    }
}

async fn a_tampered_payload_is_invalid() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    // Swap in a different payload but keep the original signature.
    let parts: Vec<&str> = tokens.access.split('.').collect();
    let (_, mut claims) = decode_jwt(&tokens.access);
    claims["roles"] = json!(["user", "admin"]);
    let payload = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        serde_json::to_vec(&claims).unwrap(),
    );
    let tampered = format!("{}.{}.{}", parts[0], payload, parts[2]);

    let reply = app.me(Some(&tampered)).await;
    assert_eq!(reply.code(), Some("UNAUTHENTICATED"));
    assert_eq!(reply.reason(), Some("invalid"));
}

async fn a_token_signed_with_another_secret_is_invalid() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    let forged = app.forge(&tokens.access);
    let reply = app.me(Some(&forged)).await;
    assert_eq!(reply.code(), Some("UNAUTHENTICATED"));
    assert_eq!(reply.reason(), Some("invalid"));
}

async fn alg_none_and_other_algorithms_are_rejected() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    let (_, claims) = decode_jwt(&tokens.access);
    let encode = |v: &serde_json::Value| {
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            serde_json::to_vec(v).unwrap(),
        )
    };
    let unsigned = format!(
        "{}.{}.",
        encode(&json!({ "alg": "none", "typ": "at+jwt" })),
        encode(&claims)
    );
    let reply = app.me(Some(&unsigned)).await;
    assert_eq!(reply.code(), Some("UNAUTHENTICATED"));
    assert_eq!(reply.reason(), Some("invalid"));

    // Algorithm confusion: HS256 keyed with the published public key, under
    // the server's own kid. The key names its algorithm; HS256 is not it.
    let jwks: serde_json::Value = app
        .client
        .get(format!("{}/.well-known/jwks.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = app.signer.kid.clone();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("the signing key is published");
    for secret in [
        key["x"].as_str().unwrap().as_bytes().to_vec(),
        base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            key["x"].as_str().unwrap(),
        )
        .unwrap(),
        key.to_string().into_bytes(),
    ] {
        for alg in [
            jsonwebtoken::Algorithm::HS256,
            jsonwebtoken::Algorithm::HS512,
        ] {
            let confused = jsonwebtoken::encode(
                &jsonwebtoken::Header {
                    typ: Some("at+jwt".into()),
                    kid: Some(kid.clone()),
                    ..jsonwebtoken::Header::new(alg)
                },
                &claims,
                &jsonwebtoken::EncodingKey::from_secret(&secret),
            )
            .unwrap();
            let reply = app.me(Some(&confused)).await;
            assert_eq!(reply.reason(), Some("invalid"), "{alg:?}");
        }
    }

    // A genuine signature under a kid the server does not know.
    let unknown_kid = app.resign(&tokens.access, |header, _| {
        header["kid"] = json!("no-such-key");
    });
    assert_eq!(app.me(Some(&unknown_kid)).await.reason(), Some("invalid"));
    // And with no kid at all.
    let no_kid = app.resign(&tokens.access, |header, _| {
        header.as_object_mut().unwrap().remove("kid");
    });
    assert_eq!(app.me(Some(&no_kid)).await.reason(), Some("invalid"));
}

async fn an_expired_access_token_is_unauthenticated_expired() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    // Past the 5 s leeway.
    let expired = app.resign(&tokens.access, |_, claims| {
        claims["exp"] = json!(now_secs() - 6);
    });
    let reply = app.me(Some(&expired)).await;
    assert_eq!(reply.code(), Some("UNAUTHENTICATED"));
    assert_eq!(reply.reason(), Some("expired"));

    // Within the leeway it is still accepted.
    let barely = app.resign(&tokens.access, |_, claims| {
        claims["exp"] = json!(now_secs() - 2);
    });
    app.me(Some(&barely)).await.ok("me");
}

async fn a_token_not_yet_valid_is_invalid() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    let early = app.resign(&tokens.access, |_, claims| {
        claims["nbf"] = json!(now_secs() + 60);
    });
    assert_eq!(app.me(Some(&early)).await.reason(), Some("invalid"));
}

async fn a_wrong_or_missing_issuer_or_audience_is_invalid() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    let changes: [(&str, Option<serde_json::Value>); 4] = [
        ("iss", Some(json!("someone-else"))),
        ("aud", Some(json!("another-api"))),
        ("iss", None),
        ("aud", None),
    ];
    for (claim, value) in changes {
        let token = app.resign(&tokens.access, |_, claims| match &value {
            Some(value) => claims[claim] = value.clone(),
            None => {
                claims.as_object_mut().unwrap().remove(claim);
            }
        });
        let reply = app.me(Some(&token)).await;
        assert_eq!(reply.code(), Some("UNAUTHENTICATED"), "{claim} = {value:?}");
        assert_eq!(reply.reason(), Some("invalid"), "{claim} = {value:?}");
    }
}

async fn a_refresh_token_sent_as_bearer_is_misused() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    let reply = app.me(Some(&tokens.refresh)).await;
    assert_eq!(reply.code(), Some("TOKEN_MISUSED"));
}

async fn a_typ_header_and_xtype_that_disagree_are_invalid() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    let plain_jwt = app.resign(&tokens.access, |header, _| header["typ"] = json!("JWT"));
    assert_eq!(app.me(Some(&plain_jwt)).await.reason(), Some("invalid"));
    let refresh_typed = app.resign(&tokens.access, |header, _| {
        header["typ"] = json!("refresh+jwt")
    });
    assert_eq!(app.me(Some(&refresh_typed)).await.reason(), Some("invalid"));
}

async fn public_fields_still_work_with_a_bad_authorization_header() {
    let app = spawn_app().await;
    let email = "grace@example.com";
    app.register("Grace Hopper", email, "correct horse battery")
        .await
        .ok("register");
    let garbage = sign_jwt(
        &json!({ "alg": "HS256" }),
        &json!({ "sub": "x" }),
        &impostor(&app.signer),
    );
    let reply = app
        .graphql(
            "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
            json!({ "input": { "email": email, "password": "correct horse battery" } }),
            Some(&garbage),
        )
        .await;
    assert!(reply.ok("login")["accessToken"].is_string());
}

async fn a_token_naming_another_user_for_a_session_is_invalid() {
    let app = spawn_app().await;
    let ada = app.signed_up().await;
    let eve = app.signed_up().await;
    // Correctly signed (the secret leaked, say), but Eve's session with Ada's id.
    let crossed = app.resign(&eve.access, |_, claims| {
        claims["sub"] = json!(ada.user_id);
    });
    let reply = app.me(Some(&crossed)).await;
    assert_eq!(reply.code(), Some("UNAUTHENTICATED"));
    assert_eq!(reply.reason(), Some("invalid"));
}

async fn a_token_issued_in_the_future_or_living_too_long_is_invalid() {
    let app = spawn_app().await;
    let tokens = app.signed_up().await;
    let future = app.resign(&tokens.access, |_, claims| {
        claims["iat"] = json!(now_secs() + 3600);
    });
    let year_3000 = app.resign(&tokens.access, |_, claims| {
        claims["exp"] = json!(32_503_680_000_i64);
    });
    for token in [&future, &year_3000] {
        let reply = app.me(Some(token)).await;
        assert_eq!(reply.code(), Some("UNAUTHENTICATED"), "{}", reply.body);
        assert_eq!(reply.reason(), Some("invalid"));
    }
    // The same rules hold for refresh tokens.
    let forever = app.resign(&tokens.refresh, |_, claims| {
        claims["exp"] = json!(32_503_680_000_i64);
    });
    let reply = app.refresh(&forever).await;
    assert_eq!(reply.code(), Some("INVALID_REFRESH_TOKEN"));
    // Within the leeway a slightly fast clock is still fine.
    let skewed = app.resign(&tokens.access, |_, claims| {
        claims["iat"] = json!(claims["iat"].as_i64().unwrap() + 3);
    });
    assert!(app.me(Some(&skewed)).await.ok("me")["id"].is_string());
}

crate::on_every_backend!(
    a_token_naming_another_user_for_a_session_is_invalid,
    me_returns_the_signed_in_user,
    issued_tokens_carry_the_documented_headers_and_claims,
    access_tokens_say_how_and_when_the_user_signed_in_for_the_whole_session,
    a_guarded_field_without_a_token_is_unauthenticated_missing,
    a_header_that_is_not_a_bearer_jwt_is_malformed,
    a_tampered_payload_is_invalid,
    a_token_signed_with_another_secret_is_invalid,
    alg_none_and_other_algorithms_are_rejected,
    an_expired_access_token_is_unauthenticated_expired,
    a_token_not_yet_valid_is_invalid,
    a_wrong_or_missing_issuer_or_audience_is_invalid,
    a_refresh_token_sent_as_bearer_is_misused,
    a_typ_header_and_xtype_that_disagree_are_invalid,
    public_fields_still_work_with_a_bad_authorization_header,
    a_token_issued_in_the_future_or_living_too_long_is_invalid,
);
