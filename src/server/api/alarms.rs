//! `/api/alarms`: 监测预警 over HTTP — a monitoring platform posts alarms
//! (an `ingest` or admin token; a JSON array or NDJSON, all or nothing,
//! idempotent by id); a token in scope lists them, acknowledges, clears
//! and dispatches them (派单: a linked hidden danger, in the same journal
//! entry). Order of checks: 401 → 403 (role, then scope) → 400 → 404 →
//! 409.

use super::dangers::{live, name_role, percent, today};
use super::params;
use crate::auth::{Caller, Role, Scope};
use crate::index::{AlarmEntry, Store};
use crate::live::alarms::{
    self as ops, AlarmRequest, OP_ACK, OP_CLEAR, OP_DISPATCH, OP_RAISE, is_repeat,
};
use crate::server::live::{Written, rescored};
use crate::server::{ApiError, AppState, require_unit_scope};
use crate::snapshot::Snapshot;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

/// An alarm as a GeoJSON Feature.
pub fn feature(snap: &Snapshot, entry: &AlarmEntry) -> Value {
    let r = &entry.record;
    let status = r.status();
    json!({
        "type": "Feature",
        "id": r.id,
        "geometry": {"type": "Point", "coordinates": [r.location.x(), r.location.y()]},
        "properties": {
            "id": r.id,
            "sensor_id": r.sensor_id,
            "kind": r.kind.map(|k| k.as_str()),
            "kind_label": r.kind.map(|k| k.label_zh()),
            "level": r.level.get(),
            "level_label": r.level.label_zh(),
            "colour": r.level.colour_zh(),
            "value": r.value,
            "threshold": r.threshold,
            "started_at": r.started_at,
            "acknowledged_at": r.acknowledged_at,
            "cleared_at": r.cleared_at,
            "status": status.as_str(),
            "status_label": status.label_zh(),
            "active": status != crate::model::AlarmStatus::Cleared,
            "hidden_danger_id": r.hidden_danger_id,
            "cell": entry.cell.map(|c| snap.store.unit(c).code.clone()),
            "version": entry.version,
        },
    })
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `POST /api/alarms`: a JSON array or NDJSON of alarms.
pub async fn post(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (actor, role) = name_role(&caller)?;
    if !matches!(role, Role::Ingest | Role::Admin) {
        return Err(ApiError::Forbidden(
            "only an ingest or admin token posts alarms".into(),
        ));
    }
    let live = live(&state)?;
    let items = ops::parse_batch(&body).map_err(ApiError::BadRequest)?;
    let _gate = live.writing().await;
    let mut unchanged = 0usize;
    let count = &mut unchanged;
    let written = live
        .write_many(actor, role.as_str(), |head| {
            let book = head.store.alarms();
            let mut seen: HashMap<String, (usize, crate::model::Alarm)> = HashMap::new();
            let mut out = Vec::new();
            for (line, req) in items {
                let at = |e: String| ApiError::BadRequest(format!("line {line}: {e}"));
                let alarm = AlarmRequest::into_record(req, book).map_err(|e| at(e.to_string()))?;
                let earlier = book
                    .by_id(&alarm.id)
                    .map(|e| (0, &e.record))
                    .or_else(|| seen.get(&alarm.id).map(|(l, a)| (*l, a)));
                if let Some((first, existing)) = earlier {
                    if is_repeat(existing, &alarm) {
                        *count += 1;
                        continue;
                    }
                    let was = if first == 0 {
                        "the alarm already recorded".to_string()
                    } else {
                        format!("line {first}")
                    };
                    return Err(ApiError::Conflict(format!(
                        "line {line}: alarm {} differs from {was} with that id",
                        alarm.id
                    )));
                }
                let data =
                    serde_json::to_value(&alarm).map_err(|e| ApiError::Internal(e.to_string()))?;
                out.push((OP_RAISE.to_string(), alarm.id.clone(), data));
                seen.insert(alarm.id.clone(), (line, alarm));
            }
            Ok(out)
        })
        .await?;
    let snap = match &written {
        Some(w) => {
            live.publish(&state.snapshot, w);
            std::sync::Arc::clone(&w.snapshot)
        }
        None => state.current(),
    };
    let accepted: Vec<&str> = written
        .as_ref()
        .map(|w| {
            w.applied
                .records
                .iter()
                .map(String::as_str)
                .filter(|id| snap.store.alarms().index_of(id).is_some())
                .collect()
        })
        .unwrap_or_default();
    let body = json!({
        "accepted": accepted.len(),
        "unchanged": unchanged,
        "ids": accepted,
        "data_version": snap.data_version,
        "rescored": written.as_ref().map(|w| rescored(&snap, &w.applied)).unwrap_or_default(),
    });
    let status = if accepted.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(no_store((status, Json(body)).into_response()))
}

/// The alarm `id` if the caller may act on it (403 out of scope, 404).
fn check_scope<'a>(
    caller: &Caller,
    store: &'a Store,
    id: &str,
) -> Result<&'a AlarmEntry, ApiError> {
    let scope = caller.scope(store);
    if scope == Scope::Nothing || scope == Scope::Public {
        return Err(ApiError::Forbidden("this token opens no grid unit".into()));
    }
    let entry = store
        .alarms()
        .by_id(id)
        .ok_or_else(|| ApiError::NotFound(format!("no alarm {id}")))?;
    if !scope.sees_located(store, entry.cell) {
        return Err(ApiError::Forbidden(
            "this alarm lies outside this token's grid unit".into(),
        ));
    }
    Ok(entry)
}

