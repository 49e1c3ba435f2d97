//! Passkeys, proven with a real browser's authenticator: Debian's Chromium
//! with a virtual authenticator added through its DevTools protocol
//! (`tests/partners/authenticator`), on a page at `http://localhost:…`,
//! running `navigator.credentials.create` and `.get` as a frontend does.
//! The tests without a browser check what needs none: the options' shape,
//! the refusals of ceremonies that do not exist, and the decoys.

use std::process::Stdio;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

use crate::helpers::{AUTH_PAYLOAD, PASSWORD, Reply, TestApp, Tokens, decode_jwt, spawn_app};
use crate::mailbox::fresh_email;

/// Chromium with a virtual authenticator (resident keys, user
/// verification), and the frontend's page it runs ceremonies in.
pub(crate) struct Authenticator {
    _child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Authenticator {
    pub(crate) async fn start() -> Self {
        let partner =
            option_env!("AUTHQL_TEST_AUTHENTICATOR").unwrap_or("tests/partners/authenticator");
        let chromium = option_env!("AUTHQL_TEST_CHROMIUM").unwrap_or("chromium");
        let mut child = tokio::process::Command::new("node")
            .arg(format!("{partner}/authenticator.mjs"))
            .arg(chromium)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs the authenticator");
        let stdin = child.stdin.take().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
            .await
            .expect("the browser starts")
            .unwrap()
            .expect("the authenticator says it is ready");
        let ready: Value = serde_json::from_str(&ready).unwrap();
        assert_eq!(ready["ready"], true, "{ready}");
        Self {
            _child: child,
            stdin,
            lines,
        }
    }

    async fn send(&mut self, command: Value) -> Result<Value, String> {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .unwrap();
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), self.lines.next_line())
            .await
            .expect("the browser answers")
            .unwrap()
            .expect("an answer");
        let answer: Value = serde_json::from_str(&line).unwrap();
        if answer["ok"] == true {
            Ok(answer["value"].clone())
        } else {
            Err(answer["error"].as_str().unwrap_or_default().to_owned())
        }
    }

    /// `navigator.credentials.create({ publicKey: options })`, as JSON.
    pub(crate) async fn create(&mut self, options: &Value) -> Value {
        self.send(json!({ "cmd": "create", "options": options }))
            .await
            .expect("the browser creates a credential")
    }

    /// `navigator.credentials.get({ publicKey: options })`, as JSON.
    pub(crate) async fn get(&mut self, options: &Value) -> Value {
        self.send(json!({ "cmd": "get", "options": options }))
            .await
            .expect("the browser signs with a credential")
    }

    /// Makes the authenticator's next answers lie (`isBogusSignature`,
    /// `isBadUV`, `isBadUP`); `{}` makes them honest again.
    async fn lie(&mut self, bits: Value) {
        self.send(json!({ "cmd": "override", "bits": bits }))
            .await
            .expect("the override is set");
    }
}

const CHALLENGE: &str = "challengeId options expiresAt";

async fn start_registration(app: &TestApp, bearer: &str) -> Reply {
    app.graphql(
        &format!("mutation {{ startPasskeyRegistration {{ {CHALLENGE} }} }}"),
        json!({}),
        Some(bearer),
    )
    .await
}

async fn finish_registration(
    app: &TestApp,
    bearer: &str,
    challenge_id: &Value,
    credential: &Value,
    name: &str,
) -> Reply {
    app.graphql(
        "mutation($input: FinishPasskeyRegistrationInput!) { finishPasskeyRegistration(input: $input) { id name createdAt lastUsedAt backedUp } }",
        json!({ "input": { "challengeId": challenge_id, "credential": credential, "name": name } }),
        Some(bearer),
    )
    .await
}

async fn start_sign_in(app: &TestApp, input: Value) -> Reply {
    app.graphql(
        &format!(
            "mutation($input: StartPasskeySignInInput) {{ startPasskeySignIn(input: $input) {{ {CHALLENGE} }} }}"
        ),
        json!({ "input": input }),
        None,
    )
    .await
}

async fn finish_sign_in(app: &TestApp, challenge_id: &Value, credential: &Value) -> Reply {
    app.graphql(
        &format!(
            "mutation($input: PasskeyCredentialInput!) {{ finishPasskeySignIn(input: $input) {{ {AUTH_PAYLOAD} }} }}"
        ),
        json!({ "input": { "challengeId": challenge_id, "credential": credential } }),
        None,
    )
    .await
}

