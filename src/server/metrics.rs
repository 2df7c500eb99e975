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

use crate::latency::{BUCKETS, LatencyCounts};

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
    /// Tiles answered at a state a write had changed, within `[tiles]
    /// stale_ms`, while the tile was rebuilt.
    pub tile_stale_answers: AtomicU64,
    /// Tiles rebuilt behind a stale answer (`[tiles] stale_ms`).
    pub tile_refreshes: AtomicU64,
    /// Requests refused by a limit before routing, by reason.
    rejected: Mutex<BTreeMap<&'static str, u64>>,
    /// Requests being handled now.
    in_flight: AtomicU64,
    /// When the last reload succeeded / failed (Unix seconds; 0 = never).
    last_reload_ok: AtomicU64,
    last_reload_failed: AtomicU64,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Resident set size of this process, bytes (Linux; `None` elsewhere).
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// One Prometheus histogram without labels.
fn histogram(out: &mut String, name: &str, help: &str, h: &LatencyCounts) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} histogram");
    for (b, n) in BUCKETS.iter().zip(h.buckets) {
        let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {n}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(out, "{name}_sum {}", h.seconds);
    let _ = writeln!(out, "{name}_count {}", h.count);
}

/// The write path's counters: derivations of the next snapshot and the
/// journal's group commits.
fn write_stats(out: &mut String, s: &super::live::LiveStats) {
    histogram(
        out,
        "riskmap_write_derive_seconds",
        "Time spent deriving the next snapshot from a write (in the write order; its scoring overlaps the fsync).",
        &s.derives,
    );
    let Some(j) = s.journal else {
        return;
    };
    histogram(
        out,
        "riskmap_journal_commit_seconds",
        "Group commits of the journal file (one write and one fsync each).",
        &j.commits,
    );
    let _ = writeln!(
        out,
        "# HELP riskmap_journal_appends_total Appends made durable by the group commits (each commit answers one or more)."
    );
    let _ = writeln!(out, "# TYPE riskmap_journal_appends_total counter");
    let _ = writeln!(out, "riskmap_journal_appends_total {}", j.requests);
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
        let at = if ok {
            &self.last_reload_ok
        } else {
            &self.last_reload_failed
        };
        at.store(unix_now(), Ordering::Relaxed);
    }

    /// Counts a request refused by a limit (`rate_limit`, `uri_too_long`,
    /// `headers_too_large`).
    pub fn rejected(&self, reason: &'static str) {
        if let Ok(mut r) = self.rejected.lock() {
            *r.entry(reason).or_default() += 1;
        }
    }

    /// Counts one answer of `route` (its template) with `status`, taken
    /// `seconds`.
    pub(super) fn observe(&self, route: &str, status: u16, seconds: f64) {
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        // Looked up before inserting: a known route costs no allocation.
        if !routes.contains_key(route) {
            routes.insert(route.to_string(), RouteStats::default());
        }
        let Some(s) = routes.get_mut(route) else {
            return;
        };
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
            "# HELP riskmap_last_reload_timestamp_seconds When the last reload with each outcome happened (0 = never)."
        );
        let _ = writeln!(out, "# TYPE riskmap_last_reload_timestamp_seconds gauge");
        let _ = writeln!(
            out,
            "riskmap_last_reload_timestamp_seconds{{outcome=\"ok\"}} {}",
            self.last_reload_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "riskmap_last_reload_timestamp_seconds{{outcome=\"refused\"}} {}",
            self.last_reload_failed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP riskmap_http_rejected_total Requests and connections refused or dropped by a limit, by reason."
        );
        let _ = writeln!(out, "# TYPE riskmap_http_rejected_total counter");
        let rejected = self.rejected.lock().map(|r| r.clone()).unwrap_or_default();
        for reason in [
            "rate_limit",
            "uri_too_long",
            "headers_too_large",
            "connections",
            "connections_per_client",
            "streams",
            "write_timeout",
        ] {
            let n = rejected.get(reason).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "riskmap_http_rejected_total{{reason=\"{reason}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP riskmap_http_requests_in_flight Requests being handled."
        );
        let _ = writeln!(out, "# TYPE riskmap_http_requests_in_flight gauge");
        let _ = writeln!(
            out,
            "riskmap_http_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP riskmap_tile_cache_requests_total Tile cache lookups by result."
        );
        let _ = writeln!(out, "# TYPE riskmap_tile_cache_requests_total counter");
        for (result, count) in [
            ("hit", &self.tile_cache_hits),
            ("miss", &self.tile_cache_misses),
            ("stale", &self.tile_stale_answers),
            ("refresh", &self.tile_refreshes),
        ] {
            let _ = writeln!(
                out,
                "riskmap_tile_cache_requests_total{{result=\"{result}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let hits = self.tile_cache_hits.load(Ordering::Relaxed) as f64;
        let lookups = hits + self.tile_cache_misses.load(Ordering::Relaxed) as f64;
        let _ = writeln!(
            out,
            "# HELP riskmap_tile_cache_hit_ratio Share of tile cache lookups that hit (0 before any)."
        );
        let _ = writeln!(out, "# TYPE riskmap_tile_cache_hit_ratio gauge");
        let ratio = if lookups > 0.0 { hits / lookups } else { 0.0 };
        let _ = writeln!(out, "riskmap_tile_cache_hit_ratio {ratio}");
        if let Some(live) = state.live.get() {
            write_stats(&mut out, &live.stats());
        }
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
            "# HELP riskmap_data_info The served dataset's version (value 1)."
        );
        let _ = writeln!(out, "# TYPE riskmap_data_info gauge");
        let _ = writeln!(
            out,
            "riskmap_data_info{{data_version=\"{}\"}} 1",
            snap.data_version
        );
        if let Some(rss) = resident_bytes() {
            let _ = writeln!(
                out,
                "# HELP riskmap_process_resident_memory_bytes Resident set size of the server."
            );
            let _ = writeln!(out, "# TYPE riskmap_process_resident_memory_bytes gauge");
            let _ = writeln!(out, "riskmap_process_resident_memory_bytes {rss}");
        }
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
        source_metrics(&mut out, state);
        journal_metrics(&mut out, state);
        out
    }
}

