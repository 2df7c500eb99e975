//! Request limits and tracing: body size (413), timeout (503), concurrency,
//! request ids (`x-request-id`), panics turned into a bare 500.

use crate::config::LimitsConfig;
use axum::http::{HeaderValue, Request, StatusCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::ServiceBuilderExt;
use tower_http::request_id::{MakeRequestId, RequestId};

/// Request ids: a process-unique counter.
#[derive(Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{n:x}"))
            .ok()
            .map(RequestId::new)
    }
}

/// Wraps `router` in the limit layers (the last added runs first).
pub fn apply(router: axum::Router, limits: &LimitsConfig) -> axum::Router {
    router
        .layer(tower::limit::ConcurrencyLimitLayer::new(
            limits.max_concurrent_requests.max(1),
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            limits.max_body_bytes,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(limits.request_timeout_secs.max(1)),
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |req: &Request<axum::body::Body>| {
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::debug_span!("request", id, method = %req.method(), uri = %req.uri())
                },
            ),
        )
        .layer(
            ServiceBuilder::new()
                .set_x_request_id(Counter::default())
                .propagate_x_request_id(),
        )
}
