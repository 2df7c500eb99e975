//! Polling a PostGIS source (`data = "postgresql://…"`): every
//! `[source] poll_secs` the server asks the database for the
//! `data_version` a load would report (fingerprints only, see
//! [`crate::ingest::postgis`]) and reloads, through the same path as SIGHUP
//! and the file watcher, when it differs from the one being served. A
//! version whose reload was refused is not tried again: the old snapshot
//! keeps serving, `/health` shows `last_reload_error`, and the next change
//! triggers another attempt.

use super::AppState;
use super::admin::{ReloadOutcome, reload};
use crate::ingest::postgis;
use std::time::Duration;
use tokio::time::MissedTickBehavior;

/// Starts polling when the data source is a database and `poll_secs` is
/// not 0; the task runs until the process ends.
pub fn start(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let url = postgis::url(&state.config.data)?.to_string();
    let secs = state.config.source.poll_secs;
    if secs == 0 {
        return None;
    }
    tracing::info!(
        database = %postgis::redact(&url),
        poll_secs = secs,
        "polling the database for changes"
    );
    Some(tokio::spawn(run(state, url, Duration::from_secs(secs))))
}

async fn run(state: AppState, url: String, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticker.tick().await;
    let mut refused: Option<String> = None;
    loop {
        ticker.tick().await;
        let version = match postgis::data_version(&url, &state.config).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!("polling the database: {e}");
                continue;
            }
        };
        if version == state.current().data_version || refused.as_ref() == Some(&version) {
            continue;
        }
        tracing::info!(%version, "the database changed: reloading");
        match reload(&state).await {
            Ok(ReloadOutcome::Swapped { .. }) => refused = None,
            Ok(ReloadOutcome::Refused(_)) => {
                tracing::warn!("the changed data did not validate; waiting for the next change");
                refused = Some(version);
            }
            Err(e) => tracing::error!("reload failed: {e}"),
        }
    }
}
