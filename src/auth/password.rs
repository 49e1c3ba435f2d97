//! argon2id password hashing on a fixed set of worker threads.
//!
//! Each worker owns one preallocated block of argon2 memory (19 MiB) and
//! reuses it for every hash, so a flood of logins neither allocates (and
//! page-faults in) 19 MiB per attempt nor leaves the allocator holding
//! hundreds of MiB afterwards; the async executor never runs a hash, so
//! guarded fields stay fast meanwhile. At most `max_queue` checks wait for a
//! worker; beyond that a credential request fails at once with
//! `SERVER_BUSY` instead of queueing for seconds.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use anyhow::{Context, anyhow};
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use super::AuthError;
use crate::config::HashingSettings;
use crate::domain::Password;

/// OWASP's argon2id recommendation: m = 19 MiB, t = 2, p = 1.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;
const OUTPUT_BYTES: usize = 32;
const SALT_BYTES: usize = 16;

/// Seconds a client told `SERVER_BUSY` should wait.
const BUSY_RETRY_AFTER: u64 = 1;

fn params() -> Params {
    // The parameters are constants within argon2's documented bounds.
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(OUTPUT_BYTES))
        .expect("argon2 parameters are valid constants")
}

type Reply<T> = oneshot::Sender<anyhow::Result<T>>;

/// A job for a worker, with where its answer goes.
enum Job {
    Hash(Zeroizing<Vec<u8>>, Reply<String>),
    Verify(Zeroizing<Vec<u8>>, Arc<str>, Reply<bool>),
    /// Other CPU-bound work on a credential (a new password's strength
    /// estimate), which answers through its own channel.
    Run(Box<dyn FnOnce() + Send>),
}

#[derive(Clone)]
pub struct PasswordHasher {
    jobs: SyncSender<Job>,
    /// A real hash of a random password: verifying an unknown user's attempt
    /// against it costs the same as verifying a known user's.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Starts the workers (they end when the last handle is dropped) and
    /// computes the dummy hash once.
    pub async fn new(settings: &HashingSettings) -> anyhow::Result<Self> {
        let (jobs, queue) = mpsc::sync_channel::<Job>(settings.max_queue);
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..settings.workers {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || work(&queue))
                .context("cannot start a hashing worker")?;
        }
        let mut random = Zeroizing::new(vec![0u8; 32]);
        getrandom::fill(&mut random).map_err(|e| anyhow!("no system randomness: {e}"))?;
        let dummy_hash = submit(&jobs, |reply| Job::Hash(random, reply))
            .await
            .map_err(|error| anyhow!("cannot compute the dummy hash: {error}"))?;
        Ok(Self {
            jobs,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// The PHC string of a new argon2id hash of `password`.
    pub async fn hash(&self, password: &Password) -> Result<String, AuthError> {
        submit(&self.jobs, |reply| Job::Hash(bytes_of(password), reply)).await
    }

    /// Whether `candidate` matches `stored`; with no stored hash (unknown
    /// user) it verifies against the dummy hash and answers `false`, taking
    /// the same time.
    pub async fn verify(
        &self,
        candidate: &Password,
        stored: Option<&str>,
    ) -> Result<bool, AuthError> {
        let known = stored.is_some();
        let hash = stored.map_or_else(|| Arc::clone(&self.dummy_hash), Arc::from);
        let matches = submit(&self.jobs, |reply| {
            Job::Verify(bytes_of(candidate), hash, reply)
        })
        .await?;
        Ok(known && matches)
    }
}

impl PasswordHasher {
    /// Runs `work` (the parsing of a new password, whose strength estimate
    /// can take long) on a hashing worker, so it never holds an async
    /// worker; queued and shed like a hash (`SERVER_BUSY` when full).
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        submit(&self.jobs, |reply| {
            Job::Run(Box::new(move || {
                // A panic in `work` (in a third-party estimator, say) must not
                // take the worker thread, and with it the pool, down.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                    .map_err(|_| anyhow!("judging a password panicked"));
                let _ = reply.send(outcome);
            }))
        })
        .await
    }
}

/// Queues a job (or sheds it when the queue is full) and waits for its answer.
async fn submit<T>(
    jobs: &SyncSender<Job>,
    job: impl FnOnce(Reply<T>) -> Job,
) -> Result<T, AuthError> {
    let (reply, answer) = oneshot::channel();
    match jobs.try_send(job(reply)) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            tracing::warn!("hashing queue full: credential request shed");
            return Err(AuthError::Busy {
                retry_after: BUSY_RETRY_AFTER,
            });
        }
        Err(TrySendError::Disconnected(_)) => {
            return Err(anyhow!("the hashing workers have stopped").into());
        }
    }
    Ok(answer.await.context("a hashing worker dropped its job")??)
}

fn bytes_of(password: &Password) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(password.expose().as_bytes().to_vec())
}

/// A worker: one block of argon2 memory, reused for every job until the
/// queue closes.
fn work(queue: &Mutex<Receiver<Job>>) {
    let mut memory = vec![Block::default(); params().block_count()];
    loop {
        // The lock is held only while waiting for the next job.
        let job = match queue.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        // A requester may have gone (its deadline passed): nothing to do.
        match job {
            Ok(Job::Hash(password, reply)) => {
                let _ = reply.send(hash_with(&mut memory, &password));
            }
            Ok(Job::Verify(password, stored, reply)) => {
                let _ = reply.send(verify_with(&mut memory, &password, &stored));
            }
            Ok(Job::Run(work)) => work(),
            Err(_) => return,
        }
    }
}

