//! Journal appends per second with group commit: one appender, and 50
//! threads appending at once (each append one entry, fsynced before it
//! returns); and the replay (read and verify) of a 100,000-entry journal. The file is in the system's temporary folder (set `TMPDIR` to
//! measure another disk): `cargo bench --bench journal`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use riskmap::journal::{Journal, NewEntry};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn entry(i: u64) -> NewEntry {
    NewEntry::new(
        "gm-350503001001",
        "grid_manager",
        "report",
        format!("HD-{i}"),
        json!({"category": "消防安全", "grade": "major", "lon": 118.58, "lat": 24.91,
               "description": "消防通道被占用，灭火器过期", "deadline": "2026-12-31"}),
    )
}

/// `iters` appends spread over `threads` threads; the time they took.
fn appends(journal: &Arc<Journal>, threads: u64, iters: u64) -> Duration {
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let journal = journal.clone();
            let n = iters / threads + u64::from(t < iters % threads);
            std::thread::spawn(move || {
                for i in 0..n {
                    let _ = journal.append_blocking(vec![entry(i)]);
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    started.elapsed()
}

fn bench(c: &mut Criterion) {
    let tmp = std::env::temp_dir().join(format!("riskmap-journal-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&tmp);
    let mut group = c.benchmark_group("journal_append");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    for threads in [1u64, 50] {
        let path = tmp.join(format!("j{threads}.jsonl"));
        let _ = std::fs::remove_file(&path);
        let Ok((journal, _)) = Journal::open(&path) else {
            continue;
        };
        let journal = Arc::new(journal);
        group.bench_function(format!("{threads}_appenders"), |b| {
            b.iter_custom(|iters| appends(&journal, threads, iters))
        });
    }
    group.finish();

    let path = tmp.join("replay.jsonl");
    let _ = std::fs::remove_file(&path);
    if let Ok((journal, _)) = Journal::open(&path) {
        for chunk in 0..100u64 {
            let _ = journal.append_blocking((0..1000).map(|i| entry(chunk * 1000 + i)).collect());
        }
    }
    let mut group = c.benchmark_group("journal_replay");
    group.sample_size(10);
    group.throughput(Throughput::Elements(100_000));
    group.bench_function("100k_entries", |b| {
        b.iter(|| riskmap::journal::read(&path).map(|r| r.last_seq))
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&tmp);
}

criterion_group!(benches, bench);
criterion_main!(benches);
