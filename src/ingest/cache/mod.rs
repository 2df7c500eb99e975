//! The validated snapshot cache: after a dataset directory loads, its
//! validated features, warnings and file list are written to
//! `.riskmap-cache/snapshot.bin` in the data folder; the next start on the
//! same inputs reads them back instead of reading, typing and validating
//! the files again (indexes and scores are always rebuilt).
//!
//! The cache is keyed by the SHA-256 of every input file (the same hashes
//! as `data_version`), the layer settings of the config, and this build of
//! riskmap (its version, executable size and modification time): any change
//! makes it stale, and a stale cache is replaced. Every section carries a
//! checksum and every read is bounds-checked: a corrupt cache is ignored
//! with a warning and rebuilt, never trusted.

pub mod codec;

use super::Options;
use super::{LoadError, Loaded, SourceFile, find_file, needs_gdal};
use crate::model::{Dataset, LayerId};
use codec::{Codec, DecodeError};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::hash::BuildHasher;
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The cache's folder inside the data folder (hidden, so that the data
/// watcher ignores it).
pub const DIR: &str = ".riskmap-cache";
/// The cache file in [`DIR`].
pub const FILE: &str = "snapshot.bin";
/// First bytes of a cache file: name and format version.
const MAGIC: &[u8; 8] = b"RMSNAP\x00\x01";
/// Features per section (sections are encoded and decoded in parallel).
const CHUNK: usize = 131_072;
/// Bytes read at a time when hashing an input file.
const HASH_BUFFER: usize = 1 << 20;
/// Seed of the section checksums.
const CHECKSUM_SEED: u64 = 0x5249_534b_4d41_5031;

/// Why a cache file was not used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// It could not be read.
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    /// It was written for other inputs, config or build.
    #[error("it was written for other data, settings or another riskmap build")]
    Stale,
    /// It is damaged.
    #[error("it is corrupt: {0}")]
    Corrupt(String),
}

impl From<DecodeError> for CacheError {
    fn from(e: DecodeError) -> Self {
        CacheError::Corrupt(e.0)
    }
}

/// The path of the cache file of data folder `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(DIR).join(FILE)
}

/// [`super::load_dir`] through the cache when the config allows it
/// (`snapshot_cache`, inputs of at least `snapshot_cache_min_mb`, plain
/// files only: sources read through GDAL are always read).
pub fn load_dir(dir: &Path, config: &Options<'_>) -> Result<Loaded, LoadError> {
    let Some(inputs) = cacheable_inputs(dir, config) else {
        return super::load_dir(dir, config);
    };
    let file = path(dir);
    if file.exists() {
        let t = Instant::now();
        let files = hash_inputs(&inputs);
        let result = match &files {
            Some(files) => read(&file, &key(files, config), files),
            None => Err(CacheError::Stale),
        };
        match result {
            Ok(loaded) => {
                tracing::info!(
                    cache = %file.display(),
                    cache_ms = t.elapsed().as_millis() as u64,
                    "validated snapshot read from the cache"
                );
                return Ok(loaded);
            }
            Err(CacheError::Stale) => {
                tracing::info!(cache = %file.display(), "snapshot cache is stale: rebuilding it")
            }
            Err(e) => tracing::warn!(
                cache = %file.display(),
                "snapshot cache ignored ({e}); reading the data and rebuilding it"
            ),
        }
    }
    let loaded = super::load_dir(dir, config)?;
    write_in_background(file, key(&loaded.files, config), &loaded);
    Ok(loaded)
}

/// The input files of `dir` when the cache applies to them: every layer a
/// plain file, together at least the configured size.
fn cacheable_inputs(dir: &Path, config: &Options<'_>) -> Option<Vec<(LayerId, PathBuf)>> {
    if !config.snapshot_cache {
        return None;
    }
    let mut inputs = Vec::new();
    let mut total = 0u64;
    for layer in LayerId::INPUTS {
        let Some(path) = find_file(dir, layer, config) else {
            continue;
        };
        if needs_gdal(&path) {
            return None;
        }
        total += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        inputs.push((layer, path));
    }
    (total >= config.snapshot_cache_min_mb.saturating_mul(1 << 20)).then_some(inputs)
}

