//! The write journal through real files and processes: a writer killed with
//! SIGKILL loses no acknowledged entry, a torn last line is recovered, an
//! edited, re-chained or reordered line is refused (by `Journal::open` and
//! by `riskmap journal verify`), concurrent writers get seq 1..=N without
//! gaps, the validate-and-append hook lets exactly one of many
//! conflicting writers through, and the two-step append runs its second
//! step in the write order.

mod common;

use common::*;
use riskmap::journal::{Journal, JournalError, NewEntry, Problem, line_hash, read};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// The environment variable that turns [`writer_child`] into a writer.
const CHILD: &str = "RISKMAP_JOURNAL_WRITER_CHILD";

fn entry(id: &str) -> NewEntry {
    NewEntry::new(
        "gm-test",
        "grid_manager",
        "report",
        id,
        json!({"grade": "major", "note": "管道腐蚀"}),
    )
}

fn lines(path: &Path) -> Vec<Vec<u8>> {
    std::fs::read(path)
        .unwrap()
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn write_lines(path: &Path, lines: &[Vec<u8>]) {
    std::fs::write(path, lines.concat()).unwrap();
}

/// A journal of `n` entries `HD-1` … `HD-n`.
fn journal_of(path: &Path, n: usize) {
    let (j, replay) = Journal::open(path).unwrap();
    assert_eq!(replay.last_seq, 0);
    for i in 1..=n {
        j.append_blocking(vec![entry(&format!("HD-{i}"))]).unwrap();
    }
}

/// `riskmap journal verify --journal PATH`.
fn verify_cli(path: &Path) -> std::process::Output {
    let dir = path.parent().unwrap();
    run(dir, &["journal", "verify", "--journal", path_str(path)])
}

/// Not a test on its own: with [`CHILD`] set (by `acknowledged_writes_survive_sigkill`)
/// it appends from 8 threads forever and prints `ack SEQ ID` for every
/// acknowledged entry.
#[test]
fn writer_child() {
    let Ok(path) = std::env::var(CHILD) else {
        return;
    };
    let (journal, _) = Journal::open(&path).unwrap();
    let journal = Arc::new(journal);
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (journal, out) = (journal.clone(), out.clone());
            std::thread::spawn(move || {
                for i in 0.. {
                    let id = format!("t{t}-{i}");
                    let stored = journal.append_blocking(vec![entry(&id)]).unwrap();
                    let mut out = out.lock().unwrap();
                    writeln!(out, "ack {} {id}", stored[0].seq).unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("journal.jsonl");
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "writer_child", "--nocapture", "--test-threads=1"])
            .env(CHILD, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut acks: BTreeMap<u64, String> = BTreeMap::new();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        // Kill it in the middle of its work: after 300 acknowledgements.
        while acks.len() < 300 {
            line.clear();
            assert!(reader.read_line(&mut line).unwrap() > 0, "writer ended");
            if let Some(rest) = line.trim_end().strip_prefix("ack ") {
                let (seq, id) = rest.split_once(' ').unwrap();
                acks.insert(seq.parse().unwrap(), id.to_string());
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Acknowledgements already in the pipe count too.
        for line in reader.lines() {
            if let Some(rest) = line.unwrap().strip_prefix("ack ") {
                let (seq, id) = rest.split_once(' ').unwrap();
                acks.insert(seq.parse().unwrap(), id.to_string());
            }
        }
        let (journal, replay) = Journal::open(&path).unwrap();
        for (seq, id) in &acks {
            let stored = replay
                .entries
                .get(*seq as usize - 1)
                .unwrap_or_else(|| panic!("round {round}: acknowledged seq {seq} lost"));
            assert_eq!((&stored.id, stored.seq), (id, *seq), "round {round}");
        }
        // The chain goes on after the crash.
        let next = journal.append_blocking(vec![entry("after")]).unwrap();
        assert_eq!(next[0].seq, replay.last_seq + 1);
        assert_eq!(next[0].prev, replay.last_hash);
    }
    let out = verify_cli(&path);
    assert!(out.status.success(), "{}", output_text(&out));
}

#[test]
fn torn_last_line_is_dropped_and_the_chain_continues() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("j.jsonl");
    journal_of(&path, 5);
    let before = lines(&path);
    let full = before.concat();
    let cut = full.len() - 7; // in the middle of line 5
    std::fs::write(&path, &full[..cut]).unwrap();

    // verify is read-only: it warns, exits 0 and leaves the file alone.
    let out = verify_cli(&path);
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("line 5") && text.contains("4 entries"),
        "{text}"
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), cut as u64);

    let (journal, replay) = Journal::open(&path).unwrap();
    assert_eq!(replay.last_seq, 4);
    assert!(
        replay.warnings[0].contains("line 5"),
        "{:?}",
        replay.warnings
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before[..4].concat(),
        "the torn line is cut off"
    );
    let next = journal.append_blocking(vec![entry("HD-new")]).unwrap();
    assert_eq!(next[0].seq, 5);
    assert_eq!(
        next[0].prev,
        line_hash(&before[3][..before[3].len() - 1]),
        "line 5 chains onto line 4"
    );
    drop(journal);
    let again = read(&path).unwrap();
    assert_eq!((again.last_seq, again.warnings.len()), (5, 0));
    assert_eq!(again.entries[4].id, "HD-new");
    assert_eq!(again.entries[3].id, "HD-4");
}

#[test]
fn an_edited_byte_is_refused_naming_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("j.jsonl");
    journal_of(&path, 6);
    let out = verify_cli(&path);
    let text = output_text(&out);
    assert!(
        out.status.success() && text.contains("6 entries, last seq 6"),
        "{text}"
    );

    let mut l = lines(&path);
    let at = l[2].windows(4).position(|w| w == b"HD-3").unwrap();
    l[2][at + 3] = b'8'; // HD-3 → HD-8: still valid JSON
    write_lines(&path, &l);
    let err = Journal::open(&path).unwrap_err();
    assert_eq!(err.line(), Some(3), "{err}");
    assert!(
        matches!(
            err,
            JournalError::Corrupt {
                problem: Problem::Changed { next: 4 },
                ..
            }
        ),
        "{err}"
    );
    let out = verify_cli(&path);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("line 3:"), "{text}");
}

