//! The accept loop: HTTP/1.1 connections with a header read timeout (a
//! client trickling its header, or an idle keep-alive connection, is cut
//! off), a write timeout (a client that stops reading its response is
//! reset), caps on open connections in total and per address, a hard cap
//! on the header size (431 from the protocol layer), the peer address for
//! the rate limit, forwarding headers only from trusted proxies, and a
//! graceful shutdown that drains in-flight requests. Each request meets the
//! fast path for cached tiles first ([`super::fast_tiles`]), then, unless it
//! answered, the router.

use super::Metrics;
use super::conn_limit::{ConnLimit, refusal_response};
use super::fast_tiles::{FastTiles, WithFastTiles};
use super::write_timeout::WriteTimeout;
use crate::config::Config;
use crate::ip_range::any_contains;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How long shutdown waits for in-flight requests before giving up on them.
pub const DRAIN: Duration = Duration::from_secs(8);

/// The forwarding headers believed only from a trusted proxy.
const FORWARDING: [&str; 3] = ["x-forwarded-host", "x-forwarded-proto", "forwarded"];

/// Serves `router`, behind the fast path `fast`, on `listener` until
/// `shutdown` completes, then stops accepting, lets idle connections go,
/// and waits (up to [`DRAIN`]) for requests in flight to be answered.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    fast: Arc<FastTiles>,
    config: &Config,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = &config.limits;
    let conns = ConnLimit::new(
        limits.max_connections,
        limits.max_connections_per_client,
        config.trusted_proxies.clone(),
    );
    let write_timeout = Duration::from_secs(limits.write_timeout_secs.max(1));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_read_timeout_secs.max(1)))
        // Room for the request line: the exact 414/431 answers come from
        // `limits::sizes`; this cap only bounds what is buffered.
        .max_header_size(limits.max_header_bytes + limits.max_uri_bytes + 1024);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors and the like: back off, keep serving.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let guard = match conns.admit(peer.ip()) {
            Ok(guard) => guard,
            Err(refusal) => {
                metrics.rejected(refusal.reason());
                tracing::debug!(%peer, open = conns.open(), "connection refused: {}", refusal.reason());
                // Best effort, never waiting: the socket's buffer takes it.
                let _ = stream.try_write(refusal_response(refusal).as_bytes());
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let trusted = any_contains(&config.trusted_proxies, peer.ip());
        let service = router
            .clone()
            .map_request(move |mut req: Request<Incoming>| {
                if !trusted {
                    for name in FORWARDING {
                        req.headers_mut().remove(name);
                    }
                }
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let service = WithFastTiles::new(fast.clone(), Some(peer), service);
        let stalled = metrics.clone();
        let io = WriteTimeout::new(stream, write_timeout, move || {
            stalled.rejected("write_timeout");
        });
        let conn = builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
            drop(guard);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(DRAIN) => {
            tracing::warn!("requests still in flight after {} s; exiting", DRAIN.as_secs());
        }
    }
    Ok(())
}
