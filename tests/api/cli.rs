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
fn production_without_smtp_or_the_frontend_links_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let production = || {
        let mut command = authql(dir.path());
        command
            .env("AUTHQL_ENV", "production")
            .env("AUTHQL_MASTER_KEY", MASTER_KEY)
            .env("AUTHQL_LISTEN", "127.0.0.1:0");
        command
    };
    assert_refused(&run(&mut production()), "AUTHQL_SMTP_URL");
    let output = run(production()
        .env(
            "AUTHQL_SMTP_URL",
            "smtps://mailer:pw-never-echoed@mail.example.com:465",
        )
        .env("AUTHQL_MAIL_FROM", "Example <no-reply@example.com>")
        .env(
            "AUTHQL_VERIFY_URL",
            "https://app.example.com/verify?token={token}",
        ));
    assert_refused(&output, "AUTHQL_RESET_URL");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("pw-never-echoed"));
    let output = run(production()
        .env("AUTHQL_SMTP_URL", "gopher://mail.example.com")
        .env("AUTHQL_MAIL_FROM", "Example <no-reply@example.com>"));
    assert_refused(&output, "AUTHQL_SMTP_URL");
    let output = run(production()
        .env(
            "AUTHQL_SMTP_URL",
            "smtp://mail.example.com:587?tls=required",
        )
        .env("AUTHQL_MAIL_FROM", "Example <no-reply@example.com>")
        .env("AUTHQL_RESET_URL", "https://app.example.com/reset")
        .env(
            "AUTHQL_VERIFY_URL",
            "https://app.example.com/verify?token={token}",
        ));
    assert_refused(&output, "{token}");
}

/// In development without SMTP, a mail's text, link included, is in the log.
#[test]
fn in_development_without_smtp_mails_are_written_to_the_log() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let mut server = authql(dir.path())
        .env("RUST_LOG", "info")
        .env("AUTHQL_LISTEN", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("authql starts");
    let stderr = server.stderr.take().unwrap();
    let (lines, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let registered = (0..300).find_map(|_| {
        let body = serde_json::json!({
            "query": "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }",
            "variables": { "i": {
                "name": "Ada", "email": "ada@example.com",
                "password": "correct horse battery staple",
                "passwordConfirmation": "correct horse battery staple"
            }}
        })
        .to_string();
        let reply = post(port, &body);
        if reply.is_none() {
            std::thread::sleep(Duration::from_millis(100));
        }
        reply
    });
    assert!(registered.expect("the server answers").contains("\"id\""));
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    let found = loop {
        match log.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.contains("mail not sent") => break Some(line),
            Ok(line) => seen.push(line),
            Err(_) => break None,
        }
    };
    server.kill().unwrap();
    server.wait().unwrap();
    let line = found.unwrap_or_else(|| panic!("no mail in the log: {seen:?}"));
    assert!(line.contains("ada@example.com"), "{line}");
    assert!(
        line.contains("http://localhost:3000/verify-email?token="),
        "{line}"
    );
    assert!(
        seen.iter()
            .any(|l| l.contains("mails are written to this log")),
        "a warning says so at start-up: {seen:?}"
    );
}

/// A bare HTTP/1.1 POST of `body` to `/graphql` on `port`; `None` when
/// nothing listens yet.
fn post(port: u16, body: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    Some(reply)
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
fn an_origin_pattern_that_admits_strangers_is_refused_at_start_naming_the_setting() {
    // Each would send credentialed CORS answers to sites nobody listed:
    // every site, `attackerexample.com`, every `.com` domain.
    let dir = tempfile::tempdir().unwrap();
    for pattern in ["https://*", "https://*example.com", "https://*.com"] {
        let output = run(authql(dir.path()).args(["--listen", "127.0.0.1:0"]).env(
            "AUTHQL_CORS_ORIGINS",
            format!("https://app.example.com,{pattern}"),
        ));
        assert_refused(&output, "AUTHQL_CORS_ORIGINS");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(pattern), "{stderr}");
    }
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
