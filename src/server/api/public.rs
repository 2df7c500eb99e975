//! Public `/api` endpoints for the map and dashboards: ranking, stats, search.

use super::params;
use crate::auth::Caller;
use crate::index::UnitId;
use crate::model::Level;
use crate::report;
use crate::server::{ApiError, AppState};
use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};
use std::collections::HashMap;

fn within(
    store: &crate::index::Store,
    q: &HashMap<String, String>,
) -> Result<Option<UnitId>, ApiError> {
    match q.get("within") {
        None => Ok(None),
        Some(c) => {
            params::code(c)?;
            store
                .unit_by_code(c)
                .map(Some)
                .ok_or_else(|| ApiError::NotFound(format!("no grid unit with code {c}")))
        }
    }
}

/// `GET /api/ranking?level=&limit=&within=`.
pub async fn ranking(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let level: Level = match q.get("level") {
        None => Level::County,
        Some(l) => l.parse().map_err(|_| {
            ApiError::BadRequest(format!(
                "level must be county, town, village or cell, found {l:?}"
            ))
        })?,
    };
    let limit = params::limit(q.get("limit").map(String::as_str))?;
    let snap = state.current();
    let within = within(&snap.store, &q)?;
    match q.get("by").map(String::as_str) {
        None | Some("score") => {}
        Some(by @ ("change" | "overdue" | "rectification_rate")) => {
            let v = super::history::ranking_by(&state, &caller, by, level, within, limit, &q);
            return Ok(Json(v.await?));
        }
        Some(by) => {
            return Err(ApiError::BadRequest(format!(
                "by must be score, change, overdue or rectification_rate, found {by:?}"
            )));
        }
    }
    let items = report::ranking(&snap.store, &snap.scores, level, within, limit);
    Ok(Json(json!({"level": level.as_str(), "items": items})))
}

/// `GET /api/stats?within=`.
pub async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let snap = state.current();
    let within = within(&snap.store, &q)?;
    let mut v = report::stats(&snap.store, &snap.scores, within);
    let indicators = super::history::stats_indicators(&state, &caller, within, &q).await?;
    if let (Some(i), Some(o)) = (indicators, v.as_object_mut()) {
        o.insert("indicators".into(), i);
    }
    Ok(Json(v))
}

/// `GET /api/search?q=&limit=`.
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let limit = params::limit(q.get("limit").map(String::as_str))?;
    let text = q
        .get("q")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::BadRequest("q is required".into()))?;
    let snap = state.current();
    let scope = caller.scope(&snap.store);
    Ok(Json(
        json!({"items": report::search(&snap.store, &text, limit, scope)}),
    ))
}