#[test]
fn rechained_reordered_and_removed_lines_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("j.jsonl");
    journal_of(&path, 5);
    let good = lines(&path);

    // Line 2 edited and line 3 re-chained onto it; line 4 still points at
    // the original line 3.
    let mut l = good.clone();
    let text2 = String::from_utf8(l[1].clone())
        .unwrap()
        .replace("HD-2", "HD-X");
    l[1] = text2.into_bytes();
    let old_prev = line_hash(&good[1][..good[1].len() - 1]);
    let new_prev = line_hash(&l[1][..l[1].len() - 1]);
    l[2] = String::from_utf8(l[2].clone())
        .unwrap()
        .replace(&old_prev, &new_prev)
        .into_bytes();
    write_lines(&path, &l);
    let err = read(&path).unwrap_err();
    assert_eq!(err.line(), Some(3), "{err}");

    // Two lines swapped.
    let mut l = good.clone();
    l.swap(1, 2);
    write_lines(&path, &l);
    let err = Journal::open(&path).unwrap_err();
    assert_eq!(err.line(), Some(2), "{err}");
    assert!(matches!(
        err,
        JournalError::Corrupt {
            problem: Problem::Sequence {
                found: 3,
                expected: 2
            },
            ..
        }
    ));

    // A line removed from the middle.
    let mut l = good.clone();
    l.remove(2);
    write_lines(&path, &l);
    assert_eq!(read(&path).unwrap_err().line(), Some(3));

    // A broken line that is not the last: not a torn write.
    let mut l = good.clone();
    l[1].truncate(20);
    l[1].push(b'\n');
    write_lines(&path, &l);
    let err = Journal::open(&path).unwrap_err();
    assert_eq!(err.line(), Some(2), "{err}");
    let out = verify_cli(&path);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(output_text(&out).contains("line 2:"));
}

