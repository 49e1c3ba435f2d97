//! Signing in with an OpenID provider, against a real one run locally (see
//! `oidc.rs`): the flow, the linking rules, and the attacks on both.

use std::time::{Duration, Instant};

use authql::config::{ProviderConfig, ProviderSettings, RedirectAllowList, ResponseMode, Settings};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use url::Url;

use crate::helpers::{AUTH_PAYLOAD, PASSWORD, Reply, TestApp, Tokens, decode_jwt, spawn_app_with};
use crate::mailbox::{through, verify};
use crate::oidc::{
    Browser, CLIENT_ID, CLIENT_SECRET, OTHER_CLIENT_ID, OidcProvider, PUBLIC_URL, ProviderAnswer,
    REDIRECT_TO, Standin, pkce,
};
use crate::smtp::SmtpSink;

/// The provider's id in authql.
const ACME: &str = "acme";

/// Settings with `provider` as `acme`, changed by `change`.
fn with_provider(
    provider: &OidcProvider,
    change: impl FnOnce(&mut ProviderConfig),
) -> impl FnOnce(&mut Settings) {
    let mut config = ProviderConfig::oidc(ACME, &provider.issuer, CLIENT_ID, CLIENT_SECRET);
    config.name = "Acme ID".into();
    change(&mut config);
    move |settings: &mut Settings| {
        settings.providers = ProviderSettings {
            providers: vec![config],
            public_url: Some(Url::parse(PUBLIC_URL).unwrap()),
            redirect_urls: RedirectAllowList::parse(&[REDIRECT_TO.to_owned()]).unwrap(),
            timeout: Duration::from_secs(2),
        };
    }
}

async fn start(app: &TestApp, redirect_to: &str, challenge: &str) -> Reply {
    app.graphql(
        "mutation($input: StartProviderInput!) { startProviderSignIn(input: $input) { authorizationUrl expiresAt } }",
        json!({ "input": { "provider": ACME, "redirectTo": redirect_to, "codeChallenge": challenge } }),
        None,
    )
    .await
}

