//! The write journal: every accepted write (a hidden-danger report, an
//! event, an alarm) as one line of an append-only JSON-lines file, chained
//! by SHA-256 and on disk before the write is answered.
//!
//! ```text
//! {"seq":1,"at":"2026-…Z","actor":"gm-…","role":"grid_manager","op":"report","id":"…","data":{…},"prev":"000…0"}
//! {"seq":2,…,"prev":"<sha256 hex of line 1's bytes, without its newline>"}
//! ```
//!
//! - [`read`] verifies a journal without changing it (`riskmap journal
//!   verify`, and commands that only read).
//! - [`Journal::open`] verifies it, truncates a torn last line (a crash in
//!   the middle of a write) and starts the writer; it returns what was
//!   replayed. Any other broken, edited, re-chained or reordered line is a
//!   [`JournalError::Corrupt`] naming the line: nothing may start on it.
//! - [`Journal::append`] / [`Journal::append_with`] /
//!   [`Journal::append_then`] (async) and the `_blocking` twins of the
//!   first two append entries; they return once the lines are fsynced.
//!
//! # Ordering, validation and durability
//!
//! One order lock (a fair `tokio` mutex) assigns `seq`, `at` and `prev`.
//! [`Journal::append_with`] runs the caller's closure under that lock with
//! the next `seq`, so a write can be checked against the current state
//! (`If-Match`, transitions) and appended in the same step: no other write
//! gets between the check and its `seq`. The closure must be quick and
//! synchronous (no I/O); whatever state it checks against must include the
//! effects of the writes appended before it — in practice the closure
//! itself applies its write to that state (kept behind the same order, e.g.
//! a mutex only the closures take), because the earlier writes may still
//! be on their way to the disk. [`Journal::append_then`] splits that work:
//! the checks before the lines are queued, the rest (which cannot refuse)
//! after, while the writer writes and fsyncs them.
//!
//! Under the lock the sealed lines go into a bounded queue (backpressure:
//! a full queue makes callers wait for the lock) to one writer thread,
//! which drains everything queued, writes it with one `write_all`, fsyncs
//! once (`sync_data`) and answers each caller: many concurrent writers
//! share one fsync (group commit). An answer `Ok` means the caller's lines
//! are on disk. The async calls are cancellation-safe: once the closure
//! has run nothing awaits until the lines are queued, so a caller that is
//! dropped afterwards (a client that hung up) still gets its write made
//! durable, in order.
//!
//! If a write or fsync fails, or the second step of an
//! [`Journal::append_then`] in the batch panicked (its lines are counted
//! written only once it has returned), the file is cut back to its last
//! good line, every caller of that batch and every later one gets
//! [`JournalError::Failed`], and the journal takes no more writes until it
//! is opened again. Writes already applied to in-memory state by
//! `append_with` closures may then be ahead of the disk: the owner must
//! replay base + journal before serving writes again (the server restarts).
//! (After a failed fsync the kernel's page cache no longer says what is on
//! disk, so carrying on is not safe.) Cutting back is best effort: if the
//! truncation fails, or the process dies between the fsync and the
//! truncation, the batch's complete lines are replayed when the journal is
//! opened again.
//!
//! The hash chain shows any edit, removal, insertion or reordering of a
//! line with a line after it. It cannot show a change to the last line
//! that keeps it well-formed, nor a journal re-chained from some line to
//! its end; compare the last `seq` and hash with a copy kept elsewhere
//! (logs, `data_version`) for that.

mod entry;
mod error;
mod replay;
pub mod table;
mod time;
mod writer;

pub use entry::{Entry, GENESIS, NewEntry, line_hash};
pub use error::{JournalError, Problem};
pub use replay::{Replay, read, verify};
pub use time::{format_utc, is_utc_rfc3339, now};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::{Mutex, mpsc, oneshot};
use writer::{Request, Shared, Writer};

/// The journal's file name in the data folder when config `journal` is unset.
pub const DEFAULT_FILE: &str = "journal.jsonl";

/// Requests that may wait for the writer at once; beyond them callers wait.
pub const QUEUE: usize = 1024;

/// An open journal: one per file and process (the file is locked).
///
/// Shared by reference (`Arc<Journal>`) between tasks and threads. Dropping
/// it lets the writer finish what is queued and closes the file.
pub struct Journal {
    path: PathBuf,
    order: Mutex<Order>,
    tx: Option<mpsc::Sender<Request>>,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The writer thread's work so far: group commits, their time and the
/// appends they answered.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CommitStats {
    /// Group commits (one write and one fsync each) and their times.
    pub commits: crate::latency::LatencyCounts,
    /// The appends they made durable (a commit answers one or more).
    pub requests: u64,
}

