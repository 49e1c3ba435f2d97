//! Turns `AUTHQL_TEST_POSTGRES_URL` into the `postgres_tests` cfg, so the
//! PostgreSQL variant of each integration test is compiled as a normal test
//! when a server is available and reported as ignored (by name) otherwise;
//! likewise `AUTHQL_TEST_CHROMIUM` (a Chromium binary) into `browser_tests`,
//! and `AUTHQL_TEST_OIDC_PROVIDER` (`tests/partners/oidc-provider`, with its
//! packages installed) into `provider_tests`, and `AUTHQL_TEST_PYOTP` (a
//! Python with `pyotp`) into `totp_tests`, and `AUTHQL_TEST_AUTHENTICATOR`
//! (`tests/partners/authenticator`, with its packages installed; Chromium
//! from `AUTHQL_TEST_CHROMIUM`) into `passkey_tests`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rustc-check-cfg=cfg(browser_tests)");
    println!("cargo::rustc-check-cfg=cfg(provider_tests)");
    println!("cargo::rustc-check-cfg=cfg(totp_tests)");
    println!("cargo::rustc-check-cfg=cfg(passkey_tests)");
    println!("cargo::rerun-if-env-changed=AUTHQL_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-env-changed=AUTHQL_TEST_CHROMIUM");
    println!("cargo::rerun-if-env-changed=AUTHQL_TEST_OIDC_PROVIDER");
    println!("cargo::rerun-if-env-changed=AUTHQL_TEST_PYOTP");
    println!("cargo::rerun-if-env-changed=AUTHQL_TEST_AUTHENTICATOR");
    if std::env::var_os("AUTHQL_TEST_POSTGRES_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
    if std::env::var_os("AUTHQL_TEST_CHROMIUM").is_some_and(|path| !path.is_empty()) {
        println!("cargo::rustc-cfg=browser_tests");
    }
    if std::env::var_os("AUTHQL_TEST_OIDC_PROVIDER").is_some_and(|path| !path.is_empty()) {
        println!("cargo::rustc-cfg=provider_tests");
    }
    if std::env::var_os("AUTHQL_TEST_PYOTP").is_some_and(|path| !path.is_empty()) {
        println!("cargo::rustc-cfg=totp_tests");
    }
    if std::env::var_os("AUTHQL_TEST_AUTHENTICATOR").is_some_and(|path| !path.is_empty()) {
        println!("cargo::rustc-cfg=passkey_tests");
    }
}