/// The inputs with their SHA-256 (as the reader computes them), hashed in
/// parallel; `None` if one cannot be read.
fn hash_inputs(inputs: &[(LayerId, PathBuf)]) -> Option<Vec<SourceFile>> {
    inputs
        .par_iter()
        .map(|(layer, path)| {
            Some(SourceFile {
                layer: *layer,
                path: path.clone(),
                sha256: sha256_of(path).ok()?,
            })
        })
        .collect()
}

/// The SHA-256 of a file (lowercase hex), read through one buffer of
/// [`HASH_BUFFER`] bytes: hashing the inputs of a warm start no longer
/// allocates (and faults in) their whole size.
fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; HASH_BUFFER];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The key a cache must carry to be used for `files` under `config`.
pub fn key(files: &[SourceFile], config: &Options<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(MAGIC);
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    // This very build: a rebuilt binary may encode differently.
    if let Ok(meta) = std::env::current_exe().and_then(std::fs::metadata) {
        h.update(meta.len().to_le_bytes());
        if let Ok(t) = meta.modified()
            && let Ok(d) = t.duration_since(std::time::UNIX_EPOCH)
        {
            h.update(d.as_nanos().to_le_bytes());
        }
    }
    h.update(serde_json::to_vec(&config.layers).unwrap_or_default());
    h.update(serde_json::to_vec(&config.on_invalid).unwrap_or_default());
    for f in files {
        h.update(f.layer.as_str().as_bytes());
        h.update(b"\0");
        h.update(f.path.to_string_lossy().as_bytes());
        h.update(b"\0");
        h.update(f.sha256.as_bytes());
        h.update(b"\n");
    }
    h.finalize().into()
}

/// The kinds of sections, in file order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Enterprises = 1,
    HazardSources,
    CollapseZones,
    Units,
    HiddenDangers,
    Sensors,
    Alarms,
    /// `has_hidden_dangers`, the warnings and the files.
    Meta,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Enterprises,
        Kind::HazardSources,
        Kind::CollapseZones,
        Kind::Units,
        Kind::HiddenDangers,
        Kind::Sensors,
        Kind::Alarms,
        Kind::Meta,
    ];
}

/// One decoded section.
enum Section {
    Enterprises(Vec<crate::model::Enterprise>),
    HazardSources(Vec<crate::model::HazardSource>),
    CollapseZones(Vec<crate::model::CollapseZone>),
    Units(Vec<crate::model::GridUnit>),
    HiddenDangers(Vec<crate::model::HiddenDanger>),
    Sensors(Vec<crate::model::Sensor>),
    Alarms(Vec<crate::model::Alarm>),
    Meta(bool, Vec<super::Issue>, Vec<SourceFile>),
}

fn checksum(bytes: &[u8]) -> u64 {
    foldhash::quality::FixedState::with_seed(CHECKSUM_SEED).hash_one(bytes)
}

/// Encodes `items` as sections of at most [`CHUNK`] features.
fn chunked<T: Codec + Sync>(kind: Kind, items: &[T]) -> Vec<(Kind, Vec<u8>)> {
    let mut chunks: Vec<(Kind, Vec<u8>)> = items
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut out = Vec::new();
            (chunk.len() as u32).put(&mut out);
            for item in chunk {
                item.put(&mut out);
            }
            (kind, out)
        })
        .collect();
    if chunks.is_empty() {
        chunks.push((kind, codec::encode(&Vec::<T>::new())));
    }
    chunks
}

