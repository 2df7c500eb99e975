//! The time dimension of `/api`: a unit's daily history, the 通报 (JSON
//! and XLSX), the indicators of `/api/stats` and the rankings by change,
//! overdue records and 整改率, all read from the [`History`] file.

use super::params;
use crate::auth::{Caller, Scope};
use crate::history::bulletin::{self, Indicators};
use crate::history::period::{BadPeriod, Period, Step, check_range, date_param};
use crate::history::{History, HistoryError, series};
use crate::index::{Store, UnitId};
use crate::model::{Date, Level};
use crate::server::{ApiError, AppState, require_token};
use crate::snapshot::Snapshot;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

impl From<HistoryError> for ApiError {
    fn from(e: HistoryError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl From<BadPeriod> for ApiError {
    fn from(e: BadPeriod) -> ApiError {
        ApiError::BadRequest(e.0)
    }
}

/// The history, brought up to the served snapshot, and that snapshot.
async fn current(state: &AppState) -> Result<(Arc<History>, Arc<Snapshot>), ApiError> {
    let history = opened(state).await?.ok_or_else(|| {
        ApiError::NotFound("this server keeps no history (its data source has no journal)".into())
    })?;
    let snap = state.current();
    let (h, s) = (Arc::clone(&history), Arc::clone(&snap));
    tokio::task::spawn_blocking(move || h.follow(&s))
        .await
        .map_err(|e| ApiError::Internal(format!("history: {e}")))??;
    Ok((history, snap))
}

/// How long a request waits for the history to open before a 503.
const OPENING_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// The history, waiting while it opens (after a start or a restart);
/// `None` when the server keeps none, 503 when it could not be opened or
/// is still opening after [`OPENING_WAIT`].
pub async fn opened(state: &AppState) -> Result<Option<Arc<History>>, ApiError> {
    let mut opening = state.history_opening.subscribe();
    let waited = tokio::time::timeout(OPENING_WAIT, async {
        opening.wait_for(|o| !*o).await.map(|_| ())
    })
    .await;
    if waited.is_err() {
        return Err(ApiError::Busy(
            "the history is still being computed after the start; try again shortly".into(),
        ));
    }
    if let Some(reason) = state.history_failure.get() {
        return Err(ApiError::Busy(format!("history: {reason}")));
    }
    Ok(state.history.get().cloned())
}

/// After a write is published: wakes the task that brings the history up
/// to the served snapshot (the write's answer does not wait for it; every
/// reader of the history brings it up to date first).
pub fn follow(state: &AppState) {
    state.history_wake.notify_one();
}

fn unit_of(store: &Store, raw: &str) -> Result<UnitId, ApiError> {
    params::code(raw)?;
    store
        .unit_by_code(raw)
        .ok_or_else(|| ApiError::NotFound(format!("no grid unit with code {raw}")))
}

/// `from`/`to` of `q`, defaulting to `default`, checked against the days held.
fn range(
    q: &HashMap<String, String>,
    default: (Date, Date),
    held: (Date, Date),
) -> Result<(Date, Date), ApiError> {
    let from = q
        .get("from")
        .map(|v| date_param("from", v))
        .transpose()?
        .unwrap_or(default.0);
    let to = q
        .get("to")
        .map(|v| date_param("to", v))
        .transpose()?
        .unwrap_or(default.1);
    check_range(from, to, held)?;
    Ok((from, to))
}

fn indicators_json(i: &Indicators) -> Value {
    json!(i)
}

/// `GET /api/cells/{code}/history?from=&to=&step=day|week|month`.
pub async fn cell_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let step: Step = q.get("step").map_or(Ok(Step::Day), |s| s.parse())?;
    let (history, snap) = current(&state).await?;
    let store = &snap.store;
    let unit = unit_of(store, &code)?;
    let held = history.days()?;
    let (from, to) = range(&q, held, held)?;
    let private = caller.role().is_some() && caller.scope(store).sees_unit(store, unit);
    let points = history.read(|db| series(db, unit, from, to, step))?;
    let rows: Vec<Value> = points
        .iter()
        .map(|p| {
            let s = &p.state;
            let [h, e, c, m] = match s.hecm {
                Some(x) => x.map(Some),
                None => [None; 4],
            };
            let mut o = json!({
                "date": p.date.to_string(),
                "risk_score": s.risk_score,
                "risk_level": s.level.as_str(),
                "h": h, "e": e, "c": c, "m": m,
            });
            if private && let Some(o) = o.as_object_mut() {
                o.insert("found".into(), json!(p.flow.found));
                o.insert("closed".into(), json!(p.flow.closed));
                o.insert("closed_on_time".into(), json!(p.flow.closed_on_time));
                o.insert("overdue_open".into(), json!(s.overdue_open));
                o.insert("major_open".into(), json!(s.major_open));
            }
            o
        })
        .collect();
    let u = store.unit(unit);
    Ok(Json(json!({
        "code": u.code,
        "name": u.name,
        "level": u.level.as_str(),
        "from": from.to_string(),
        "to": to.to_string(),
        "step": q.get("step").map_or("day", String::as_str),
        "series": rows,
    }))
    .into_response())
}

/// The `indicators` of `/api/stats` for a token holder (none without a
/// token, or for a unit outside the token's scope): over `from`/`to`,
/// default this month up to today.
pub async fn stats_indicators(
    state: &AppState,
    caller: &Caller,
    within: Option<UnitId>,
    q: &HashMap<String, String>,
) -> Result<Option<Value>, ApiError> {
    if caller.role().is_none() || opened(state).await?.is_none() {
        return Ok(None);
    }
    let (history, snap) = current(state).await?;
    let store = &snap.store;
    let scope = caller.scope(store);
    let units: Vec<UnitId> = match (within, scope) {
        (Some(w), s) if s.sees_unit(store, w) => vec![w],
        (Some(_), _) => return Ok(None),
        (None, Scope::All) => store.units_at(Level::County).to_vec(),
        (None, Scope::Unit(u)) => vec![u],
        (None, _) => return Ok(None),
    };
    let held = history.days()?;
    let month = crate::history::period::Step::Month
        .start(held.1)
        .max(held.0);
    let (from, to) = range(q, (month, held.1), held)?;
    let ind = history.read(|db| {
        let mut f = crate::history::day::Flow::default();
        let mut end = crate::history::day::State {
            risk_score: 0.0,
            level: crate::model::RiskLevel::Low,
            hecm: None,
            overdue_open: 0,
            major_open: 0,
        };
        for &u in &units {
            f.add(&db.flow_sum(u, from, to)?, 1);
            if let Some(s) = db.state_on(u, to)? {
                end.overdue_open += s.overdue_open;
                end.major_open += s.major_open;
            }
        }
        Ok(Indicators::of(f, Some(end)))
    })?;
    let mut v = indicators_json(&ind);
    if let Some(o) = v.as_object_mut() {
        o.insert("from".into(), json!(from.to_string()));
        o.insert("to".into(), json!(to.to_string()));
    }
    Ok(Some(v))
}

/// `GET /api/ranking?by=change|overdue|rectification_rate&from=&to=`:
/// units of `level` (within `within`) by score change (public), by overdue
/// open records or by 整改率 (token; only units its scope sees).
pub async fn ranking_by(
    state: &AppState,
    caller: &Caller,
    by: &str,
    level: Level,
    within: Option<UnitId>,
    limit: usize,
    q: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    if by != "change" {
        require_token(caller)?;
    }
    let (history, snap) = current(state).await?;
    let store = &snap.store;
    let scope = caller.scope(store);
    let held = history.days()?;
    let month = Step::Month.start(held.1).max(held.0);
    let (from, to) = range(q, (month, held.1), held)?;
    let before = from.add_days(-1).max(held.0);
    let ids: Vec<UnitId> = store
        .units_at(level)
        .iter()
        .copied()
        .filter(|&u| within.is_none_or(|w| store.is_within(u, w)))
        .filter(|&u| by == "change" || scope.sees_unit(store, u))
        .collect();
    let mut lines = history.read(|db| {
        ids.iter()
            .map(|&u| bulletin::line(db, store, u, before, from, to).map(|(l, _)| l))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let key = |l: &bulletin::Line| -> f64 {
        match by {
            "change" => l.change.unwrap_or(0.0),
            "overdue" => f64::from(l.indicators.overdue_open),
            // Lowest 整改率 first: who is falling behind.
            _ => -l.indicators.rectification_rate.unwrap_or(100.0),
        }
    };
    lines.sort_by(|a, b| key(b).total_cmp(&key(a)).then_with(|| a.code.cmp(&b.code)));
    lines.truncate(limit);
    let items: Vec<Value> = lines
        .into_iter()
        .enumerate()
        .map(|(i, mut l)| {
            l.rank = Some(i + 1);
            let mut v = json!(l);
            if by == "change"
                && let Some(o) = v.as_object_mut()
            {
                o.remove("indicators");
            }
            v
        })
        .collect();
    Ok(json!({
        "level": level.as_str(),
        "by": by,
        "from": from.to_string(),
        "to": to.to_string(),
        "items": items,
    }))
}

/// `GET /api/report?within=CODE&period=2026-11|2026-W47|2026-Q4&format=json|xlsx`.
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_token(&caller)?;
    let raw = q
        .get("within")
        .ok_or_else(|| ApiError::BadRequest("within (a unit code) is required".into()))?;
    let format = q.get("format").map_or("json", String::as_str);
    if !matches!(format, "json" | "xlsx") {
        return Err(ApiError::BadRequest(format!(
            "format must be json or xlsx, found {format:?}"
        )));
    }
    let (history, snap) = current(&state).await?;
    let store = &snap.store;
    let scope = caller.scope(store);
    let unit = store.unit_by_code(raw);
    if !unit.is_some_and(|u| scope.sees_unit(store, u)) && scope != Scope::All {
        return Err(ApiError::Forbidden(format!(
            "{raw} is outside this token's scope"
        )));
    }
    let unit = unit_of(store, raw)?;
    let held = history.days()?;
    let period: Period = match q.get("period") {
        Some(p) => p.parse()?,
        None => {
            let (y, m, _) = held.1.ymd();
            format!("{y:04}-{m:02}").parse()?
        }
    };
    if period.to < held.0 || period.from > held.1 {
        return Err(ApiError::BadRequest(format!(
            "period {} is outside the history ({} to {})",
            period.name, held.0, held.1
        )));
    }
    let b = history.read(|db| bulletin::bulletin(db, store, unit, &period, held))?;
    if format == "json" {
        return Ok(Json(json!(b)).into_response());
    }
    let bytes = crate::history::xlsx::bulletin_xlsx(&b)
        .map_err(|e| ApiError::Internal(format!("report workbook: {e}")))?;
    let name = format!("report-{}-{}.xlsx", store.unit(unit).code, period.name);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The served data at the end of the day `raw` (`YYYY-MM-DD`, or an RFC
/// 3339 instant: its date), for `?date=` tiles and OGC `datetime`.
pub async fn snapshot_on(
    state: &AppState,
    name: &str,
    raw: &str,
) -> Result<Arc<Snapshot>, ApiError> {
    let day = date_param(name, raw.get(..10).unwrap_or(raw))?;
    let (history, snap) = current(state).await?;
    check_range(day, day, history.days()?)?;
    tokio::task::spawn_blocking(move || history.snapshot_on(day, &snap))
        .await
        .map_err(|e| ApiError::Internal(format!("history: {e}")))?
        .map_err(ApiError::from)
}

/// [`snapshot_on`] for OGC `datetime` on the grid-unit collections (`raw`
/// already checked as a `datetime`), or `None` where it does not narrow
/// (a server without a history). An instant: that day's state, 400 naming
/// the days held for a day the history does not hold. An interval:
/// the state at its end — its last day the history holds, today for an
/// open end — and 400 naming the days held when it holds none of them.
pub async fn snapshot_held(state: &AppState, raw: &str) -> Result<Option<Arc<Snapshot>>, ApiError> {
    let Some(history) = opened(state).await? else {
        return Ok(None);
    };
    let (first, last) = history.days()?;
    let day_of = |t: &str| t.trim().get(..10).and_then(|d| d.parse::<Date>().ok());
    let Some((start, end)) = raw.split_once('/') else {
        return match day_of(raw) {
            Some(day) if day >= first && day <= last => {
                snapshot_on(state, "datetime", &day.to_string())
                    .await
                    .map(Some)
            }
            Some(day) => Err(ApiError::BadRequest(format!(
                "datetime: {day} is not a day of the grid units' history, \
                 which holds {first} to {last}"
            ))),
            None => Ok(None),
        };
    };
    let open = |t: &str| matches!(t.trim(), "" | "..");
    let start = if open(start) { None } else { day_of(start) };
    let end = if open(end) { None } else { day_of(end) };
    if start.is_some_and(|s| s > last) || end.is_some_and(|e| e < first) {
        return Err(ApiError::BadRequest(format!(
            "datetime: the interval {raw:?} holds no day of the grid units' history, \
             which holds {first} to {last} (an interval selects the state at its end)"
        )));
    }
    let day = end.map_or(last, |e| e.min(last));
    snapshot_on(state, "datetime", &day.to_string())
        .await
        .map(Some)
}
