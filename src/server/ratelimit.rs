//! The optional per-caller rate limit (`[limits] rate_per_second`, `burst`):
//! a generic cell rate algorithm keyed by token name (a valid token) or
//! client IP address (anything else). Callers above the rate get 429 with
//! `Retry-After`. `/health` and `/metrics` are never limited.

use super::Metrics;
use crate::auth::{Authentication, Caller};
use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Forgotten callers are swept once the table holds this many keys.
const SWEEP_AT: usize = 4096;

/// Per key: the theoretical arrival time of its next request; and the size
/// at which to sweep next (doubling, so sweeps stay amortised O(1)).
#[derive(Debug)]
struct Table {
    next: HashMap<String, f64>,
    sweep_at: usize,
}

/// A keyed rate limiter: `rate` requests per second with bursts of `burst`.
#[derive(Debug)]
pub struct RateLimiter {
    /// Seconds between two requests at the steady rate.
    interval: f64,
    /// How far ahead of now a caller's schedule may run (burst − 1 intervals).
    tolerance: f64,
    start: Instant,
    /// Per key: the theoretical arrival time of its next request, seconds
    /// since `start`.
    table: Mutex<Table>,
    /// Requests refused so far.
    refused: AtomicU64,
}

impl RateLimiter {
    /// A limiter allowing `rate` requests per second (> 0) and bursts of
    /// `burst` (at least 1).
    pub fn new(rate: f64, burst: u32) -> RateLimiter {
        let interval = 1.0 / rate;
        RateLimiter {
            interval,
            tolerance: interval * f64::from(burst.max(1) - 1),
            start: Instant::now(),
            table: Mutex::new(Table {
                next: HashMap::new(),
                sweep_at: SWEEP_AT,
            }),
            refused: AtomicU64::new(0),
        }
    }

    /// Admits one request from `key` at `now`, or says how long to wait.
    pub fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let t = now.saturating_duration_since(self.start).as_secs_f64();
        let Ok(mut table) = self.table.lock() else {
            // A poisoned table admits everyone rather than no one.
            return Ok(());
        };
        if table.next.len() >= table.sweep_at {
            table.next.retain(|_, tat| *tat > t);
            table.sweep_at = (table.next.len() * 2).max(SWEEP_AT);
        }
        let tat = table.next.get(key).copied().unwrap_or(t).max(t);
        let ahead = tat - t;
        // A nanosecond of slack: `(t + i + i) - t` may exceed `2i` by one
        // rounding step, which must not refuse the last request of a burst.
        if ahead > self.tolerance + 1e-9 {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(Duration::from_secs_f64(ahead - self.tolerance));
        }
        table.next.insert(key.to_string(), tat + self.interval);
        Ok(())
    }

    /// Admits one request from `key` now, or says how long to wait.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    /// Requests refused so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

/// What the middleware needs: the limiter and where refusals are counted.
#[derive(Clone)]
pub struct RateLimit {
    /// The limiter.
    pub limiter: Arc<RateLimiter>,
    /// Where refusals are counted.
    pub metrics: Arc<Metrics>,
}

/// The key a request is counted under: `token:NAME` for a valid token
/// (Bearer or Basic alike, as read by [`super::caller::authenticate`]), else
/// `ip:ADDRESS` of the `peer` (an unknown token does not escape the
/// per-address limit).
pub fn key_of(auth: Option<&Authentication>, peer: Option<SocketAddr>) -> String {
    if let Some(Authentication::Valid(Caller::Token { name, .. })) = auth {
        return format!("token:{name}");
    }
    match peer {
        Some(addr) => format!("ip:{}", addr.ip()),
        None => "ip:unknown".into(),
    }
}

/// The key of a request ([`key_of`] its authentication and peer address).
fn key(req: &Request) -> String {
    key_of(
        req.extensions().get::<Authentication>(),
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr),
    )
}

/// A request the limiter has already refused (the fast path for cached
/// tiles asked it first): [`limit`] answers its 429 without asking again,
/// so the request is counted once.
#[derive(Debug, Clone, Copy)]
pub struct Refused(pub Duration);

/// Middleware: 429 with `Retry-After` (whole seconds, at least 1) for a
/// caller above the rate.
pub async fn limit(State(rl): State<RateLimit>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/health" || path == "/metrics" {
        return next.run(req).await;
    }
    let verdict = match req.extensions().get::<Refused>() {
        Some(Refused(wait)) => Err(*wait),
        None => rl.limiter.check(&key(&req)),
    };
    match verdict {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            rl.metrics.rejected("rate_limit");
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            let mut resp = (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({
                    "code": "TooManyRequests",
                    "description": format!("rate limit exceeded; retry in {secs} s"),
                })),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(RETRY_AFTER, v);
            }
            resp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_steady_rate() {
        let rl = RateLimiter::new(2.0, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(rl.check_at("a", t0).is_ok());
        }
        let wait = rl.check_at("a", t0).err();
        assert!(
            wait.is_some_and(|w| (w.as_secs_f64() - 0.5).abs() < 1e-6),
            "{wait:?}"
        );
        // Another key has its own budget.
        assert!(rl.check_at("b", t0).is_ok());
        // Half a second later one more request is allowed, not two.
        let t1 = t0 + Duration::from_millis(500);
        assert!(rl.check_at("a", t1).is_ok());
        assert!(rl.check_at("a", t1).is_err());
        assert_eq!(rl.refused(), 2);
        // After a long pause the whole burst is back.
        let t2 = t0 + Duration::from_secs(10);
        for _ in 0..3 {
            assert!(rl.check_at("a", t2).is_ok());
        }
        assert!(rl.check_at("a", t2).is_err());
    }

    #[test]
    fn idle_keys_are_swept() {
        let rl = RateLimiter::new(100.0, 1);
        let t0 = Instant::now();
        for i in 0..SWEEP_AT {
            assert!(rl.check_at(&i.to_string(), t0).is_ok());
        }
        assert!(rl.check_at("late", t0 + Duration::from_secs(1)).is_ok());
        let left = rl.table.lock().map(|t| t.next.len()).unwrap_or(0);
        assert_eq!(left, 1);
    }
}
