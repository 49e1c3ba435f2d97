//! The `authql` binary: start-up checks, subcommands, one-line failures.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_authql");

/// The binary with a clean environment, run in `dir`.
fn authql(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.env_clear().env("RUST_LOG", "warn").current_dir(dir);
    command
}

fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().expect("authql runs")
}

/// Asserts a failed start: non-zero exit, one line on stderr, no panic.
fn assert_refused(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "expected failure, stderr: {stderr}"
    );
    assert!(
        stderr.contains(expected),
        "stderr lacks {expected:?}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("authql:"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
}

/// A master key for tests that start the binary.
const MASTER_KEY: &str = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=";

#[test]
fn production_without_a_master_key_or_secret_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(authql(dir.path()).args(["--env", "production", "--listen", "127.0.0.1:0"]));
    assert_refused(&output, "AUTHQL_MASTER_KEY");
    assert!(!dir.path().join("authql.master-key").exists());

    let output = run(authql(dir.path())
        .args(["--env", "production", "--listen", "127.0.0.1:0"])
        .env("AUTHQL_JWT_ALGORITHM", "HS256"));
    assert_refused(&output, "AUTHQL_JWT_SECRET");
    assert!(!dir.path().join("authql.jwt-secret").exists());
}

#[test]
fn a_secret_without_hs256_is_refused_naming_the_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(authql(dir.path())
        .env("AUTHQL_JWT_SECRET", "x".repeat(40))
        .env("AUTHQL_LISTEN", "127.0.0.1:0"));
    assert_refused(&output, "AUTHQL_JWT_ALGORITHM=HS256");
}

#[test]
fn a_malformed_or_wrong_master_key_stops_the_process_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(authql(dir.path()).env("AUTHQL_MASTER_KEY", "too-short"));
    assert_refused(&output, "AUTHQL_MASTER_KEY must be 32 random bytes");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("too-short"));

    let list = |key: &str| {
        run(authql(dir.path())
            .env("AUTHQL_MASTER_KEY", key)
            .args(["keys", "list"]))
    };
    let first = list(MASTER_KEY);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let listing = String::from_utf8_lossy(&first.stdout);
    assert!(listing.contains("EdDSA  signing"), "{listing}");

    let other = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let output = list(other);
    assert_refused(&output, "AUTHQL_MASTER_KEY does not open the signing keys");
    let output = run(authql(dir.path())
        .env("AUTHQL_MASTER_KEY", other)
        .env("AUTHQL_LISTEN", "127.0.0.1:0"));
    assert_refused(&output, "AUTHQL_MASTER_KEY does not open the signing keys");
}

#[test]
fn help_shows_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(authql(dir.path())
        .env(
            "AUTHQL_DATABASE_URL",
            "postgres://authql:hunter2-db-password@db/authql",
        )
        .env("AUTHQL_MASTER_KEY", MASTER_KEY)
        .env(
            "AUTHQL_JWT_SECRET",
            "a-jwt-secret-that-must-not-show-0123456789",
        )
        .arg("--help"));
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("AUTHQL_MASTER_KEY"), "{help}");
    for secret in ["hunter2", MASTER_KEY, "a-jwt-secret"] {
        assert!(!help.contains(secret), "--help shows {secret}: {help}");
    }
}

#[test]
fn a_secret_shorter_than_32_bytes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(authql(dir.path())
        .env("AUTHQL_JWT_ALGORITHM", "HS256")
        .env("AUTHQL_JWT_SECRET", "too-short")
        .env("AUTHQL_LISTEN", "127.0.0.1:0"));
    assert_refused(&output, "at least 32");
}

#[test]
fn production_refuses_a_guessable_secret() {
    for (secret, reason) in [
        ("a".repeat(32), "one short pattern repeated"),
        ("0123456789abcdef".repeat(3), "one short pattern repeated"),
        (
            "change-me-please-change-me-please!".to_owned(),
            "known placeholder",
        ),
        (
            "your-256-bit-secret-goes-here-0123".to_owned(),
            "known placeholder",
        ),
        (
            format!("{} tail", "Zx9Qw3Er7Ty1Ui5Op2As8Df4Gh6Jk0L"),
            "whitespace",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let output = run(authql(dir.path())
            .env("AUTHQL_ENV", "production")
            .env("AUTHQL_JWT_ALGORITHM", "HS256")
            .env("AUTHQL_JWT_SECRET", &secret)
            .env("AUTHQL_LISTEN", "127.0.0.1:0"));
        assert_refused(&output, reason);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains(&secret),
            "the secret is not echoed: {stderr}"
        );
    }
}

