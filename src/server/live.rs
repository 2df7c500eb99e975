//! The write path: [`Live`] owns the journal and the head of the write
//! order, and publishes each durable write to the served snapshot and to
//! the event stream (`/api/events`).
//!
//! A write runs its checks and derives the next snapshot inside the
//! journal's order lock ([`Journal::append_then`]), against the *head*: the
//! snapshot with every write queued so far, durable or not. It does so in
//! two steps: [`Snapshot::record`] checks and records the entries (every
//! refusal happens there); their lines are then queued for the journal's
//! writer, and [`crate::live::Recorded::rescore`], which cannot refuse,
//! scores the cells they reach while the lines are written and fsynced.
//! (A journal table in PostgreSQL derives in one step before its commit.)
//! The answer waits for both (many concurrent writes share one fsync);
//! then the snapshot is published, the newest sequence number winning, so
//! readers never see a write before it is on disk and never go back in
//! time.
//! Reloads take the gate exclusively: no write is between its check and
//! its publication while the base files and the journal are read again.

use super::ApiError;
use super::replica::Replica;
use crate::journal::{Journal, JournalError, NewEntry};
use crate::live::{Applied, LiveError, Op, Recorded};
use crate::snapshot::Snapshot;
use crate::tiles::TilePolicy;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::{RwLock, RwLockReadGuard, broadcast};

/// Events the stream keeps for slow subscribers; a subscriber further
/// behind skips ahead (and is told so).
pub const EVENT_BUFFER: usize = 1024;

/// One event for `/api/events`.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    /// The snapshot after the write.
    pub snapshot: Arc<Snapshot>,
    /// What the write changed.
    pub applied: Arc<Applied>,
    /// The `scores` event's data, the same for every subscriber: built
    /// once when the write is published.
    pub scores: Arc<str>,
}

/// The journal, the head of the write order and the event channel.
pub struct Live {
    backend: Backend,
    head: std::sync::Mutex<Arc<Snapshot>>,
    gate: RwLock<()>,
    publish: std::sync::Mutex<()>,
    /// Published writes, for `/api/events`.
    pub events: broadcast::Sender<LiveEvent>,
    derives: crate::latency::Latency,
}

/// What the write path has done since the server started, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LiveStats {
    /// Next snapshots derived (one per write, or per batch of entries)
    /// and their times.
    pub derives: crate::latency::LatencyCounts,
    /// The journal file's group commits (`None` with a database journal).
    pub journal: Option<crate::journal::CommitStats>,
}

/// Where writes are journaled.
enum Backend {
    /// A file, on this machine ([`Journal`]).
    File(Journal),
    /// The table `riskmap_journal` of a `postgresql://` source, shared by
    /// every replica ([`Replica`]).
    Table(Box<Replica>),
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Live");
        match &self.backend {
            Backend::File(j) => d.field("journal", j),
            Backend::Table(_) => d.field("journal", &crate::journal::table::TABLE),
        };
        d.finish_non_exhaustive()
    }
}

/// A write's outcome before publication.
pub struct Written {
    /// The snapshot after it.
    pub snapshot: Arc<Snapshot>,
    /// What it changed.
    pub applied: Arc<Applied>,
    /// Its sequence number.
    pub seq: u64,
}

impl From<JournalError> for ApiError {
    fn from(e: JournalError) -> ApiError {
        ApiError::Internal(format!("journal: {e}"))
    }
}

impl From<LiveError> for ApiError {
    fn from(e: LiveError) -> ApiError {
        match e {
            LiveError::Field { .. } => ApiError::BadRequest(e.to_string()),
            LiveError::Conflict(m) => ApiError::Conflict(m),
            LiveError::Entry { .. } => ApiError::Internal(e.to_string()),
        }
    }
}

impl Live {
    /// Opens the journal at `path` for writing over `serving` (which must
    /// already hold every entry of it: [`Snapshot::load`] replays it).
    pub fn open(path: &Path, serving: Arc<Snapshot>) -> Result<Live, String> {
        let (journal, replay) = Journal::open(path).map_err(|e| e.to_string())?;
        for w in &replay.warnings {
            tracing::warn!(journal = %path.display(), "{w}");
        }
        if replay.last_seq != serving.seq {
            return Err(format!(
                "the journal {} ends at entry {} but the data were loaded with {}",
                path.display(),
                replay.last_seq,
                serving.seq
            ));
        }
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Ok(Live {
            backend: Backend::File(journal),
            head: std::sync::Mutex::new(serving),
            gate: RwLock::new(()),
            publish: std::sync::Mutex::new(()),
            events,
            derives: crate::latency::Latency::default(),
        })
    }

