//! `GET /health`.

use super::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// Status, data version, as-of day (`as_of`, the day the risk scores are
/// computed for: what the page shows as 数据截至) and feature counts of the
/// snapshot being served; with a history, the days it holds (`history`:
/// `{"first", "last"}`, the range of `?date=` and `/history`; while it
/// still opens after a start, `"history_opening": true` instead).
///
/// With the journal in the database, `journal` shows the applied `seq` and
/// the lag; a replica lagging more than `[source] max_lag_secs` answers 503
/// (`"status": "lagging"`), so that a load balancer drops it.
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let snap = state.current();
    let age = snap.loaded_at.elapsed().map(|d| d.as_secs()).unwrap_or(0);
    let mut body = json!({
        "status": "ok",
        "data_version": snap.data_version,
        "as_of": snap.scores.params().as_of_day().to_string(),
        "counts": snap.counts(),
        "warnings": snap.warnings.len(),
        "snapshot_age_seconds": age,
    });
    if let Some(Ok((first, last))) = state.history.get().map(|h| h.days()) {
        body["history"] = json!({"first": first.to_string(), "last": last.to_string()});
    } else if *state.history_opening.borrow() {
        body["history_opening"] = json!(true);
    }
    if let Some(failure) = state.last_reload_error.lock().await.as_ref() {
        body["last_reload_error"] = json!(failure);
    }
    let source = state
        .source
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(source) = source.as_ref() {
        body["source"] = json!(source);
    }
    let mut code = StatusCode::OK;
    if let Some(replica) = state.live.get().and_then(|l| l.replica()) {
        let journal = replica.status();
        if journal.lagging() {
            body["status"] = json!("lagging");
            code = StatusCode::SERVICE_UNAVAILABLE;
        }
        body["journal"] = json!(journal);
    }
    (code, Json(body))
}
