//! `/api`: the grid managers' API (token, in scope) and the public ranking,
//! statistics and search.

mod audit;
mod cells;
mod params;
mod public;

pub use audit::AuditLog;

use super::AppState;
use axum::Router;
use axum::routing::get;

/// The `/api` routes.
pub fn routes(state: AppState) -> Router<AppState> {
    let cells = Router::new()
        .route("/api/cells/at", get(cells::at))
        .route("/api/cells/{code}", get(cells::unit))
        .route("/api/cells/{code}/ledger.csv", get(cells::ledger))
        .route("/api/cells/{code}/ledger.xlsx", get(cells::ledger_xlsx))
        .route("/api/cells/{code}/features", get(cells::features))
        .layer(axum::middleware::from_fn_with_state(state, audit::audit));
    Router::new()
        .merge(cells)
        .route("/api/ranking", get(public::ranking))
        .route("/api/stats", get(public::stats))
        .route("/api/search", get(public::search))
}