    /// The journal table of the database `url` (created if absent), for
    /// writes over `serving`; start [`super::replica::follow`] with it.
    pub async fn open_table(
        url: &str,
        config: &crate::config::Config,
        serving: Arc<Snapshot>,
        served: Arc<arc_swap::ArcSwap<Snapshot>>,
    ) -> Result<Live, String> {
        let replica = Replica::open(url, config, Arc::clone(&serving), served).await?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Ok(Live {
            backend: Backend::Table(Box::new(replica)),
            head: std::sync::Mutex::new(serving),
            gate: RwLock::new(()),
            publish: std::sync::Mutex::new(()),
            events,
            derives: crate::latency::Latency::default(),
        })
    }

    /// The replica side, when the journal is the database's table.
    pub fn replica(&self) -> Option<&Replica> {
        match &self.backend {
            Backend::Table(r) => Some(r),
            Backend::File(_) => None,
        }
    }

    /// What the write path has done so far.
    pub fn stats(&self) -> LiveStats {
        LiveStats {
            derives: self.derives.read(),
            journal: match &self.backend {
                Backend::File(j) => Some(j.stats()),
                Backend::Table(_) => None,
            },
        }
    }

    /// [`Snapshot::derive`], timed for [`Live::stats`].
    pub(super) fn derive(
        &self,
        head: &Snapshot,
        ops: &[Op<'_>],
        policy: &TilePolicy,
    ) -> Result<(Snapshot, Applied), LiveError> {
        let started = std::time::Instant::now();
        let out = head.derive(ops, policy);
        self.count_derive(started);
        out
    }

    fn count_derive(&self, started: std::time::Instant) {
        self.derives.record(started.elapsed());
    }

    /// The head snapshot (every write queued so far).
    fn head(&self) -> Result<Arc<Snapshot>, ApiError> {
        self.head
            .lock()
            .map(|h| Arc::clone(&h))
            .map_err(|_| ApiError::Internal("write head poisoned".into()))
    }

    /// [`Snapshot::record`], the first step of a write in the journal's
    /// order: every refusal happens here, before the lines are queued.
    /// Returns when it started: the derivation's time counts both steps.
    fn record(
        &self,
        head: Arc<Snapshot>,
        ops: &[Op<'_>],
        policy: &TilePolicy,
    ) -> Result<Pending, LiveError> {
        let started = std::time::Instant::now();
        Ok((started, Snapshot::record(head, ops, policy)?))
    }

    /// [`Recorded::rescore`], the second step, run while the lines are
    /// written and fsynced; the next snapshot becomes the head.
    fn rescore(&self, (started, recorded): Pending) -> Written {
        let (next, applied) = recorded.rescore();
        let next = Arc::new(next);
        *self
            .head
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::clone(&next);
        self.count_derive(started);
        Written {
            seq: next.seq,
            snapshot: next,
            applied: Arc::new(applied),
        }
    }

    /// Holds off reloads for one write.
    pub async fn writing(&self) -> RwLockReadGuard<'_, ()> {
        self.gate.read().await
    }

    /// Holds off writes for a reload, once every line already queued is
    /// on disk: a write whose caller went away (a timeout) between its
    /// queueing and its answer is in the file the reload reads.
    pub async fn reloading(&self) -> tokio::sync::RwLockWriteGuard<'_, ()> {
        let gate = self.gate.write().await;
        if let Backend::File(j) = &self.backend {
            j.settled().await;
        }
        gate
    }

    /// After a reload: the new served snapshot is the head.
    pub fn reset_head(&self, snapshot: Arc<Snapshot>) {
        if let Backend::Table(r) = &self.backend {
            r.reset(Arc::clone(&snapshot));
        }
        if let Ok(mut h) = self.head.lock() {
            *h = snapshot;
        }
    }

    /// Checks and journals one write. `make` gets the head snapshot and the
    /// write's sequence number and returns the entry (or a refusal); the
    /// entry is applied to the head, appended, and on disk when this
    /// returns. Call [`Live::publish`] with the result.
    pub async fn write<F>(&self, actor: &str, role: &str, make: F) -> Result<Written, ApiError>
    where
        F: FnOnce(&Snapshot, u64) -> Result<(String, String, serde_json::Value), ApiError>,
    {
        let journal = match &self.backend {
            Backend::File(j) => j,
            Backend::Table(r) => {
                return r
                    .write(self, actor, role, |snap, seq| Ok(vec![make(snap, seq)?]))
                    .await?
                    .ok_or_else(|| ApiError::Internal("write produced nothing".into()));
            }
        };
        let policy = TilePolicy::default();
        let (_, written) = journal
            .append_then(
                |seq| -> Result<(Vec<NewEntry>, Option<Pending>), ApiError> {
                    let head = self.head()?;
                    let (op, id, data) = make(&head, seq)?;
                    let at = crate::journal::now();
                    let entry = Op {
                        seq,
                        at: &at,
                        actor,
                        role,
                        op: &op,
                        id: &id,
                        data: &data,
                    };
                    let recorded = self.record(head, &[entry], &policy)?;
                    Ok((
                        vec![NewEntry::new(actor, role, op, id, data).at(at)],
                        Some(recorded),
                    ))
                },
                |recorded| recorded.map(|r| self.rescore(r)),
            )
            .await?;
        written.ok_or_else(|| ApiError::Internal("write produced nothing".into()))
    }

