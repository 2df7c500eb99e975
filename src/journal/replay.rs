//! Reading a journal back: every line parsed, `seq` continuity and the hash
//! chain checked, a torn last line told apart from tampering.

use super::entry::{Entry, GENESIS, line_hash};
use super::error::{JournalError, Problem};
use rayon::prelude::*;
use std::path::Path;

/// A verified journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// Every entry, in `seq` order (`entries[i].seq == i + 1`).
    pub entries: Vec<Entry>,
    /// The last entry's `seq` (0 when empty).
    pub last_seq: u64,
    /// The SHA-256 of the last line ([`GENESIS`] when empty): the next
    /// line's `prev`.
    pub last_hash: String,
    /// Bytes of the file that hold complete, verified lines; a torn tail
    /// beyond them is dropped.
    pub len: u64,
    /// What was recovered (a torn last line); empty for a clean journal.
    pub warnings: Vec<String>,
}

impl Replay {
    /// An empty journal (no file yet).
    pub fn empty() -> Replay {
        Replay {
            entries: Vec::new(),
            last_seq: 0,
            last_hash: GENESIS.to_string(),
            len: 0,
            warnings: Vec::new(),
        }
    }
}

/// Reads and verifies the journal at `path` without changing it. A missing
/// file is an empty journal; a torn last line is left out with a warning
/// (and stays in the file: only [`super::Journal::open`] truncates it).
pub fn read(path: &Path) -> Result<Replay, JournalError> {
    match std::fs::read(path) {
        Ok(bytes) => verify(path, &bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Replay::empty()),
        Err(source) => Err(JournalError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Verifies a journal's bytes; `path` only names it in errors and warnings.
///
/// Every line must end with a newline, parse as an [`Entry`], carry the
/// next `seq` and hash-chain onto the line before. The one exception is a
/// last line without its newline — a write cut short by a crash, which was
/// never acknowledged (an answer waits for the whole line and its newline
/// to be on disk): it is dropped with a warning, whatever it holds.
pub fn verify(path: &Path, bytes: &[u8]) -> Result<Replay, JournalError> {
    let corrupt = |line: u64, problem: Problem| JournalError::Corrupt {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let mut replay = Replay::empty();
    // Complete lines end at the last newline; anything after it is torn.
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    // Parsing and hashing are per line (in parallel); the checks that
    // link lines run in order, so the first bad line is the one named.
    let parsed: Vec<(Result<Entry, Problem>, String)> = bytes[..complete]
        .par_split(|&b| b == b'\n')
        .map(|line| (Entry::parse(line), line_hash(line)))
        .collect();
    // `par_split` yields one empty piece after the final newline.
    let lines = parsed.len().saturating_sub(1);
    let mut prev_hash = GENESIS.to_string();
    let mut number = 0u64;
    replay.entries.reserve(lines);
    for (entry, hash) in parsed.into_iter().take(lines) {
        number += 1;
        let entry = entry.map_err(|p| corrupt(number, p))?;
        if entry.seq != number {
            return Err(corrupt(
                number,
                Problem::Sequence {
                    found: entry.seq,
                    expected: number,
                },
            ));
        }
        if entry.prev != prev_hash {
            return Err(if number == 1 {
                corrupt(1, Problem::FirstPrev)
            } else {
                corrupt(number - 1, Problem::Changed { next: number })
            });
        }
        prev_hash = hash;
        replay.entries.push(entry);
    }
    replay.last_seq = number;
    replay.last_hash = prev_hash;
    replay.len = complete as u64;
    if complete < bytes.len() {
        replay.warnings.push(format!(
            "{}: line {} has no newline at the end: a write cut short by a crash (never acknowledged); its {} bytes are dropped",
            path.display(),
            number + 1,
            bytes.len() - complete
        ));
    }
    Ok(replay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::entry::NewEntry;
    use serde_json::json;

    /// A valid journal of `n` lines.
    fn journal(n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut prev = GENESIS.to_string();
        for seq in 1..=n {
            let line = NewEntry::new("a", "planner", "report", format!("HD-{seq}"), json!({}))
                .at("2026-01-02T03:04:05Z")
                .seal(seq, prev, "")
                .to_line()
                .unwrap();
            prev = line_hash(&line);
            out.extend_from_slice(&line);
            out.push(b'\n');
        }
        out
    }

    fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
        bytes
            .split_inclusive(|&b| b == b'\n')
            .map(<[u8]>::to_vec)
            .collect()
    }

    #[test]
    fn clean_and_empty() {
        let r = verify(Path::new("j"), &journal(3)).unwrap();
        assert_eq!((r.entries.len(), r.last_seq), (3, 3));
        assert!(r.warnings.is_empty());
        let e = verify(Path::new("j"), b"").unwrap();
        assert_eq!((e.last_seq, e.last_hash.as_str()), (0, GENESIS));
    }

    #[test]
    fn torn_tail_is_dropped_with_a_warning() {
        let full = journal(3);
        let cut = &full[..full.len() - 10];
        let r = verify(Path::new("j"), cut).unwrap();
        assert_eq!(r.last_seq, 2);
        assert_eq!(r.len as usize, lines(&full)[..2].concat().len());
        assert!(r.warnings[0].contains("line 3"), "{:?}", r.warnings);
        // A complete last line whose newline did not make it is also torn.
        let r = verify(Path::new("j"), &full[..full.len() - 1]).unwrap();
        assert_eq!((r.last_seq, r.warnings.len()), (2, 1));
    }

    #[test]
    fn edited_line_is_named() {
        let mut bytes = journal(4);
        let at = lines(&bytes)[0].len() + 10; // inside line 2
        bytes[at] ^= 0x01;
        let err = verify(Path::new("j"), &bytes).unwrap_err();
        assert_eq!(err.line(), Some(2), "{err}");
    }

    #[test]
    fn reordered_removed_and_garbage_lines_are_refused() {
        let l = lines(&journal(4));
        let swapped = [&l[0], &l[2], &l[1], &l[3]].map(|v| v.as_slice()).concat();
        let err = verify(Path::new("j"), &swapped).unwrap_err();
        assert_eq!(err.line(), Some(2));
        assert!(err.to_string().contains("`seq` is 3, expected 2"), "{err}");
        let removed_first = l[1..].concat();
        assert_eq!(
            verify(Path::new("j"), &removed_first).unwrap_err().line(),
            Some(1)
        );
        let mut garbage = l[..2].concat();
        garbage.extend_from_slice(b"{not json\n");
        garbage.extend_from_slice(&l[2]);
        assert_eq!(
            verify(Path::new("j"), &garbage).unwrap_err().line(),
            Some(3)
        );
        let blank = [l[0].as_slice(), b"\n", l[1].as_slice()].concat();
        assert_eq!(verify(Path::new("j"), &blank).unwrap_err().line(), Some(2));
    }
}
