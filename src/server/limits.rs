//! Request limits and tracing: body size per route (413), request target length
//! (414), header size (431), timeout (503), concurrency, the optional rate
//! limit (429), request ids (`x-request-id`), panics turned into a bare 500,
//! every error answered as JSON ([`super::json_errors`]).
//! The connection-level limits (header read timeout, hard header size cap)
//! are in [`super::serve`].

use super::AppState;
use super::ratelimit::{self, RateLimit, RateLimiter};
use crate::config::LimitsConfig;
use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tower::{Layer, ServiceBuilder, ServiceExt};
use tower_http::ServiceBuilderExt;
use tower_http::request_id::{MakeRequestId, RequestId};

/// Request ids: a process-unique counter.
#[derive(Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// The next id (the counter in hexadecimal).
    pub fn next_id(&self) -> Option<HeaderValue> {
        Counter::id(self.0.fetch_add(1, Ordering::Relaxed))
    }

    /// Id `n`: `n` in hexadecimal, in a buffer of its exact length that the
    /// header value takes as it is.
    fn id(n: u64) -> Option<HeaderValue> {
        use std::fmt::Write;
        let digits = (u64::BITS - n.leading_zeros()).div_ceil(4).max(1);
        let mut text = String::with_capacity(digits as usize);
        write!(text, "{n:x}").ok()?;
        HeaderValue::from_maybe_shared(bytes::Bytes::from(text.into_bytes())).ok()
    }
}

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        self.next_id().map(RequestId::new)
    }
}

/// What the limit layers share with the fast path for cached tiles
/// ([`super::fast_tiles`]), so that a request counts against the same
/// budgets whichever way it is answered: the request-id counter, the
/// places of `max_concurrent_requests` and the rate limiter.
#[derive(Clone)]
pub struct Gates {
    /// Request ids.
    pub ids: Counter,
    /// Places for requests being handled (`max_concurrent_requests`).
    pub permits: Arc<tokio::sync::Semaphore>,
    /// The rate limit, when `rate_per_second` is set.
    pub rate: Option<RateLimit>,
}

impl Gates {
    /// The gates of `state`'s `[limits]`.
    pub fn new(state: &AppState) -> Gates {
        let limits = &state.config.limits;
        Gates {
            ids: Counter::default(),
            permits: Arc::new(tokio::sync::Semaphore::new(
                limits.max_concurrent_requests.max(1),
            )),
            rate: (limits.rate_per_second > 0.0).then(|| RateLimit {
                limiter: Arc::new(RateLimiter::new(limits.rate_per_second, limits.burst)),
                metrics: state.metrics.clone(),
            }),
        }
    }
}

fn too_large(status: StatusCode, code: &str, description: String) -> Response {
    (
        status,
        Json(json!({"code": code, "description": description})),
    )
        .into_response()
}

/// The body limit of a request and the config key that sets it:
/// `max_alarm_body_bytes` for `POST /api/alarms` (alarm batches),
/// `max_body_bytes` for every other route.
pub fn body_limit(limits: &LimitsConfig, method: &Method, path: &str) -> (usize, &'static str) {
    if method == Method::POST && path.trim_end_matches('/') == "/api/alarms" {
        (limits.max_alarm_body_bytes, "max_alarm_body_bytes")
    } else {
        (limits.max_body_bytes, "max_body_bytes")
    }
}

fn body_too_large(limit: usize, key: &str) -> Response {
    too_large(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLarge",
        format!(
            "the request body is larger than {limit} bytes, the limit of this route (`[limits] {key}`)"
        ),
    )
}

/// Middleware: the body limit of the route ([`body_limit`]). A declared
/// `Content-Length` above it is refused before the body is read; a longer
/// streamed body fails when the handler reads it (axum's body limit, set
/// here per request). Either way the 413 names the limit.
async fn body_size(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: Next,
) -> Response {
    let (limit, key) = body_limit(&state.config.limits, req.method(), req.uri().path());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        state.metrics.rejected("body_too_large");
        return body_too_large(limit, key);
    }
    let resp = match DefaultBodyLimit::max(limit).layer(next).oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE && !json {
        state.metrics.rejected("body_too_large");
        return body_too_large(limit, key);
    }
    resp
}

/// The length of a request target, as `max_uri_bytes` bounds it.
pub fn target_len(uri: &axum::http::Uri) -> usize {
    uri.path_and_query()
        .map(|pq| pq.as_str().len())
        .unwrap_or(0)
}

/// The size of header fields, as `max_header_bytes` bounds it.
pub fn header_len(headers: &axum::http::HeaderMap) -> usize {
    headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.as_bytes().len() + 4)
        .sum()
}

/// Middleware: 414 for a request target longer than `max_uri_bytes`, 431
/// for header fields larger than `max_header_bytes` in total.
async fn sizes(State(state): State<AppState>, req: axum::extract::Request, next: Next) -> Response {
    let limits = &state.config.limits;
    let uri_len = target_len(req.uri());
    if uri_len > limits.max_uri_bytes {
        state.metrics.rejected("uri_too_long");
        return too_large(
            StatusCode::URI_TOO_LONG,
            "URITooLong",
            format!(
                "the request target is {uri_len} bytes; at most {} are accepted",
                limits.max_uri_bytes
            ),
        );
    }
    let header_len = header_len(req.headers());
    if header_len > limits.max_header_bytes {
        state.metrics.rejected("headers_too_large");
        return too_large(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "HeaderFieldsTooLarge",
            format!(
                "the header fields are {header_len} bytes; at most {} are accepted",
                limits.max_header_bytes
            ),
        );
    }
    next.run(req).await
}

/// Wraps `router` in the limit layers (the last added runs first), with
/// the budgets of `gates`.
pub fn apply(router: axum::Router, state: &AppState, gates: &Gates) -> axum::Router {
    let limits: &LimitsConfig = &state.config.limits;
    let router = router
        .layer(axum::middleware::from_fn_with_state(state.clone(), sizes))
        // Global: `Router::layer` wraps every route on its own, and a plain
        // `ConcurrencyLimitLayer` would give each route its own budget.
        .layer(tower::limit::GlobalConcurrencyLimitLayer::with_semaphore(
            gates.permits.clone(),
        ));
    // Refused callers never wait for (or take) a concurrency slot.
    let router = match &gates.rate {
        Some(rate) => router.layer(axum::middleware::from_fn_with_state(
            rate.clone(),
            ratelimit::limit,
        )),
        None => router,
    };
    router
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            body_size,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(limits.request_timeout_secs.max(1)),
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(axum::middleware::from_fn(super::json_errors::json_errors))
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
                .set_x_request_id(gates.ids.clone())
                .propagate_x_request_id(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_the_counter_in_hexadecimal() {
        for n in [0, 1, 9, 10, 15, 16, 255, 256, 0xabc_def, u64::MAX] {
            let id = Counter::id(n);
            assert_eq!(
                id.as_ref().map(|v| v.as_bytes()),
                Some(format!("{n:x}").as_bytes())
            );
        }
        let c = Counter::default();
        let ids: Vec<_> = (0..3).filter_map(|_| c.next_id()).collect();
        assert_eq!(ids, ["0", "1", "2"]);
    }
}