    /// Checks and journals several entries as one write (one append, one
    /// fsync; all or none): `make` returns them in order, each gets the
    /// next sequence number. `None` when `make` returns none (nothing is
    /// appended).
    pub async fn write_many<F>(
        &self,
        actor: &str,
        role: &str,
        make: F,
    ) -> Result<Option<Written>, ApiError>
    where
        F: FnOnce(&Snapshot) -> Result<Vec<(String, String, serde_json::Value)>, ApiError>,
    {
        let journal = match &self.backend {
            Backend::File(j) => j,
            Backend::Table(r) => return r.write(self, actor, role, |snap, _| make(snap)).await,
        };
        let policy = TilePolicy::default();
        let (_, written) = journal
            .append_then(
                |first| -> Result<(Vec<NewEntry>, Option<Pending>), ApiError> {
                    let head = self.head()?;
                    let items = make(&head)?;
                    if items.is_empty() {
                        return Ok((Vec::new(), None));
                    }
                    let at = crate::journal::now();
                    let ops = crate::live::new_ops(&items, first, &at, actor, role);
                    let recorded = self.record(head, &ops, &policy)?;
                    let entries = items
                        .into_iter()
                        .map(|(op, id, data)| {
                            NewEntry::new(actor, role, op, id, data).at(at.clone())
                        })
                        .collect();
                    Ok((entries, Some(recorded)))
                },
                |recorded| recorded.map(|r| self.rescore(r)),
            )
            .await?;
        Ok(written)
    }

    /// Makes a durable write visible: swaps it in unless a later write is
    /// already served, and sends its event.
    pub fn publish(&self, served: &arc_swap::ArcSwap<Snapshot>, written: &Written) {
        // The table's writes are published as they commit, in order.
        if matches!(self.backend, Backend::File(_)) {
            self.publish_applied(served, written);
        }
    }

    /// [`Live::publish`], whatever the backend.
    pub(super) fn publish_applied(&self, served: &arc_swap::ArcSwap<Snapshot>, written: &Written) {
        if let Ok(_p) = self.publish.lock() {
            let current = served.load();
            if current.seq < written.seq && current.base_version == written.snapshot.base_version {
                drop(current);
                drop_later(served.swap(Arc::clone(&written.snapshot)));
            }
        }
        if self.events.receiver_count() == 0 {
            return;
        }
        let snap = &written.snapshot;
        let scores = serde_json::json!({
            "data_version": snap.data_version,
            "bbox": written.applied.bbox,
            "units": rescored(snap, &written.applied),
        })
        .to_string();
        let _ = self.events.send(LiveEvent {
            snapshot: Arc::clone(&written.snapshot),
            applied: Arc::clone(&written.applied),
            scores: scores.into(),
        });
    }
}

/// A write recorded against the head and when its derivation started.
type Pending = (std::time::Instant, Recorded<Arc<Snapshot>>);

/// Snapshots waiting for the thread that frees them.
const DROP_QUEUE: usize = 1024;

/// Lets a dedicated thread drop a replaced snapshot: when it is the last
/// reference, freeing what the write replaced (map nodes, chunks)
/// takes a share of a millisecond that no answer should wait for.
/// Dropped here when the thread is missing or behind.
fn drop_later(old: Arc<Snapshot>) {
    static DROPPER: std::sync::OnceLock<Option<std::sync::mpsc::SyncSender<Arc<Snapshot>>>> =
        std::sync::OnceLock::new();
    let tx = DROPPER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Arc<Snapshot>>(DROP_QUEUE);
        std::thread::Builder::new()
            .name("snapshot-drop".into())
            .spawn(move || while rx.recv().is_ok() {})
            .ok()
            .map(|_| tx)
    });
    if let Some(tx) = tx {
        // Full or gone: dropped here, as before.
        let _ = tx.try_send(old);
    }
}

/// A unit as a `rescored` or `scores` event item.
#[derive(Debug, Clone, Serialize)]
pub struct Rescored {
    /// Code.
    pub code: String,
    /// Level word.
    pub level: &'static str,
    /// The shown score.
    pub risk_score: f64,
    /// The level word of the score.
    pub risk_level: &'static str,
}

/// The units a write rescored, coarsest first.
pub fn rescored(snap: &Snapshot, applied: &Applied) -> Vec<Rescored> {
    applied
        .units
        .iter()
        .map(|&u| {
            let unit = snap.store.unit(u);
            let s = snap.scores.unit(u);
            Rescored {
                code: unit.code.clone(),
                level: unit.level.as_str(),
                risk_score: s.risk_score(),
                risk_level: s.level().as_str(),
            }
        })
        .collect()
}