fn hash_with(memory: &mut [Block], password: &[u8]) -> anyhow::Result<String> {
    let mut salt = [0u8; SALT_BYTES];
    getrandom::fill(&mut salt).map_err(|e| anyhow!("no system randomness: {e}"))?;
    let params = params();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; OUTPUT_BYTES];
    argon2
        .hash_password_into_with_memory(
            password,
            &salt,
            &mut out,
            &mut memory[..params.block_count()],
        )
        .map_err(|e| anyhow!("argon2 hashing failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow!("argon2 parameters: {e}"))?,
        salt: Some(Salt::new(&salt).map_err(|e| anyhow!("argon2 salt: {e}"))?),
        hash: Some(Output::new(&out).map_err(|e| anyhow!("argon2 output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Recomputes the hash with the stored salt and parameters and compares in
/// constant time (`Output`'s equality). A stored hash whose parameters need
/// more memory than the worker holds gets a temporary block of its own.
fn verify_with(memory: &mut [Block], password: &[u8], stored: &str) -> anyhow::Result<bool> {
    let phc = PasswordHash::new(stored).map_err(|e| anyhow!("unreadable password hash: {e}"))?;
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return Err(anyhow!("the password hash has no salt or output"));
    };
    let algorithm = Algorithm::try_from(phc.algorithm.as_str())
        .map_err(|e| anyhow!("password hash algorithm: {e}"))?;
    let version = phc
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| anyhow!("password hash version: {e}"))?
        .unwrap_or_default();
    let params = Params::try_from(&phc).map_err(|e| anyhow!("password hash parameters: {e}"))?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut out = Zeroizing::new(vec![0u8; expected.len()]);
    let blocks = params.block_count();
    let result = if blocks <= memory.len() {
        argon2.hash_password_into_with_memory(
            password,
            salt.as_ref(),
            &mut out,
            &mut memory[..blocks],
        )
    } else {
        let mut larger = vec![Block::default(); blocks];
        argon2.hash_password_into_with_memory(password, salt.as_ref(), &mut out, &mut larger[..])
    };
    result.map_err(|e| anyhow!("argon2 verification failed: {e}"))?;
    let computed = Output::new(&out).map_err(|e| anyhow!("argon2 output: {e}"))?;
    Ok(computed == *expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;

    fn hasher_settings() -> HashingSettings {
        HashingSettings {
            workers: 1,
            max_queue: 4,
        }
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = PasswordHasher::new(&hasher_settings()).await.unwrap();
        let password = Password::candidate("correct horse battery".into()).unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify(&password, Some(&hash)).await.unwrap());
        let wrong = Password::candidate("wrong horse battery".into()).unwrap();
        assert!(!hasher.verify(&wrong, Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_are_standard_phc_strings_both_ways() {
        // Ours verify with the argon2 crate's own verifier, and a hash the
        // crate made (as stored before the workers existed) verifies with ours.
        let hasher = PasswordHasher::new(&hasher_settings()).await.unwrap();
        let password = Password::candidate("correct horse battery".into()).unwrap();
        let ours = hasher.hash(&password).await.unwrap();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());
        assert!(
            argon2
                .verify_password(b"correct horse battery", ours.as_str())
                .is_ok()
        );
        let theirs = argon2::PasswordHasher::hash_password(&argon2, b"correct horse battery")
            .unwrap()
            .to_string();
        assert!(hasher.verify(&password, Some(&theirs)).await.unwrap());
    }

    #[tokio::test]
    async fn work_runs_on_a_worker_thread_and_is_shed_when_the_queue_is_full() {
        let hasher = PasswordHasher::new(&hasher_settings()).await.unwrap();
        let name = hasher
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("argon2-0"));
        // One worker held, four waiting: the sixth is refused at once.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        let mut waiting = Vec::new();
        for _ in 0..5 {
            let held = Arc::clone(&held);
            let hasher = hasher.clone();
            waiting.push(tokio::spawn(async move {
                hasher
                    .run(move || {
                        let _ = held.lock().unwrap().recv();
                    })
                    .await
            }));
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(matches!(
            hasher.run(|| ()).await,
            Err(AuthError::Busy { .. })
        ));
        for _ in 0..5 {
            release.send(()).unwrap();
        }
        for job in waiting {
            job.await.unwrap().unwrap();
        }
    }

    #[tokio::test]
    async fn work_that_panics_fails_alone_and_the_worker_lives_on() {
        let hasher = PasswordHasher::new(&hasher_settings()).await.unwrap();
        let failed = hasher.run(|| -> u8 { panic!("an estimator bug") }).await;
        assert!(matches!(failed, Err(AuthError::Unexpected(_))));
        // The one worker still hashes.
        let password = Password::candidate("correct horse battery".into()).unwrap();
        assert!(hasher.hash(&password).await.is_ok());
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = PasswordHasher::new(&hasher_settings()).await.unwrap();
        let password = Password::candidate("correct horse battery".into()).unwrap();
        assert!(!hasher.verify(&password, None).await.unwrap());
    }
}
