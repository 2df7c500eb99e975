//! An immutable loaded dataset: features, indexes, warnings and the
//! `data_version` that caches and ETags key on. Reload builds a new one and
//! swaps it in whole.

use crate::auth::Scope;
use crate::config::Config;
use crate::index::Store;
use crate::ingest::{self, Issue, LoadError, SourceFile};
use crate::model::{LayerId, Level};
use crate::risk::{self, Scores};
use crate::source::DataSource;
use crate::tiles::{
    BuiltTile, GzippedTile, LayerCache, Prepared, Previous, Reuse, TileFilter, TileId, TilePolicy,
};
use serde::Serialize;
use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime};

/// Feature counts per served layer, as `/health` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Enterprises.
    pub enterprises: usize,
    /// Major hazard sources.
    pub hazard_sources: usize,
    /// Collapse zones.
    pub collapse_zones: usize,
    /// Hidden-danger records (base and journal).
    pub hidden_dangers: usize,
    /// Monitoring sensors.
    pub sensors: usize,
    /// Monitoring alarms, every status (base and journal).
    pub alarms: usize,
    /// Unit cells (finest level).
    pub cells: usize,
    /// Villages.
    pub villages: usize,
    /// Towns.
    pub towns: usize,
    /// Counties.
    pub counties: usize,
}

/// A loaded, indexed dataset.
///
/// A live write derives the next snapshot from the current one
/// ([`Snapshot::derive`]): the store's base, the prepared tile geometry,
/// the files and warnings are shared; the hidden-danger and alarm books
/// copy what the write changed, and the rescored units and their kept
/// inputs are new.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Features and indexes.
    pub store: Store,
    /// The risk score of every grid unit, by `UnitId`.
    pub scores: Scores,
    /// Geometry prepared for vector tiles, built on first use
    /// ([`Snapshot::tiles`]); shared by derived snapshots.
    tiles: Arc<OnceLock<Prepared>>,
    /// Hash of the input files (or tables' fingerprints) and of the
    /// `[risk]` config; after journal entries `<base>-<seq>`.
    pub data_version: String,
    /// The hash of the base files alone.
    pub base_version: Arc<str>,
    /// The last journal entry applied (0: none).
    pub seq: u64,
    /// Per tile, the sequence numbers of the last journal entries that may
    /// have changed its bytes (tiles not listed: none since the base): one
    /// record shared by every snapshot derived from this load, asked as of
    /// [`Snapshot::seq`].
    pub tile_changes: crate::tiles::TileChanges,
    /// The same for the `hidden_dangers` layer alone: the version under
    /// which a rebuilt tile reuses its kept hidden-danger layer.
    pub danger_changes: crate::tiles::TileChanges,
    /// The grid units' encoded geometries of served gzip tiles, reused when
    /// a live write makes a tile be built again; its load number marks the
    /// reusable layers of the bodies this load built
    /// ([`crate::tiles::layer_cache`]). One per load, off for the snapshots
    /// of past days.
    pub layer_cache: LayerCache,
    /// The inputs of the cells live writes rescored that alarms do not
    /// change, for the next write ([`crate::risk::KeptInputs`]).
    pub kept: crate::risk::KeptInputs,
    /// Warnings found while loading.
    pub warnings: Arc<Vec<Issue>>,
    /// The files (or tables) read.
    pub files: Arc<Vec<SourceFile>>,
    /// When it was loaded.
    pub loaded_at: SystemTime,
}

pub use crate::ingest::data_version;

/// Share of the tile cache's size ([`crate::config::TilesConfig::cache_mb`])
/// that the unit geometries kept for rebuilds may take besides it.
const LAYER_CACHE_SHARE: u64 = 4;

impl Snapshot {
    /// Loads, validates and indexes the dataset of `source`: a
    /// [`DataSource`], or a path (a directory, or a PostgreSQL URL).
    ///
    /// Then the write journal (config `journal`, by default `journal.jsonl`
    /// in the data folder) is replayed on it: a torn last line is left out
    /// with a warning; any other broken line, or an entry that does not
    /// apply, refuses the load naming the line.
    pub fn load(source: impl Into<DataSource>, config: &Config) -> Result<Snapshot, LoadError> {
        let source = source.into();
        let journal = config.journal_path(&source);
        if let (None, DataSource::Postgres(url)) = (&journal, &source) {
            // The journal is the table `riskmap_journal`, read in the
            // layers' transaction.
            let (loaded, entries) =
                ingest::postgis::load_with_journal(url.expose(), &config.ingest())?;
            let base = Snapshot::build(loaded, config, Instant::now());
            return base.replay_entries(&entries, crate::journal::table::TABLE);
        }
        let base = Snapshot::load_base(source, config)?;
        match journal {
            Some(path) => base.replay(&path),
            None => Ok(base),
        }
    }

