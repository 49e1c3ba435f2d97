//! authql's HTTP client toward providers: TLS through rustls with the
//! Mozilla roots, no redirects followed (a provider's endpoint that
//! redirects is refused, never chased to wherever it points), every call
//! bounded in time, every answer bounded in size. The OAuth 2 and OpenID
//! Connect crates call it through their `AsyncHttpClient` trait.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// The largest answer read from a provider: discovery documents, key sets
/// and token answers are a few KiB.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Why a call to a provider failed; never shown to clients.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("the request could not be sent: {0}")]
    Request(#[source] reqwest::Error),
    #[error("the answer is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the answer could not be read: {0}")]
    Body(#[source] reqwest::Error),
    #[error("the answer could not be built: {0}")]
    Build(#[source] openidconnect::http::Error),
}

/// A client for every call to every provider.
#[derive(Clone, Debug)]
pub struct Outbound {
    client: reqwest::Client,
}

impl Outbound {
    /// A client whose calls give up after `timeout` (connecting included).
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("cannot configure TLS for provider calls")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(concat!("authql/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client for provider calls")?;
        Ok(Self { client })
    }

    /// Sends `request`; the answer, read up to the size bound.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, OutboundError> {
        let request = reqwest::Request::try_from(request).map_err(OutboundError::Request)?;
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(OutboundError::Request)?;
        if response
            .content_length()
            .is_some_and(|length| length > MAX_BODY_BYTES as u64)
        {
            return Err(OutboundError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(OutboundError::Body)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(OutboundError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let mut answer = openidconnect::http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            answer = answer.header(name, value);
        }
        answer.body(body).map_err(OutboundError::Build)
    }
}

impl<'c> AsyncHttpClient<'c> for Outbound {
    type Error = OutboundError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, OutboundError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
