//! Watching a PostGIS source (`data = "postgresql://…"`): every
//! `[source] poll_secs`, and at once on a `NOTIFY` to the `[source] listen`
//! channel, the server asks the database for the `data_version` a load
//! would report (fingerprints only, see [`crate::ingest::postgis`]) and
//! reloads, through the same path as SIGHUP and the file watcher, when it
//! differs from the one being served. A version whose reload was refused is
//! not tried again: the old snapshot keeps serving, `/health` shows
//! `last_reload_error`, and the next change triggers another attempt.
//!
//! `/health` shows the source's state under `source` ([`SourceStatus`]):
//! while the database cannot be reached the server keeps serving the last
//! good snapshot and says since when the checks fail. A reload that fails
//! because the database could not be read is retried at the next check,
//! unlike one whose data did not validate.

use super::AppState;
use super::admin::{ReloadOutcome, reload};
use crate::ingest::postgis;
use crate::pg;
use serde::Serialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

/// How long the `LISTEN` connection waits before reconnecting.
const RELISTEN_AFTER: Duration = Duration::from_secs(5);

/// The state of a database source, as `/health` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceStatus {
    /// `postgis`.
    pub kind: &'static str,
    /// Seconds between checks (0: none).
    pub poll_secs: u64,
    /// The `LISTEN` channel, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// Whether the `LISTEN` connection is up (with a channel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listening: Option<bool>,
    /// Whether the last check reached the database.
    pub reachable: bool,
    /// When the last check ran (seconds since the Unix epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<u64>,
    /// What the failing checks say (without the database's address:
    /// `/health` is public; the log has it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Since when the checks fail (seconds since the Unix epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<u64>,
    /// Checks failed in a row.
    pub failed_checks: u64,
    /// Checks made since the start (reached the database or not).
    pub checks: u64,
}

impl SourceStatus {
    /// The status of the configured source when it is a database, before
    /// any check (it was just loaded from).
    pub fn initial(config: &crate::config::Config) -> Option<SourceStatus> {
        config.data.postgres()?;
        let listen = Some(config.source.listen.clone()).filter(|c| !c.is_empty());
        Some(SourceStatus {
            kind: "postgis",
            poll_secs: config.source.poll_secs,
            listening: listen.as_ref().map(|_| false),
            listen,
            // The snapshot being served was just read from it.
            reachable: true,
            checked_at: Some(now()),
            error: None,
            failing_since: None,
            failed_checks: 0,
            checks: 0,
        })
    }

