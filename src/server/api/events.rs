//! `GET /api/events`: Server-Sent Events of the live loop.
//!
//! - `scores` to everyone: `{data_version, bbox, units:[{code, level,
//!   risk_score, risk_level}]}` after every write;
//! - `hidden_danger` only to tokens whose scope holds the record:
//!   `{id, status, grade, overdue, cell, data_version}`;
//! - `alarm` only to tokens whose scope holds the alarm:
//!   `{id, level, status, kind, cell, lon, lat, data_version}`.
//!
//! A subscriber that falls more than the buffer behind receives a
//! `resync` event (reload what it shows) instead of the missed ones. The
//! number of subscribers is bounded (503 beyond); a comment every 15 s
//! keeps proxies from closing an idle stream.

use crate::auth::{Caller, Scope};
use crate::server::live::LiveEvent;
use crate::server::{ApiError, AppState};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde_json::json;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// Most `/api/events` subscribers at once.
pub const MAX_SUBSCRIBERS: usize = 1024;

/// The events one published write gives a caller.
fn events_for(caller: &Caller, ev: &LiveEvent) -> Vec<Event> {
    let snap = &ev.snapshot;
    let mut out = Vec::new();
    out.push(Event::default().event("scores").data(&*ev.scores));
    let scope = caller.scope(&snap.store);
    if scope != Scope::Public && scope != Scope::Nothing {
        let day = snap.scores.params().as_of_day();
        for id in &ev.applied.records {
            if let Some(a) = snap.store.alarms().by_id(id)
                && scope.sees_located(&snap.store, a.cell)
            {
                let body = json!({
                    "id": id,
                    "level": a.record.level.get(),
                    "status": a.record.status().as_str(),
                    "kind": a.record.kind.map(|k| k.as_str()),
                    "cell": a.cell.map(|c| snap.store.unit(c).code.clone()),
                    "lon": a.record.location.x(),
                    "lat": a.record.location.y(),
                    "data_version": snap.data_version,
                });
                out.push(Event::default().event("alarm").data(body.to_string()));
            }
            let Some(e) = snap.store.dangers().by_id(id) else {
                continue;
            };
            if !scope.sees_located(&snap.store, e.cell) {
                continue;
            }
            let body = json!({
                "id": id,
                "status": e.record.status.as_str(),
                "grade": e.record.grade.as_str(),
                "overdue": e.record.is_overdue(day),
                "cell": e.cell.map(|c| snap.store.unit(c).code.clone()),
                "data_version": snap.data_version,
            });
            out.push(
                Event::default()
                    .event("hidden_danger")
                    .data(body.to_string()),
            );
        }
    }
    out
}

/// `GET /api/events`.
pub async fn events(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let live = state
        .live
        .get()
        .ok_or_else(|| ApiError::Busy("this server takes no writes: no events".into()))?;
    let permit = std::sync::Arc::clone(&state.subscribers)
        .try_acquire_owned()
        .map_err(|_| ApiError::Busy("too many event subscribers".into()))?;
    let rx = live.events.subscribe();
    let hello = Event::default()
        .event("hello")
        .data(json!({"data_version": state.current().data_version}).to_string());
    let first = stream::iter(vec![Ok::<_, Infallible>(hello)]);
    let rest = stream::unfold(
        (rx, caller, permit, Vec::<Event>::new()),
        |(mut rx, caller, permit, mut queue)| async move {
            loop {
                if let Some(e) = queue.pop() {
                    return Some((Ok::<_, Infallible>(e), (rx, caller, permit, queue)));
                }
                match rx.recv().await {
                    Ok(ev) => {
                        queue = events_for(&caller, &ev);
                        queue.reverse();
                    }
                    Err(RecvError::Lagged(n)) => {
                        let e = Event::default()
                            .event("resync")
                            .data(json!({"missed": n}).to_string());
                        return Some((Ok(e), (rx, caller, permit, queue)));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    );
    let body: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        Box::pin(futures_util::StreamExt::chain(first, rest));
    let mut resp = Sse::new(body)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}
