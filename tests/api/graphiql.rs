//! GraphiQL is self-contained: served from authql's own origin under a
//! strict Content-Security-Policy, and it renders in a real headless
//! Chromium that can reach nothing but the server.

use authql::http::graphiql::CONTENT_SECURITY_POLICY;

use crate::helpers::spawn_app;

async fn get(app: &crate::helpers::TestApp, path: &str, accept: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.address))
        .header("accept", accept)
        .send()
        .await
        .expect("request sent")
}

#[tokio::test]
async fn graphiql_and_its_files_come_from_this_origin_under_a_strict_csp() {
    let app = spawn_app().await;
    let page = get(&app, "/graphql", "text/html").await;
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["content-security-policy"],
        CONTENT_SECURITY_POLICY
    );
    assert!(CONTENT_SECURITY_POLICY.contains("default-src 'none'"));
    assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self';"));
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "no inline script: {html}");
    let sources: Vec<&str> = html
        .split(['"'])
        .filter(|part| part.starts_with("/graphiql/"))
        .collect();
    assert_eq!(sources.len(), 6, "{html}");
    for source in sources {
        let file = get(&app, source, "*/*").await;
        assert_eq!(file.status(), 200, "{source}");
        let kind = file.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(
            kind.starts_with(if source.ends_with(".js") {
                "text/javascript"
            } else {
                "text/css"
            }),
            "{source}: {kind}"
        );
        assert_eq!(file.headers()["x-content-type-options"], "nosniff");
        let body = file.text().await.unwrap();
        assert!(
            !body.contains("sourceMappingURL"),
            "{source} points to no source map"
        );
    }
    assert_eq!(
        get(&app, "/graphiql/../Cargo.toml", "*/*").await.status(),
        404
    );
    assert_eq!(get(&app, "/graphiql/nothing.js", "*/*").await.status(), 404);
}

#[tokio::test]
async fn production_serves_no_graphiql_files() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.environment = authql::config::Environment::Production;
    })
    .await;
    assert_eq!(
        get(&app, "/graphiql/graphiql.min.js", "*/*").await.status(),
        404
    );
}

/// Loads GraphiQL in headless Chromium whose every host name resolves to
/// nowhere (only 127.0.0.1 is reachable), and reads the rendered page.
#[tokio::test]
#[cfg_attr(not(browser_tests), ignore = "AUTHQL_TEST_CHROMIUM is not set")]
async fn graphiql_renders_in_headless_chromium_with_no_network() {
    let app = spawn_app().await;
    let chromium = option_env!("AUTHQL_TEST_CHROMIUM").unwrap_or("chromium");
    let profile = tempfile::tempdir().unwrap();
    let url = format!("{}/graphql", app.address);
    let output = tokio::process::Command::new(chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=15000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(&url)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(90), output)
        .await
        .expect("Chromium finishes")
        .expect("Chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        dom.contains("graphiql-container"),
        "GraphiQL rendered:\n{dom}\n{log}"
    );
    assert!(!dom.contains("Loading…"), "{dom}");
    // The default query and the header hint are in the editors.
    assert!(dom.contains("Welcome to authql"), "{dom}");
    assert!(dom.contains("paste the accessToken here"), "{dom}");
    // GraphiQL read the schema from authql (its introspection request).
    assert!(
        dom.contains("graphiql-doc-explorer")
            || dom.contains("Documentation Explorer")
            || dom.contains("docs"),
        "{dom}"
    );
    assert!(
        !log.contains("Content Security Policy") && !log.contains("Content-Security-Policy"),
        "nothing was refused by the policy:\n{log}"
    );
}
