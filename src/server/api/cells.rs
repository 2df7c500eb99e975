//! `/api/cells/*`: one grid unit for a token holder in scope.
//!
//! Order of checks: 401 (no or unknown token) → 403 (out of scope; for a
//! grid manager any code outside its scope, known or not) → 400 → 404.

use super::params;
use crate::auth::{Caller, Scope};
use crate::crs::Crs;
use crate::index::{Store, UnitId};
use crate::report;
use crate::server::{ApiError, AppState, require_token, require_unit_scope};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use geo::Point;
use std::collections::HashMap;

/// Resolves a code for a token holder, with the contract's order of checks;
/// also returns the caller's scope, resolved once for the request.
fn resolve(store: &Store, caller: &Caller, raw: &str) -> Result<(UnitId, Scope), ApiError> {
    require_token(caller)?;
    let scope = caller.scope(store);
    Ok((unit_in_scope(store, scope, raw)?, scope))
}

/// The grid unit `raw` names, for a request with a token and `scope`, in
/// the contract's order: 403 when the scope does not reach it (for a grid
/// manager any code outside its scope, known or not, so the answer never
/// tells whether an out-of-scope unit exists), then 400 for a malformed
/// code, then 404. Every route taking a unit code from a token holder
/// (`/api/cells/{code}*`, `within=`) asks this.
pub(super) fn unit_in_scope(store: &Store, scope: Scope, raw: &str) -> Result<UnitId, ApiError> {
    let found = store.unit_by_code(raw);
    match (scope, found) {
        (Scope::All, _) => {}
        (_, Some(u)) if scope.sees_unit(store, u) => {}
        (Scope::Unit(s), _) => {
            return Err(ApiError::Forbidden(format!(
                "{raw} is outside this token's grid unit {}",
                store.unit(s).code
            )));
        }
        _ => return Err(ApiError::Forbidden("this token opens no grid unit".into())),
    }
    params::code(raw)?;
    found.ok_or_else(|| ApiError::NotFound(format!("no grid unit with code {raw}")))
}

/// `GET /api/cells/{code}`.
pub async fn unit(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let snap = state.current();
    let (id, scope) = resolve(&snap.store, &caller, &code)?;
    Ok(Json(report::summarize_for(&snap.store, &snap.scores, id, scope)).into_response())
}

/// `GET /api/cells/at?lon=&lat=[&crs=GCJ02|BD09]`: the finest unit containing the point.
pub async fn at(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let snap = state.current();
    let store = &snap.store;
    let scope = require_unit_scope(&caller, store)?;
    let lon = params::coordinate("lon", q.get("lon").map(String::as_str), 180.0)?;
    let lat = params::coordinate("lat", q.get("lat").map(String::as_str), 90.0)?;
    let crs = match q.get("crs").map(String::as_str) {
        None => Crs::Wgs84,
        Some(c) => c
            .parse::<Crs>()
            .ok()
            .filter(|c| *c != Crs::WebMercator)
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "crs must be GCJ02, BD09, EPSG:4326 or EPSG:4490, found {c:?}"
                ))
            })?,
    };
    let (lon, lat) = crs.to_wgs84(lon, lat);
    let cell = store
        .cell_at(Point::new(lon, lat))
        .ok_or_else(|| ApiError::NotFound(format!("no grid cell contains ({lon:.6}, {lat:.6})")))?;
    if !scope.sees_unit(store, cell) {
        return Err(ApiError::Forbidden(
            "the point lies outside this token's grid unit".into(),
        ));
    }
    Ok(Json(report::summarize_for(store, &snap.scores, cell, scope)).into_response())
}

/// `GET /api/cells/{code}/ledger.csv`: 风险点台账, UTF-8 with BOM.
pub async fn ledger(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    ledger_download(&state, &caller, &code, LedgerFormat::Csv)
}

/// `GET /api/cells/{code}/ledger.xlsx`: 风险点台账 as an Excel workbook.
pub async fn ledger_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    ledger_download(&state, &caller, &code, LedgerFormat::Xlsx)
}

/// The ledger's download formats.
#[derive(Debug, Clone, Copy)]
enum LedgerFormat {
    Csv,
    Xlsx,
}

impl LedgerFormat {
    fn extension(self) -> &'static str {
        match self {
            LedgerFormat::Csv => "csv",
            LedgerFormat::Xlsx => "xlsx",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            LedgerFormat::Csv => "text/csv; charset=utf-8",
            LedgerFormat::Xlsx => super::download::XLSX,
        }
    }
}

fn ledger_download(
    state: &AppState,
    caller: &Caller,
    code: &str,
    format: LedgerFormat,
) -> Result<Response, ApiError> {
    let snap = state.current();
    let (id, scope) = resolve(&snap.store, caller, code)?;
    let mut rows = report::ledger_rows(&snap.store, id, snap.scores.params().as_of_day());
    rows.retain(|r| scope.sees_feature_id(&snap.store, r.layer, &r.id));
    let unit = snap.store.unit(id);
    let body = match format {
        LedgerFormat::Csv => {
            report::ledger_csv(&rows).map_err(|e| ApiError::Internal(format!("ledger csv: {e}")))?
        }
        LedgerFormat::Xlsx => report::ledger_xlsx(&unit.code, &unit.name, &rows)
            .map_err(|e| ApiError::Internal(format!("ledger xlsx: {e}")))?,
    };
    let ext = format.extension();
    Ok(super::download::attachment(
        format.content_type(),
        &format!("ledger-{}.{ext}", unit.code),
        &format!("风险点台账-{}-{}.{ext}", unit.code, unit.name),
        body,
    ))
}

/// `GET /api/cells/{code}/features?layer=`: that layer's features inside the unit.
pub async fn features(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let snap = state.current();
    let id = resolve_checked(&snap.store, &caller, &code, || {
        let raw = q
            .get("layer")
            .ok_or_else(|| ApiError::BadRequest("layer is required (enterprises, hazard_sources, collapse_zones, villages, cells, …)".into()))?;
        raw.parse::<crate::model::LayerId>()
            .ok()
            .filter(|l| *l != crate::model::LayerId::GridCells)
            .ok_or_else(|| ApiError::BadRequest(format!("unknown layer {raw:?}")))
    })?;
    let ((id, scope), layer) = id;
    let fc = report::features::features_inside(&snap.store, &snap.scores, id, layer, scope);
    let body = serde_json::to_vec(&fc).map_err(|e| ApiError::Internal(format!("geojson: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], body).into_response())
}

/// [`resolve`] with one more parameter checked after scope and before existence.
fn resolve_checked<T>(
    store: &Store,
    caller: &Caller,
    raw: &str,
    param: impl FnOnce() -> Result<T, ApiError>,
) -> Result<((UnitId, Scope), T), ApiError> {
    match resolve(store, caller, raw) {
        Ok(resolved) => Ok((resolved, param()?)),
        Err(ApiError::NotFound(m)) => {
            param()?;
            Err(ApiError::NotFound(m))
        }
        Err(e) => Err(e),
    }
}
