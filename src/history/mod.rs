//! The daily history of every grid unit: score, level, H/E/C/M and the
//! hidden-danger figures (found, closed, closed on time, due, overdue
//! open, major open) per unit per day, for the year before the as-of date.
//!
//! It is derived from the base files plus the journal: the day `D` is the
//! risk engine run with `D` as its as-of date on the base records and the
//! journal entries written by the end of `D` (Asia/Shanghai), so replaying
//! the journal reproduces it. [`replay::Tracker`] steps one day at a time
//! and rescores only the cells whose records were found, closed, fell due
//! or changed that day. The rows live in a SQLite file ([`db`]), one row
//! per unit and day on which the unit's state changed, so a quiet unit
//! costs nothing; a restart resumes from the last stored day, and each
//! live write rewrites today's rows of the units it touched.

pub mod bulletin;
pub mod day;
pub mod db;
pub mod period;
pub mod replay;
pub mod xlsx;

use crate::index::UnitId;
use crate::model::Date;
use crate::snapshot::Snapshot;
use day::{Flow, State};
use db::Db;
use replay::{Change, StepRows, Tracker, change_day};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Days kept before the as-of date (the history covers 366 days).
pub const DAYS: i32 = 365;

/// At most this many new days are stepped from the kept state (a server
/// that ran across midnight); more are written from the journal again.
const STEP_DAYS: i32 = 31;

/// Why the history cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The SQLite file.
    #[error("history store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The journal cannot be read.
    #[error("history: the journal: {0}")]
    Journal(String),
    /// A lock was poisoned by a panic.
    #[error("history: lock poisoned")]
    Poisoned,
}

/// The history file for the journal at `journal`: `.history.sqlite`
/// beside it (a hidden file, which the data-folder watcher ignores).
pub fn default_path(journal: &Path) -> PathBuf {
    let stem = journal
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "journal".into());
    journal.with_file_name(format!(".{stem}.history.sqlite"))
}

/// The journal's hidden-danger entries as history changes.
pub fn journal_changes(journal: &Path, as_of: Date) -> Result<Vec<Change>, HistoryError> {
    if !journal.exists() {
        return Ok(Vec::new());
    }
    let replay = crate::journal::read(journal).map_err(|e| HistoryError::Journal(e.to_string()))?;
    let mut out = Vec::new();
    for e in &replay.entries {
        let record = match e.op.as_str() {
            crate::live::dangers::OP_REPORT => serde_json::from_value(e.data.clone()).ok(),
            crate::live::dangers::OP_EVENT => {
                serde_json::from_value::<crate::live::dangers::EventData>(e.data.clone())
                    .ok()
                    .map(|d| d.record)
            }
            _ => None,
        };
        if let Some(record) = record {
            out.push(Change {
                seq: e.seq,
                day: change_day(&e.at, as_of),
                record,
            });
        }
    }
    Ok(out)
}

/// Day snapshots kept for tiles and OGC (`?date=`, `datetime=`).
const DAY_SNAPSHOTS: usize = 4;

struct Inner {
    db: Db,
    tracker: Tracker,
    base_version: String,
    first: Date,
}