/// The cache file for `loaded` under `key`, as its parts in file order:
/// the header (magic, key, section table), then each section's bytes
/// (kept apart, so that writing never copies them into one buffer).
pub fn encode(key: &[u8; 32], loaded: &Loaded) -> Vec<Vec<u8>> {
    let ds = &loaded.dataset;
    let parts: Vec<Vec<(Kind, Vec<u8>)>> = Kind::ALL
        .par_iter()
        .map(|&kind| match kind {
            Kind::Enterprises => chunked(kind, &ds.enterprises),
            Kind::HazardSources => chunked(kind, &ds.hazard_sources),
            Kind::CollapseZones => chunked(kind, &ds.collapse_zones),
            Kind::Units => chunked(kind, &ds.units),
            Kind::HiddenDangers => chunked(kind, &ds.hidden_dangers),
            Kind::Sensors => chunked(kind, &ds.sensors),
            Kind::Alarms => chunked(kind, &ds.alarms),
            Kind::Meta => {
                let mut out = Vec::new();
                ds.has_hidden_dangers.put(&mut out);
                loaded.issues.put(&mut out);
                loaded.files.put(&mut out);
                vec![(kind, out)]
            }
        })
        .collect();
    let sections: Vec<(Kind, Vec<u8>)> = parts.into_iter().flatten().collect();
    let mut head = Vec::with_capacity(44 + 17 * sections.len());
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(key);
    (sections.len() as u32).put(&mut head);
    for (kind, bytes) in &sections {
        (*kind as u8).put(&mut head);
        (bytes.len() as u64).put(&mut head);
        checksum(bytes).put(&mut head);
    }
    std::iter::once(head)
        .chain(sections.into_iter().map(|(_, bytes)| bytes))
        .collect()
}

