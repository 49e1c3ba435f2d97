//! Prints the median time of one argon2id hash with authql's production
//! parameters, in milliseconds, measured on one thread. `bench/run.sh` uses
//! it for the login ceiling: cores / time of one hash.

use std::time::{Duration, Instant};

use authql::auth::password::PasswordHasher;
use authql::domain::Password;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    const RUNS: usize = 21;
    let hasher = PasswordHasher::new().await?;
    let password = Password::parse("benchmark password".into()).map_err(anyhow::Error::msg)?;
    hasher.hash(&password).await?; // warm-up
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        hasher.hash(&password).await?;
        times.push(start.elapsed());
    }
    times.sort();
    println!("{:.3}", times[RUNS / 2].as_secs_f64() * 1000.0);
    Ok(())
}
