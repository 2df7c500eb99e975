//! The validated snapshot cache (`.riskmap-cache/snapshot.bin` in the data
//! folder): a load through it gives bit-identical scores, and a stale or
//! corrupt cache is never trusted.

use riskmap::config::Config;
use riskmap::ingest::cache::{self, CacheError};
use riskmap::snapshot::Snapshot;
use std::path::Path;
use std::time::{Duration, Instant};

/// The demo city, generated into `dir` as FlatGeobuf on a fixed day.
fn demo(dir: &Path) {
    let as_of = riskmap::model::Date::from_ymd(2026, 3, 1).unwrap();
    riskmap::generate::generate(
        riskmap::generate::Preset::Quanzhou,
        42,
        as_of,
        dir,
        riskmap::write::Format::Fgb,
        &|_| {},
    )
    .unwrap();
}

fn config(cache: bool) -> Config {
    let mut c = Config {
        snapshot_cache: cache,
        snapshot_cache_min_mb: 0,
        ..Config::default()
    };
    c.risk.as_of = Some("2026-03-01".into());
    c
}

/// Every unit's score, printed with `{:?}` (shortest round-trip form: equal
/// text is equal bits).
fn score_text(s: &Snapshot) -> Vec<String> {
    s.scores
        .iter()
        .map(|(id, u)| format!("{id} {u:?}"))
        .collect()
}

/// Waits until the cache file of `dir` reads back with the key of `files`
/// (the cache is written in the background).
fn wait_for_cache(dir: &Path, cfg: &Config, files: &[riskmap::ingest::SourceFile]) {
    let key = cache::key(files, &cfg.ingest());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match cache::read(&cache::path(dir), &key, files) {
            Ok(_) => return,
            Err(e) if Instant::now() > deadline => panic!("the cache never appeared: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

#[test]
fn cached_loads_score_bit_identically_and_bad_caches_are_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("qz");
    demo(&dir);

    let plain = Snapshot::load(dir.as_path(), &config(false)).unwrap();
    assert!(
        !cache::path(&dir).exists(),
        "snapshot_cache = false writes no cache"
    );
    let expected = score_text(&plain);
    assert!(expected.len() > 10_000);

    // First load with the cache on: read from the files, cache written.
    let cfg = config(true);
    let first = Snapshot::load(dir.as_path(), &cfg).unwrap();
    assert_eq!(score_text(&first), expected);
    wait_for_cache(&dir, &cfg, &first.files);

    // The cached features equal the features read from the files.
    let from_files = riskmap::ingest::load_dir(&dir, &cfg.ingest()).unwrap();
    let from_cache = cache::read(
        &cache::path(&dir),
        &cache::key(&from_files.files, &cfg.ingest()),
        &from_files.files,
    )
    .unwrap();
    assert_eq!(from_cache.dataset, from_files.dataset);
    assert_eq!(from_cache.issues, from_files.issues);
    assert_eq!(from_cache.files, from_files.files);

    // Second load: through the cache, the same scores to the bit.
    let second = Snapshot::load(dir.as_path(), &cfg).unwrap();
    assert_eq!(score_text(&second), expected);
    assert_eq!(second.data_version, plain.data_version);
    assert_eq!(second.warnings, plain.warnings);

    // Another input (a changed hash) or other layer settings: stale.
    let mut changed = from_files.files.clone();
    changed[0].sha256 = "0".repeat(64);
    assert!(matches!(
        cache::read(
            &cache::path(&dir),
            &cache::key(&changed, &cfg.ingest()),
            &changed
        ),
        Err(CacheError::Stale)
    ));
    let mut other = cfg.clone();
    other.on_invalid = riskmap::config::OnInvalid::Skip;
    assert!(matches!(
        cache::read(
            &cache::path(&dir),
            &cache::key(&from_files.files, &other.ingest()),
            &from_files.files
        ),
        Err(CacheError::Stale)
    ));

    // A corrupt cache (one byte flipped in a coordinate, one truncated) is
    // refused, the load reads the files, and the cache is rebuilt.
    for damage in ["flip", "truncate"] {
        let path = cache::path(&dir);
        let mut bytes = std::fs::read(&path).unwrap();
        match damage {
            "flip" => {
                let at = bytes.len() * 2 / 3;
                bytes[at] ^= 0x40;
            }
            _ => bytes.truncate(bytes.len() / 2),
        }
        std::fs::write(&path, &bytes).unwrap();
        let key = cache::key(&from_files.files, &cfg.ingest());
        assert!(
            matches!(
                cache::read(&path, &key, &from_files.files),
                Err(CacheError::Corrupt(_))
            ),
            "{damage}"
        );
        let again = Snapshot::load(dir.as_path(), &cfg).unwrap();
        assert_eq!(score_text(&again), expected, "{damage}");
        wait_for_cache(&dir, &cfg, &from_files.files);
    }
}