    /// The snapshot after `entries` (in `seq` order, already verified),
    /// read from `name` (named in an error).
    pub fn replay_entries(
        self,
        entries: &[crate::journal::Entry],
        name: &str,
    ) -> Result<Snapshot, LoadError> {
        if entries.is_empty() {
            return Ok(self);
        }
        let t = Instant::now();
        let ops: Vec<crate::live::Op<'_>> = entries.iter().map(crate::live::Op::from).collect();
        let (next, _) = self
            .derive(&ops, &TilePolicy::default())
            .map_err(|e| LoadError {
                dir: name.into(),
                issues: vec![Issue::file_error(name, e.to_string())],
                unreachable: false,
            })?;
        tracing::info!(
            entries = entries.len(),
            seq = next.seq,
            replay_ms = t.elapsed().as_millis() as u64,
            "journal replayed"
        );
        Ok(next)
    }

    /// The snapshot after every entry of the journal at `path` (none if the
    /// file does not exist).
    pub fn replay(self, path: &std::path::Path) -> Result<Snapshot, LoadError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "journal".into());
        let fail = |message: String| LoadError {
            dir: path.to_path_buf(),
            issues: vec![Issue::file_error(&name, message)],
            unreachable: false,
        };
        let replay = crate::journal::read(path).map_err(|e| fail(e.to_string()))?;
        if replay.entries.is_empty() && replay.warnings.is_empty() {
            return Ok(self);
        }
        let t = Instant::now();
        let ops: Vec<crate::live::Op<'_>> =
            replay.entries.iter().map(crate::live::Op::from).collect();
        let (mut next, _) = if ops.is_empty() {
            (self, crate::live::Applied::default())
        } else {
            self.derive(&ops, &TilePolicy::default())
                .map_err(|e| fail(format!("line {}", e)))?
        };
        if !replay.warnings.is_empty() {
            let mut w = (*next.warnings).clone();
            w.extend(replay.warnings.iter().map(|m| Issue {
                level: crate::ingest::IssueLevel::Warning,
                ..Issue::file_error(&name, m.clone())
            }));
            next.warnings = Arc::new(w);
        }
        tracing::info!(
            entries = replay.entries.len(),
            seq = next.seq,
            replay_ms = t.elapsed().as_millis() as u64,
            "journal replayed"
        );
        Ok(next)
    }

    /// The base files (or tables) alone, without the journal.
    pub fn load_base(source: DataSource, config: &Config) -> Result<Snapshot, LoadError> {
        let started = Instant::now();
        let loaded = match source {
            DataSource::Postgres(url) => ingest::postgis::load(url.expose(), &config.ingest())?,
            DataSource::Dir(dir) => ingest::cache::load_dir(&dir, &config.ingest())?,
        };
        Ok(Snapshot::build(loaded, config, started))
    }

    /// Indexes and scores what was read (`started`: when reading began).
    fn build(loaded: ingest::Loaded, config: &Config, started: Instant) -> Snapshot {
        // Today's date is fixed once per load, so that a later incremental
        // update measures "overdue" against the same day as the full score.
        let pinned;
        let config = if config.risk.as_of.is_none() {
            let mut c = config.clone();
            c.risk = c.risk.pinned();
            pinned = c;
            &pinned
        } else {
            config
        };
        let data_version = data_version(&loaded.files, &config.ingest());
        let read = started.elapsed();
        let store = Store::build(loaded.dataset);
        let indexed = started.elapsed();
        // One after the other (each is parallel inside), so that the logged
        // times are those of the phase alone.
        let t = Instant::now();
        let scores = risk::score_all(&store, &config.risk);
        let score_time = t.elapsed();
        let scored = started.elapsed();
        let mut warnings = loaded.issues;
        warnings.extend(ingest::check_locations(&store, &loaded.files));
        let ms = |d: std::time::Duration| d.as_millis() as u64;
        tracing::info!(
            read_ms = ms(read),
            index_ms = ms(indexed - read),
            score_ms = ms(score_time),
            check_ms = ms(started.elapsed() - scored),
            "snapshot built"
        );
        Snapshot {
            store,
            scores,
            tiles: Arc::new(OnceLock::new()),
            base_version: data_version.as_str().into(),
            data_version,
            seq: 0,
            tile_changes: Default::default(),
            danger_changes: Default::default(),
            layer_cache: LayerCache::default(),
            kept: Default::default(),
            warnings: Arc::new(warnings),
            files: Arc::new(loaded.files),
            loaded_at: SystemTime::now(),
        }
    }

    /// A snapshot of a dataset built in memory (tests, benchmarks, tools):
    /// no files, `data_version` `memory`, the as-of day pinned.
    pub fn from_dataset(dataset: crate::model::Dataset, config: &Config) -> Snapshot {
        let store = Store::build(dataset);
        let scores = risk::score_all(&store, &config.risk.pinned());
        Snapshot {
            store,
            scores,
            tiles: Arc::new(OnceLock::new()),
            base_version: "memory".into(),
            data_version: "memory".into(),
            seq: 0,
            tile_changes: Default::default(),
            danger_changes: Default::default(),
            layer_cache: LayerCache::default(),
            kept: Default::default(),
            warnings: Arc::new(Vec::new()),
            files: Arc::new(Vec::new()),
            loaded_at: SystemTime::now(),
        }
    }

    /// This snapshot with other hidden dangers and scores after journal
    /// entry `seq` (see [`Snapshot::derive`]); everything else shared.
    pub(crate) fn with_live(
        &self,
        store: Store,
        scores: Scores,
        tile_changes: crate::tiles::TileChanges,
        danger_changes: crate::tiles::TileChanges,
        kept: crate::risk::KeptInputs,
        seq: u64,
    ) -> Snapshot {
        Snapshot {
            store,
            scores,
            tile_changes,
            danger_changes,
            layer_cache: self.layer_cache.clone(),
            kept,
            seq,
            data_version: format!("{}-{seq}", self.base_version),
            tiles: Arc::clone(&self.tiles),
            base_version: Arc::clone(&self.base_version),
            warnings: Arc::clone(&self.warnings),
            files: Arc::clone(&self.files),
            loaded_at: self.loaded_at,
        }
    }

    /// [`Snapshot::load`] with the tile geometry prepared too: what a
    /// server swaps in, so that no tile request waits for the preparation.
    pub fn load_for_tiles(
        source: impl Into<DataSource>,
        config: &Config,
    ) -> Result<Snapshot, LoadError> {
        let snap = Snapshot::load(source, config)?.with_layer_cache(config);
        snap.tiles();
        Ok(snap)
    }

    /// This snapshot (and those derived from it) keeping the grid units'
    /// encoded geometries of its gzip tiles, and reusing the layers of the
    /// bodies it replaces, for rebuilds after live writes with the default
    /// tile policy ([`crate::tiles::layer_cache`]): what a server serves.
    /// Other uses (`validate`, `score`, `export-pmtiles`, benchmarks) keep
    /// none.
    pub fn with_layer_cache(mut self, config: &Config) -> Snapshot {
        self.layer_cache = LayerCache::new((config.tiles.cache_mb << 20) / LAYER_CACHE_SHARE);
        self
    }

    /// The geometry prepared for vector tiles (Web Mercator, simplified per
    /// zoom), built on the first call: `validate` and `score` never pay for
    /// it.
    pub fn tiles(&self) -> &Prepared {
        self.tiles.get_or_init(|| {
            let t = Instant::now();
            let prepared = Prepared::build(&self.store, &TilePolicy::default());
            tracing::info!(
                tiles_ms = t.elapsed().as_millis() as u64,
                tile_vertices = prepared.vertices(),
                "tile geometry prepared"
            );
            prepared
        })
    }

    /// The composite tile `tile` for a caller with `scope`, cut by `policy`
    /// (see [`crate::tiles::build_tile`]); `None` when it holds nothing.
    pub fn build_tile(&self, scope: Scope, tile: TileId, policy: &TilePolicy) -> Option<BuiltTile> {
        self.build_tile_filtered(scope, tile, policy, TileFilter::NONE)
    }

    /// [`Snapshot::build_tile`] with only the enterprises and hazard sources
    /// that pass `filter` (see [`crate::tiles::build_tile_filtered`]).
    pub fn build_tile_filtered(
        &self,
        scope: Scope,
        tile: TileId,
        policy: &TilePolicy,
        filter: TileFilter,
    ) -> Option<BuiltTile> {
        crate::tiles::build_tile_filtered(
            &self.store,
            self.tiles(),
            &self.scores,
            scope,
            tile,
            policy,
            filter,
        )
    }

    /// The gzip body of [`Snapshot::build_tile_filtered`]'s tile. When
    /// this load keeps layers and `policy` is the default, it takes what it
    /// may from `previous` (an earlier body of the same tile for the same
    /// caller and filter) and from the load's kept geometries, and says
    /// where its own reusable layers lie (see
    /// [`crate::tiles::build_tile_gzip`]).
    pub fn build_tile_gzip(
        &self,
        scope: Scope,
        tile: TileId,
        policy: &TilePolicy,
        filter: TileFilter,
        previous: Option<Previous>,
    ) -> std::io::Result<Option<GzippedTile>> {
        let reuse =
            (self.layer_cache.is_enabled() && *policy == TilePolicy::default()).then(|| Reuse {
                cache: &self.layer_cache,
                danger_version: self.danger_changes.last_change(tile, self.seq),
                previous,
            });
        crate::tiles::build_tile_gzip(
            &self.store,
            self.tiles(),
            &self.scores,
            scope,
            tile,
            policy,
            filter,
            reuse,
        )
    }

    /// This snapshot without kept layers: what the snapshot of a past day
    /// (other hidden dangers under the same tile versions) must be.
    pub fn without_layer_cache(mut self) -> Snapshot {
        self.layer_cache = self.layer_cache.off();
        self
    }

    /// The layers this (serving) snapshot has and `next` lost: a layer
    /// with features here and none in `next`, or a counties file here and
    /// none there, unless the config marks the layer `optional`. One error
    /// per layer; a reload with any is refused, so that a deleted or
    /// emptied file never quietly lowers every score.
    pub fn lost_layers(&self, next: &Snapshot, config: &Config) -> Vec<Issue> {
        let (old, new) = (self.counts(), next.counts());
        let has_file = |s: &Snapshot, l: LayerId| s.files.iter().any(|f| f.layer == l);
        let lost = [
            (LayerId::Enterprises, old.enterprises, new.enterprises),
            (
                LayerId::HazardSources,
                old.hazard_sources,
                new.hazard_sources,
            ),
            (
                LayerId::CollapseZones,
                old.collapse_zones,
                new.collapse_zones,
            ),
            (
                LayerId::Counties,
                usize::from(has_file(self, LayerId::Counties)),
                usize::from(has_file(next, LayerId::Counties)),
            ),
            (
                LayerId::HiddenDangers,
                usize::from(self.store.dangers().is_loaded()),
                usize::from(next.store.dangers().is_loaded()),
            ),
        ];
        lost.into_iter()
            .filter(|&(layer, before, after)| {
                before > 0 && after == 0 && !config.layers.get(layer).optional
            })
            .map(|(layer, before, _)| {
                let file = next
                    .files
                    .iter()
                    .find(|f| f.layer == layer)
                    .and_then(|f| f.path.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| layer.as_str().to_string());
                let had = if layer == LayerId::Counties {
                    "a counties file".to_string()
                } else if layer == LayerId::HiddenDangers {
                    "a hidden_dangers file".to_string()
                } else {
                    format!("{before} feature(s)")
                };
                Issue::file_error(
                    &file,
                    format!(
                        "the layer {layer} is missing or empty in the new data but the serving data has {had}; \
                         restore it, or set `[layers.{layer}] optional = true` to allow it"
                    ),
                )
            })
            .collect()
    }

    /// Feature counts per served layer.
    pub fn counts(&self) -> Counts {
        let s = &self.store;
        Counts {
            enterprises: s.dataset.enterprises.len(),
            hazard_sources: s.dataset.hazard_sources.len(),
            collapse_zones: s.dataset.collapse_zones.len(),
            hidden_dangers: s.dangers().len(),
            sensors: s.alarms().sensors().len(),
            alarms: s.alarms().len(),
            cells: s.count(Level::Cell),
            villages: s.count(Level::Village),
            towns: s.count(Level::Town),
            counties: s.count(Level::County),
        }
    }
}
