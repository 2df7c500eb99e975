//! Reloading the dataset: `POST /api/admin/reload` (admin token) and
//! SIGHUP. A new snapshot is built off the request path and swapped in only
//! if it validates; on failure the old one keeps serving and the error is
//! kept for `/health`.

use super::{ApiError, AppState};
use crate::auth::{Caller, Role};
use crate::snapshot::Snapshot;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

/// The outcome of the last reload that failed, until one succeeds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReloadFailure {
    /// When it failed (seconds since the Unix epoch).
    pub at: u64,
    /// Number of problems.
    pub problems: usize,
    /// The first problem, as text.
    pub first: String,
}

/// What a reload did.
#[derive(Debug)]
pub enum ReloadOutcome {
    /// A new snapshot is being served.
    Swapped {
        /// The previous data version.
        old: String,
        /// The new data version.
        new: String,
    },
    /// The data did not validate; nothing changed.
    Refused(crate::ingest::LoadError),
}

/// Rebuilds the snapshot from the configured data directory and swaps it in
/// if it loads. Runs the load on a blocking thread.
pub async fn reload(state: &AppState) -> Result<ReloadOutcome, ApiError> {
    let _guard = state.reload_lock.lock().await;
    // No write may sit between its check and its publication while the base
    // files and the journal are read again.
    let live = state.live.get().cloned();
    let _writes = match &live {
        Some(l) => Some(l.reloading().await),
        None => None,
    };
    let config = state.config.clone();
    let loaded =
        tokio::task::spawn_blocking(move || Snapshot::load_for_tiles(&config.data, &config))
            .await
            .map_err(|e| ApiError::Internal(format!("reload task failed: {e}")))?;
    let current = state.current();
    let old = current.data_version.clone();
    // A layer the serving data has and the new data lost refuses the
    // reload like invalid data.
    let loaded = loaded.and_then(|snap| {
        let lost = current.lost_layers(&snap, &state.config);
        if lost.is_empty() {
            Ok(snap)
        } else {
            Err(crate::ingest::LoadError {
                dir: state.config.data.to_string().into(),
                issues: lost,
                unreachable: false,
            })
        }
    });
    drop(current);
    match loaded {
        Ok(snap) => {
            let new = snap.data_version.clone();
            let snap = Arc::new(snap);
            if let Some(l) = &live {
                l.reset_head(Arc::clone(&snap));
            }
            state.snapshot.store(snap);
            *state.last_reload_error.lock().await = None;
            state.metrics.reload(true);
            tracing::info!(%old, %new, "reloaded");
            Ok(ReloadOutcome::Swapped { old, new })
        }
        Err(e) => {
            let at = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            *state.last_reload_error.lock().await = Some(ReloadFailure {
                at,
                problems: e.issues.len(),
                first: e
                    .issues
                    .first()
                    .map(|i| {
                        let text = public_issue(i);
                        match state.config.data.dir() {
                            Some(dir) => relative_to_data(&text, dir),
                            None => text,
                        }
                    })
                    .unwrap_or_default(),
            });
            state.metrics.reload(false);
            tracing::warn!(
                problems = e.issues.len(),
                "reload refused; still serving {old}: {e}"
            );
            Ok(ReloadOutcome::Refused(e))
        }
    }
}

/// `POST /api/admin/reload`.
pub async fn reload_handler(State(state): State<AppState>, caller: Caller) -> Response {
    match caller.role() {
        None => {
            return ApiError::Unauthorized("this resource needs a token".into()).into_response();
        }
        Some(Role::Admin) => {}
        Some(_) => {
            return ApiError::Forbidden("reload needs an admin token".into()).into_response();
        }
    }
    match reload(&state).await {
        Ok(ReloadOutcome::Swapped { old, new }) => Json(json!({
            "status": "reloaded",
            "previous_data_version": old,
            "data_version": new,
            "counts": state.current().counts(),
        }))
        .into_response(),
        Ok(ReloadOutcome::Refused(e)) => {
            let errors: Vec<_> = e
                .issues
                .iter()
                .map(|i| {
                    json!({
                        "file": i.file,
                        "feature": i.feature,
                        "field": i.field,
                        "level": i.level,
                        "message": i.message,
                    })
                })
                .collect();
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({
                    "code": "ReloadRefused",
                    "description": format!("the data did not validate ({} problems); still serving data_version {}", errors.len(), state.current().data_version),
                    "errors": errors,
                })),
            )
                .into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// Reloads on every SIGHUP until the process ends.
pub async fn reload_on_sighup(state: AppState, mut hangups: super::signals::Hangups) {
    while hangups.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading");
        if let Err(e) = reload(&state).await {
            tracing::error!("reload failed: {e}");
        }
    }
}

/// Seconds from `now_unix` to the next midnight in Asia/Shanghai (UTC+8).
pub fn secs_to_shanghai_midnight(now_unix: u64) -> u64 {
    const DAY: u64 = 86_400;
    let local = now_unix + 8 * 3600;
    DAY - local % DAY
}

