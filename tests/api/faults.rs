//! Database faults: a clear, fast answer while the database is gone or
//! cannot write, and full service again once it is back, with every session
//! committed before the fault intact.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::helpers::{
    PASSWORD, Reply, TestApp, Tokens, spawn_app_on, spawn_app_on_with, spawn_app_with, time_until,
};

/// Whether this process runs as root (who may write read-only files and may
/// not run PostgreSQL's servers).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn id_of(user: &str, flag: &str) -> Option<u32> {
    let out = Command::new("id").args([flag, user]).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn assert_internal_error_with_request_id(reply: &Reply) {
    assert_eq!(
        reply.code(),
        Some("INTERNAL_SERVER_ERROR"),
        "{}",
        reply.body
    );
    assert!(
        reply.body["errors"][0]["extensions"]["requestId"].is_string(),
        "{}",
        reply.body
    );
}

/// A PostgreSQL cluster of the test's own, made with the machine's `initdb`
/// and run with `pg_ctl` on a free port (as the `postgres` user when the
/// tests run as root, since PostgreSQL refuses to run as root).
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    user: Option<(u32, u32)>,
}

impl Cluster {
    fn new() -> Self {
        let bin = Self::bin_dir().expect("PostgreSQL's initdb and pg_ctl are installed");
        let dir = tempfile::tempdir().expect("temporary directory");
        let user = if is_root() {
            let uid = id_of("postgres", "-u").expect("a postgres user exists");
            let gid = id_of("postgres", "-g").expect("a postgres group exists");
            let status = Command::new("chown")
                .arg(format!("{uid}:{gid}"))
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(status.success());
            Some((uid, gid))
        } else {
            None
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = Self {
            dir,
            bin,
            port,
            user,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
            ],
        );
        cluster.start();
        cluster
    }

