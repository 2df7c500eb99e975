//! Public `/api` endpoints for the map and dashboards: ranking, stats, search.

use super::params;
use crate::auth::Caller;
use crate::index::UnitId;
use crate::model::Level;
use crate::report;
use crate::server::{ApiError, AppState};
use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
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

/// Most rows of a ranking saved as a workbook.
const XLSX_MAX_ROWS: usize = 100_000;

/// `GET /api/ranking?level=&limit=&within=[&format=xlsx]`.
pub async fn ranking(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let level: Level = match q.get("level") {
        None => Level::County,
        Some(l) => l.parse().map_err(|_| {
            ApiError::BadRequest(format!(
                "level must be county, town, village or cell, found {l:?}"
            ))
        })?,
    };
    let xlsx = match q.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("xlsx") => true,
        Some(f) => {
            return Err(ApiError::BadRequest(format!(
                "format must be json or xlsx, found {f:?}"
            )));
        }
    };
    let limit = if xlsx {
        // A workbook holds the whole ranking unless `limit` says less.
        match q.get("limit") {
            None => XLSX_MAX_ROWS,
            Some(l) => params::whole_number("limit", l)?.min(XLSX_MAX_ROWS),
        }
    } else {
        params::limit(q.get("limit").map(String::as_str))?
    };
    let snap = state.current();
    let within = within(&snap.store, &q)?;
    match q.get("by").map(String::as_str) {
        None | Some("score") => {}
        Some("change" | "overdue" | "rectification_rate") if xlsx => {
            return Err(ApiError::BadRequest(
                "format=xlsx saves the ranking by score; leave out by".into(),
            ));
        }
        Some(by @ ("change" | "overdue" | "rectification_rate")) => {
            let v = super::history::ranking_by(&state, &caller, by, level, within, limit, &q);
            return Ok(Json(v.await?).into_response());
        }
        Some(by) => {
            return Err(ApiError::BadRequest(format!(
                "by must be score, change, overdue or rectification_rate, found {by:?}"
            )));
        }
    }
    let items = report::ranking(&snap.store, &snap.scores, level, within, limit);
    if !xlsx {
        return Ok(Json(json!({"level": level.as_str(), "items": items})).into_response());
    }
    let area = within.map_or_else(|| "全部".to_owned(), |w| snap.store.unit(w).name.clone());
    let level_zh = level.label_zh();
    let title = format!("风险排名 · {level_zh} · {area}");
    let body = tokio::task::spawn_blocking(move || report::ranking_xlsx(&title, &items))
        .await
        .map_err(|e| ApiError::Internal(format!("ranking task: {e}")))?
        .map_err(|e| ApiError::Internal(format!("ranking xlsx: {e}")))?;
    Ok(super::download::attachment(
        super::download::XLSX,
        &format!("ranking-{}.xlsx", level.as_str()),
        &format!("风险排名-{}-{area}.xlsx", level_zh.replace('/', "")),
        body,
    ))
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
