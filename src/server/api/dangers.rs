//! `/api/hidden-dangers`: the 隐患 closure loop over HTTP — report, list,
//! read with history, and the events (start, rectify, close, reject,
//! extend) with `If-Match`.
//!
//! Who may do what: a grid manager reports, starts, rectifies and extends
//! inside its scope; a planner or an admin does everything anywhere; only a
//! planner or an admin closes (销号) or rejects (验收不通过), and never the
//! token that recorded the rectification (409). Order of checks: 401 → 403
//! (role, then scope) → 400 → 404 → 428/412 → 409.

use super::params;
use crate::auth::{Caller, Role, Scope};
use crate::index::{DangerEntry, Store};
use crate::live::dangers::{EventRequest, OP_EVENT, OP_REPORT, ReportRequest};
use crate::model::{DangerGrade, DangerStatus, Date};
use crate::server::live::{Live, Written, rescored};
use crate::server::{ApiError, AppState, require_token, require_unit_scope};
use crate::snapshot::Snapshot;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) fn live(state: &AppState) -> Result<&Arc<Live>, ApiError> {
    state.live.get().ok_or_else(|| {
        ApiError::Busy("this server takes no writes (its data source has no journal)".into())
    })
}

pub(super) fn name_role(caller: &Caller) -> Result<(&str, Role), ApiError> {
    require_token(caller)?;
    match caller {
        Caller::Token { name, role, .. } => Ok((name.as_str(), *role)),
        Caller::Anonymous => Err(ApiError::Unauthorized("this resource needs a token".into())),
    }
}

/// The day writes are dated on: the scoring's as-of day.
pub(super) fn today(snap: &Snapshot) -> Date {
    snap.scores.params().as_of_day()
}

/// The strong ETag of a record's current state.
pub fn record_etag(snap: &Snapshot, entry: &DangerEntry) -> String {
    let base: String = snap.base_version.chars().take(12).collect();
    format!("\"hd-{base}-{}\"", entry.version)
}

/// A record as a GeoJSON Feature (with its history when asked).
pub fn feature(snap: &Snapshot, entry: &DangerEntry, history: bool) -> Value {
    let r = &entry.record;
    let store = &snap.store;
    let mut props = json!({
        "id": r.id,
        "enterprise_id": r.enterprise_id,
        "enterprise_name": entry.enterprise.map(|i| store.dataset.enterprises[i as usize].name.clone()),
        "category": r.category.as_str(),
        "category_label": r.category.label_zh(),
        "grade": r.grade.as_str(),
        "grade_label": r.grade.label_zh(),
        "description": r.description,
        "source": r.source.as_str(),
        "source_label": r.source.label_zh(),
        "found_at": r.found_at,
        "deadline": r.deadline,
        "responsible": r.responsible,
        "status": r.status.as_str(),
        "status_label": r.status.label_zh(),
        "closed_at": r.closed_at,
        "overdue": r.is_overdue(today(snap)),
        "cell": entry.cell.map(|c| store.unit(c).code.clone()),
        "version": entry.version,
    });
    if history && let Some(o) = props.as_object_mut() {
        o.insert("history".into(), json!(entry.history));
    }
    json!({
        "type": "Feature",
        "id": r.id,
        "geometry": {"type": "Point", "coordinates": [r.location.x(), r.location.y()]},
        "properties": props,
    })
}

/// Whether the caller's scope holds the record.
fn sees(scope: Scope, store: &Store, entry: &DangerEntry) -> bool {
    scope.sees_located(store, entry.cell)
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("body: {e}")))
}