/// The browser takes the provider's answer to `app` (the public URL is the
/// app's address behind a proxy); the response, unfollowed.
async fn deliver(app: &TestApp, answer: &ProviderAnswer) -> reqwest::Response {
    let local = |url: &Url| {
        let path_and_query = &url.as_str()[url.origin().ascii_serialization().len()..];
        format!("{}{path_and_query}", app.address)
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    match answer {
        ProviderAnswer::Redirect(url) => client.get(local(url)).send().await.unwrap(),
        ProviderAnswer::FormPost(url, fields) => {
            client.post(local(url)).form(fields).send().await.unwrap()
        }
    }
}

/// Where a callback's 303 sends the browser.
fn landing(response: &reqwest::Response) -> Url {
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "the callback redirects"
    );
    Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

async fn complete(app: &TestApp, code: &str, verifier: &str) -> Reply {
    app.graphql(
        &format!(
            "mutation($input: CompleteProviderInput!) {{ completeProviderSignIn(input: $input) {{ {AUTH_PAYLOAD} }} }}"
        ),
        json!({ "input": { "code": code, "codeVerifier": verifier } }),
        None,
    )
    .await
}

/// A whole sign-in as `login` at the provider: where the browser landed.
async fn land(app: &TestApp, login: &str) -> (Url, String) {
    let (verifier, challenge) = pkce();
    let started = start(app, REDIRECT_TO, &challenge).await;
    let url = started.ok("startProviderSignIn")["authorizationUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = Browser::default().sign_in_at_provider(&url, login).await;
    (landing(&deliver(app, &answer).await), verifier)
}

/// A whole sign-in as `login`, completed.
async fn sign_in_as(app: &TestApp, login: &str) -> Reply {
    let (landed, verifier) = land(app, login).await;
    let code = param(&landed, "code")
        .unwrap_or_else(|| panic!("the browser came back with a code, not {landed}"));
    complete(app, &code, &verifier).await
}

async fn me(app: &TestApp, bearer: &str) -> Value {
    app.graphql(
        "{ me { id email emailVerified identities { provider email linkedAt } } }",
        json!({}),
        Some(bearer),
    )
    .await
    .ok("me")
    .clone()
}

crate::on_every_backend_with!(
    provider_tests, "AUTHQL_TEST_OIDC_PROVIDER is not set";
    a_first_sign_in_makes_an_account_and_the_next_signs_in_to_it,
    a_verified_address_links_to_the_verified_account_with_a_notice,
    an_address_the_provider_does_not_vouch_for_never_links,
    the_owner_of_an_address_takes_back_an_account_someone_else_registered_with_it,
    the_providers_answer_is_good_once,
    a_forged_or_missing_state_goes_nowhere,
    an_id_token_with_another_nonce_or_for_another_client_is_refused,
    a_key_rotation_at_the_provider_is_followed,
    the_code_is_traded_once_and_only_with_the_verifier,
    a_redirect_outside_the_list_is_refused_before_the_browser_leaves,
    a_provider_that_posts_its_answer_is_heard,
    a_provider_that_is_down_or_hangs_gives_a_clear_error,
    a_sign_in_started_on_one_instance_finishes_on_another,
    linking_and_unlinking_follow_the_rules,
    sign_up_can_be_closed_and_cancelling_comes_back_as_an_error,
);

async fn a_first_sign_in_makes_an_account_and_the_next_signs_in_to_it() {
    let provider = OidcProvider::start(ACME).await;
    let app = spawn_app_with(with_provider(&provider, |_| {})).await;

    let listed = app
        .graphql("{ signInProviders { id name } }", json!({}), None)
        .await;
    assert_eq!(
        listed.ok("signInProviders"),
        &json!([{ "id": "acme", "name": "Acme ID" }])
    );

    let first = sign_in_as(&app, "alice").await;
    let payload = first.ok("completeProviderSignIn");
    assert_eq!(payload["user"]["email"], "alice@example.com");
    assert_eq!(payload["user"]["name"], "Alice Provider");
    let tokens = Tokens::from_payload(payload);
    let (_, claims) = decode_jwt(&tokens.access);
    assert_eq!(claims["amr"], json!(["fed"]));
    let shown = me(&app, &tokens.access).await;
    assert_eq!(shown["emailVerified"], true, "the provider vouched for it");
    assert_eq!(shown["identities"][0]["provider"], "acme");
    assert_eq!(shown["identities"][0]["email"], "alice@example.com");

    let second = sign_in_as(&app, "alice").await;
    assert_eq!(
        second.ok("completeProviderSignIn")["user"]["id"],
        payload["user"]["id"],
        "the same user"
    );
    // The account has no password: a password answers as a wrong one does.
    let login = app.login("alice@example.com", PASSWORD).await;
    assert_eq!(login.code(), Some("INVALID_CREDENTIALS"));
    let kinds = app.event_kinds().await;
    assert!(kinds.contains(&"registered".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"login_succeeded".to_owned()), "{kinds:?}");
}

async fn a_verified_address_links_to_the_verified_account_with_a_notice() {
    let provider = OidcProvider::start(ACME).await;
    let sink = SmtpSink::start().await;
    let mail = through(&sink);
    let app = spawn_app_with(|s| {
        mail(s);
        with_provider(&provider, |_| {})(s);
    })
    .await;
    let registered = app.register("Bob", "bob@example.com", PASSWORD).await;
    let bob = Tokens::from_payload(registered.ok("register"));
    let link = sink.mail_to("bob@example.com", "Confirm").await;
    verify(&app, &link.token()).await.ok("verifyEmail");

    let signed_in = sign_in_as(&app, "bob").await;
    assert_eq!(
        signed_in.ok("completeProviderSignIn")["user"]["id"],
        bob.user_id
    );
    let notice = sink
        .mail_to("bob@example.com", "Acme ID account was linked")
        .await;
    assert!(notice.text.contains("Acme ID"), "{}", notice.text);
    // The password still works: nothing was taken from the owner.
    app.login("bob@example.com", PASSWORD).await.ok("login");
}

async fn an_address_the_provider_does_not_vouch_for_never_links() {
    let provider = OidcProvider::start(ACME).await;
    let app = spawn_app_with(with_provider(&provider, |_| {})).await;
    let owner = app.register("Owner", "victim@example.com", PASSWORD).await;
    owner.ok("register");

    // mallory's provider account claims the address, unverified.
    let (landed, _) = land(&app, "mallory").await;
    assert_eq!(param(&landed, "error").as_deref(), Some("ACCOUNT_EXISTS"));
    assert_eq!(param(&landed, "code"), None);
    assert_eq!(landed.path(), "/signed-in");
    // The account is untouched.
    app.login("victim@example.com", PASSWORD).await.ok("login");
}

async fn the_owner_of_an_address_takes_back_an_account_someone_else_registered_with_it() {
    let provider = OidcProvider::start(ACME).await;
    let app = spawn_app_with(with_provider(&provider, |_| {})).await;
    // An attacker registers the victim's address before the victim arrives,
    // and keeps a session open.
    let squatter = app
        .register("Squatter", "victim@example.com", PASSWORD)
        .await;
    let squatter = Tokens::from_payload(squatter.ok("register"));

    let victim = sign_in_as(&app, "victim").await;
    let victim = Tokens::from_payload(victim.ok("completeProviderSignIn"));
    assert_eq!(
        victim.user_id, squatter.user_id,
        "the account is the address owner's now"
    );
    let shown = me(&app, &victim.access).await;
    assert_eq!(shown["emailVerified"], true);

    // The attacker's password and sessions are gone.
    assert_eq!(
        app.login("victim@example.com", PASSWORD).await.code(),
        Some("INVALID_CREDENTIALS")
    );
    assert_eq!(
        app.refresh(&squatter.refresh).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
    assert_eq!(
        app.me(Some(&squatter.access)).await.code(),
        Some("UNAUTHENTICATED")
    );
    let detail = entity::auth_event::Entity::find()
        .filter(entity::auth_event::Column::Kind.eq("identity_linked"))
        .one(&app.db)
        .await
        .unwrap()
        .and_then(|event| event.detail);
    assert_eq!(detail.as_deref(), Some("acme:claimed"));
}

async fn the_providers_answer_is_good_once() {
    let provider = OidcProvider::start(ACME).await;
    let app = spawn_app_with(with_provider(&provider, |_| {})).await;
    let (_, challenge) = pkce();
    let url = start_with(&app, ACME, &challenge).await;
    let answer = Browser::default().sign_in_at_provider(&url, "alice").await;
    let first = deliver(&app, &answer).await;
    assert!(param(&landing(&first), "code").is_some());

    let replayed = deliver(&app, &answer).await;
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(replayed.headers()["cache-control"], "no-store");
    let page = replayed.text().await.unwrap();
    assert!(page.contains("INVALID_TOKEN"), "{page}");
}

async fn a_forged_or_missing_state_goes_nowhere() {
    let provider = OidcProvider::start(ACME).await;
    let app = spawn_app_with(with_provider(&provider, |_| {})).await;
    let (_, challenge) = pkce();
    let url = start_with(&app, ACME, &challenge).await;
    let ProviderAnswer::Redirect(genuine) =
        Browser::default().sign_in_at_provider(&url, "alice").await
    else {
        panic!("a redirect")
    };
    let code = param(&genuine, "code").unwrap();
    for query in [
        format!("code={code}"),
        format!("code={code}&state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        format!("code={code}&state=not-a-state"),
    ] {
        let forged = Url::parse(&format!("{PUBLIC_URL}/auth/callback/acme?{query}")).unwrap();
        let response = deliver(&app, &ProviderAnswer::Redirect(forged)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(response.headers().get("location").is_none());
    }
    // The genuine answer still works: the forgeries used nothing up.
    let response = deliver(&app, &ProviderAnswer::Redirect(genuine)).await;
    assert!(param(&landing(&response), "code").is_some());
    // An unknown provider has no callback.
    let other = Url::parse(&format!("{PUBLIC_URL}/auth/callback/other?code=x&state=y")).unwrap();
    let response = deliver(&app, &ProviderAnswer::Redirect(other)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("PROVIDER_NOT_FOUND")
    );
}

async fn an_id_token_with_another_nonce_or_for_another_client_is_refused() {
    let provider = OidcProvider::start(ACME).await;
    let app = spawn_app_with(with_provider(&provider, |_| {})).await;

    // The nonce sent to the provider is swapped on the way: the ID token
    // carries another one.
    let (_, challenge) = pkce();
    let url = start_with(&app, ACME, &challenge).await;
    let mut swapped = Url::parse(&url).unwrap();
    let pairs: Vec<(String, String)> = swapped
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "nonce" {
                "attacker-nonce".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    swapped.query_pairs_mut().clear().extend_pairs(pairs);
    let answer = Browser::default()
        .sign_in_at_provider(swapped.as_str(), "alice")
        .await;
    let landed = landing(&deliver(&app, &answer).await);
    assert_eq!(
        param(&landed, "error").as_deref(),
        Some("PROVIDER_ANSWER_INVALID")
    );

    // A code the provider issued to another client is not traded.
    let (_, challenge) = pkce();
    let url = start_with(&app, ACME, &challenge).await;
    let mut other = Url::parse(&url).unwrap();
    let pairs: Vec<(String, String)> = other
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "client_id" {
                OTHER_CLIENT_ID.into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    other.query_pairs_mut().clear().extend_pairs(pairs);
    let answer = Browser::default()
        .sign_in_at_provider(other.as_str(), "alice")
        .await;
    let landed = landing(&deliver(&app, &answer).await);
    assert_eq!(param(&landed, "error").as_deref(), Some("PROVIDER_REFUSED"));

    // A genuine ID token, signed by the provider, for another audience.
    provider.issue_for_audience(OTHER_CLIENT_ID).await;
    let (landed, _) = land(&app, "alice").await;
    assert_eq!(
        param(&landed, "error").as_deref(),
        Some("PROVIDER_ANSWER_INVALID")
    );
    // Or for authql and another, authorized to the other (`azp`).
    provider
        .issue_for_audience(
            &json!({ "aud": [CLIENT_ID, OTHER_CLIENT_ID], "azp": OTHER_CLIENT_ID }).to_string(),
        )
        .await;
    let (landed, _) = land(&app, "alice").await;
    assert_eq!(
        param(&landed, "error").as_deref(),
        Some("PROVIDER_ANSWER_INVALID")
    );
    assert_eq!(
        app.event_kinds()
            .await
            .iter()
            .filter(|k| *k == "registered")
            .count(),
        0
    );
}

async fn a_key_rotation_at_the_provider_is_followed() {
    let mut provider = OidcProvider::start(ACME).await;
    let app = spawn_app_with(with_provider(&provider, |_| {})).await;
    let before = sign_in_as(&app, "alice").await;
    let user = before.ok("completeProviderSignIn")["user"]["id"].clone();
    // A new signing key (and kid) at the same issuer.
    provider.restart().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = sign_in_as(&app, "alice").await;
    assert_eq!(after.ok("completeProviderSignIn")["user"]["id"], user);
}

async fn the_code_is_traded_once_and_only_with_the_verifier() {
    let provider = OidcProvider::start(ACME).await;
    let app = spawn_app_with(with_provider(&provider, |_| {})).await;

    let (landed, verifier) = land(&app, "alice").await;
    let code = param(&landed, "code").unwrap();
    let (wrong, _) = pkce();
    let refused = complete(&app, &code, &wrong).await;
    assert_eq!(refused.code(), Some("INVALID_TOKEN"));
    // A wrong verifier used the code up.
    assert_eq!(
        complete(&app, &code, &verifier).await.code(),
        Some("INVALID_TOKEN")
    );

    let (landed, verifier) = land(&app, "alice").await;
    let code = param(&landed, "code").unwrap();
    complete(&app, &code, &verifier)
        .await
        .ok("completeProviderSignIn");
    assert_eq!(
        complete(&app, &code, &verifier).await.code(),
        Some("INVALID_TOKEN")
    );
    assert!(
        !landed.as_str().contains("eyJ"),
        "no token in a URL: {landed}"
    );
}

async fn a_redirect_outside_the_list_is_refused_before_the_browser_leaves() {
    let provider = OidcProvider::start(ACME).await;
    let app = spawn_app_with(with_provider(&provider, |_| {})).await;
    let (_, challenge) = pkce();
    for redirect in [
        "https://evil.test/signed-in",
        "http://app.test/elsewhere",
        "http://app.test.evil.test/signed-in",
        "javascript:alert(1)",
        "http://app.test/signed-in#fragment",
    ] {
        let refused = start(&app, redirect, &challenge).await;
        assert_eq!(refused.code(), Some("REDIRECT_NOT_ALLOWED"), "{redirect}");
    }
    let bad = start(&app, REDIRECT_TO, "plain").await;
    assert_eq!(bad.code(), Some("BAD_USER_INPUT"));
    let unknown = app
        .graphql(
            "mutation($input: StartProviderInput!) { startProviderSignIn(input: $input) { authorizationUrl } }",
            json!({ "input": { "provider": "nope", "redirectTo": REDIRECT_TO, "codeChallenge": challenge } }),
            None,
        )
        .await;
    assert_eq!(unknown.code(), Some("PROVIDER_NOT_FOUND"));
    // A query of the frontend's own is kept, with the code added.
    let allowed = start(&app, &format!("{REDIRECT_TO}?next=%2Fcart"), &challenge).await;
    let url = allowed.ok("startProviderSignIn")["authorizationUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = Browser::default().sign_in_at_provider(&url, "alice").await;
    let landed = landing(&deliver(&app, &answer).await);
    assert_eq!(param(&landed, "next").as_deref(), Some("/cart"));
    assert!(param(&landed, "code").is_some());
}

async fn a_provider_that_posts_its_answer_is_heard() {
    let provider = OidcProvider::start(ACME).await;
    let app = spawn_app_with(with_provider(&provider, |config| {
        config.response_mode = ResponseMode::FormPost;
    }))
    .await;
    let (verifier, challenge) = pkce();
    let url = start_with(&app, ACME, &challenge).await;
    assert!(url.contains("response_mode=form_post"), "{url}");
    let answer = Browser::default().sign_in_at_provider(&url, "carol").await;
    assert!(matches!(answer, ProviderAnswer::FormPost(..)), "{answer:?}");
    assert!(answer.query("code").is_some() && answer.query("state").is_some());
    let landed = landing(&deliver(&app, &answer).await);
    let code = param(&landed, "code").unwrap();
    let signed_in = complete(&app, &code, &verifier).await;
    assert_eq!(
        signed_in.ok("completeProviderSignIn")["user"]["email"],
        "carol@example.com"
    );
}

async fn a_provider_that_is_down_or_hangs_gives_a_clear_error() {
    let mut provider = OidcProvider::start(ACME).await;
    let app = spawn_app_with(with_provider(&provider, |_| {})).await;
    // Known, then hung at the token endpoint: the answer fails within the
    // timeout (2 s here), the browser comes back with the reason.
    let (_, challenge) = pkce();
    let url = start_with(&app, ACME, &challenge).await;
    let answer = Browser::default().sign_in_at_provider(&url, "alice").await;
    provider.hang().await;
    let began = Instant::now();
    let landed = landing(&deliver(&app, &answer).await);
    assert_eq!(
        param(&landed, "error").as_deref(),
        Some("PROVIDER_UNAVAILABLE")
    );
    assert!(
        began.elapsed() < Duration::from_secs(6),
        "{:?}",
        began.elapsed()
    );

    // Down: a new server has never reached it.
    provider.stop().await;
    let fresh = spawn_app_with(with_provider(&provider, |_| {})).await;
    let began = Instant::now();
    let refused = start(&fresh, REDIRECT_TO, &challenge).await;
    assert_eq!(refused.code(), Some("PROVIDER_UNAVAILABLE"));
    assert!(began.elapsed() < Duration::from_secs(6));
    // authql itself is fine.
    app.signed_up().await;
}

async fn a_sign_in_started_on_one_instance_finishes_on_another() {
    let provider = OidcProvider::start(ACME).await;
    let first = spawn_app_with(with_provider(&provider, |_| {})).await;
    let second = first
        .another_instance_with(with_provider(&provider, |_| {}))
        .await;
    let (verifier, challenge) = pkce();
    let url = start_with(&first, ACME, &challenge).await;
    let answer = Browser::default().sign_in_at_provider(&url, "alice").await;
    let landed = landing(&deliver(&second, &answer).await);
    let code = param(&landed, "code").unwrap();
    let signed_in = complete(&first, &code, &verifier).await;
    assert_eq!(
        signed_in.ok("completeProviderSignIn")["user"]["email"],
        "alice@example.com"
    );
}

async fn start_link(app: &TestApp, bearer: &str, challenge: &str) -> Reply {
    app.graphql(
        "mutation($input: StartProviderInput!) { startProviderLink(input: $input) { authorizationUrl } }",
        json!({ "input": { "provider": ACME, "redirectTo": REDIRECT_TO, "codeChallenge": challenge } }),
        Some(bearer),
    )
    .await
}

async fn link(app: &TestApp, bearer: &str, login: &str) -> Reply {
    let (verifier, challenge) = pkce();
    let url = start_link(app, bearer, &challenge)
        .await
        .ok("startProviderLink")["authorizationUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = Browser::default().sign_in_at_provider(&url, login).await;
    let landed = landing(&deliver(app, &answer).await);
    let Some(code) = param(&landed, "code") else {
        return Reply {
            status: StatusCode::OK,
            content_type: String::new(),
            body: json!({ "errors": [{ "extensions": { "code": param(&landed, "error") } }] }),
        };
    };
    app.graphql(
        "mutation($input: CompleteProviderInput!) { completeProviderLink(input: $input) { id identities { provider email } } }",
        json!({ "input": { "code": code, "codeVerifier": verifier } }),
        Some(bearer),
    )
    .await
}

async fn unlink(app: &TestApp, bearer: &str) -> Reply {
    app.graphql(
        "mutation { unlinkProvider(provider: \"acme\") { id identities { provider } } }",
        json!({}),
        Some(bearer),
    )
    .await
}

async fn linking_and_unlinking_follow_the_rules() {
    let provider = OidcProvider::start(ACME).await;
    let app = spawn_app_with(with_provider(&provider, |_| {})).await;

    // A password account links carol's provider account (address differs).
    let user = app.register("Dana", "dana@example.com", PASSWORD).await;
    let dana = Tokens::from_payload(user.ok("register"));
    let linked = link(&app, &dana.access, "carol").await;
    assert_eq!(
        linked.ok("completeProviderLink")["identities"],
        json!([{ "provider": "acme", "email": "carol@example.com" }])
    );
    // Signing in through it reaches dana.
    let through = sign_in_as(&app, "carol").await;
    assert_eq!(
        through.ok("completeProviderSignIn")["user"]["id"],
        dana.user_id
    );

    // Another user cannot link the same provider account.
    let other = app.signed_up().await;
    let refused = link(&app, &other.access, "carol").await;
    assert_eq!(refused.code(), Some("IDENTITY_ALREADY_LINKED"));

    // Dana has a password: unlinking is allowed.
    let unlinked = unlink(&app, &dana.access).await;
    assert_eq!(unlinked.ok("unlinkProvider")["identities"], json!([]));
    assert_eq!(
        unlink(&app, &dana.access).await.code(),
        Some("PROVIDER_NOT_FOUND")
    );

    // A provider-only account cannot remove its last way in.
    let alice = sign_in_as(&app, "alice").await;
    let alice = Tokens::from_payload(alice.ok("completeProviderSignIn"));
    assert_eq!(
        unlink(&app, &alice.access).await.code(),
        Some("LAST_SIGN_IN_METHOD")
    );

    // Linking needs an access token, and a recent sign-in.
    let (_, challenge) = pkce();
    let anonymous = app
        .graphql(
            "mutation($input: StartProviderInput!) { startProviderLink(input: $input) { authorizationUrl } }",
            json!({ "input": { "provider": ACME, "redirectTo": REDIRECT_TO, "codeChallenge": challenge } }),
            None,
        )
        .await;
    assert_eq!(anonymous.code(), Some("UNAUTHENTICATED"));
    let stale = app.resign(&dana.access, |_, claims| {
        claims["auth_time"] = json!(crate::helpers::now_secs() - 11 * 60);
    });
    assert_eq!(
        start_link(&app, &stale, &challenge).await.code(),
        Some("RECENT_SIGN_IN_REQUIRED")
    );
    // A link's code cannot be traded by someone else's session.
    let (verifier, challenge) = pkce();
    let url = start_link(&app, &dana.access, &challenge)
        .await
        .ok("startProviderLink")["authorizationUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = Browser::default().sign_in_at_provider(&url, "bob").await;
    let code = param(&landing(&deliver(&app, &answer).await), "code").unwrap();
    let stolen = app
        .graphql(
            "mutation($input: CompleteProviderInput!) { completeProviderLink(input: $input) { id } }",
            json!({ "input": { "code": code, "codeVerifier": verifier } }),
            Some(&other.access),
        )
        .await;
    assert_eq!(stolen.code(), Some("INVALID_TOKEN"));
}

async fn sign_up_can_be_closed_and_cancelling_comes_back_as_an_error() {
    let provider = OidcProvider::start(ACME).await;
    let app = spawn_app_with(with_provider(&provider, |config| {
        config.allow_sign_up = false;
    }))
    .await;
    let (landed, _) = land(&app, "alice").await;
    assert_eq!(param(&landed, "error").as_deref(), Some("SIGN_UP_DISABLED"));
    // Without an address there is nothing to make an account with.
    let (landed, _) = land(&app, "nomail").await;
    assert_eq!(
        param(&landed, "error").as_deref(),
        Some("PROVIDER_EMAIL_MISSING")
    );

    let (_, challenge) = pkce();
    let url = start_with(&app, ACME, &challenge).await;
    let answer = Browser::default().cancel_at_provider(&url).await;
    let landed = landing(&deliver(&app, &answer).await);
    assert_eq!(param(&landed, "error").as_deref(), Some("PROVIDER_REFUSED"));
}

/// A P-256 key in PKCS#8, as Apple's `.p8` files hold a team's key (made for
/// these tests).
const APPLE_TEAM_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg5H5aPQLJ0RhInLfD
I5X5NImQZYDubrGrpCJ90tVa3GahRANCAATBLdMs9J8t+LnbcsFENQ6yVtWtVs8J
8A0srLWhIfwmNyPyA5ndKjPpn4IVDLgouhPMpFWV3O0jXweF6M8ggZD8
-----END PRIVATE KEY-----
";

/// Settings with a provider `id` of `kind` configured through the
/// environment's variables, as an operator would.
fn with_configured(id: &'static str, vars: Vec<(String, String)>) -> impl FnOnce(&mut Settings) {
    move |settings: &mut Settings| {
        use clap::Parser;
        let cli = authql::config::Cli::try_parse_from([
            "authql",
            "--providers",
            id,
            "--public-url",
            PUBLIC_URL,
            "--redirect-urls",
            REDIRECT_TO,
            "--provider-timeout",
            "2s",
        ])
        .unwrap();
        let lookup: std::collections::HashMap<String, String> = vars.into_iter().collect();
        settings.providers = cli
            .settings
            .providers
            .resolve(authql::config::Environment::Development, |name| {
                lookup.get(name).cloned()
            })
            .expect("the provider's variables are complete");
    }
}

async fn start_with(app: &TestApp, provider: &str, challenge: &str) -> String {
    app.graphql(
        "mutation($input: StartProviderInput!) { startProviderSignIn(input: $input) { authorizationUrl } }",
        json!({ "input": { "provider": provider, "redirectTo": REDIRECT_TO, "codeChallenge": challenge } }),
        None,
    )
    .await
    .ok("startProviderSignIn")["authorizationUrl"]
    .as_str()
    .unwrap()
    .to_owned()
}

/// A whole sign-in through `provider` as `login`: where the browser landed.
async fn land_at(app: &TestApp, provider: &str, login: &str) -> (Url, String) {
    let (verifier, challenge) = pkce();
    let url = start_with(app, provider, &challenge).await;
    let answer = Browser::default().sign_in_at_provider(&url, login).await;
    (landing(&deliver(app, &answer).await), verifier)
}

crate::on_every_backend_with!(
    provider_tests, "AUTHQL_TEST_OIDC_PROVIDER is not set";
    github_vouches_only_for_its_verified_primary_address,
    apple_posts_its_answer_names_the_user_once_and_checks_the_signed_client_secret,
);

async fn github_vouches_only_for_its_verified_primary_address() {
    let github = Standin::github(
        "github",
        json!({
            "octocat": { "id": 583231, "name": "The Octocat", "emails": [
                { "email": "octocat@example.com", "primary": true, "verified": true },
                { "email": "other@example.com", "primary": false, "verified": true },
            ] },
            "sneaky": { "id": 666, "name": null, "emails": [
                { "email": "owner@example.com", "primary": true, "verified": false },
            ] },
        }),
    )
    .await;
    let vars = vec![
        (
            "AUTHQL_PROVIDER_GITHUB_CLIENT_ID".to_owned(),
            CLIENT_ID.to_owned(),
        ),
        (
            "AUTHQL_PROVIDER_GITHUB_CLIENT_SECRET".to_owned(),
            CLIENT_SECRET.to_owned(),
        ),
        (
            "AUTHQL_PROVIDER_GITHUB_URL".to_owned(),
            github.address.clone(),
        ),
        (
            "AUTHQL_PROVIDER_GITHUB_API_URL".to_owned(),
            github.address.clone(),
        ),
    ];
    let app = spawn_app_with(with_configured("github", vars)).await;
    let listed = app
        .graphql("{ signInProviders { id name } }", json!({}), None)
        .await;
    assert_eq!(
        listed.ok("signInProviders"),
        &json!([{ "id": "github", "name": "GitHub" }])
    );

    let (landed, verifier) = land_at(&app, "github", "octocat").await;
    let signed_in = complete(&app, &param(&landed, "code").unwrap(), &verifier).await;
    let payload = signed_in.ok("completeProviderSignIn");
    assert_eq!(payload["user"]["email"], "octocat@example.com");
    assert_eq!(payload["user"]["name"], "The Octocat");
    let tokens = Tokens::from_payload(payload);
    let shown = me(&app, &tokens.access).await;
    assert_eq!(shown["emailVerified"], true);
    assert_eq!(shown["identities"][0]["provider"], "github");

    // An unverified primary address never links to the account that has it.
    app.register("Owner", "owner@example.com", PASSWORD)
        .await
        .ok("register");
    let (landed, _) = land_at(&app, "github", "sneaky").await;
    assert_eq!(param(&landed, "error").as_deref(), Some("ACCOUNT_EXISTS"));
    app.login("owner@example.com", PASSWORD).await.ok("login");
}

async fn apple_posts_its_answer_names_the_user_once_and_checks_the_signed_client_secret() {
    let apple = Standin::apple(
        "apple",
        "TEAM123456",
        "KEY1234567",
        APPLE_TEAM_KEY,
        json!({ "ada": { "sub": "001234.abcdef", "email": "ada@privaterelay.example", "first_name": "Ada", "last_name": "Lovelace" } }),
    )
    .await;
    let key_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key_file.path(), APPLE_TEAM_KEY).unwrap();
    let vars = |team: &str| {
        vec![
            (
                "AUTHQL_PROVIDER_APPLE_CLIENT_ID".to_owned(),
                CLIENT_ID.to_owned(),
            ),
            ("AUTHQL_PROVIDER_APPLE_TEAM_ID".to_owned(), team.to_owned()),
            (
                "AUTHQL_PROVIDER_APPLE_KEY_ID".to_owned(),
                "KEY1234567".to_owned(),
            ),
            (
                "AUTHQL_PROVIDER_APPLE_PRIVATE_KEY_FILE".to_owned(),
                key_file.path().to_str().unwrap().to_owned(),
            ),
            (
                "AUTHQL_PROVIDER_APPLE_ISSUER".to_owned(),
                apple.address.clone(),
            ),
        ]
    };
    let app = spawn_app_with(with_configured("apple", vars("TEAM123456"))).await;

    let (verifier, challenge) = pkce();
    let url = start_with(&app, "apple", &challenge).await;
    assert!(url.contains("response_mode=form_post"), "{url}");
    let answer = Browser::default().sign_in_at_provider(&url, "ada").await;
    assert!(
        answer.query("user").is_some(),
        "Apple names the user the first time"
    );
    let landed = landing(&deliver(&app, &answer).await);
    let first = complete(
        &app,
        &param(&landed, "code").unwrap_or_else(|| panic!("a code, not {landed}")),
        &verifier,
    )
    .await;
    let payload = first.ok("completeProviderSignIn");
    assert_eq!(payload["user"]["name"], "Ada Lovelace");
    assert_eq!(payload["user"]["email"], "ada@privaterelay.example");
    let tokens = Tokens::from_payload(payload);
    assert_eq!(
        me(&app, &tokens.access).await["emailVerified"],
        true,
        "\"true\" as a string counts"
    );

    // The second time there is no name; the same account signs in.
    let (verifier, challenge) = pkce();
    let url = start_with(&app, "apple", &challenge).await;
    let answer = Browser::default().sign_in_at_provider(&url, "ada").await;
    assert!(answer.query("user").is_none());
    let landed = landing(&deliver(&app, &answer).await);
    let second = complete(&app, &param(&landed, "code").unwrap(), &verifier).await;
    assert_eq!(
        second.ok("completeProviderSignIn")["user"]["id"],
        payload["user"]["id"]
    );

    // A client secret signed for another team is refused by Apple.
    let wrong = spawn_app_with(with_configured("apple", vars("OTHERTEAM1"))).await;
    let (landed, _) = land_at(&wrong, "apple", "ada").await;
    assert_eq!(param(&landed, "error").as_deref(), Some("PROVIDER_REFUSED"));
}

crate::on_every_backend_with!(
    all(provider_tests, totp_tests), "AUTHQL_TEST_OIDC_PROVIDER or AUTHQL_TEST_PYOTP is not set";
    a_provider_sign_in_still_asks_for_the_second_factor,
);

async fn a_provider_sign_in_still_asks_for_the_second_factor() {
    let provider = OidcProvider::start(ACME).await;
    let app = spawn_app_with(with_provider(&provider, |_| {})).await;
    let alice = Tokens::from_payload(sign_in_as(&app, "alice").await.ok("completeProviderSignIn"));
    let enrolled = app
        .graphql(
            "mutation { enrollTotp { factorId otpauthUri } }",
            json!({}),
            Some(&alice.access),
        )
        .await;
    let enrollment = enrolled.ok("enrollTotp").clone();
    let uri = enrollment["otpauthUri"].as_str().unwrap();
    app.graphql(
        "mutation($input: ConfirmTotpInput!) { confirmTotp(input: $input) { codes } }",
        json!({ "input": { "factorId": enrollment["factorId"], "code": crate::second_factor::code_at(uri, -30) } }),
        Some(&alice.access),
    )
    .await
    .ok("confirmTotp");

    let refused = sign_in_as(&app, "alice").await;
    assert_eq!(
        refused.code(),
        Some("SECOND_FACTOR_REQUIRED"),
        "{}",
        refused.body
    );
    let mfa_token = refused.body["errors"][0]["extensions"]["mfaToken"]
        .as_str()
        .unwrap();
    let verified = app
        .graphql(
            &format!(
                "mutation($input: VerifySecondFactorInput!) {{ verifySecondFactor(input: $input) {{ {AUTH_PAYLOAD} }} }}"
            ),
            json!({ "input": { "mfaToken": mfa_token, "totpCode": crate::second_factor::code_at(uri, 30) } }),
            None,
        )
        .await;
    let tokens = Tokens::from_payload(verified.ok("verifySecondFactor"));
    let (_, claims) = decode_jwt(&tokens.access);
    assert_eq!(claims["amr"], json!(["fed", "otp", "mfa"]));
    assert_eq!(claims["aal"], "aal2");
}
