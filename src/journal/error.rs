//! What can go wrong reading or appending to the journal.

use std::path::PathBuf;

/// What is wrong with one line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The line is empty (only the file's end may follow the last newline).
    #[error("empty line")]
    Empty,
    /// The line is not an entry: not UTF-8 JSON, a missing, unknown or
    /// mistyped key.
    #[error("not a journal entry: {0}")]
    NotAnEntry(String),
    /// `at` is not an RFC 3339 UTC timestamp.
    #[error("`at` is not an RFC 3339 UTC date-time (YYYY-MM-DDTHH:MM:SS[.fff]Z): {0:?}")]
    BadTime(String),
    /// `seq` does not continue the previous line's (lines removed,
    /// duplicated or moved).
    #[error("`seq` is {found}, expected {expected} (a line was removed, duplicated or moved)")]
    Sequence {
        /// The line's `seq`.
        found: u64,
        /// One more than the previous line's.
        expected: u64,
    },
    /// This line's bytes do not hash to the next line's `prev`: this line
    /// was changed after it was written, or the next one was re-chained.
    #[error(
        "changed after it was written: its SHA-256 is not the `prev` of line {next} (or line {next} was re-chained)"
    )]
    Changed {
        /// The line whose `prev` disagrees.
        next: u64,
    },
    /// The first line's `prev` is not 64 zeros.
    #[error(
        "the first line's `prev` must be 64 zeros (lines before it were removed, or it was re-chained)"
    )]
    FirstPrev,
}

/// Errors of the journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Reading, creating, truncating or locking the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The journal file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A line other than a torn last one is broken, edited, re-chained or
    /// out of order: the journal cannot be trusted and nothing may start on it.
    #[error("{path}: line {line}: {problem}")]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// The line (1-based) that is wrong.
        line: u64,
        /// What is wrong with it.
        problem: Problem,
    },
    /// Another process holds the journal open for writing.
    #[error("{path}: the journal is locked by another process (is another riskmap serving it?)")]
    Locked {
        /// The journal file.
        path: PathBuf,
    },
    /// A write or fsync failed earlier (or now), or a write failed to
    /// apply in memory after its lines were queued: the journal takes no
    /// more writes until it is opened again (which replays what is on
    /// disk).
    #[error("{path}: the journal failed and takes no more writes until it is reopened: {reason}")]
    Failed {
        /// The journal file.
        path: PathBuf,
        /// The first failure.
        reason: String,
    },
    /// An entry to append is not valid (e.g. its given `at`).
    #[error("invalid journal entry: {0}")]
    Invalid(String),
    /// The writer thread is gone (the journal is being dropped).
    #[error("{path}: the journal's writer has stopped")]
    Closed {
        /// The journal file.
        path: PathBuf,
    },
}

impl JournalError {
    /// The line a [`JournalError::Corrupt`] names.
    pub fn line(&self) -> Option<u64> {
        match self {
            JournalError::Corrupt { line, .. } => Some(*line),
            _ => None,
        }
    }
}