/// A new account (password) with a passkey registered in `browser`: its
/// address and tokens.
pub(crate) async fn with_passkey(app: &TestApp, browser: &mut Authenticator) -> (String, Tokens) {
    let email = fresh_email();
    let tokens = Tokens::from_payload(app.register("Ada", &email, PASSWORD).await.ok("register"));
    let started = start_registration(app, &tokens.access).await;
    let started = started.ok("startPasskeyRegistration").clone();
    let credential = browser.create(&started["options"]).await;
    finish_registration(
        app,
        &tokens.access,
        &started["challengeId"],
        &credential,
        "Laptop",
    )
    .await
    .ok("finishPasskeyRegistration");
    (email, tokens)
}

/// A sign-in started as `input` and answered by `browser`: the challenge
/// and the answer, not yet sent.
async fn answer_sign_in(
    app: &TestApp,
    browser: &mut Authenticator,
    input: Value,
) -> (Value, Value) {
    let started = start_sign_in(app, input).await;
    let started = started.ok("startPasskeySignIn").clone();
    let answer = browser.get(&started["options"]).await;
    (started["challengeId"].clone(), answer)
}

fn amr_and_aal(payload: &Value) -> (Value, Value) {
    let (_, claims) = decode_jwt(payload["accessToken"].as_str().unwrap());
    (claims["amr"].clone(), claims["aal"].clone())
}

fn reason(reply: &Reply) -> Option<&str> {
    reply.body["errors"][0]["extensions"]["reason"].as_str()
}

/// Rewrites a base64url JSON member of the answer's `response`.
fn tamper(answer: &Value, member: &str, change: impl FnOnce(Vec<u8>) -> Vec<u8>) -> Value {
    let mut answer = answer.clone();
    let bytes = URL_SAFE_NO_PAD
        .decode(answer["response"][member].as_str().unwrap())
        .unwrap();
    answer["response"][member] = json!(URL_SAFE_NO_PAD.encode(change(bytes)));
    answer
}

crate::on_every_backend_with!(
    passkey_tests, "AUTHQL_TEST_AUTHENTICATOR is not set";
    a_passkey_is_registered_and_signs_in_without_a_name_or_by_address,
    a_passkey_alone_makes_an_account_that_cannot_lose_its_last_way_in,
    forged_and_replayed_answers_are_refused_with_a_reason,
    a_ceremony_started_on_one_instance_finishes_on_another,
);

crate::on_every_backend_with!(
    all(passkey_tests, totp_tests), "AUTHQL_TEST_AUTHENTICATOR or AUTHQL_TEST_PYOTP is not set";
    a_passkey_is_a_second_factor_after_a_password,
);

crate::on_every_backend!(
    registration_options_ask_for_a_discoverable_verified_key_and_no_attestation,
    ceremonies_that_do_not_exist_are_refused,
    an_address_without_passkeys_gets_decoys_that_do_not_change,
    passkeys_can_be_turned_off,
);

async fn a_passkey_is_registered_and_signs_in_without_a_name_or_by_address() {
    let app = spawn_app().await;
    let mut browser = Authenticator::start().await;
    let (email, tokens) = with_passkey(&app, &mut browser).await;

    let me = app
        .graphql(
            "{ me { passkeys { id name createdAt lastUsedAt backedUp } } }",
            json!({}),
            Some(&tokens.access),
        )
        .await;
    let passkeys = me.ok("me")["passkeys"].as_array().unwrap().clone();
    assert_eq!(passkeys.len(), 1, "{passkeys:?}");
    assert_eq!(passkeys[0]["name"], "Laptop");
    assert_eq!(passkeys[0]["backedUp"], false);
    assert!(passkeys[0]["lastUsedAt"].is_null());
    app.logout(Some(&tokens.access), Some(&tokens.refresh))
        .await
        .ok("logout");

    // Usernameless: the authenticator says whose passkey it is.
    let (challenge, answer) = answer_sign_in(&app, &mut browser, json!(null)).await;
    let signed_in = finish_sign_in(&app, &challenge, &answer).await;
    let payload = signed_in.ok("finishPasskeySignIn");
    assert_eq!(payload["user"]["email"], email.as_str());
    let (amr, aal) = amr_and_aal(payload);
    assert_eq!(amr, json!(["hwk", "user", "mfa"]));
    assert_eq!(aal, "aal2");

    // By address: its passkeys are offered.
    let (challenge, answer) = answer_sign_in(&app, &mut browser, json!({ "email": email })).await;
    let payload = finish_sign_in(&app, &challenge, &answer).await;
    let payload = payload.ok("finishPasskeySignIn");
    assert_eq!(payload["user"]["email"], email.as_str());
    let bearer = payload["accessToken"].as_str().unwrap().to_owned();

    // Renamed; the use is recorded; the same authenticator is not
    // registered twice.
    let renamed = app
        .graphql(
            "mutation($id: ID!) { renamePasskey(id: $id, name: \"YubiKey\") { name lastUsedAt } }",
            json!({ "id": passkeys[0]["id"] }),
            Some(&bearer),
        )
        .await;
    assert_eq!(renamed.ok("renamePasskey")["name"], "YubiKey");
    assert!(renamed.ok("renamePasskey")["lastUsedAt"].is_string());
    let again = start_registration(&app, &bearer).await;
    let again = again.ok("startPasskeyRegistration").clone();
    assert_eq!(
        again["options"]["excludeCredentials"][0]["id"], answer["rawId"],
        "{again}"
    );
    let refused = browser
        .send(json!({ "cmd": "create", "options": again["options"] }))
        .await
        .expect_err("the browser refuses an excluded authenticator");
    assert!(refused.contains("InvalidStateError"), "{refused}");

    let events = app
        .graphql(
            "{ myEvents(first: 20) { nodes { kind } } }",
            json!({}),
            Some(&bearer),
        )
        .await;
    let kinds: Vec<&str> = events.ok("myEvents")["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|event| event["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"PASSKEY_ADDED"), "{kinds:?}");
}

