//! The refresh token as an HttpOnly cookie: driven with a real cookie jar as
//! a browser would, in each transport, and attacked with cross-site posts.

use serde_json::{Value, json};

use authql::config::{Environment, RefreshTransport};

use crate::helpers::{AUTH_PAYLOAD, PASSWORD, Reply, TestApp, spawn_app, spawn_app_with};

const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken user { id } } }";
const REFRESH: &str = "mutation { refresh { accessToken refreshToken } }";
const LOGOUT: &str = "mutation { logout { revokedSessions } }";

/// A client that keeps cookies as a browser does.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("http client")
}

async fn post(
    client: &reqwest::Client,
    app: &TestApp,
    query: &str,
    variables: Value,
) -> (Reply, Vec<String>) {
    let response = client
        .post(app.url())
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request sent");
    let cookies = set_cookies(&response);
    (Reply::read(response).await, cookies)
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

fn registration(email: &str) -> Value {
    json!({ "input": {
        "name": "Ada", "email": email, "password": PASSWORD, "passwordConfirmation": PASSWORD
    }})
}

async fn a_browser_signs_up_refreshes_and_logs_out_with_the_cookie_alone() {
    let app = spawn_app().await;
    let browser = browser();

    let (reply, cookies) = post(&browser, &app, REGISTER, registration("ada@example.com")).await;
    reply.ok("register");
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = &cookies[0];
    assert!(cookie.starts_with("authql-refresh="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    // In development over plain http: not Secure, or the browser drops it.
    assert!(!cookie.contains("Secure"));

    // `refresh` with no argument rotates the cookie's token, twice.
    let mut access = String::new();
    for _ in 0..2 {
        let (reply, cookies) = post(&browser, &app, REFRESH, json!({})).await;
        access = reply.ok("refresh")["accessToken"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(cookies.len(), 1, "a rotated cookie");
    }
    app.me(Some(&access)).await.ok("me");

    // `logout` with neither an access token nor an argument uses the cookie.
    let (reply, cookies) = post(&browser, &app, LOGOUT, json!({})).await;
    assert_eq!(reply.ok("logout")["revokedSessions"], 1);
    assert!(cookies[0].contains("Max-Age=0"), "{cookies:?}");
    assert_eq!(app.me(Some(&access)).await.reason(), Some("revoked"));
    // The jar is empty now: nothing to refresh with.
    let (reply, _) = post(&browser, &app, REFRESH, json!({})).await;
    assert_eq!(reply.code(), Some("INVALID_REFRESH_TOKEN"));
}

async fn in_cookie_mode_the_refresh_token_never_reaches_javascript() {
    let app = spawn_app_with(|s| s.sessions.transport = RefreshTransport::Cookie).await;
    let browser = browser();
    let (reply, cookies) = post(&browser, &app, REGISTER, registration("ada@example.com")).await;
    assert_eq!(reply.ok("register")["refreshToken"], Value::Null);
    assert_eq!(cookies.len(), 1);
    let (reply, _) = post(&browser, &app, REFRESH, json!({})).await;
    assert_eq!(reply.ok("refresh")["refreshToken"], Value::Null);
    assert!(reply.ok("refresh")["accessToken"].is_string());
}

async fn in_body_mode_no_cookie_is_set_or_read() {
    let app = spawn_app_with(|s| s.sessions.transport = RefreshTransport::Body).await;
    let browser = browser();
    let (reply, cookies) = post(&browser, &app, REGISTER, registration("ada@example.com")).await;
    let refresh = reply.ok("register")["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(cookies.is_empty(), "{cookies:?}");
    // A hand-made cookie is not read either.
    let response = app
        .post_json(
            &[("cookie", &format!("authql-refresh={refresh}"))],
            &json!({ "query": REFRESH }),
        )
        .await;
    assert_eq!(
        Reply::read(response).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );
}

async fn in_production_the_cookie_is_host_prefixed_and_secure() {
    let app = spawn_app_with(|s| s.environment = Environment::Production).await;
    let response = app
        .post_json(
            &[],
            &json!({ "query": format!("mutation($input: RegisterInput!) {{ register(input: $input) {{ {AUTH_PAYLOAD} }} }}"), "variables": registration("ada@example.com") }),
        )
        .await;
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 1);
    let cookie = &cookies[0];
    assert!(cookie.starts_with("__Host-authql-refresh="), "{cookie}");
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Domain"));
    // What a browser on https sends back is read.
    let pair = cookie.split(';').next().unwrap().to_owned();
    let response = app
        .post_json(&[("cookie", &pair)], &json!({ "query": REFRESH }))
        .await;
    Reply::read(response).await.ok("refresh");
}

async fn a_cross_site_form_post_with_the_cookie_does_nothing() {
    let app = spawn_app().await;
    let browser = browser();
    let (reply, cookies) = post(&browser, &app, REGISTER, registration("ada@example.com")).await;
    let access = reply.ok("register")["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let cookie = cookies[0].split(';').next().unwrap().to_owned();

    // The classic forgery: an auto-submitting form on another site.
    for origin in [Some("https://evil.example"), None] {
        let mut request = app
            .client
            .post(app.url())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &cookie)
            .body("query=mutation%20%7B%20logout%20%7B%20revokedSessions%20%7D%20%7D");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status() == 403 || response.status() == 415,
            "{origin:?}: {}",
            response.status()
        );
    }
    // A JSON post from a foreign origin is refused before it runs.
    let response = app
        .post_json(
            &[("origin", "https://evil.example"), ("cookie", &cookie)],
            &json!({ "query": LOGOUT }),
        )
        .await;
    assert_eq!(response.status(), 403);
    // Nothing happened: the session lives on.
    app.me(Some(&access)).await.ok("me");
    let (reply, _) = post(&browser, &app, REFRESH, json!({})).await;
    reply.ok("refresh");
}

async fn a_cookie_from_an_origin_not_trusted_with_credentials_is_refused() {
    // `*` lets any origin read public answers, never act with the cookie.
    let app = spawn_app_with(|s| s.cors.origins = vec!["*".into()]).await;
    let browser = browser();
    let (reply, cookies) = post(&browser, &app, REGISTER, registration("ada@example.com")).await;
    let access = reply.ok("register")["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let cookie = cookies[0].split(';').next().unwrap().to_owned();
    for query in [REFRESH, LOGOUT] {
        let response = app
            .post_json(
                &[("origin", "https://elsewhere.example"), ("cookie", &cookie)],
                &json!({ "query": query }),
            )
            .await;
        let reply = Reply::read(response).await;
        assert_eq!(
            reply.code(),
            Some("ORIGIN_NOT_ALLOWED"),
            "{query}: {}",
            reply.body
        );
    }
    app.me(Some(&access)).await.ok("me");
    let (reply, _) = post(&browser, &app, REFRESH, json!({})).await;
    reply.ok("refresh");
}

async fn a_revoked_sessions_cookie_is_cleared() {
    let app =
        spawn_app_with(|s| s.lifetimes.reuse_grace = std::time::Duration::from_millis(100)).await;
    let browser = browser();
    let (reply, _) = post(&browser, &app, REGISTER, registration("ada@example.com")).await;
    let stolen = reply.ok("register")["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    // The browser moves on twice; later a thief replays the first token.
    for _ in 0..2 {
        post(&browser, &app, REFRESH, json!({}))
            .await
            .0
            .ok("refresh");
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.refresh(&stolen).await.code(),
        Some("INVALID_REFRESH_TOKEN")
    );

    // The browser's next refresh fails and its cookie is deleted.
    let (reply, cookies) = post(&browser, &app, REFRESH, json!({})).await;
    assert_eq!(reply.code(), Some("INVALID_REFRESH_TOKEN"));
    assert!(
        cookies.iter().any(|c| c.contains("Max-Age=0")),
        "{cookies:?}"
    );
}

async fn ending_the_current_session_by_id_clears_its_cookie() {
    let app = spawn_app().await;
    let browser = browser();
    let (reply, _) = post(&browser, &app, REGISTER, registration("ada@example.com")).await;
    let access = reply.ok("register")["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let sid = crate::helpers::claim_uuid(&access, "sid").to_string();
    let response = browser
        .post(app.url())
        .bearer_auth(&access)
        .json(&json!({ "query": "mutation($id: ID!) { revokeSession(id: $id) }", "variables": { "id": sid } }))
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&response);
    assert_eq!(Reply::read(response).await.ok("revokeSession"), true);
    assert!(
        cookies.iter().any(|c| c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    let (reply, _) = post(&browser, &app, REFRESH, json!({})).await;
    assert_eq!(reply.code(), Some("INVALID_REFRESH_TOKEN"));
}

crate::on_every_backend!(
    ending_the_current_session_by_id_clears_its_cookie,
    a_browser_signs_up_refreshes_and_logs_out_with_the_cookie_alone,
    in_cookie_mode_the_refresh_token_never_reaches_javascript,
    in_body_mode_no_cookie_is_set_or_read,
    in_production_the_cookie_is_host_prefixed_and_secure,
    a_cross_site_form_post_with_the_cookie_does_nothing,
    a_cookie_from_an_origin_not_trusted_with_credentials_is_refused,
    a_revoked_sessions_cookie_is_cleared,
);