/// When the as-of day is today (config `risk.as_of` unset), reloads at
/// every midnight in Asia/Shanghai: the new day's load measures "overdue"
/// against the new date, so the cells of records whose deadline has just
/// passed are rescored, exactly as a fresh start would score them.
pub async fn reload_at_midnight(state: AppState) {
    if state.config.risk.as_of.is_some() {
        return;
    }
    loop {
        // The process's clock (`RISKMAP_NOW` scripts days through it).
        let now = crate::clock::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        // A second past midnight, so the new day has surely begun.
        let wait = secs_to_shanghai_midnight(now) + 1;
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
        tracing::info!("a new day in Asia/Shanghai: rescoring overdue hidden dangers");
        if let Err(e) = reload(&state).await {
            tracing::error!("midnight reload failed: {e}");
        }
    }
}

/// `text` with the data folder's path (as configured and as resolved)
/// taken out: `/health` is public and shows problems with paths relative
/// to the data folder, never where it lies on the server.
fn relative_to_data(text: &str, data: &std::path::Path) -> String {
    let mut text = text.to_string();
    let mut folders = vec![data.to_path_buf()];
    if let Ok(resolved) = data.canonicalize() {
        folders.push(resolved);
    }
    // The longest first, so a resolved path is not cut in the middle.
    folders.sort_by_key(|f| std::cmp::Reverse(f.as_os_str().len()));
    for folder in folders {
        let folder = folder.to_string_lossy().trim_end_matches('/').to_string();
        if folder.is_empty() || folder == "." {
            continue;
        }
        text = text
            .replace(&format!("{folder}/"), "")
            .replace(&folder, "the data folder");
    }
    text
}

/// One problem as the public `/health` may show it: the file and the
/// field, never the feature (its position and id); the message only for a
/// public layer's file, since a private layer's message may quote ids
/// (`enterprise "E-9" is not in the enterprises layer`); nothing of a
/// source that is not a layer's file (a database's address). An admin
/// reads every problem whole in the reload's 422 answer.
fn public_issue(issue: &crate::ingest::Issue) -> String {
    // `hazard_sources.geojson`, or a table such as `public.collapse_zones`.
    let layer = issue
        .file
        .split('.')
        .find_map(|part| part.parse::<crate::model::LayerId>().ok());
    // Not a layer's file (e.g. the database, named by its address): nothing
    // of it.
    let Some(layer) = layer else {
        return "the data source could not be read (the reload answer says why, to an admin)"
            .into();
    };
    let mut text = format!("{}: ", issue.file);
    if let Some(field) = &issue.field {
        text.push_str(&format!("field `{field}`: "));
    }
    if layer.is_private() {
        text.push_str("a problem in a private layer (the reload answer lists it for an admin)");
    } else {
        text.push_str(&issue.message);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::{public_issue, relative_to_data};
    use crate::ingest::{Issue, IssueLevel};

    fn issue(file: &str, feature: &str, field: &str, message: &str) -> Issue {
        Issue {
            level: IssueLevel::Error,
            file: file.into(),
            feature: Some(feature.into()),
            field: Some(field.into()),
            message: message.into(),
        }
    }

    #[test]
    fn the_public_text_of_a_problem_names_no_feature() {
        let private = issue(
            "hazard_sources.geojson",
            "HS-1",
            "enterprise_id",
            "enterprise \"E-9\" is not in the enterprises layer",
        );
        let text = public_issue(&private);
        assert!(
            text.starts_with("hazard_sources.geojson: field `enterprise_id`: "),
            "{text}"
        );
        assert!(!text.contains("HS-1") && !text.contains("E-9"), "{text}");
        let public = issue(
            "grid_cells.fgb",
            "#3 350502001001001",
            "population",
            "not a number",
        );
        assert_eq!(
            public_issue(&public),
            "grid_cells.fgb: field `population`: not a number"
        );
        let table = issue(
            "public.collapse_zones",
            "#1 CZ-1",
            "severity",
            "out of range",
        );
        assert_eq!(
            public_issue(&table),
            "public.collapse_zones: field `severity`: out of range"
        );
        // A file that names no layer, such as the database: nothing of it.
        let db = Issue::file_error(
            "postgresql://riskmap@db.internal:5432/city",
            "cannot connect: refused",
        );
        let text = public_issue(&db);
        assert!(
            !text.contains("db.internal") && !text.contains("riskmap@"),
            "{text}"
        );
    }

    use std::path::Path;

    #[test]
    fn the_data_folder_is_taken_out_of_messages() {
        let data = Path::new("/srv/riskmap/data");
        assert_eq!(
            relative_to_data(
                "grid_cells:-: no grid_cells.fgb, grid_cells.geojson or grid_cells.csv in /srv/riskmap/data",
                data
            ),
            "grid_cells:-: no grid_cells.fgb, grid_cells.geojson or grid_cells.csv in the data folder"
        );
        assert_eq!(
            relative_to_data("cannot read /srv/riskmap/data/x.fgb: denied", data),
            "cannot read x.fgb: denied"
        );
        assert_eq!(relative_to_data("x.csv:#2: bad", data), "x.csv:#2: bad");
    }
}