    fn checked(&mut self, result: Result<(), String>) {
        self.checked_at = Some(now());
        self.checks += 1;
        match result {
            Ok(()) => {
                self.reachable = true;
                self.error = None;
                self.failing_since = None;
                self.failed_checks = 0;
            }
            Err(e) => {
                self.reachable = false;
                self.error = Some(e);
                self.failing_since.get_or_insert(now());
                self.failed_checks += 1;
            }
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn update(state: &AppState, f: impl FnOnce(&mut SourceStatus)) {
    let mut guard = state
        .source
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(status) = guard.as_mut() {
        f(status);
    }
}

/// How long one check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// Starts watching when the data source is a database and `poll_secs` is
/// not 0 or a `listen` channel is set; the task runs until the process
/// ends.
pub fn start(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let pg_url = state.config.data.postgres()?.clone();
    let url = pg_url.expose().to_string();
    let source = &state.config.source;
    if source.poll_secs == 0 && source.listen.is_empty() {
        return None;
    }
    tracing::info!(
        database = %pg_url,
        poll_secs = source.poll_secs,
        listen = %source.listen,
        "watching the database for changes"
    );
    let (tx, rx) = mpsc::channel(1);
    if !source.listen.is_empty() {
        tokio::spawn(listen(
            state.clone(),
            url.clone(),
            source.listen.clone(),
            tx,
        ));
    }
    Some(tokio::spawn(run(state, url, rx)))
}

async fn run(state: AppState, url: String, mut notified: mpsc::Receiver<()>) {
    let secs = state.config.source.poll_secs;
    let mut ticker = tokio::time::interval(Duration::from_secs(secs.max(1)));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticker.tick().await;
    let mut refused: Option<String> = None;
    loop {
        tokio::select! {
            _ = ticker.tick(), if secs > 0 => {}
            Some(()) = notified.recv() => {}
            else => return,
        }
        let checked = tokio::time::timeout(
            CHECK_TIMEOUT,
            postgis::data_version(&url, &state.config.ingest()),
        )
        .await;
        let version = match checked {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => {
                tracing::warn!("checking the database: {e}");
                update(&state, |s| s.checked(Err(e.detail())));
                continue;
            }
            Err(_) => {
                let e = format!("no answer within {} s", CHECK_TIMEOUT.as_secs());
                tracing::warn!("checking the database: {e}");
                update(&state, |s| s.checked(Err(e)));
                continue;
            }
        };
        update(&state, |s| s.checked(Ok(())));
        // After journal entries the served version is `<base>-<seq>`.
        if *version == *state.current().base_version || refused.as_ref() == Some(&version) {
            continue;
        }
        tracing::info!(%version, "the database changed: reloading");
        match reload(&state).await {
            Ok(ReloadOutcome::Swapped { .. }) => refused = None,
            Ok(ReloadOutcome::Refused(e)) if e.unreachable => {
                let first = e.issues.first().map(|i| i.message.clone());
                update(&state, |s| s.checked(Err(first.unwrap_or_default())));
                tracing::warn!("the database could not be read; trying again at the next check");
            }
            Ok(ReloadOutcome::Refused(_)) => {
                tracing::warn!("the changed data did not validate; waiting for the next change");
                refused = Some(version);
            }
            Err(e) => tracing::error!("reload failed: {e}"),
        }
    }
}

/// Keeps a connection that `LISTEN`s on `channel`, reconnecting after
/// [`RELISTEN_AFTER`]; each notification (and each reconnection, which may
/// have missed some) asks `run` for a check.
async fn listen(state: AppState, url: String, channel: String, checks: mpsc::Sender<()>) {
    loop {
        let result = listen_once(&state, &url, &channel, &checks).await;
        update(&state, |s| {
            s.listening = Some(false);
            if let Err(e) = &result {
                s.checked(Err(e.clone()));
            }
        });
        match result {
            Ok(()) => tracing::warn!(%channel, "the LISTEN connection closed"),
            Err(e) => tracing::warn!(%channel, "LISTEN: {e}"),
        }
        if checks.is_closed() {
            return;
        }
        tokio::time::sleep(RELISTEN_AFTER).await;
    }
}

async fn listen_once(
    state: &AppState,
    url: &str,
    channel: &str,
    checks: &mpsc::Sender<()>,
) -> Result<(), String> {
    let (notes_tx, mut notes) = mpsc::unbounded_channel();
    let ca = state.config.source.tls_ca.as_deref();
    let (client, driver) = pg::connect_with(url, ca, Some(notes_tx))
        .await
        .map_err(|e| e.detail())?;
    let listening = client
        .batch_execute(&format!("LISTEN {}", pg::quote(channel)))
        .await;
    if let Err(e) = listening {
        driver.abort();
        return Err(format!("LISTEN {channel}: {}", pg::message(&e)));
    }
    tracing::info!(%channel, "listening for database notifications");
    update(state, |s| s.listening = Some(true));
    // Changes made while the connection was down were not announced.
    let _ = checks.try_send(());
    while notes.recv().await.is_some() {
        // A full channel means a check is already due.
        let _ = checks.try_send(());
    }
    drop(client);
    match driver.await {
        Ok(result) => result,
        Err(e) => Err(e.to_string()),
    }
}
