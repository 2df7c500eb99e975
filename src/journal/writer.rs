//! The writer thread: drains every queued batch of lines, writes them with
//! one `write_all`, fsyncs once (group commit), waits for the
//! confirmations the batch's two-step writes owe, and then answers each
//! caller.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// Most bytes written in one group commit; more queued lines wait for the next.
const MAX_BATCH_BYTES: usize = 8 << 20;

/// One caller's lines, already sealed (seq and chain assigned).
pub(super) struct Request {
    /// The lines, each with its newline.
    pub bytes: Vec<u8>,
    /// The `seq` of the request's last line.
    pub last_seq: u64,
    /// Answered after the fsync: `Ok` means the bytes are on disk.
    pub reply: oneshot::Sender<Result<(), String>>,
    /// Set by [`super::Journal::append_then`]: the caller's second step,
    /// which runs while the lines are written, confirms them (a message)
    /// or fails (the sender dropped). The lines count as written only once
    /// confirmed; a failed step cuts the batch back as a failed write does.
    pub confirm: Option<oneshot::Receiver<()>>,
}

/// State shared between the writer thread and the [`super::Journal`].
pub(super) struct Shared {
    /// The first I/O error; once set, nothing more is written.
    pub failed: OnceLock<String>,
    /// The last `seq` on disk (fsynced).
    pub durable_seq: AtomicU64,
    /// Group commits made (one write and one fsync each) and their times.
    pub commits: crate::latency::Latency,
    /// The callers' requests they answered.
    pub committed_requests: AtomicU64,
}

/// The writer thread's own state.
pub(super) struct Writer {
    pub path: PathBuf,
    /// The open (and locked) file; `None` until the first append creates it.
    pub file: Option<File>,
    /// Bytes of good, complete lines in the file: where the next write goes.
    pub len: u64,
    pub shared: Arc<Shared>,
}

impl Writer {
    /// Runs until every sender is gone.
    pub fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        let mut batch: Vec<Request> = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        while let Some(first) = rx.blocking_recv() {
            buf.clear();
            buf.extend_from_slice(&first.bytes);
            batch.push(first);
            while buf.len() < MAX_BATCH_BYTES {
                match rx.try_recv() {
                    Ok(r) => {
                        buf.extend_from_slice(&r.bytes);
                        batch.push(r);
                    }
                    Err(_) => break,
                }
            }
            let started = std::time::Instant::now();
            // The write and fsync alone, without the wait for confirmations.
            let mut took = std::time::Duration::ZERO;
            let result = match self.shared.failed.get() {
                Some(reason) => Err(reason.clone()),
                None => self
                    .commit(&buf)
                    .map_err(|e| e.to_string())
                    .inspect(|()| took = started.elapsed())
                    .and_then(|()| confirmed(&mut batch))
                    .map(|()| self.len += buf.len() as u64)
                    .map_err(|reason| {
                        self.roll_back();
                        let _ = self.shared.failed.set(reason.clone());
                        tracing::error!(path = %self.path.display(), "journal batch cut back: {reason}");
                        reason
                    }),
            };
            if result.is_ok()
                && let Some(last) = batch.last()
            {
                self.shared
                    .durable_seq
                    .store(last.last_seq, Ordering::Release);
                let s = &self.shared;
                s.commits.record(took);
                s.committed_requests
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
            }
            for r in batch.drain(..) {
                // A caller that went away still had its write made durable.
                let _ = r.reply.send(result.clone());
            }
        }
    }

    /// Writes `buf` at the end of the good lines and fsyncs it (the good
    /// lines grow once the batch is confirmed).
    fn commit(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let created = self.file.is_none();
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(create(&self.path)?),
        };
        file.seek(SeekFrom::Start(self.len))?;
        file.write_all(buf)?;
        file.sync_data()?;
        if created {
            sync_parent(&self.path)?;
        }
        Ok(())
    }

    /// After a failed write or an unconfirmed batch: cut the file back to
    /// its good lines, so no half-written line is ever followed by good
    /// ones. Best effort: the journal is failed either way; a reopen drops
    /// a torn tail but replays complete lines the cut missed.
    fn roll_back(&mut self) {
        if let Some(f) = &self.file
            && let Err(e) = f.set_len(self.len).and_then(|()| f.sync_all())
        {
            tracing::error!(path = %self.path.display(), "cannot truncate the journal back to its last good line: {e}");
        }
    }
}

/// Waits for the confirmation of every request of the batch that asked
/// for one; a failed one fails the batch.
fn confirmed(batch: &mut [Request]) -> Result<(), String> {
    for r in batch {
        if let Some(confirm) = r.confirm.take()
            && confirm.blocking_recv().is_err()
        {
            return Err("a write failed to apply in memory after its lines were queued".into());
        }
    }
    Ok(())
}

/// Creates the journal file (first append) and locks it. A file that
/// appeared since the journal was opened is not overwritten: the append fails.
fn create(path: &Path) -> std::io::Result<File> {
    let file = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)?;
    file.try_lock().map_err(|e| match e {
        std::fs::TryLockError::WouldBlock => {
            std::io::Error::new(std::io::ErrorKind::WouldBlock, "locked by another process")
        }
        std::fs::TryLockError::Error(e) => e,
    })?;
    Ok(file)
}

/// Fsyncs the folder holding `path`, so a new file's name is durable too.
pub(super) fn sync_parent(path: &Path) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}
