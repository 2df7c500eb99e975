//! `/metrics` in the Prometheus text format: requests and latency per
//! route, reloads, tile cache hits, snapshot age and features per layer.

use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Upper bounds of the latency histogram buckets, seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Debug, Default, Clone)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

/// Counters shared by every request.
#[derive(Debug, Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, RouteStats>>,
    reload_ok: AtomicU64,
    reload_failed: AtomicU64,
    /// Tile cache hits.
    pub tile_cache_hits: AtomicU64,
    /// Tile cache misses.
    pub tile_cache_misses: AtomicU64,
}

impl Metrics {
    /// Counts a reload.
    pub fn reload(&self, ok: bool) {
        let c = if ok {
            &self.reload_ok
        } else {
            &self.reload_failed
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    fn observe(&self, route: &str, status: u16, seconds: f64) {
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        let s = routes.entry(route.to_string()).or_default();
        *s.by_status.entry(status).or_default() += 1;
        s.count += 1;
        s.sum_seconds += seconds;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self, state: &AppState) -> String {
        let mut out = String::new();
        let routes = self.routes.lock().map(|r| r.clone()).unwrap_or_default();
        let _ = writeln!(
            out,
            "# HELP riskmap_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE riskmap_http_requests_total counter");
        for (route, s) in &routes {
            for (status, n) in &s.by_status {
                let _ = writeln!(
                    out,
                    "riskmap_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP riskmap_http_request_duration_seconds Request latency by route."
        );
        let _ = writeln!(
            out,
            "# TYPE riskmap_http_request_duration_seconds histogram"
        );
        for (route, s) in &routes {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "riskmap_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "riskmap_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "riskmap_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                s.sum_seconds
            );
            let _ = writeln!(
                out,
                "riskmap_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                s.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP riskmap_reloads_total Dataset reloads by outcome."
        );
        let _ = writeln!(out, "# TYPE riskmap_reloads_total counter");
        let _ = writeln!(
            out,
            "riskmap_reloads_total{{outcome=\"ok\"}} {}",
            self.reload_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "riskmap_reloads_total{{outcome=\"refused\"}} {}",
            self.reload_failed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP riskmap_tile_cache_requests_total Tile cache lookups by result."
        );
        let _ = writeln!(out, "# TYPE riskmap_tile_cache_requests_total counter");
        let _ = writeln!(
            out,
            "riskmap_tile_cache_requests_total{{result=\"hit\"}} {}",
            self.tile_cache_hits.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "riskmap_tile_cache_requests_total{{result=\"miss\"}} {}",
            self.tile_cache_misses.load(Ordering::Relaxed)
        );
        let snap = state.current();
        let age = snap
            .loaded_at
            .elapsed()
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let _ = writeln!(
            out,
            "# HELP riskmap_snapshot_age_seconds Seconds since the served dataset was loaded."
        );
        let _ = writeln!(out, "# TYPE riskmap_snapshot_age_seconds gauge");
        let _ = writeln!(out, "riskmap_snapshot_age_seconds {age}");
        let _ = writeln!(
            out,
            "# HELP riskmap_features Features per layer in the served dataset."
        );
        let _ = writeln!(out, "# TYPE riskmap_features gauge");
        let c = snap.counts();
        for (layer, n) in [
            ("enterprises", c.enterprises),
            ("hazard_sources", c.hazard_sources),
            ("collapse_zones", c.collapse_zones),
            ("cells", c.cells),
            ("villages", c.villages),
            ("towns", c.towns),
            ("counties", c.counties),
        ] {
            let _ = writeln!(out, "riskmap_features{{layer=\"{layer}\"}} {n}");
        }
        out
    }
}

/// Middleware recording each request under its route template.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let start = Instant::now();
    let resp = next.run(req).await;
    state.metrics.observe(
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let body = state.metrics.render(&state);
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        body,
    )
        .into_response()
}
