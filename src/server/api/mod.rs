//! `/api`: the grid managers' API (token, in scope) and the public ranking,
//! statistics and search.

mod alarms;
mod audit;
mod cells;
mod dangers;
mod download;
mod events;
mod history;
mod me;
mod params;
mod public;

pub use audit::{AuditLog, record_token_requests};
pub use events::MAX_SUBSCRIBERS;
pub use history::{follow as follow_history, snapshot_held, snapshot_on};

use super::AppState;
use axum::Router;
use axum::routing::get;

/// The `/api` routes (the audit of `/api/cells*` is
/// [`record_token_requests`], layered around the whole router so that it
/// also sees the 401 of a refused token).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/cells/at", get(cells::at))
        .route("/api/cells/{code}", get(cells::unit))
        .route("/api/cells/{code}/ledger.csv", get(cells::ledger))
        .route("/api/cells/{code}/ledger.xlsx", get(cells::ledger_xlsx))
        .route("/api/cells/{code}/features", get(cells::features))
        .route("/api/cells/{code}/history", get(history::cell_history))
        .route("/api/report", get(history::report))
        .route(
            "/api/hidden-dangers",
            get(dangers::list).post(dangers::report),
        )
        .route("/api/hidden-dangers/{id}", get(dangers::one))
        .route(
            "/api/hidden-dangers/{id}/events",
            axum::routing::post(dangers::event),
        )
        .route("/api/alarms", get(alarms::list).post(alarms::post))
        .route("/api/alarms/{id}/ack", axum::routing::post(alarms::ack))
        .route("/api/alarms/{id}/clear", axum::routing::post(alarms::clear))
        .route(
            "/api/alarms/{id}/dispatch",
            axum::routing::post(alarms::dispatch),
        )
        .route("/api/events", get(events::events))
        .route("/api/me", get(me::me))
        .route("/api/ranking", get(public::ranking))
        .route("/api/stats", get(public::stats))
        .route("/api/search", get(public::search))
}