/// The chain's head, under the order lock.
struct Order {
    last_seq: u64,
    last_hash: String,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("durable_seq", &self.durable_seq())
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens the journal at `path`: verifies every line (see [`verify`]),
    /// truncates a torn last line (with a warning in [`Replay::warnings`])
    /// and fsyncs the truncation, locks the file against a second writer
    /// and starts the writer thread. A missing file is an empty journal,
    /// created (and its folder fsynced) by the first append.
    pub fn open(path: impl AsRef<Path>) -> Result<(Journal, Replay), JournalError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| JournalError::Io {
            path: path.clone(),
            source,
        };
        let file = match std::fs::File::options().read(true).write(true).open(&path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(e)),
        };
        let replay = match &file {
            Some(f) => {
                match f.try_lock() {
                    Ok(()) => {}
                    Err(std::fs::TryLockError::WouldBlock) => {
                        return Err(JournalError::Locked { path });
                    }
                    Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
                }
                let bytes = std::fs::read(&path).map_err(io)?;
                let replay = verify(&path, &bytes)?;
                if replay.len < bytes.len() as u64 {
                    f.set_len(replay.len)
                        .and_then(|()| f.sync_all())
                        .map_err(io)?;
                }
                replay
            }
            None => Replay::empty(),
        };
        let shared = Arc::new(Shared {
            failed: OnceLock::new(),
            durable_seq: AtomicU64::new(replay.last_seq),
            commits: crate::latency::Latency::default(),
            committed_requests: AtomicU64::new(0),
        });
        let writer = Writer {
            path: path.clone(),
            file,
            len: replay.len,
            shared: shared.clone(),
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(io)?;
        let journal = Journal {
            path,
            order: Mutex::new(Order {
                last_seq: replay.last_seq,
                last_hash: replay.last_hash.clone(),
            }),
            tx: Some(tx),
            shared,
            thread: Some(thread),
        };
        Ok((journal, replay))
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last `seq` known to be on disk.
    pub fn durable_seq(&self) -> u64 {
        self.shared.durable_seq.load(Ordering::Acquire)
    }

    /// Waits until every line queued so far is on disk (or the journal
    /// has failed): a reader of the file then sees every write the order
    /// has taken, including one whose caller went away before its answer.
    pub async fn settled(&self) {
        let last = self.order.lock().await.last_seq;
        while self.durable_seq() < last
            && self.shared.failed.get().is_none()
            // The writer thread is gone (it dropped its end of the queue).
            && self.tx.as_ref().is_some_and(|tx| !tx.is_closed())
        {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// What the writer thread has done since the journal was opened.
    pub fn stats(&self) -> CommitStats {
        let s = &self.shared;
        CommitStats {
            commits: s.commits.read(),
            requests: s.committed_requests.load(Ordering::Relaxed),
        }
    }

    /// Appends `entries` (in order, consecutive `seq`s) and returns them as
    /// stored once they are on disk. An empty list appends nothing.
    pub async fn append(&self, entries: Vec<NewEntry>) -> Result<Vec<Entry>, JournalError> {
        self.append_with(|_| Ok::<_, JournalError>(entries)).await
    }

    /// Runs `make` under the order lock with the `seq` the first entry it
    /// returns will get, appends what it returns, and answers once those
    /// lines are on disk. `make`'s error is returned as is and appends
    /// nothing. See the module documentation for what `make` may do.
    pub async fn append_with<F, E>(&self, make: F) -> Result<Vec<Entry>, E>
    where
        F: FnOnce(u64) -> Result<Vec<NewEntry>, E>,
        E: From<JournalError>,
    {
        let (sealed, ()) = self
            .append_then(|seq| make(seq).map(|entries| (entries, ())), |()| ())
            .await?;
        Ok(sealed)
    }

    /// [`Journal::append_with`] in two steps: `make` checks and returns
    /// the entries with what `then` needs; once the lines are queued for
    /// the writer, `then` runs, still under the order lock, while they are
    /// written and fsynced. `then` is for work that must follow the write
    /// in order but cannot refuse it: it has no error path. It also runs
    /// when `make` returns no entries. Answers once the lines are on disk,
    /// with `then`'s result. The writer counts the lines written only
    /// once `then` has returned.
    ///
    /// If `then` panics, the caller's state never took the write: the
    /// writer cuts its lines (and any queued with them) back from the file
    /// as after a failed write, the journal is failed (it takes no more
    /// writes until it is opened again) and the call returns
    /// [`JournalError::Failed`].
    pub async fn append_then<F, T, G, U, E>(&self, make: F, then: G) -> Result<(Vec<Entry>, U), E>
    where
        F: FnOnce(u64) -> Result<(Vec<NewEntry>, T), E>,
        G: FnOnce(T) -> U,
        E: From<JournalError>,
    {
        let tx = self.sender()?;
        let (sealed, rx, out) = {
            let mut order = self.order.lock().await;
            self.check_failed()?;
            // Wait for room in the queue before running `make`, so that
            // nothing awaits between `make` and queueing its lines.
            let permit = tx.reserve().await.map_err(|_| self.closed())?;
            let (entries, pending) = make(order.last_seq + 1)?;
            if entries.is_empty() {
                return Ok((Vec::new(), then(pending)));
            }
            let (mut request, sealed, rx, head) = seal(&order, entries)?;
            let (confirm, confirmed) = oneshot::channel();
            request.confirm = Some(confirmed);
            permit.send(request);
            *order = head;
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| then(pending)));
            match out {
                Ok(out) => {
                    let _ = confirm.send(());
                    (sealed, rx, Some(out))
                }
                Err(_) => {
                    // Unconfirmed: the writer cuts the lines back and fails.
                    drop(confirm);
                    tracing::error!(path = %self.path.display(), "applying a write in memory panicked after its lines were queued; the journal takes no more writes until it is opened again");
                    (sealed, rx, None)
                }
            }
        };
        self.answer(rx.await)?;
        let out = out.ok_or_else(|| JournalError::Failed {
            path: self.path.clone(),
            reason: "a write failed to apply in memory".into(),
        })?;
        Ok((sealed, out))
    }

    /// [`Journal::append`] for threads outside an async runtime (the CLI,
    /// tests). Panics if called from within an async task.
    pub fn append_blocking(&self, entries: Vec<NewEntry>) -> Result<Vec<Entry>, JournalError> {
        self.append_with_blocking(|_| Ok::<_, JournalError>(entries))
    }

    /// [`Journal::append_with`] for threads outside an async runtime.
    /// Panics if called from within an async task.
    pub fn append_with_blocking<F, E>(&self, make: F) -> Result<Vec<Entry>, E>
    where
        F: FnOnce(u64) -> Result<Vec<NewEntry>, E>,
        E: From<JournalError>,
    {
        let tx = self.sender()?;
        let (sealed, rx) = {
            let mut order = self.order.blocking_lock();
            self.check_failed()?;
            let entries = make(order.last_seq + 1)?;
            if entries.is_empty() {
                return Ok(Vec::new());
            }
            let (request, sealed, rx, head) = seal(&order, entries)?;
            tx.blocking_send(request).map_err(|_| self.closed())?;
            *order = head;
            (sealed, rx)
        };
        self.answer(rx.blocking_recv())?;
        Ok(sealed)
    }

    fn sender(&self) -> Result<&mpsc::Sender<Request>, JournalError> {
        self.tx.as_ref().ok_or_else(|| self.closed())
    }

    fn closed(&self) -> JournalError {
        JournalError::Closed {
            path: self.path.clone(),
        }
    }

    fn check_failed(&self) -> Result<(), JournalError> {
        match self.shared.failed.get() {
            Some(reason) => Err(JournalError::Failed {
                path: self.path.clone(),
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    fn answer(
        &self,
        reply: Result<Result<(), String>, oneshot::error::RecvError>,
    ) -> Result<(), JournalError> {
        match reply {
            Ok(Ok(())) => Ok(()),
            Ok(Err(reason)) => Err(JournalError::Failed {
                path: self.path.clone(),
                reason,
            }),
            Err(_) => Err(self.closed()),
        }
    }
}

/// What the writer gets, the sealed entries, the answer to wait for, and
/// the chain's head after them: nothing changes until the caller queues
/// the request and then takes the new head.
type Sealed = (
    Request,
    Vec<Entry>,
    oneshot::Receiver<Result<(), String>>,
    Order,
);

/// Gives `entries` their `seq`, `at` and `prev` after `head`.
fn seal(head: &Order, entries: Vec<NewEntry>) -> Result<Sealed, JournalError> {
    let now = now();
    let mut seq = head.last_seq;
    let mut prev = head.last_hash.clone();
    let mut bytes = Vec::new();
    let mut sealed = Vec::with_capacity(entries.len());
    for new in entries {
        if let Some(at) = &new.at
            && !is_utc_rfc3339(at)
        {
            return Err(JournalError::Invalid(format!(
                "`at` {at:?} is not an RFC 3339 UTC date-time"
            )));
        }
        seq += 1;
        let entry = new.seal(seq, prev, &now);
        let line = entry
            .to_line()
            .map_err(|e| JournalError::Invalid(e.to_string()))?;
        prev = line_hash(&line);
        bytes.extend_from_slice(&line);
        bytes.push(b'\n');
        sealed.push(entry);
    }
    let (reply, rx) = oneshot::channel();
    let request = Request {
        bytes,
        last_seq: seq,
        reply,
        confirm: None,
    };
    let head = Order {
        last_seq: seq,
        last_hash: prev,
    };
    Ok((request, sealed, rx, head))
}

impl Drop for Journal {
    fn drop(&mut self) {
        // The writer drains what is queued, then sees the channel closed.
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
