//! Two-step sign-in with an authenticator app, the codes computed by an
//! implementation no one here wrote (PyPI's `pyotp`, reading the
//! `otpauthUri` authql returned).

use serde_json::{Value, json};

use crate::helpers::{
    AUTH_PAYLOAD, PASSWORD, Reply, TestApp, Tokens, decode_jwt, now_secs, spawn_app, spawn_app_with,
};
use crate::mailbox::{NEW_PASSWORD, fresh_email, request_reset, reset, through};
use crate::smtp::SmtpSink;

/// The code `pyotp` computes from `uri` at `offset` seconds from now.
pub(crate) fn code_at(uri: &str, offset: i64) -> String {
    let python = option_env!("AUTHQL_TEST_PYOTP").unwrap_or("python3");
    let output = std::process::Command::new(python)
        .args([
            "-c",
            "import pyotp, sys; print(pyotp.parse_uri(sys.argv[1]).at(int(sys.argv[2])))",
            uri,
            &(now_secs() + offset).to_string(),
        ])
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

async fn enroll(app: &TestApp, bearer: &str) -> Reply {
    app.graphql(
        "mutation { enrollTotp { factorId secret otpauthUri expiresAt } }",
        json!({}),
        Some(bearer),
    )
    .await
}

async fn confirm(app: &TestApp, bearer: &str, factor_id: &Value, code: &str) -> Reply {
    app.graphql(
        "mutation($input: ConfirmTotpInput!) { confirmTotp(input: $input) { codes } }",
        json!({ "input": { "factorId": factor_id, "code": code } }),
        Some(bearer),
    )
    .await
}

async fn verify(
    app: &TestApp,
    mfa_token: &str,
    totp: Option<&str>,
    recovery: Option<&str>,
) -> Reply {
    app.graphql(
        &format!(
            "mutation($input: VerifySecondFactorInput!) {{ verifySecondFactor(input: $input) {{ {AUTH_PAYLOAD} }} }}"
        ),
        json!({ "input": { "mfaToken": mfa_token, "totpCode": totp, "recoveryCode": recovery } }),
        None,
    )
    .await
}

/// A user with two-step sign-in on: their address, the app's URI and the
/// recovery codes. The code that confirmed was from the previous time step.
pub(crate) async fn with_two_steps(app: &TestApp) -> (String, String, Vec<String>) {
    let email = fresh_email();
    let tokens = Tokens::from_payload(app.register("Ada", &email, PASSWORD).await.ok("register"));
    let enrolled = enroll(app, &tokens.access).await;
    let enrollment = enrolled.ok("enrollTotp").clone();
    let uri = enrollment["otpauthUri"].as_str().unwrap().to_owned();
    let confirmed = confirm(
        app,
        &tokens.access,
        &enrollment["factorId"],
        &code_at(&uri, -30),
    )
    .await;
    let codes: Vec<String> = confirmed.ok("confirmTotp")["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect();
    (email, uri, codes)
}

/// Logs in with the password: the `mfaToken` of the answer.
async fn first_step(app: &TestApp, email: &str) -> String {
    let login = app.login(email, PASSWORD).await;
    assert_eq!(
        login.code(),
        Some("SECOND_FACTOR_REQUIRED"),
        "{}",
        login.body
    );
    assert!(login.body["data"].is_null(), "no token: {}", login.body);
    let extensions = &login.body["errors"][0]["extensions"];
    assert_eq!(extensions["factors"], json!(["TOTP", "RECOVERY_CODE"]));
    assert!(extensions["expiresAt"].is_string());
    extensions["mfaToken"].as_str().unwrap().to_owned()
}

crate::on_every_backend_with!(
    totp_tests, "AUTHQL_TEST_PYOTP is not set";
    an_authenticator_app_adds_a_second_step_whose_tokens_say_aal2,
    a_code_is_accepted_once_even_sixteen_times_at_once_on_two_instances,
    one_step_of_clock_skew_is_accepted_and_three_are_not,
    recovery_codes_sign_in_once_each,
    wrong_codes_use_the_token_up_and_then_lock_the_account,
    a_reset_link_still_asks_for_the_second_factor,
    recovery_codes_are_renewed_and_the_app_removed_only_after_a_second_factor,
    every_change_of_a_second_factor_is_mailed,
    admins_reset_second_factors_and_may_be_required_to_use_one,
);

async fn an_authenticator_app_adds_a_second_step_whose_tokens_say_aal2() {
    let app = spawn_app().await;
    let email = fresh_email();
    let registered =
        Tokens::from_payload(app.register("Ada", &email, PASSWORD).await.ok("register"));
    let (_, claims) = decode_jwt(&registered.access);
    assert_eq!(claims["aal"], "aal1");
    assert_eq!(claims["amr"], json!(["pwd"]));

    let enrolled = enroll(&app, &registered.access).await;
    let enrollment = enrolled.ok("enrollTotp");
    let uri = enrollment["otpauthUri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/authql:"), "{uri}");
    assert!(uri.contains(&format!(
        "secret={}",
        enrollment["secret"].as_str().unwrap()
    )));
    // Pending: a login still needs only the password.
    app.login(&email, PASSWORD).await.ok("login");
    // A wrong code does not confirm it.
    let wrong = confirm(&app, &registered.access, &enrollment["factorId"], "000000").await;
    assert_eq!(wrong.code(), Some("INVALID_SECOND_FACTOR"));
    let now_code = code_at(uri, 0);
    let confirmed = confirm(&app, &registered.access, &enrollment["factorId"], &now_code).await;
    let codes = confirmed.ok("confirmTotp")["codes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(codes.len(), 10);
    let me = app
        .graphql(
            "{ me { secondFactors { kind lastUsedAt } recoveryCodesLeft } }",
            json!({}),
            Some(&registered.access),
        )
        .await;
    assert_eq!(me.ok("me")["secondFactors"][0]["kind"], "TOTP");
    assert_eq!(me.ok("me")["recoveryCodesLeft"], 10);

    // The password alone no longer opens a session.
    let mfa_token = first_step(&app, &email).await;
    // The code that confirmed cannot sign in.
    let replayed = verify(&app, &mfa_token, Some(&now_code), None).await;
    assert_eq!(replayed.code(), Some("INVALID_SECOND_FACTOR"));
    // The next step's code does (one step of skew ahead).
    let next = verify(&app, &mfa_token, Some(&code_at(uri, 30)), None).await;
    let tokens = Tokens::from_payload(next.ok("verifySecondFactor"));
    let (_, claims) = decode_jwt(&tokens.access);
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["aal"], "aal2");
    // Refresh keeps it.
    let refreshed = Tokens::from_payload(app.refresh(&tokens.refresh).await.ok("refresh"));
    assert_eq!(decode_jwt(&refreshed.access).1["aal"], "aal2");
    // The token is used up.
    let again = verify(&app, &mfa_token, Some(&code_at(uri, 30)), None).await;
    assert_eq!(again.code(), Some("INVALID_TOKEN"));
    // A second app cannot be enrolled over the first.
    assert_eq!(
        enroll(&app, &tokens.access).await.code(),
        Some("SECOND_FACTOR_EXISTS")
    );
    // verifySecondFactor counts as a credential field.
    let two = app
        .graphql(
            "mutation { a: verifySecondFactor(input: { mfaToken: \"x\", totpCode: \"1\" }) { accessToken } b: verifySecondFactor(input: { mfaToken: \"y\", totpCode: \"1\" }) { accessToken } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(two.code(), Some("GRAPHQL_VALIDATION_FAILED"));
}

async fn a_code_is_accepted_once_even_sixteen_times_at_once_on_two_instances() {
    let first = spawn_app().await;
    let second = first.another_instance().await;
    let (email, uri, _) = with_two_steps(&first).await;
    let mut tokens = Vec::new();
    for _ in 0..16 {
        tokens.push(first_step(&first, &email).await);
    }
    let code = code_at(&uri, 30);
    let attempts = tokens.iter().enumerate().map(|(i, token)| {
        let app = if i % 2 == 0 { &first } else { &second };
        verify(app, token, Some(&code), None)
    });
    let replies = futures::future::join_all(attempts).await;
    let won = replies
        .iter()
        .filter(|reply| reply.code().is_none())
        .count();
    assert_eq!(
        won,
        1,
        "{:?}",
        replies.iter().map(|r| r.code()).collect::<Vec<_>>()
    );
    // The other fifteen count as wrong codes: from the tenth on, the
    // account's second-factor checks are locked.
    assert!(
        replies
            .iter()
            .filter_map(|reply| reply.code())
            .all(|code| code == "INVALID_SECOND_FACTOR" || code == "TOO_MANY_REQUESTS")
    );
}

async fn one_step_of_clock_skew_is_accepted_and_three_are_not() {
    let app = spawn_app().await;
    // The code of the step before now confirmed the app (skew -30 s).
    let (email, uri, _) = with_two_steps(&app).await;
    let mfa_token = first_step(&app, &email).await;
    for offset in [90, -90] {
        let refused = verify(&app, &mfa_token, Some(&code_at(&uri, offset)), None).await;
        assert_eq!(refused.code(), Some("INVALID_SECOND_FACTOR"), "{offset}");
    }
    verify(&app, &mfa_token, Some(&code_at(&uri, 30)), None)
        .await
        .ok("verifySecondFactor");
}

async fn recovery_codes_sign_in_once_each() {
    let app = spawn_app().await;
    let (email, _, codes) = with_two_steps(&app).await;
    let mfa_token = first_step(&app, &email).await;
    // Typed in capitals with spaces: the same code.
    let typed = codes[3].to_uppercase().replace('-', " ");
    let signed_in = verify(&app, &mfa_token, None, Some(&typed)).await;
    let tokens = Tokens::from_payload(signed_in.ok("verifySecondFactor"));
    assert_eq!(decode_jwt(&tokens.access).1["aal"], "aal2");
    let left = app
        .graphql(
            "{ me { recoveryCodesLeft } }",
            json!({}),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(left.ok("me")["recoveryCodesLeft"], 9);
    let mfa_token = first_step(&app, &email).await;
    let again = verify(&app, &mfa_token, None, Some(&codes[3])).await;
    assert_eq!(again.code(), Some("INVALID_SECOND_FACTOR"));
    let both = verify(&app, &mfa_token, Some("123456"), Some(&codes[4])).await;
    assert_eq!(both.code(), Some("BAD_USER_INPUT"));
}

async fn wrong_codes_use_the_token_up_and_then_lock_the_account() {
    let app = spawn_app().await;
    let (email, uri, codes) = with_two_steps(&app).await;
    let first = first_step(&app, &email).await;
    for _ in 0..5 {
        let wrong = verify(&app, &first, Some("000000"), None).await;
        assert_eq!(wrong.code(), Some("INVALID_SECOND_FACTOR"));
    }
    // Five wrong codes used the token up: the right one is refused.
    let burnt = verify(&app, &first, Some(&code_at(&uri, 30)), None).await;
    assert_eq!(burnt.code(), Some("INVALID_TOKEN"));
    let second = first_step(&app, &email).await;
    for attempt in 0..5 {
        let wrong = verify(&app, &second, None, Some("aaaa-bbbb-cccc")).await;
        let expected = if attempt == 4 {
            "TOO_MANY_REQUESTS"
        } else {
            "INVALID_SECOND_FACTOR"
        };
        assert_eq!(wrong.code(), Some(expected), "attempt {attempt}");
    }
    // Ten wrong codes locked the account's second-factor checks, even for a
    // right code with a fresh token.
    let third = first_step(&app, &email).await;
    let locked = verify(&app, &third, None, Some(&codes[0])).await;
    assert_eq!(locked.code(), Some("TOO_MANY_REQUESTS"));
    let retry_after = locked.body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((800..=900).contains(&retry_after), "{retry_after}");
}

async fn a_reset_link_still_asks_for_the_second_factor() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(through(&sink)).await;
    let (email, uri, _) = with_two_steps(&app).await;
    request_reset(&app, &email).await.ok("requestPasswordReset");
    let mail = sink.mail_to(&email, "Reset your Example password").await;
    let reset = reset(&app, &mail.token(), NEW_PASSWORD).await;
    assert_eq!(
        reset.code(),
        Some("SECOND_FACTOR_REQUIRED"),
        "{}",
        reset.body
    );
    let mfa_token = reset.body["errors"][0]["extensions"]["mfaToken"]
        .as_str()
        .unwrap();
    let signed_in = verify(&app, mfa_token, Some(&code_at(&uri, 30)), None).await;
    let tokens = Tokens::from_payload(signed_in.ok("verifySecondFactor"));
    assert_eq!(decode_jwt(&tokens.access).1["amr"], json!(["otp", "mfa"]));
    // The new password took, and still needs the second step.
    let login = app.login(&email, NEW_PASSWORD).await;
    assert_eq!(login.code(), Some("SECOND_FACTOR_REQUIRED"));
}

/// Both steps of a sign-in: the tokens.
pub(crate) async fn two_steps(app: &TestApp, email: &str, uri: &str, offset: i64) -> Tokens {
    let mfa_token = first_step(app, email).await;
    let verified = verify(app, &mfa_token, Some(&code_at(uri, offset)), None).await;
    Tokens::from_payload(verified.ok("verifySecondFactor"))
}

async fn regenerate(app: &TestApp, bearer: &str) -> Reply {
    app.graphql(
        "mutation { regenerateRecoveryCodes { codes } }",
        json!({}),
        Some(bearer),
    )
    .await
}

async fn remove(app: &TestApp, bearer: &str, id: &Value) -> Reply {
    app.graphql(
        "mutation($id: ID!) { removeSecondFactor(id: $id) { secondFactors { id } recoveryCodesLeft } }",
        json!({ "id": id }),
        Some(bearer),
    )
    .await
}

async fn recovery_codes_are_renewed_and_the_app_removed_only_after_a_second_factor() {
    let app = spawn_app().await;
    let email = fresh_email();
    let one_step = Tokens::from_payload(app.register("Ada", &email, PASSWORD).await.ok("register"));
    let enrollment = enroll(&app, &one_step.access)
        .await
        .ok("enrollTotp")
        .clone();
    let uri = enrollment["otpauthUri"].as_str().unwrap().to_owned();
    let old = confirm(
        &app,
        &one_step.access,
        &enrollment["factorId"],
        &code_at(&uri, -30),
    )
    .await;
    let old_codes = old.ok("confirmTotp")["codes"].clone();

    // A session without the second factor may not change it.
    assert_eq!(
        regenerate(&app, &one_step.access).await.code(),
        Some("RECENT_SIGN_IN_REQUIRED")
    );
    assert_eq!(
        remove(&app, &one_step.access, &enrollment["factorId"])
            .await
            .code(),
        Some("RECENT_SIGN_IN_REQUIRED")
    );
    let two = two_steps(&app, &email, &uri, 0).await;
    let renewed = regenerate(&app, &two.access).await;
    let codes = renewed.ok("regenerateRecoveryCodes")["codes"].clone();
    assert_ne!(codes, old_codes);
    // The old set died.
    let mfa_token = first_step(&app, &email).await;
    let dead = verify(&app, &mfa_token, None, old_codes[0].as_str()).await;
    assert_eq!(dead.code(), Some("INVALID_SECOND_FACTOR"));
    verify(&app, &mfa_token, None, codes[0].as_str())
        .await
        .ok("verifySecondFactor");

    let removed = remove(&app, &two.access, &enrollment["factorId"]).await;
    assert_eq!(removed.ok("removeSecondFactor")["secondFactors"], json!([]));
    assert_eq!(removed.ok("removeSecondFactor")["recoveryCodesLeft"], 0);
    // One step again.
    app.login(&email, PASSWORD).await.ok("login");
    assert_eq!(
        remove(&app, &two.access, &enrollment["factorId"])
            .await
            .code(),
        Some("SECOND_FACTOR_NOT_FOUND")
    );
}

async fn every_change_of_a_second_factor_is_mailed() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(through(&sink)).await;
    let (email, uri, codes) = with_two_steps(&app).await;
    let on = sink.mail_to(&email, "Two-step sign-in is on").await;
    assert!(
        on.text.contains("authenticator app was just added"),
        "{}",
        on.text
    );

    let mfa_token = first_step(&app, &email).await;
    let signed_in = verify(&app, &mfa_token, None, Some(&codes[0])).await;
    let tokens = Tokens::from_payload(signed_in.ok("verifySecondFactor"));
    let used = sink.mail_to(&email, "A recovery code signed in").await;
    assert!(used.text.contains("9 codes are left"), "{}", used.text);
    assert!(!used.text.contains("running out"), "{}", used.text);
    assert!(
        !used.text.contains(&codes[0]),
        "the code itself is never mailed"
    );

    let factors = app
        .graphql(
            "{ me { secondFactors { id } } }",
            json!({}),
            Some(&tokens.access),
        )
        .await;
    let id = factors.ok("me")["secondFactors"][0]["id"].clone();
    let _ = uri;
    remove(&app, &tokens.access, &id)
        .await
        .ok("removeSecondFactor");
    let off = sink
        .mail_to(&email, "Two-step sign-in was turned off")
        .await;
    assert!(off.text.contains("was just removed"), "{}", off.text);
}

async fn admins_reset_second_factors_and_may_be_required_to_use_one() {
    let app =
        spawn_app_with(|settings| settings.sessions.admin_requires_second_factor = true).await;
    let admin_email = fresh_email();
    let admin = crate::admin::signed_in_with_roles(&app, &admin_email, &["user", "admin"]).await;
    let users = "{ users(first: 5) { totalCount } }";
    // Without a second factor, admin fields are refused, saying why.
    let refused = app.graphql(users, json!({}), Some(&admin.access)).await;
    assert_eq!(refused.code(), Some("FORBIDDEN"));
    assert_eq!(refused.reason(), Some("second_factor_required"));
    // With one, they answer.
    let enrollment = enroll(&app, &admin.access).await.ok("enrollTotp").clone();
    let admin_uri = enrollment["otpauthUri"].as_str().unwrap().to_owned();
    confirm(
        &app,
        &admin.access,
        &enrollment["factorId"],
        &code_at(&admin_uri, -30),
    )
    .await
    .ok("confirmTotp");
    let admin = two_steps(&app, &admin_email, &admin_uri, 0).await;
    app.graphql(users, json!({}), Some(&admin.access))
        .await
        .ok("users");

    // A user who lost their app is helped back.
    let (email, _, _) = with_two_steps(&app).await;
    let user_id = app
        .graphql(
            "query($q: String) { users(first: 1, query: $q) { nodes { id } } }",
            json!({ "q": email }),
            Some(&admin.access),
        )
        .await
        .ok("users")["nodes"][0]["id"]
        .clone();
    let reset = app
        .graphql(
            "mutation($id: ID!) { resetSecondFactors(userId: $id) { id secondFactors { id } } }",
            json!({ "id": user_id }),
            Some(&admin.access),
        )
        .await;
    assert_eq!(reset.ok("resetSecondFactors")["secondFactors"], json!([]));
    app.login(&email, PASSWORD).await.ok("login");
    assert!(
        app.event_kinds()
            .await
            .contains(&"second_factor_removed".to_owned())
    );
}
