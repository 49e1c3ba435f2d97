//! Times argon2id with authql's production parameters for `bench/run.sh`:
//! prints the median time of one hash on one thread (ms), then the hashes per
//! second authql's hasher sustains with every core busy. The login goal's
//! ceiling is cores / the first; the second shows what the machine can
//! really do in parallel (memory-bound hashes can scale worse than cores).

use std::time::{Duration, Instant};

use authql::auth::password::PasswordHasher;
use authql::config::HashingSettings;
use authql::domain::Password;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    const RUNS: usize = 21;
    let parallel_runs = std::thread::available_parallelism().map_or(1, usize::from) * 100;
    // One worker for the single-hash time; the default pool for throughput.
    let single = PasswordHasher::new(&HashingSettings {
        workers: 1,
        max_queue: RUNS,
    })
    .await?;
    let hasher = PasswordHasher::new(&HashingSettings {
        max_queue: parallel_runs,
        ..HashingSettings::default()
    })
    .await?;
    let password = Password::candidate("benchmark password".into()).map_err(anyhow::Error::msg)?;
    single.hash(&password).await?; // warm-up

    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        single.hash(&password).await?;
        times.push(start.elapsed());
    }
    times.sort();

    let start = Instant::now();
    let mut hashes = tokio::task::JoinSet::new();
    for _ in 0..parallel_runs {
        let (hasher, password) = (hasher.clone(), password.clone());
        hashes.spawn(async move { hasher.hash(&password).await });
    }
    while let Some(done) = hashes.join_next().await {
        done??;
    }
    let per_second = parallel_runs as f64 / start.elapsed().as_secs_f64();

    println!(
        "{:.3} {:.1}",
        times[RUNS / 2].as_secs_f64() * 1000.0,
        per_second
    );
    Ok(())
}
