//! argon2id password hashing, off the async executor and bounded in
//! parallelism so a flood of logins cannot starve everything else.

use std::sync::Arc;

use anyhow::{Context, anyhow};
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::domain::Password;

/// OWASP's argon2id recommendation: m = 19 MiB, t = 2, p = 1.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A real hash of a random password: verifying an unknown user's attempt
    /// against it costs the same as verifying a known user's.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("permits", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

fn argon2() -> Argon2<'static> {
    // The parameters are constants within argon2's documented bounds.
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("argon2 parameters are valid constants");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl PasswordHasher {
    /// Builds the hasher, computing the dummy hash once (one argon2 run).
    pub async fn new() -> anyhow::Result<Self> {
        let permits = std::thread::available_parallelism().map_or(1, usize::from);
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| anyhow!("no system randomness: {e}"))?;
        let dummy_hash = tokio::task::spawn_blocking(move || hash_blocking(&random))
            .await
            .context("the hashing task failed")??;
        Ok(Self {
            permits: Arc::new(Semaphore::new(permits)),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// The PHC string of a new argon2id hash of `password`.
    pub async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let bytes = password.expose().as_bytes().to_vec();
        self.run(move || hash_blocking(&bytes)).await?
    }

    /// Whether `candidate` matches `stored`; with no stored hash (unknown
    /// user) it verifies against the dummy hash and answers `false`, taking
    /// the same time.
    pub async fn verify(&self, candidate: &Password, stored: Option<&str>) -> anyhow::Result<bool> {
        let known = stored.is_some();
        let hash = stored.map_or_else(|| self.dummy_hash.to_string(), str::to_owned);
        let bytes = candidate.expose().as_bytes().to_vec();
        let matches = self
            .run(move || argon2().verify_password(&bytes, hash.as_str()).is_ok())
            .await?;
        Ok(known && matches)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .context("the password hasher is shut down")?;
        tokio::task::spawn_blocking(work)
            .await
            .context("the hashing task failed")
    }
}

fn hash_blocking(password: &[u8]) -> anyhow::Result<String> {
    argon2()
        .hash_password(password)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow!("argon2 hashing failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = PasswordHasher::new().await.unwrap();
        let password = Password::parse("correct horse battery".into()).unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify(&password, Some(&hash)).await.unwrap());
        let wrong = Password::parse("wrong horse battery".into()).unwrap();
        assert!(!hasher.verify(&wrong, Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = PasswordHasher::new().await.unwrap();
        let password = Password::parse("correct horse battery".into()).unwrap();
        assert!(!hasher.verify(&password, None).await.unwrap());
    }
}