fn written_response(status: StatusCode, written: &Written, id: &str) -> Result<Response, ApiError> {
    let snap = &written.snapshot;
    let entry = snap
        .store
        .alarms()
        .by_id(id)
        .ok_or_else(|| ApiError::Internal("written alarm missing".into()))?;
    let mut body = feature(snap, entry);
    let danger = entry.record.hidden_danger_id.clone();
    if let Some(o) = body.as_object_mut() {
        o.insert("data_version".into(), json!(snap.data_version));
        o.insert("rescored".into(), json!(rescored(snap, &written.applied)));
        if status == StatusCode::CREATED
            && let Some(d) = danger
                .as_deref()
                .and_then(|d| snap.store.dangers().by_id(d))
        {
            o.insert(
                "hidden_danger".into(),
                super::dangers::feature(snap, d, false),
            );
        }
    }
    let mut resp = (status, Json(body)).into_response();
    if status == StatusCode::CREATED
        && let Some(d) = danger
        && let Ok(v) = HeaderValue::from_str(&format!("/api/hidden-dangers/{}", percent(&d)))
    {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(no_store(resp))
}

async fn act(
    state: AppState,
    caller: Caller,
    id: String,
    op: &'static str,
) -> Result<Response, ApiError> {
    let (actor, role) = name_role(&caller)?;
    let live = live(&state)?;
    let _gate = live.writing().await;
    let written = live
        .write(actor, role.as_str(), |head, seq| {
            let entry = check_scope(&caller, &head.store, &id)?;
            let data = if op == OP_DISPATCH {
                let book = head.store.dangers();
                let day = today(head);
                let (y, m, d) = day.ymd();
                let hd = (seq..)
                    .map(|n| format!("HD-{y:04}{m:02}{d:02}-{n:04}"))
                    .find(|i| book.index_of(i).is_none())
                    .unwrap_or_default();
                serde_json::to_value(ops::dispatch(entry, hd, day)?)
            } else {
                let at = crate::journal::now();
                serde_json::to_value(ops::transition(entry, op, &at)?)
            }
            .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((op.to_string(), id.clone(), data))
        })
        .await?;
    live.publish(&state.snapshot, &written);
    let status = if op == OP_DISPATCH {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    written_response(status, &written, &id)
}

/// `POST /api/alarms/{id}/ack`.
pub async fn ack(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    act(state, caller, id, OP_ACK).await
}

/// `POST /api/alarms/{id}/clear`.
pub async fn clear(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    act(state, caller, id, OP_CLEAR).await
}

/// `POST /api/alarms/{id}/dispatch` (派单): `201`, `Location` of the new
/// hidden danger.
pub async fn dispatch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    act(state, caller, id, OP_DISPATCH).await
}

/// `GET /api/alarms?within=&active=`: the alarms in the caller's scope.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let snap = state.current();
    let store = &snap.store;
    let scope = require_unit_scope(&caller, store)?;
    let known: HashSet<&str> = ["within", "active", "f"].into_iter().collect();
    if let Some(k) = q.keys().find(|k| !known.contains(k.as_str())) {
        return Err(ApiError::BadRequest(format!("unknown parameter {k}")));
    }
    let within = match q.get("within") {
        None => None,
        Some(code) => {
            params::code(code)?;
            let u = store
                .unit_by_code(code)
                .ok_or_else(|| ApiError::NotFound(format!("no grid unit with code {code}")))?;
            if !scope.sees_unit(store, u) {
                return Err(ApiError::Forbidden(format!(
                    "{code} is outside this token's grid unit"
                )));
            }
            Some(u)
        }
    };
    let active: Option<bool> = q
        .get("active")
        .map(|o| match o.as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(ApiError::BadRequest("active: true or false".into())),
        })
        .transpose()?;
    let features: Vec<Value> = store
        .alarms()
        .iter()
        .map(|(_, e)| e)
        .filter(|e| scope.sees_located(store, e.cell))
        .filter(|e| match within {
            None => true,
            Some(w) => e.cell.is_some_and(|c| store.is_within(c, w)),
        })
        .filter(|e| {
            active.is_none_or(|a| (e.record.status() != crate::model::AlarmStatus::Cleared) == a)
        })
        .map(|e| feature(&snap, e))
        .collect();
    let body = json!({
        "type": "FeatureCollection",
        "numberMatched": features.len(),
        "numberReturned": features.len(),
        "features": features,
        "data_version": snap.data_version,
    });
    Ok(no_store(Json(body).into_response()))
}