#[test]
fn fifty_threads_get_every_seq_once() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sub").join("j.jsonl");
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    let (journal, _) = Journal::open(&path).unwrap();
    assert!(!path.exists(), "created on the first append");
    let journal = Arc::new(journal);
    let threads: Vec<_> = (0..50)
        .map(|t| {
            let journal = journal.clone();
            std::thread::spawn(move || {
                (0..200)
                    .map(|i| {
                        let id = format!("t{t}-{i}");
                        let stored = journal.append_blocking(vec![entry(&id)]).unwrap();
                        (stored[0].seq, id)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut told: BTreeMap<u64, String> = BTreeMap::new();
    for t in threads {
        for (seq, id) in t.join().unwrap() {
            assert!(told.insert(seq, id).is_none(), "seq {seq} given twice");
        }
    }
    assert_eq!(journal.durable_seq(), 10_000);
    drop(journal);
    let replay = read(&path).unwrap();
    assert_eq!(replay.last_seq, 10_000);
    assert_eq!(
        told.keys().copied().collect::<Vec<_>>(),
        (1..=10_000).collect::<Vec<_>>()
    );
    for e in &replay.entries {
        assert_eq!(told[&e.seq], e.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn append_with_lets_one_of_many_conflicting_writers_through() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    let journal = Arc::new(journal);
    // The record's version, as a server would keep it: only changed by the
    // closures, which run one at a time in seq order.
    let version = Arc::new(Mutex::new(0u64));

    #[derive(Debug)]
    enum WriteError {
        Conflict,
        Journal(JournalError),
    }
    impl From<JournalError> for WriteError {
        fn from(e: JournalError) -> Self {
            WriteError::Journal(e)
        }
    }

    // Three rounds; in each 50 tasks hold the same If-Match version.
    for round in 0..3u64 {
        let tasks: Vec<_> = (0..50)
            .map(|t| {
                let (journal, version) = (journal.clone(), version.clone());
                tokio::spawn(async move {
                    journal
                        .append_with(|seq| {
                            let mut v = version.lock().unwrap();
                            if *v != round {
                                return Err(WriteError::Conflict);
                            }
                            *v = seq;
                            Ok(vec![entry(&format!("r{round}-t{t}"))])
                        })
                        .await
                })
            })
            .collect();
        let mut won = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                Ok(stored) => won.push(stored),
                Err(WriteError::Conflict) => {}
                Err(WriteError::Journal(e)) => panic!("{e}"),
            }
        }
        assert_eq!(won.len(), 1, "round {round}: {won:?}");
        assert_eq!(won[0][0].seq, round + 1);
        *version.lock().unwrap() = round + 1;
    }
    // Several entries in one append get consecutive seqs.
    let both = journal
        .append(vec![entry("a"), entry("b").at("2026-01-02T03:04:05Z")])
        .await
        .unwrap();
    assert_eq!((both[0].seq, both[1].seq), (4, 5));
    assert_eq!(both[1].at, "2026-01-02T03:04:05Z");
    assert_eq!(
        both[1].prev,
        line_hash(&serde_json::to_vec(&both[0]).unwrap())
    );
    let bad = journal.append(vec![entry("c").at("yesterday")]).await;
    assert!(matches!(bad, Err(JournalError::Invalid(_))), "{bad:?}");
    assert_eq!(read(&path).unwrap().last_seq, 5);
}

/// `append_then`'s second step runs in the write order, after the lines
/// are queued and before the next write's first step; its result comes
/// back with the stored entries; it runs when nothing is appended too. A
/// second step that panics fails the journal: its line is cut back from
/// the file and no later write is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn append_then_runs_its_second_step_in_the_write_order() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    let journal = Arc::new(journal);
    // What the second steps have applied: the last seq, set only by them.
    let applied = Arc::new(Mutex::new(0u64));
    let tasks: Vec<_> = (0..40)
        .map(|t| {
            let (journal, applied) = (journal.clone(), applied.clone());
            tokio::spawn(async move {
                journal
                    .append_then(
                        |seq| {
                            // Every earlier write's second step has run.
                            assert_eq!(*applied.lock().unwrap(), seq - 1);
                            Ok::<_, JournalError>((vec![entry(&format!("t{t}"))], seq))
                        },
                        |seq| {
                            *applied.lock().unwrap() = seq;
                            seq * 10
                        },
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        let (stored, out) = t.await.unwrap();
        assert_eq!(out, stored[0].seq * 10);
    }
    assert_eq!(*applied.lock().unwrap(), 40);
    let (stored, out) = journal
        .append_then(|_| Ok::<_, JournalError>((Vec::new(), 7)), |x| x + 1)
        .await
        .unwrap();
    assert!(stored.is_empty());
    assert_eq!(out, 8);
    let panicked = journal
        .append_then(
            |_| Ok::<_, JournalError>((vec![entry("boom")], ())),
            |()| -> u64 { panic!("second step") },
        )
        .await;
    assert!(
        matches!(panicked, Err(JournalError::Failed { .. })),
        "{panicked:?}"
    );
    let after = journal.append(vec![entry("after")]).await;
    assert!(
        matches!(after, Err(JournalError::Failed { .. })),
        "{after:?}"
    );
    drop(journal);
    let replay = read(&path).unwrap();
    assert_eq!(replay.last_seq, 40);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("\"boom\"") && !text.contains("\"after\""));
    // Opened again, it takes writes after the last confirmed one.
    let (journal, _) = Journal::open(&path).unwrap();
    assert_eq!(
        journal.append(vec![entry("next")]).await.unwrap()[0].seq,
        41
    );
}

/// `settled` returns only once every line queued before it is on disk:
/// here a write held in its second step keeps it waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settled_waits_for_every_queued_line() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    let journal = Arc::new(journal);
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let j = journal.clone();
    let write = tokio::spawn(async move {
        j.append_then(
            |_| Ok::<_, JournalError>((vec![entry("held")], ())),
            move |()| {
                started_tx.send(()).unwrap();
                go_rx.recv().unwrap();
            },
        )
        .await
        .unwrap()
    });
    tokio::task::spawn_blocking(move || started_rx.recv().unwrap())
        .await
        .unwrap();
    let j = journal.clone();
    let settled = tokio::spawn(async move {
        j.settled().await;
        j.durable_seq()
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        !settled.is_finished(),
        "settled before the held line was written"
    );
    assert_eq!(journal.durable_seq(), 0);
    go_tx.send(()).unwrap();
    assert_eq!(settled.await.unwrap(), 1);
    assert_eq!(write.await.unwrap().0[0].seq, 1);
}

#[test]
fn a_second_writer_is_locked_out() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("j.jsonl");
    journal_of(&path, 1);
    let (_first, _) = Journal::open(&path).unwrap();
    let second = Journal::open(&path).unwrap_err();
    assert!(matches!(second, JournalError::Locked { .. }), "{second}");
}

#[test]
fn a_failed_write_fails_the_journal_until_reopened() {
    let tmp = tempfile::tempdir().unwrap();
    // The folder is missing: creating the file on the first append fails.
    let path = tmp.path().join("missing").join("j.jsonl");
    let (journal, _) = Journal::open(&path).unwrap();
    let first = journal.append_blocking(vec![entry("a")]).unwrap_err();
    assert!(matches!(first, JournalError::Failed { .. }), "{first}");
    std::fs::create_dir(tmp.path().join("missing")).unwrap();
    let second = journal.append_blocking(vec![entry("b")]).unwrap_err();
    assert!(matches!(second, JournalError::Failed { .. }), "{second}");
    assert!(!path.exists());
    drop(journal);
    let (journal, replay) = Journal::open(&path).unwrap();
    assert_eq!(replay.last_seq, 0);
    assert_eq!(journal.append_blocking(vec![entry("c")]).unwrap()[0].seq, 1);
}

#[test]
fn verify_finds_the_journal_in_the_data_folder_and_compact_refuses_data_that_do_not_load() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    std::fs::create_dir(&data).unwrap();
    journal_of(&data.join("journal.jsonl"), 2);
    let out = run(tmp.path(), &["journal", "verify", "--data", "ds"]);
    let text = output_text(&out);
    assert!(out.status.success() && text.contains("2 entries"), "{text}");
    // The config key `journal` names another file.
    journal_of(&tmp.path().join("other.jsonl"), 3);
    std::fs::write(
        tmp.path().join("riskmap.toml"),
        "journal = \"other.jsonl\"\n",
    )
    .unwrap();
    let out = run(tmp.path(), &["journal", "verify", "--data", "ds"]);
    assert!(
        output_text(&out).contains("3 entries"),
        "{}",
        output_text(&out)
    );
    let out = run(
        tmp.path(),
        &["journal", "compact", "--data", "ds", "--out", "compacted"],
    );
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    // A folder with a journal but no layers does not load: nothing written.
    assert!(text.contains("does not load"), "{text}");
    assert!(!tmp.path().join("compacted").exists());
}