#[test]
fn a_bad_value_is_refused_in_one_line_naming_its_variable() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(authql(dir.path()).env("AUTHQL_ACCESS_TOKEN_TTL", "fifteen minutes"));
    assert_refused(&output, "AUTHQL_ACCESS_TOKEN_TTL");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--access-token-ttl"), "{stderr}");

    let output = run(authql(dir.path()).args(["--listen", "nowhere"]));
    assert_refused(&output, "AUTHQL_LISTEN");
}

#[test]
fn a_busy_port_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = run(authql(dir.path())
        .env("AUTHQL_MASTER_KEY", MASTER_KEY)
        .env("AUTHQL_LISTEN", &address));
    assert_refused(&output, &format!("cannot listen on {address}"));
}

#[test]
fn an_unreachable_database_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(authql(dir.path())
        .env("AUTHQL_MASTER_KEY", MASTER_KEY)
        .env("AUTHQL_LISTEN", "127.0.0.1:0")
        .env(
            "AUTHQL_DATABASE_URL",
            "sqlite:///nonexistent-dir/deeper/authql.db?mode=rw",
        )
        .env("AUTHQL_DATABASE_STARTUP_RETRY", "1s"));
    assert_refused(&output, "cannot connect to the database");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("gave up after retrying for 1s"), "{stderr}");
}

#[test]
fn the_schema_subcommand_prints_the_committed_schema() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(authql(dir.path()).arg("schema"));
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), committed);
}

/// `authql migrate` up, status, down, status, up on a fresh database.
fn assert_migrate_cycle(backend: crate::helpers::Backend) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database = runtime.block_on(crate::helpers::TestDatabase::create(backend));
    let dir = tempfile::tempdir().unwrap();
    let migrate = |action: &str| {
        let output = run(authql(dir.path())
            .args(["migrate", action])
            .env("AUTHQL_DATABASE_URL", &database.url));
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    use migration::MigratorTrait;
    let migrations = migration::Migrator::migrations();
    let newest = migrations.last().expect("migrations").name().to_owned();
    migrate("up");
    assert_eq!(
        migrate("status").matches("Applied").count(),
        migrations.len()
    );
    migrate("down");
    let listing = migrate("status");
    assert_eq!(
        listing.matches("Applied").count(),
        migrations.len() - 1,
        "{listing}"
    );
    let newest_line = listing
        .lines()
        .find(|line| line.starts_with(&newest))
        .unwrap_or_else(|| panic!("{newest} listed: {listing}"));
    assert!(newest_line.contains("Pending"), "{listing}");
    migrate("up");
    assert_eq!(
        migrate("status").matches("Applied").count(),
        migrations.len()
    );
    drop(database);
}

#[test]
fn migrate_up_status_and_down_work_on_sqlite() {
    assert_migrate_cycle(crate::helpers::Backend::Sqlite);
}

#[cfg_attr(not(postgres_tests), ignore = "AUTHQL_TEST_POSTGRES_URL is not set")]
#[test]
fn migrate_up_status_and_down_work_on_postgres() {
    assert_migrate_cycle(crate::helpers::Backend::Postgres);
}

#[cfg(unix)]
#[test]
fn development_generates_a_private_master_key_once_and_keeps_it() {
    assert_generated_once(
        None,
        "authql.master-key",
        "generated a development master key",
    );
}

#[cfg(unix)]
#[test]
fn development_with_hs256_generates_a_private_secret_once_and_keeps_it() {
    assert_generated_once(
        Some("HS256"),
        "authql.jwt-secret",
        "generated a development secret",
    );
}

#[cfg(unix)]
fn assert_generated_once(algorithm: Option<&str>, file: &str, message: &str) {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let secret_path = dir.path().join(file);
    let start = || {
        let mut command = authql(dir.path());
        if let Some(algorithm) = algorithm {
            command.env("AUTHQL_JWT_ALGORITHM", algorithm);
        }
        command
            .env("AUTHQL_LISTEN", "127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("authql starts")
    };
    let wait_for = |condition: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !condition() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        condition()
    };

    let mut first = start();
    assert!(
        wait_for(&|| dir.path().join("authql.db").exists()),
        "the database was created"
    );
    first.kill().unwrap();
    let output = first.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(message), "{stderr}");
    let secret = std::fs::read_to_string(&secret_path).unwrap();
    assert!(secret.len() >= 32);
    let mode = std::fs::metadata(&secret_path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);

    let mut second = start();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        second.try_wait().unwrap().is_none(),
        "the second start keeps running"
    );
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(
        std::fs::read_to_string(&secret_path).unwrap(),
        secret,
        "the secret survives a restart"
    );
}