/// The database source's gauges, when the data come from one.
fn source_metrics(out: &mut String, state: &AppState) {
    let source = state
        .source
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(s) = source.as_ref() else {
        return;
    };
    let _ = writeln!(
        out,
        "# HELP riskmap_source_up Whether the last check reached the database (1) or not (0)."
    );
    let _ = writeln!(out, "# TYPE riskmap_source_up gauge");
    let _ = writeln!(out, "riskmap_source_up {}", u8::from(s.reachable));
    let _ = writeln!(
        out,
        "# HELP riskmap_source_failed_checks Database checks failed in a row."
    );
    let _ = writeln!(out, "# TYPE riskmap_source_failed_checks gauge");
    let _ = writeln!(out, "riskmap_source_failed_checks {}", s.failed_checks);
    if let Some(listening) = s.listening {
        let _ = writeln!(
            out,
            "# HELP riskmap_source_listening Whether the LISTEN connection is up."
        );
        let _ = writeln!(out, "# TYPE riskmap_source_listening gauge");
        let _ = writeln!(out, "riskmap_source_listening {}", u8::from(listening));
    }
}

/// The journal table's gauges, when the journal is the database's table.
fn journal_metrics(out: &mut String, state: &AppState) {
    let Some(replica) = state.live.get().and_then(|l| l.replica()) else {
        return;
    };
    let s = replica.status();
    for (name, help, value) in [
        (
            "riskmap_journal_applied_seq",
            "The last journal row (seq) this replica applied.",
            s.applied_seq as f64,
        ),
        (
            "riskmap_journal_database_seq",
            "The highest journal seq this replica has seen in the database.",
            s.database_seq as f64,
        ),
        (
            "riskmap_journal_lag_seconds",
            "Seconds since this replica first saw journal rows it has not applied (0: none).",
            s.lag_seconds,
        ),
        (
            "riskmap_journal_listening",
            "Whether the LISTEN connection of the journal's apply loop is up.",
            f64::from(u8::from(s.listening)),
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        let _ = writeln!(out, "{name} {value}");
    }
}

/// Counts one request in flight until dropped (also when the request's
/// future is dropped by a timeout or a client going away).
pub(super) struct InFlight<'a>(&'a AtomicU64);

impl<'a> InFlight<'a> {
    /// Counts one more request in flight.
    pub(super) fn enter(metrics: &'a Metrics) -> Self {
        metrics.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&metrics.in_flight)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Middleware recording each request under its route template.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // A shared handle on the route's pattern, not a copy of it.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let start = Instant::now();
    let resp = {
        let _in_flight = InFlight::enter(&state.metrics);
        next.run(req).await
    };
    state.metrics.observe(
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
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