fn written_response(status: StatusCode, written: &Written, id: &str) -> Result<Response, ApiError> {
    let snap = &written.snapshot;
    let entry = snap
        .store
        .dangers()
        .by_id(id)
        .ok_or_else(|| ApiError::Internal("written record missing".into()))?;
    let mut body = feature(snap, entry, true);
    if let Some(o) = body.as_object_mut() {
        o.insert("data_version".into(), json!(snap.data_version));
        o.insert("rescored".into(), json!(rescored(snap, &written.applied)));
    }
    let mut resp = (status, Json(body)).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&record_etag(snap, entry)) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("/api/hidden-dangers/{}", percent(id))) {
        h.insert(header::LOCATION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

pub(super) fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `POST /api/hidden-dangers`: report one.
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (actor, role) = name_role(&caller)?;
    let live = live(&state)?;
    let req: ReportRequest = parse_json(&body)?;
    let _gate = live.writing().await;
    let written = live
        .write(actor, role.as_str(), |head, seq| {
            let scope = caller.scope(&head.store);
            if scope == Scope::Nothing {
                return Err(ApiError::Forbidden("this token opens no grid unit".into()));
            }
            let day = today(head);
            let (y, m, d) = day.ymd();
            // HD-YYYYMMDD-NNNN from the sequence number, the next free one
            // if the data files already use it.
            let book = head.store.dangers();
            let record = req.into_record(&head.store, day, || {
                (seq..)
                    .map(|n| format!("HD-{y:04}{m:02}{d:02}-{n:04}"))
                    .find(|id| book.index_of(id).is_none())
                    .unwrap_or_default()
            })?;
            match head.store.cell_at(record.location) {
                None => {
                    return Err(ApiError::BadRequest(
                        "lon/lat: the place lies outside every grid cell".into(),
                    ));
                }
                Some(c) if !scope.sees_unit(&head.store, c) => {
                    return Err(ApiError::Forbidden(
                        "the place lies outside this token's grid unit".into(),
                    ));
                }
                Some(_) => {}
            }
            let id = record.id.clone();
            let data =
                serde_json::to_value(&record).map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((OP_REPORT.to_string(), id, data))
        })
        .await?;
    live.publish(&state.snapshot, &written);
    super::history::follow(&state);
    let id = written.applied.records.first().cloned().unwrap_or_default();
    written_response(StatusCode::CREATED, &written, &id)
}

/// `POST /api/hidden-dangers/{id}/events`.
pub async fn event(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (actor, role) = name_role(&caller)?;
    let live = live(&state)?;
    let req: EventRequest = parse_json(&body)?;
    let if_match = headers
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or("").trim().to_string());
    let _gate = live.writing().await;
    let written = live
        .write(actor, role.as_str(), |head, _seq| {
            let store = &head.store;
            let scope = caller.scope(store);
            let entry = store.dangers().by_id(&id);
            if let Some(e) = entry
                && !sees(scope, store, e)
            {
                return Err(ApiError::Forbidden(
                    "this hidden danger lies outside this token's grid unit".into(),
                ));
            }
            let action = req.action.as_deref().unwrap_or("");
            if matches!(action, "close" | "reject") && role == Role::GridManager {
                return Err(ApiError::Forbidden(
                    "only a planner or an admin closes or rejects (验收)".into(),
                ));
            }
            let entry =
                entry.ok_or_else(|| ApiError::NotFound(format!("no hidden danger {id}")))?;
            let Some(tag) = if_match.as_deref() else {
                return Err(ApiError::PreconditionRequired(
                    "If-Match with the record's ETag is required".into(),
                ));
            };
            let current = record_etag(head, entry);
            if tag != "*" && !tag.split(',').any(|t| t.trim() == current) {
                return Err(ApiError::PreconditionFailed(format!(
                    "the record changed: its ETag is now {current}"
                )));
            }
            let checked = req.clone().check(entry, actor, today(head))?;
            let data = serde_json::to_value(&checked.data)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((OP_EVENT.to_string(), id.clone(), data))
        })
        .await?;
    live.publish(&state.snapshot, &written);
    super::history::follow(&state);
    written_response(StatusCode::OK, &written, &id)
}

