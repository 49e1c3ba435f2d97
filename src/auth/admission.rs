//! Admission to the fields that check a credential or take a new password:
//! each request is charged to its client IP's budget before any costly
//! work, and the parsing of a new password (its strength estimate) runs on
//! a hashing worker.

use super::audit::{Event, Throttle};
use super::{AuthError, AuthService, ClientInfo};

/// Proof that a request was charged to its client IP's budget
/// ([`AuthService::admit`]). The fields that take a new password need it
/// before their input is parsed, since judging a password's strength costs
/// CPU: the resolver admits first, parses on a hashing worker
/// ([`AuthService::judge`]), then hands the proof on.
#[derive(Debug)]
pub struct Admitted(());

impl AuthService {
    /// Admits a request to a field that checks a credential, or refuses it
    /// (`TOO_MANY_REQUESTS`) when its client IP has spent its budget.
    pub async fn admit(&self, client: &ClientInfo, field: &str) -> Result<Admitted, AuthError> {
        let ip = client.ip.as_deref().and_then(|ip| ip.parse().ok());
        let Err(retry_after) = self.ip_limit.check(ip) else {
            return Ok(Admitted(()));
        };
        if let Some(ip) = ip
            && !self.ip_refusals_recorded.contains_key(&ip)
        {
            self.ip_refusals_recorded.insert(ip, ());
            self.record(
                &self.db,
                client,
                Event::Throttled {
                    user_id: None,
                    session_id: None,
                    by: Throttle::Ip { field },
                },
            )
            .await?;
        }
        tracing::info!(
            ip = client.ip.as_deref(),
            field,
            retry_after,
            "client IP throttled"
        );
        Err(AuthError::Throttled { retry_after })
    }

    /// Runs the parsing of input that holds a new password (its strength
    /// estimate costs milliseconds of CPU) on a hashing worker, within the
    /// pool's queue: `SERVER_BUSY` when it is full.
    pub async fn judge<T: Send + 'static>(
        &self,
        parse: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        self.hasher.run(parse).await
    }
}