/// The history of a served dataset (see the module doc).
pub struct History {
    path: PathBuf,
    journal: PathBuf,
    inner: Mutex<Inner>,
    day_snapshots: Mutex<Vec<(Date, String, std::sync::Arc<Snapshot>)>>,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// What [`History::open`] did.
#[derive(Debug, Clone, Copy)]
pub struct Opened {
    /// Days computed (366 for a new history, a few on a restart).
    pub days: usize,
    /// Whether it was written from scratch.
    pub rebuilt: bool,
}

/// What the stored days depend on: the base files and the scoring
/// constants but not the as-of day (each stored day is scored as of
/// itself), so that a new day adds its row to the stored year instead of
/// writing the whole year again.
fn base_key(snap: &Snapshot) -> String {
    let mut params = snap.scores.params().clone();
    params.as_of = None;
    let salt = serde_json::to_vec(&params).unwrap_or_default();
    crate::ingest::files_version(&snap.files, &salt)
}

fn meta_of(snap_base: &str, first: Date, last: Date, seq: u64) -> Vec<(&'static str, String)> {
    vec![
        ("base_version", snap_base.to_string()),
        ("first_day", first.to_string()),
        ("last_day", last.to_string()),
        ("seq", seq.to_string()),
    ]
}

/// Brings `db` up to `snap` (base + journal `changes`, as of the
/// snapshot's as-of day): resumes after the stored days when they still
/// hold, else writes everything again.
fn sync(
    db: &mut Db,
    snap: &Snapshot,
    changes: &[Change],
) -> Result<(Tracker, Opened), HistoryError> {
    let params = snap.scores.params();
    let as_of = params.as_of_day();
    let first = as_of.add_days(-DAYS);
    let base = base_key(snap);
    let stored_first: Option<Date> = db.meta("first_day")?.and_then(|s| s.parse().ok());
    let stored_last: Option<Date> = db.meta("last_day")?.and_then(|s| s.parse().ok());
    let stored_seq: Option<u64> = db.meta("seq")?.and_then(|s| s.parse().ok());
    let same = db.meta("base_version")?.as_deref() == Some(base.as_str())
        && stored_first.is_some_and(|f| f <= first)
        && stored_seq.is_some_and(|s| s <= snap.seq);
    let resume_at = match (same, stored_last, stored_seq) {
        (true, Some(last), Some(seq)) if last <= as_of => {
            let new = changes
                .iter()
                .filter(|c| c.seq > seq)
                .map(|c| c.day)
                .min()
                .unwrap_or(as_of);
            Some(last.min(new).min(as_of))
        }
        _ => None,
    };
    let live = &snap.store;
    let (mut tracker, start, rebuilt) = match resume_at {
        Some(x) if x > first => {
            db.cut(x)?;
            db.prune(first)?;
            let t = Tracker::start(live, params, changes, x.add_days(-1));
            (t, x, false)
        }
        _ => {
            let codes: Vec<&str> = live.units().iter().map(|u| u.code.as_str()).collect();
            db.reset(&codes, &meta_of(&base, first, first, 0))?;
            let t = Tracker::start(live, params, changes, first);
            db.write(&[t.all_rows()], &meta_of(&base, first, first, t.seq()))?;
            (t, first.add_days(1), true)
        }
    };
    let mut day = start;
    let mut batch: Vec<StepRows> = Vec::new();
    let mut days = usize::from(rebuilt);
    while day <= as_of {
        let todays: Vec<Change> = changes.iter().filter(|c| c.day == day).cloned().collect();
        batch.push(tracker.advance(day, &todays));
        days += 1;
        if batch.len() >= 32 || day == as_of {
            db.write(&batch, &meta_of(&base, first, day, tracker.seq()))?;
            batch.clear();
        }
        day = day.add_days(1);
    }
    Ok((tracker, Opened { days, rebuilt }))
}

impl History {
    /// Opens the history at `path` for the served `snap` whose journal is
    /// `journal`, computing the days it lacks (all 366 on first run).
    pub fn open(
        path: &Path,
        journal: &Path,
        snap: &Snapshot,
    ) -> Result<(History, Opened), HistoryError> {
        let mut db = Db::open(path)?;
        // Entries written after `snap` (while the history opens beside a
        // serving server) are followed later, from the snapshot that has them.
        let mut changes = journal_changes(journal, snap.scores.params().as_of_day())?;
        changes.retain(|c| c.seq <= snap.seq);
        let (tracker, opened) = sync(&mut db, snap, &changes)?;
        let first = snap.scores.params().as_of_day().add_days(-DAYS);
        Ok((
            History {
                path: path.to_path_buf(),
                journal: journal.to_path_buf(),
                inner: Mutex::new(Inner {
                    db,
                    tracker,
                    base_version: base_key(snap),
                    first,
                }),
                day_snapshots: Mutex::new(Vec::new()),
            },
            opened,
        ))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Follows the served snapshot: applies the records it changed since
    /// the history's last journal entry to today's rows. A snapshot of
    /// another base or a change dated before the last day held brings the
    /// file up to date from the journal instead; a new day on the same base
    /// (the midnight reload) steps the kept state to it.
    pub fn follow(&self, snap: &Snapshot) -> Result<(), HistoryError> {
        let mut inner = self.inner.lock().map_err(|_| HistoryError::Poisoned)?;
        let as_of = snap.scores.params().as_of_day();
        let t = &inner.tracker;
        let key = base_key(snap);
        if snap.seq <= t.seq() && inner.base_version == key && t.day() == as_of {
            return Ok(());
        }
        let seq = t.seq();
        let mut changes: Vec<Change> = snap
            .store
            .dangers()
            .changed_since(seq)
            .map(|(_, e)| Change {
                seq: e.version,
                day: e
                    .history
                    .last()
                    .map_or(as_of, |ev| change_day(&ev.at, as_of)),
                record: e.record.clone(),
            })
            .collect();
        changes.sort_by_key(|c| c.seq);
        let same =
            inner.base_version == key && t.day() == as_of && changes.iter().all(|c| c.day == as_of);
        if same {
            let rows = inner.tracker.advance(as_of, &changes);
            let first = inner.first;
            let base = inner.base_version.clone();
            let seq = inner.tracker.seq();
            inner
                .db
                .write(&[rows], &meta_of(&base, first, as_of, seq))?;
            return Ok(());
        }
        let all = journal_changes(&self.journal, as_of)?;
        let inner = &mut *inner;
        let day0 = inner.tracker.day();
        let newer: Vec<&Change> = all.iter().filter(|c| c.seq > seq).collect();
        if inner.base_version == key
            && day0 < as_of
            && as_of <= day0.add_days(STEP_DAYS)
            && newer.iter().all(|c| c.day >= day0)
        {
            // The next day (or few) on the same base: step the kept
            // tracker instead of rebuilding it from base + journal.
            let started = std::time::Instant::now();
            let mut batch = Vec::new();
            let mut day = day0;
            while day <= as_of {
                let todays: Vec<Change> = newer
                    .iter()
                    .filter(|c| c.day == day)
                    .map(|c| (*c).clone())
                    .collect();
                if day > day0 || !todays.is_empty() {
                    batch.push(inner.tracker.advance(day, &todays));
                }
                day = day.add_days(1);
            }
            let first = as_of.add_days(-DAYS);
            let seq = inner.tracker.seq();
            inner.db.write(&batch, &meta_of(&key, first, as_of, seq))?;
            inner.db.prune(first)?;
            inner.first = first;
            tracing::info!(
                days = batch.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "history stepped to {as_of}"
            );
            return Ok(());
        }
        let (tracker, _) = sync(&mut inner.db, snap, &all)?;
        inner.tracker = tracker;
        inner.base_version = key;
        inner.first = as_of.add_days(-DAYS);
        Ok(())
    }

    /// The served data as they were at the end of `day`: the records of
    /// that day (base + journal cut at it) scored as of it, sharing the
    /// served snapshot's geometry. The last few are kept.
    pub fn snapshot_on(
        &self,
        day: Date,
        snap: &Snapshot,
    ) -> Result<std::sync::Arc<Snapshot>, HistoryError> {
        let mut kept = self
            .day_snapshots
            .lock()
            .map_err(|_| HistoryError::Poisoned)?;
        if let Some((_, _, s)) = kept
            .iter()
            .find(|(d, v, _)| *d == day && *v == snap.data_version)
        {
            return Ok(std::sync::Arc::clone(s));
        }
        let changes = journal_changes(&self.journal, snap.scores.params().as_of_day())?;
        let t = Tracker::start(&snap.store, snap.scores.params(), &changes, day);
        let s = std::sync::Arc::new(
            snap.with_live(
                t.store().clone(),
                t.scores().clone(),
                snap.tile_changes.clone(),
                snap.danger_changes.clone(),
                Default::default(),
                snap.seq,
            )
            .without_layer_cache(),
        );
        kept.retain(|(_, v, _)| *v == snap.data_version);
        if kept.len() >= DAY_SNAPSHOTS {
            kept.remove(0);
        }
        kept.push((day, snap.data_version.clone(), std::sync::Arc::clone(&s)));
        Ok(s)
    }

    /// The first and last day held.
    pub fn days(&self) -> Result<(Date, Date), HistoryError> {
        let inner = self.inner.lock().map_err(|_| HistoryError::Poisoned)?;
        Ok((inner.first, inner.tracker.day()))
    }

    /// Runs `f` on the file (reads).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, HistoryError>,
    ) -> Result<T, HistoryError> {
        let inner = self.inner.lock().map_err(|_| HistoryError::Poisoned)?;
        f(&inner.db)
    }
}

/// One unit's figures over one step of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// The step's first day.
    pub date: Date,
    /// The state at the end of the step's last day.
    pub state: State,
    /// The flows summed over the step.
    pub flow: Flow,
}

/// The unit's series from `from` to `to` in steps of `step`.
pub fn series(
    db: &Db,
    unit: UnitId,
    from: Date,
    to: Date,
    step: period::Step,
) -> Result<Vec<Point>, HistoryError> {
    let states = db.states(unit, from, to)?;
    let flows = db.flows(unit, from, to)?;
    let mut out: Vec<Point> = Vec::new();
    let mut fi = flows.iter().peekable();
    for (d, s) in states {
        let start = step.start(d).max(from);
        let mut flow = Flow::default();
        while let Some((fd, f)) = fi.peek() {
            if *fd <= d {
                flow.add(f, 1);
                fi.next();
            } else {
                break;
            }
        }
        match out.last_mut() {
            Some(p) if p.date == start => {
                p.state = s;
                p.flow.add(&flow, 1);
            }
            _ => out.push(Point {
                date: start,
                state: s,
                flow,
            }),
        }
    }
    Ok(out)
}