/// `GET /api/hidden-dangers/{id}`: the record with its history.
pub async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_token(&caller)?;
    let snap = state.current();
    let scope = caller.scope(&snap.store);
    let entry = snap.store.dangers().by_id(&id);
    match entry {
        Some(e) if !sees(scope, &snap.store, e) => Err(ApiError::Forbidden(
            "this hidden danger lies outside this token's grid unit".into(),
        )),
        None if scope != Scope::All => Err(ApiError::NotFound(format!("no hidden danger {id}"))),
        None => Err(ApiError::NotFound(format!("no hidden danger {id}"))),
        Some(e) => {
            let mut resp = Json(feature(&snap, e, true)).into_response();
            if let Ok(v) = HeaderValue::from_str(&record_etag(&snap, e)) {
                resp.headers_mut().insert(header::ETAG, v);
            }
            Ok(resp)
        }
    }
}

/// `GET /api/hidden-dangers?within=&status=&grade=&overdue=&limit=&offset=`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let snap = state.current();
    let store = &snap.store;
    let scope = require_unit_scope(&caller, store)?;
    for k in q.keys() {
        if !matches!(
            k.as_str(),
            "within" | "status" | "grade" | "overdue" | "limit" | "offset" | "f"
        ) {
            return Err(ApiError::BadRequest(format!("unknown parameter {k}")));
        }
    }
    let within = q
        .get("within")
        .map(|code| super::cells::unit_in_scope(store, scope, code))
        .transpose()?;
    let status: Option<Vec<DangerStatus>> = q
        .get("status")
        .map(|s| {
            s.split(',')
                .map(|w| {
                    w.parse::<DangerStatus>().map_err(|_| {
                        ApiError::BadRequest(format!(
                            "status: unknown {w:?} (reported, rectifying, rectified, closed)"
                        ))
                    })
                })
                .collect()
        })
        .transpose()?;
    let grade: Option<DangerGrade> = q
        .get("grade")
        .map(|g| {
            g.parse()
                .map_err(|_| ApiError::BadRequest(format!("grade: unknown {g:?} (general, major)")))
        })
        .transpose()?;
    let overdue: Option<bool> = q
        .get("overdue")
        .map(|o| match o.as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(ApiError::BadRequest("overdue: true or false".into())),
        })
        .transpose()?;
    let limit = params::limit(q.get("limit").map(String::as_str))?;
    let offset: usize = match q.get("offset") {
        None => 0,
        Some(o) => o
            .parse()
            .map_err(|_| ApiError::BadRequest("offset: a non-negative integer".into()))?,
    };
    let day = today(&snap);
    let matched: Vec<&DangerEntry> = store
        .dangers()
        .iter()
        .map(|(_, e)| e)
        .filter(|e| sees(scope, store, e))
        .filter(|e| match within {
            None => true,
            Some(w) => e.cell.is_some_and(|c| store.is_within(c, w)),
        })
        .filter(|e| status.as_ref().is_none_or(|s| s.contains(&e.record.status)))
        .filter(|e| grade.is_none_or(|g| e.record.grade == g))
        .filter(|e| overdue.is_none_or(|o| e.record.is_overdue(day) == o))
        .collect();
    let features: Vec<Value> = matched
        .iter()
        .skip(offset)
        .take(limit)
        .map(|e| feature(&snap, e, false))
        .collect();
    let mut links = Vec::new();
    if offset + features.len() < matched.len() {
        let mut next: Vec<(String, String)> = q
            .iter()
            .filter(|(k, _)| k.as_str() != "offset")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        next.push(("offset".into(), (offset + features.len()).to_string()));
        next.sort();
        let qs = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(next)
            .finish();
        links.push(json!({"rel": "next", "type": "application/geo+json", "href": format!("/api/hidden-dangers?{qs}")}));
    }
    let body = json!({
        "type": "FeatureCollection",
        "numberMatched": matched.len(),
        "numberReturned": features.len(),
        "features": features,
        "links": links,
        "data_version": snap.data_version,
    });
    Ok(Json(body).into_response())
}