async fn a_passkey_alone_makes_an_account_that_cannot_lose_its_last_way_in() {
    let app = spawn_app().await;
    let mut browser = Authenticator::start().await;
    let email = fresh_email();
    let started = app
        .graphql(
            &format!(
                "mutation($input: StartPasskeySignUpInput!) {{ startPasskeySignUp(input: $input) {{ {CHALLENGE} }} }}"
            ),
            json!({ "input": { "name": "Grace", "email": email } }),
            None,
        )
        .await;
    let started = started.ok("startPasskeySignUp").clone();
    assert_eq!(started["options"]["user"]["name"], email.as_str());
    let credential = browser.create(&started["options"]).await;
    let signed_up = app
        .graphql(
            &format!(
                "mutation($input: PasskeyCredentialInput!) {{ finishPasskeySignUp(input: $input) {{ {AUTH_PAYLOAD} }} }}"
            ),
            json!({ "input": { "challengeId": started["challengeId"], "credential": credential } }),
            None,
        )
        .await;
    let payload = signed_up.ok("finishPasskeySignUp").clone();
    assert_eq!(payload["user"]["email"], email.as_str());
    let (amr, aal) = amr_and_aal(&payload);
    assert_eq!(amr, json!(["hwk", "user", "mfa"]));
    assert_eq!(aal, "aal2");
    // The passkey's user handle is the account's id.
    let handle = URL_SAFE_NO_PAD
        .decode(started["options"]["user"]["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        uuid::Uuid::from_slice(&handle).unwrap().to_string(),
        payload["user"]["id"].as_str().unwrap()
    );

    // No password signs in to it.
    assert_eq!(
        app.login(&email, PASSWORD).await.code(),
        Some("INVALID_CREDENTIALS")
    );
    // The same address cannot sign up twice.
    let taken = app
        .graphql(
            "mutation($input: StartPasskeySignUpInput!) { startPasskeySignUp(input: $input) { challengeId } }",
            json!({ "input": { "name": "Grace", "email": email } }),
            None,
        )
        .await;
    assert_eq!(taken.code(), Some("EMAIL_TAKEN"));

    // Its only passkey is its only way in.
    let bearer = payload["accessToken"].as_str().unwrap();
    let me = app
        .graphql("{ me { passkeys { id } } }", json!({}), Some(bearer))
        .await;
    let id = me.ok("me")["passkeys"][0]["id"].clone();
    let removed = app
        .graphql(
            "mutation($id: ID!) { removePasskey(id: $id) { id } }",
            json!({ "id": id }),
            Some(bearer),
        )
        .await;
    assert_eq!(
        removed.code(),
        Some("LAST_SIGN_IN_METHOD"),
        "{}",
        removed.body
    );

    // A second passkey makes the first removable; it then signs in no more.
    let started = start_registration(&app, bearer).await;
    let started = started.ok("startPasskeyRegistration").clone();
    // A second authenticator: the first is excluded.
    let mut phone = Authenticator::start().await;
    let credential = phone.create(&started["options"]).await;
    finish_registration(&app, bearer, &started["challengeId"], &credential, "Phone")
        .await
        .ok("finishPasskeyRegistration");
    let removed = app
        .graphql(
            "mutation($id: ID!) { removePasskey(id: $id) { id } }",
            json!({ "id": id }),
            Some(bearer),
        )
        .await;
    removed.ok("removePasskey");
    let (challenge, answer) = answer_sign_in(&app, &mut browser, json!(null)).await;
    let refused = finish_sign_in(&app, &challenge, &answer).await;
    assert_eq!(refused.code(), Some("INVALID_PASSKEY"));
    assert_eq!(reason(&refused), Some("unknown_credential"));
    let (challenge, answer) = answer_sign_in(&app, &mut phone, json!({ "email": email })).await;
    finish_sign_in(&app, &challenge, &answer)
        .await
        .ok("finishPasskeySignIn");
}

async fn forged_and_replayed_answers_are_refused_with_a_reason() {
    let app = spawn_app().await;
    let mut browser = Authenticator::start().await;
    let (email, _) = with_passkey(&app, &mut browser).await;

    // The authenticator lies: a bogus signature, no user verification, no
    // user presence.
    for (bits, expected) in [
        (json!({ "isBogusSignature": true }), "signature"),
        (json!({ "isBadUV": true }), "user_verification"),
        (json!({ "isBadUP": true }), "user_presence"),
    ] {
        browser.lie(bits.clone()).await;
        let (challenge, answer) =
            answer_sign_in(&app, &mut browser, json!({ "email": email })).await;
        let refused = finish_sign_in(&app, &challenge, &answer).await;
        assert_eq!(
            refused.code(),
            Some("INVALID_PASSKEY"),
            "{bits}: {}",
            refused.body
        );
        assert_eq!(reason(&refused), Some(expected), "{bits}: {}", refused.body);
    }
    browser.lie(json!({})).await;

    // A phishing page relays the answer: its origin is in the signed client
    // data, and authql checks it.
    let (challenge, answer) = answer_sign_in(&app, &mut browser, json!({ "email": email })).await;
    let relayed = tamper(&answer, "clientDataJSON", |bytes| {
        let mut data: Value = serde_json::from_slice(&bytes).unwrap();
        data["origin"] = json!("https://evil.example");
        serde_json::to_vec(&data).unwrap()
    });
    let refused = finish_sign_in(&app, &challenge, &relayed).await;
    assert_eq!(reason(&refused), Some("origin"), "{}", refused.body);
    // An answer made for another relying party.
    let (challenge, answer) = answer_sign_in(&app, &mut browser, json!({ "email": email })).await;
    let elsewhere = tamper(&answer, "authenticatorData", |mut bytes| {
        bytes[0] ^= 0xff;
        bytes
    });
    let refused = finish_sign_in(&app, &challenge, &elsewhere).await;
    assert_eq!(reason(&refused), Some("rp_id"), "{}", refused.body);

    // A right answer signs in once: sent again it meets a used ceremony,
    // and sent to a new ceremony it signs the wrong challenge.
    let (challenge, answer) = answer_sign_in(&app, &mut browser, json!({ "email": email })).await;
    finish_sign_in(&app, &challenge, &answer)
        .await
        .ok("finishPasskeySignIn");
    let replayed = finish_sign_in(&app, &challenge, &answer).await;
    assert_eq!(replayed.code(), Some("INVALID_PASSKEY_CHALLENGE"));
    let fresh = start_sign_in(&app, json!({ "email": email })).await;
    let fresh = fresh.ok("startPasskeySignIn").clone();
    let replayed = finish_sign_in(&app, &fresh["challengeId"], &answer).await;
    assert_eq!(reason(&replayed), Some("challenge"), "{}", replayed.body);

    // Another user's passkey answering a sign-in for this address.
    let (_, _) = with_passkey(&app, &mut browser).await;
    let other = browser
        .send(json!({ "cmd": "credentials" }))
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["credentialId"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    let started = start_sign_in(&app, json!({ "email": email })).await;
    let mut options = started.ok("startPasskeySignIn")["options"].clone();
    let own = options["allowCredentials"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger = other
        .iter()
        .map(|standard| {
            URL_SAFE_NO_PAD.encode(
                base64::engine::general_purpose::STANDARD
                    .decode(standard)
                    .unwrap(),
            )
        })
        .find(|id| *id != own)
        .expect("the other user's credential");
    options["allowCredentials"] = json!([{ "type": "public-key", "id": stranger }]);
    let answer = browser.get(&options).await;
    let refused = finish_sign_in(
        &app,
        &started.ok("startPasskeySignIn")["challengeId"],
        &answer,
    )
    .await;
    assert_eq!(reason(&refused), Some("other_user"), "{}", refused.body);

    // An expired ceremony.
    let (challenge, answer) = answer_sign_in(&app, &mut browser, json!({ "email": email })).await;
    app.db
        .execute_raw(Statement::from_sql_and_values(
            app.db.get_database_backend(),
            match app.db.get_database_backend() {
                sea_orm::DatabaseBackend::Postgres => {
                    "UPDATE passkey_ceremonies SET expires_at = $1"
                }
                _ => "UPDATE passkey_ceremonies SET expires_at = ?",
            },
            [(Utc::now() - chrono::TimeDelta::seconds(1)).into()],
        ))
        .await
        .unwrap();
    let expired = finish_sign_in(&app, &challenge, &answer).await;
    assert_eq!(expired.code(), Some("INVALID_PASSKEY_CHALLENGE"));

    // Each refusal is in the audit trail with its reason.
    let refusals: i64 = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM auth_events WHERE kind = 'passkey_sign_in_failed'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    assert_eq!(refusals, 7);
}

async fn a_ceremony_started_on_one_instance_finishes_on_another() {
    let apps = crate::helpers::spawn_instances_at_once(2).await;
    let (one, two) = (&apps[0], &apps[1]);
    let mut browser = Authenticator::start().await;
    let email = fresh_email();
    let tokens = Tokens::from_payload(one.register("Ada", &email, PASSWORD).await.ok("register"));
    let started = start_registration(one, &tokens.access).await;
    let started = started.ok("startPasskeyRegistration").clone();
    let credential = browser.create(&started["options"]).await;
    finish_registration(
        two,
        &tokens.access,
        &started["challengeId"],
        &credential,
        "Laptop",
    )
    .await
    .ok("finishPasskeyRegistration");
    let (challenge, answer) = answer_sign_in(two, &mut browser, json!(null)).await;
    let signed_in = finish_sign_in(one, &challenge, &answer).await;
    assert_eq!(
        signed_in.ok("finishPasskeySignIn")["user"]["email"],
        email.as_str()
    );
}

async fn a_passkey_is_a_second_factor_after_a_password() {
    let app = spawn_app().await;
    let mut browser = Authenticator::start().await;
    let (email, uri, _) = crate::second_factor::with_two_steps(&app).await;
    // Signed in with both steps (recent, aal2), the user adds a passkey.
    let login = app.login(&email, PASSWORD).await;
    let mfa_token = login.body["errors"][0]["extensions"]["mfaToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let verified = app
        .graphql(
            &format!(
                "mutation($input: VerifySecondFactorInput!) {{ verifySecondFactor(input: $input) {{ {AUTH_PAYLOAD} }} }}"
            ),
            json!({ "input": { "mfaToken": mfa_token, "totpCode": crate::second_factor::code_at(&uri, 0) } }),
            None,
        )
        .await;
    let bearer = verified.ok("verifySecondFactor")["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = start_registration(&app, &bearer).await;
    let started = started.ok("startPasskeyRegistration").clone();
    let credential = browser.create(&started["options"]).await;
    finish_registration(&app, &bearer, &started["challengeId"], &credential, "Key")
        .await
        .ok("finishPasskeyRegistration");

    // A password now asks for a second factor, a passkey among them.
    let login = app.login(&email, PASSWORD).await;
    assert_eq!(login.code(), Some("SECOND_FACTOR_REQUIRED"));
    let extensions = &login.body["errors"][0]["extensions"];
    assert_eq!(
        extensions["factors"],
        json!(["TOTP", "RECOVERY_CODE", "PASSKEY"])
    );
    let mfa_token = extensions["mfaToken"].as_str().unwrap().to_owned();
    let verify = |challenge: Value, answer: Value| {
        let app = &app;
        let mfa_token = mfa_token.clone();
        async move {
            app.graphql(
                &format!(
                    "mutation($input: VerifySecondFactorInput!) {{ verifySecondFactor(input: $input) {{ {AUTH_PAYLOAD} }} }}"
                ),
                json!({ "input": { "mfaToken": mfa_token, "passkey": { "challengeId": challenge, "credential": answer } } }),
                None,
            )
            .await
        }
    };
    // A lying authenticator counts as a wrong second factor.
    browser.lie(json!({ "isBogusSignature": true })).await;
    let (challenge, answer) =
        answer_sign_in(&app, &mut browser, json!({ "mfaToken": mfa_token })).await;
    let refused = verify(challenge, answer).await;
    assert_eq!(refused.code(), Some("INVALID_PASSKEY"));
    assert_eq!(reason(&refused), Some("signature"));
    browser.lie(json!({})).await;
    let (challenge, answer) =
        answer_sign_in(&app, &mut browser, json!({ "mfaToken": mfa_token })).await;
    let verified = verify(challenge, answer).await;
    let (amr, aal) = amr_and_aal(verified.ok("verifySecondFactor"));
    assert_eq!(amr, json!(["pwd", "hwk", "user", "mfa"]));
    assert_eq!(aal, "aal2");
    // The token is used up.
    let again = start_sign_in(&app, json!({ "mfaToken": mfa_token })).await;
    assert_eq!(again.code(), Some("INVALID_TOKEN"));
}

async fn registration_options_ask_for_a_discoverable_verified_key_and_no_attestation() {
    let app = spawn_app().await;
    let tokens = Tokens::from_payload(
        app.register("Ada", &fresh_email(), PASSWORD)
            .await
            .ok("register"),
    );
    let started = start_registration(&app, &tokens.access).await;
    let options = &started.ok("startPasskeyRegistration")["options"];
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(
        options["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(options["attestation"], "none");
    assert_eq!(options["timeout"], 300_000);
    assert!(
        options["challenge"].as_str().unwrap().len() >= 43,
        "{options}"
    );
    // Without an access token there is nothing to register to.
    let anonymous = app
        .graphql(
            "mutation { startPasskeyRegistration { challengeId } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(anonymous.code(), Some("UNAUTHENTICATED"));
}

async fn ceremonies_that_do_not_exist_are_refused() {
    let app = spawn_app().await;
    for challenge in [json!("not-a-uuid"), json!(uuid::Uuid::new_v4().to_string())] {
        let refused = finish_sign_in(&app, &challenge, &json!({ "id": "x" })).await;
        assert_eq!(
            refused.code(),
            Some("INVALID_PASSKEY_CHALLENGE"),
            "{}",
            refused.body
        );
    }
    // An answer that is not a credential.
    let started = start_sign_in(&app, json!(null)).await;
    let challenge = started.ok("startPasskeySignIn")["challengeId"].clone();
    let refused = finish_sign_in(&app, &challenge, &json!({ "id": "x" })).await;
    assert_eq!(refused.code(), Some("INVALID_PASSKEY"));
    assert_eq!(reason(&refused), Some("malformed"));
    // A sign-in ceremony cannot finish a sign-up.
    let refused = app
        .graphql(
            "mutation($input: PasskeyCredentialInput!) { finishPasskeySignUp(input: $input) { accessToken } }",
            json!({ "input": { "challengeId": challenge, "credential": {} } }),
            None,
        )
        .await;
    assert_eq!(refused.code(), Some("INVALID_PASSKEY_CHALLENGE"));
    // One way to start at a time.
    let both = start_sign_in(&app, json!({ "email": "a@example.com", "mfaToken": "x" })).await;
    assert_eq!(both.code(), Some("BAD_USER_INPUT"));
}

async fn an_address_without_passkeys_gets_decoys_that_do_not_change() {
    let app = spawn_app().await;
    let with_password = fresh_email();
    app.register("Ada", &with_password, PASSWORD)
        .await
        .ok("register");
    for email in [with_password, fresh_email()] {
        let first = start_sign_in(&app, json!({ "email": email })).await;
        let second = start_sign_in(&app, json!({ "email": email.to_uppercase() })).await;
        let (first, second) = (
            &first.ok("startPasskeySignIn")["options"],
            &second.ok("startPasskeySignIn")["options"],
        );
        assert_eq!(
            first["allowCredentials"], second["allowCredentials"],
            "{email}"
        );
        assert_ne!(first["challenge"], second["challenge"]);
        assert_eq!(first["userVerification"], "required");
        assert!(first.get("extensions").is_none(), "{first}");
        for allowed in first["allowCredentials"].as_array().unwrap() {
            assert!(allowed.get("transports").is_none(), "{allowed}");
        }
    }
}

async fn passkeys_can_be_turned_off() {
    let app = crate::helpers::spawn_app_with(|settings| settings.passkeys = None).await;
    let refused = start_sign_in(&app, json!(null)).await;
    assert_eq!(refused.code(), Some("PASSKEYS_UNAVAILABLE"));
}