    fn bin_dir() -> Option<PathBuf> {
        let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
            .collect();
        candidates.sort();
        candidates.pop()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, program: &str, args: &[&str]) {
        let mut command = Command::new(self.bin.join(program));
        command
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some((uid, gid)) = self.user {
            command.uid(uid).gid(gid);
        }
        let output = command.output().expect("a PostgreSQL program runs");
        assert!(
            output.status.success(),
            "{program} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn pg_ctl(&self, action: &[&str]) {
        let data = self.data();
        let log = self.dir.path().join("server.log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let mut args = vec![
            "-D",
            data.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
            "-o",
            &options,
            "-w",
        ];
        args.extend_from_slice(action);
        self.run("pg_ctl", &args);
    }

    fn start(&self) {
        self.pg_ctl(&["start"]);
    }

    fn stop(&self) {
        self.pg_ctl(&["-m", "immediate", "stop"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = Command::new(self.bin.join("pg_ctl"))
            .args([
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "stop",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .uid(self.user.map_or(0, |u| u.0))
            .gid(self.user.map_or(0, |u| u.1))
            .status();
    }
}

#[tokio::test]
#[cfg_attr(not(postgres_tests), ignore = "AUTHQL_TEST_POSTGRES_URL is not set")]
async fn postgres_stopped_mid_run_fails_fast_and_recovers_with_every_session() {
    let cluster = Cluster::new();
    let app = spawn_app_on(&cluster.url()).await;
    let first = app.signed_up().await;
    let second = app.signed_up().await;

    cluster.stop();
    let started = Instant::now();
    let reply = app.refresh(&first.refresh).await;
    let waited = started.elapsed();
    assert_internal_error_with_request_id(&reply);
    assert!(waited < Duration::from_secs(4), "failed after {waited:?}");
    let started = Instant::now();
    let reply = app.login("ada@example.com", PASSWORD).await;
    assert_internal_error_with_request_id(&reply);
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(app.healthz().await.0, 503);

    cluster.start();
    let restarted = Instant::now();
    let renewed = loop {
        let reply = app.refresh(&first.refresh).await;
        if reply.body.get("errors").is_none() {
            break Tokens::from_payload(reply.data("refresh"));
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(5),
            "still failing 5 s after the database came back: {}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(app.me(Some(&renewed.access)).await.ok("me")["id"].is_string());
    app.refresh(&second.refresh).await.ok("refresh");
    assert_eq!(app.healthz().await.0, 200);
}

#[tokio::test]
#[cfg_attr(not(postgres_tests), ignore = "AUTHQL_TEST_POSTGRES_URL is not set")]
async fn with_postgres_gone_cached_sessions_are_refused_after_the_feed_bound() {
    let cluster = Cluster::new();
    let stale_after = Duration::from_secs(1);
    let app = spawn_app_on_with(&cluster.url(), |settings| {
        settings.sessions.feed.stale_after = stale_after;
    })
    .await;
    let tokens = app.signed_up().await;
    app.me(Some(&tokens.access)).await.ok("me");

    cluster.stop();
    let stopped = Instant::now();
    // Past the bound nothing cached is trusted: without the database the
    // token is refused, not honoured.
    tokio::time::sleep(stale_after + Duration::from_millis(300)).await;
    let reply = app.me(Some(&tokens.access)).await;
    assert_internal_error_with_request_id(&reply);
    assert!(stopped.elapsed() < stale_after + Duration::from_secs(4));

    cluster.start();
    let back = time_until(Duration::from_secs(8), || async {
        app.me(Some(&tokens.access))
            .await
            .body
            .get("errors")
            .is_none()
    })
    .await;
    assert!(
        back.is_some(),
        "the session works again once the database is back"
    );
}

/// Makes a file unwritable for this process: `chattr +i` as root (who
/// ignores permissions), read-only permissions otherwise. Undone on drop.
struct ReadOnly {
    path: PathBuf,
    immutable: bool,
}

impl ReadOnly {
    fn make(path: &Path) -> Self {
        let immutable = is_root();
        let done = if immutable {
            Command::new("chattr")
                .arg("+i")
                .arg(path)
                .status()
                .is_ok_and(|s| s.success())
        } else {
            std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o444))
                .is_ok()
        };
        assert!(done, "cannot make {} read-only", path.display());
        assert!(
            std::fs::OpenOptions::new().write(true).open(path).is_err(),
            "the file is still writable"
        );
        Self {
            path: path.to_owned(),
            immutable,
        }
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        if self.immutable {
            let _ = Command::new("chattr").arg("-i").arg(&self.path).status();
        } else {
            let _ = std::fs::set_permissions(
                &self.path,
                std::os::unix::fs::PermissionsExt::from_mode(0o644),
            );
        }
    }
}

async fn register_many(app: &TestApp, n: usize) -> Vec<Reply> {
    let registrations = (0..n).map(|_| {
        let email = format!("fault-{}@example.com", Uuid::new_v4());
        async move { app.register("Ada", &email, PASSWORD).await }
    });
    futures::future::join_all(registrations).await
}

#[tokio::test]
async fn a_sqlite_file_made_read_only_for_a_moment_takes_writes_again() {
    // Many registrations from one address: no per-IP limit here.
    let app = spawn_app_with(|s| s.protection.throttle.ip_credential_requests_per_minute = 0).await;
    app.signed_up().await;
    let file = PathBuf::from(
        app.settings
            .database
            .url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap(),
    );
    let read_only = ReadOnly::make(&file);
    assert_eq!(
        app.healthz().await,
        (reqwest::StatusCode::SERVICE_UNAVAILABLE, "read_only".into())
    );
    // Enough concurrent writes to make the pool open new connections while
    // the file cannot be written: every request still gets an answer.
    for reply in register_many(&app, 12).await {
        assert!(
            reply.body.get("errors").is_none() || reply.code() == Some("INTERNAL_SERVER_ERROR"),
            "{}",
            reply.body
        );
    }
    drop(read_only);

    let recovered = time_until(Duration::from_secs(5), || async {
        register_many(&app, 12)
            .await
            .iter()
            .all(|reply| reply.body.get("errors").is_none())
    })
    .await;
    assert!(recovered.is_some(), "every write succeeds within 5 s");
    assert_eq!(app.healthz().await.0, 200);
}