/// Writes the cache of `loaded` on a thread of its own (the caller goes on
/// serving): to a temporary file renamed into place, so that a reader
/// never sees half a file. A failure is logged; the data are unaffected.
fn write_in_background(file: PathBuf, key: [u8; 32], loaded: &Loaded) {
    let t = Instant::now();
    let parts = encode(&key, loaded);
    let encode_ms = t.elapsed().as_millis() as u64;
    let spawned = std::thread::Builder::new()
        .name("snapshot-cache".into())
        .spawn(move || match write_file(&file, &parts) {
            Ok(()) => tracing::info!(
                cache = %file.display(),
                bytes = parts.iter().map(Vec::len).sum::<usize>(),
                encode_ms,
                "snapshot cache written"
            ),
            Err(e) => {
                tracing::warn!(cache = %file.display(), "cannot write the snapshot cache: {e}")
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the snapshot cache writer: {e}");
    }
}

/// Writes `parts` one after the other to `file`, through a temporary file
/// and a rename.
pub fn write_file(file: &Path, parts: &[Vec<u8>]) -> std::io::Result<()> {
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = file.with_extension(format!("partial-{}", std::process::id()));
    let result = (|| {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        for part in parts {
            f.write_all(part)?;
        }
        f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, file)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Reads the cache `file` if it carries `key`: the sections are read and
/// decoded in parallel, each checked against its checksum. `files` (the
/// hashes just computed) must equal the files it was written from.
pub fn read(file: &Path, key: &[u8; 32], files: &[SourceFile]) -> Result<Loaded, CacheError> {
    let f = std::fs::File::open(file)?;
    let size = f.metadata()?.len();
    let mut head = [0u8; 44];
    f.read_exact_at(&mut head, 0)
        .map_err(|_| CacheError::Corrupt("shorter than its header".into()))?;
    if &head[..8] != MAGIC {
        return Err(CacheError::Stale);
    }
    if &head[8..40] != key {
        return Err(CacheError::Stale);
    }
    let n = u32::from_le_bytes([head[40], head[41], head[42], head[43]]) as usize;
    let table_len = n
        .checked_mul(17)
        .filter(|&l| 44 + l as u64 <= size)
        .ok_or_else(|| CacheError::Corrupt(format!("{n} sections do not fit")))?;
    let mut table = vec![0u8; table_len];
    f.read_exact_at(&mut table, 44)?;
    let mut r = codec::Reader::new(&table);
    let mut entries = Vec::with_capacity(n);
    let mut offset = 44 + table_len as u64;
    for _ in 0..n {
        let kind = u8::take(&mut r)?;
        let kind = Kind::ALL
            .into_iter()
            .find(|k| *k as u8 == kind)
            .ok_or_else(|| CacheError::Corrupt(format!("section kind {kind}")))?;
        let len = u64::take(&mut r)?;
        let sum = u64::take(&mut r)?;
        entries.push((kind, offset, len, sum));
        offset = offset
            .checked_add(len)
            .filter(|&end| end <= size)
            .ok_or_else(|| CacheError::Corrupt("a section runs past the end".into()))?;
    }
    if offset != size {
        return Err(CacheError::Corrupt("bytes after the last section".into()));
    }
    let sections: Vec<Section> = entries
        .par_iter()
        // One buffer per worker, reused from section to section: a fresh
        // buffer per section was the whole file's size in page faults.
        .map_init(
            Vec::new,
            |buf: &mut Vec<u8>, &(kind, at, len, sum)| -> Result<Section, CacheError> {
                let len = usize::try_from(len)
                    .map_err(|_| CacheError::Corrupt(format!("{kind:?} section length {len}")))?;
                buf.resize(len, 0);
                let bytes = &mut buf[..len];
                f.read_exact_at(bytes, at)?;
                let bytes: &[u8] = bytes;
                if checksum(bytes) != sum {
                    return Err(CacheError::Corrupt(format!("{kind:?} section checksum")));
                }
                Ok(match kind {
                    Kind::Enterprises => Section::Enterprises(codec::decode(bytes)?),
                    Kind::HazardSources => Section::HazardSources(codec::decode(bytes)?),
                    Kind::CollapseZones => Section::CollapseZones(codec::decode(bytes)?),
                    Kind::Units => Section::Units(codec::decode(bytes)?),
                    Kind::HiddenDangers => Section::HiddenDangers(codec::decode(bytes)?),
                    Kind::Sensors => Section::Sensors(codec::decode(bytes)?),
                    Kind::Alarms => Section::Alarms(codec::decode(bytes)?),
                    Kind::Meta => {
                        let mut r = codec::Reader::new(bytes);
                        let has = bool::take(&mut r)?;
                        let issues = Vec::take(&mut r)?;
                        let files = Vec::take(&mut r)?;
                        if !r.is_done() {
                            return Err(CacheError::Corrupt("trailing bytes".into()));
                        }
                        Section::Meta(has, issues, files)
                    }
                })
            },
        )
        .collect::<Result<_, _>>()?;
    let mut dataset = Dataset::default();
    // Each list allocated once at its full length (no growth by doubling).
    let count = |pick: fn(&Section) -> Option<usize>| sections.iter().filter_map(pick).sum();
    dataset.enterprises.reserve_exact(count(|s| match s {
        Section::Enterprises(v) => Some(v.len()),
        _ => None,
    }));
    dataset.units.reserve_exact(count(|s| match s {
        Section::Units(v) => Some(v.len()),
        _ => None,
    }));
    dataset.hidden_dangers.reserve_exact(count(|s| match s {
        Section::HiddenDangers(v) => Some(v.len()),
        _ => None,
    }));
    let mut issues = Vec::new();
    let mut cached_files = None;
    for s in sections {
        match s {
            Section::Enterprises(v) => dataset.enterprises.extend(v),
            Section::HazardSources(v) => dataset.hazard_sources.extend(v),
            Section::CollapseZones(v) => dataset.collapse_zones.extend(v),
            Section::Units(v) => dataset.units.extend(v),
            Section::HiddenDangers(v) => dataset.hidden_dangers.extend(v),
            Section::Sensors(v) => dataset.sensors.extend(v),
            Section::Alarms(v) => dataset.alarms.extend(v),
            Section::Meta(has, i, f) => {
                dataset.has_hidden_dangers = has;
                issues = i;
                cached_files = Some(f);
            }
        }
    }
    // The key already covers the files; checked again, cheaply.
    if cached_files.as_deref() != Some(files) {
        return Err(CacheError::Stale);
    }
    Ok(Loaded {
        dataset,
        issues,
        files: files.to_vec(),
    })
}
