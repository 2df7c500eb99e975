//! The optional data-folder watcher (`watch = true` or `serve --watch`):
//! reloads once the data files have stopped changing for
//! `watch_debounce_ms`. A file copied in slowly is therefore read once, at
//! the end; one that is read half-written anyway (a pause longer than the
//! debounce) fails validation, the old snapshot keeps serving, and the
//! copy's next write triggers another attempt.

use super::AppState;
use super::admin::{ReloadOutcome, reload};
use notify::{EventKind, RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// The watcher could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {path}: {source}")]
pub struct WatchError {
    /// The data folder.
    pub path: PathBuf,
    /// What the file-system notification layer said.
    pub source: notify::Error,
}

/// Whether an event can change what a reload reads: not a read, and not a
/// hidden or editor backup file.
fn relevant(event: &notify::Event) -> bool {
    if matches!(event.kind, EventKind::Access(_)) {
        return false;
    }
    event.paths.is_empty() || event.paths.iter().any(|p| !ignored(p))
}

fn ignored(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp")
}

/// Starts watching the configured data folder; the returned task reloads
/// after each burst of changes, until the process ends.
pub fn start(state: AppState) -> Result<tokio::task::JoinHandle<()>, WatchError> {
    let Some(dir) = state.config.data.dir().map(Path::to_path_buf) else {
        return Err(WatchError {
            path: PathBuf::from(state.config.data.to_string()),
            source: notify::Error::generic("a database source is polled, not watched"),
        });
    };
    let fail = |source| WatchError {
        path: dir.clone(),
        source,
    };
    let (tx, rx) = unbounded_channel();
    let mut watcher =
        notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
            Ok(event) if relevant(&event) => {
                let _ = tx.send(());
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("file watcher: {e}"),
        })
        .map_err(fail)?;
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(fail)?;
    let debounce = Duration::from_millis(state.config.watch_debounce_ms);
    tracing::info!(
        dir = %dir.display(),
        debounce_ms = debounce.as_millis() as u64,
        "watching the data folder"
    );
    Ok(tokio::spawn(async move {
        // The watcher stops when dropped: keep it as long as the task.
        let _watcher = watcher;
        run(state, rx, debounce).await;
    }))
}

/// Waits for a change, then for `debounce` of quiet, then reloads; forever.
async fn run(state: AppState, mut changes: UnboundedReceiver<()>, debounce: Duration) {
    while changes.recv().await.is_some() {
        loop {
            match tokio::time::timeout(debounce, changes.recv()).await {
                Ok(Some(())) => continue,
                Ok(None) => return,
                Err(_quiet) => break,
            }
        }
        tracing::info!("data files changed: reloading");
        match reload(&state).await {
            Ok(ReloadOutcome::Swapped { .. }) => {}
            Ok(ReloadOutcome::Refused(_)) => {
                tracing::warn!("the changed data did not validate; waiting for the next change");
            }
            Err(e) => tracing::error!("reload failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind, ModifyKind};

    #[test]
    fn reads_and_hidden_files_are_ignored() {
        let ev = |kind, path: &str| notify::Event::new(kind).add_path(PathBuf::from(path));
        assert!(!relevant(&ev(
            EventKind::Access(AccessKind::Any),
            "d/enterprises.csv"
        )));
        assert!(relevant(&ev(
            EventKind::Modify(ModifyKind::Any),
            "d/enterprises.csv"
        )));
        assert!(!relevant(&ev(
            EventKind::Create(CreateKind::File),
            "d/.enterprises.csv.swp"
        )));
        assert!(!relevant(&ev(
            EventKind::Modify(ModifyKind::Any),
            "d/grid_cells.geojson~"
        )));
    }
}
