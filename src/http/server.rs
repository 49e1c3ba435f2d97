//! The HTTP server loop: hyper, driven here rather than through poem's
//! `Server`, because poem does not expose hyper's header-read timeout.
//!
//! - At most `max_connections` connections are served at once; further ones
//!   wait in the kernel's accept backlog, so a flood of idle sockets cannot
//!   exhaust file descriptors or memory.
//! - A client must send a request's headers within `header_read_timeout`
//!   of the connection opening or of the previous response: a slowloris
//!   client (a byte every few seconds) or an idle socket is cut off.
//! - HTTP/1.1 only. Version detection for cleartext HTTP/2 would read the
//!   connection's first bytes with no deadline at all; browsers speak HTTP/2
//!   only over TLS, which a load balancer terminates in front of authql.
//! - The body's read timeout and the request deadline are the `/graphql`
//!   handler's (see `http::graphql`).

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use poem::endpoint::BoxEndpoint;
use poem::http::uri::Scheme;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, Response};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::config::ServerLimits;

/// How long in-flight requests may finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(10);

type ResponseBody = http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error>;

/// Serves `endpoint` on `listener` until `shutdown` resolves, then lets
/// in-flight requests finish for up to [`DRAIN`].
pub async fn serve(
    listener: TcpListener,
    endpoint: BoxEndpoint<'static, Response>,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let endpoint = Arc::new(endpoint);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);

    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors or a reset before accept: wait a
                    // moment rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = hyper::service::service_fn({
            let endpoint = Arc::clone(&endpoint);
            move |request: poem::http::Request<Incoming>| {
                let endpoint = Arc::clone(&endpoint);
                async move {
                    let request = poem::Request::from((
                        request,
                        LocalAddr(local.into()),
                        RemoteAddr(remote.into()),
                        Scheme::HTTP,
                    ));
                    let response: hyper::Response<ResponseBody> =
                        endpoint.get_response(request).await.into();
                    Ok::<_, Infallible>(response)
                }
            }
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Errors here are the client's (reset, timeout, bad framing).
            let _ = connection.await;
            drop(permit);
        });
    }

    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => {
            tracing::warn!("connections still open after the drain period; closing them");
        }
    }
    Ok(())
}
