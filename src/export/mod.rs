//! Pre-rendered composite tiles in one [PMTiles v3] archive, for hosting
//! the map as static files (object storage, a CDN) without a server.
//!
//! [`plan`] lists the tiles of the requested zooms whose buffered envelope
//! touches some feature (R-tree queries, descending from zoom 0 so that
//! empty quarters are never visited); [`write_pmtiles`] builds them in
//! parallel with the server's own [`build_tile`], gzips them (what
//! MapLibre's `pmtiles` protocol expects for vector tiles) and writes them
//! in Hilbert order to `OUT.tmp`, renamed to `OUT` once complete. Identical
//! tiles are stored once.
//!
//! With `--with-page`, [`write_site`] also writes the web page beside the
//! archive, which then works as a static site.
//!
//! A static archive has no access control: by default it holds only the
//! public layers (what an anonymous caller of `/tiles` gets); with
//! [`ExportOptions::include_private`] it also holds `enterprises` and
//! `hazard_sources`, which are confidential.
//!
//! [PMTiles v3]: https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md

mod site;

pub use site::{SITE_CONFIG, site_config, site_style, write_site};

use crate::auth::Scope;
use crate::crs::mercator::TileFrame;
use crate::index::aabb;
use crate::model::{LayerId, Level};
use crate::snapshot::Snapshot;
use crate::tiles::cache::gzip;
use crate::tiles::tilejson::tilejson;
use crate::tiles::{MAX_ZOOM, TileId, TilePolicy};
use pmtiles::{PmTilesWriter, TileCoord, TileType};
use rayon::prelude::*;
use rstar::AABB;
use serde_json::Value;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Tiles built and compressed in parallel before being written in order.
const BATCH: usize = 2048;

/// What to export.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    /// First zoom in the archive.
    pub minzoom: u8,
    /// Last zoom in the archive (map clients overzoom beyond it).
    pub maxzoom: u8,
    /// Also export the private layers (`enterprises`, `hazard_sources`),
    /// as a planner's token sees them. The archive then holds
    /// confidential data.
    pub include_private: bool,
    /// How tiles are cut ([`TilePolicy::default`]: as the server does).
    pub policy: TilePolicy,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            minzoom: 0,
            maxzoom: DEFAULT_MAXZOOM,
            include_private: false,
            policy: TilePolicy::default(),
        }
    }
}

/// The default last zoom: 14 shows every layer (cells from 12) and keeps a
/// city's archive small; MapLibre overzooms its tiles beyond it.
pub const DEFAULT_MAXZOOM: u8 = 14;

impl ExportOptions {
    /// The access scope the tiles are built for.
    pub fn scope(&self) -> Scope {
        Scope::for_export(self.include_private)
    }

    fn check(&self) -> Result<(), ExportError> {
        if self.maxzoom > MAX_ZOOM {
            return Err(ExportError::ZoomTooHigh(self.maxzoom));
        }
        if self.minzoom > self.maxzoom {
            return Err(ExportError::Zooms {
                min: self.minzoom,
                max: self.maxzoom,
            });
        }
        Ok(())
    }
}

/// Errors of an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// `maxzoom` is above [`MAX_ZOOM`].
    #[error("maxzoom {0} is above the maximum {MAX_ZOOM}")]
    ZoomTooHigh(u8),
    /// `minzoom` is above `maxzoom`.
    #[error("minzoom {min} is above maxzoom {max}")]
    Zooms {
        /// minzoom.
        min: u8,
        /// maxzoom.
        max: u8,
    },
    /// A file could not be created, written or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The PMTiles writer failed.
    #[error("{}: writing the PMTiles archive: {source}", path.display())]
    Archive {
        /// The file being written.
        path: PathBuf,
        /// The cause.
        source: pmtiles::PmtError,
    },
    /// The archive's name cannot be named from a static site's `site.json`.
    #[error("--with-page: the archive name {0:?} must be a plain file name (other than site.json)")]
    SiteArchiveName(String),
    /// The embedded page has no `<meta charset="utf-8">`.
    #[error("--with-page: the embedded index.html has no <meta charset=\"utf-8\">")]
    SitePage,
    /// The embedded style is not what the site needs.
    #[error("--with-page: the embedded style: {0}")]
    SiteStyle(String),
    /// The configured basemap does not load.
    #[error("--with-page: {0}")]
    SiteBasemap(#[from] crate::basemap::BasemapError),
    /// A tile could not be compressed.
    #[error("tile {tile}: gzip: {source}")]
    Gzip {
        /// The tile.
        tile: TileId,
        /// The cause.
        source: std::io::Error,
    },
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// Tiles examined (those [`plan`] listed).
    pub planned: u64,
    /// Tiles with content, written to the archive.
    pub tiles: u64,
    /// Non-empty tiles per zoom, from `minzoom`.
    pub tiles_per_zoom: Vec<(u8, u64)>,
    /// Size of the archive, bytes.
    pub bytes: u64,
    /// The dataset's `data_version`, also in the archive's metadata.
    pub data_version: String,
}

/// The buffered lon/lat envelope of a tile (what [`build_tile`] queries).
fn envelope(tile: TileId, policy: &TilePolicy) -> AABB<[f64; 2]> {
    let frame = TileFrame::new(tile.z(), tile.x(), tile.y(), policy.extent);
    let [w, s, e, n] = frame.lon_lat_bounds(f64::from(policy.buffer));
    aabb(w, s, e, n)
}

/// Whether some feature the export may hold lies in `env` (any zoom).
fn touches_features(snap: &Snapshot, env: &AABB<[f64; 2]>, include_private: bool) -> bool {
    let store = &snap.store;
    Level::ALL
        .iter()
        .any(|&l| store.units_in_envelope(l, env).next().is_some())
        || store.zones_in_envelope(env).next().is_some()
        || (include_private
            && (store.enterprises_in_envelope(env).next().is_some()
                || store.hazards_in_envelope(env).next().is_some()))
}

/// The tiles of zooms `minzoom..=maxzoom` whose buffered envelope touches a
/// feature the export may hold, sorted in PMTiles (Hilbert) order. A
/// child's buffered envelope lies inside its parent's, so the search
/// descends only into tiles that touch something.
pub fn plan(snap: &Snapshot, options: &ExportOptions) -> Result<Vec<TileId>, ExportError> {
    options.check()?;
    let policy = &options.policy;
    let mut level = vec![(0u32, 0u32)];
    let mut out: Vec<(u64, TileId)> = Vec::new();
    for z in 0..=options.maxzoom {
        let kept: Vec<(u32, u32)> = level
            .par_iter()
            .filter_map(|&(x, y)| {
                let tile = TileId::new(u32::from(z), x, y).ok()?;
                touches_features(snap, &envelope(tile, policy), options.include_private)
                    .then_some((x, y))
            })
            .collect();
        if z >= options.minzoom {
            out.extend(kept.iter().filter_map(|&(x, y)| {
                let tile = TileId::new(u32::from(z), x, y).ok()?;
                Some((pmtiles_id(tile)?, tile))
            }));
        }
        level = kept
            .iter()
            .flat_map(|&(x, y)| {
                [
                    (2 * x, 2 * y),
                    (2 * x + 1, 2 * y),
                    (2 * x, 2 * y + 1),
                    (2 * x + 1, 2 * y + 1),
                ]
            })
            .collect();
    }
    out.sort_unstable_by_key(|(id, _)| *id);
    Ok(out.into_iter().map(|(_, t)| t).collect())
}

fn coord(tile: TileId) -> Option<TileCoord> {
    TileCoord::new(tile.z(), tile.x(), tile.y()).ok()
}

fn pmtiles_id(tile: TileId) -> Option<u64> {
    coord(tile).map(|c| pmtiles::TileId::from(c).value())
}

/// The archive's JSON metadata: the TileJSON fields (`vector_layers` of
/// the layers it holds, clamped to its zooms), plus `data_version` and
/// `access` (`public` or `private`).
pub fn metadata(snap: &Snapshot, options: &ExportOptions) -> Value {
    let mut doc = tilejson("", snap.store.bounds(), &options.policy);
    if let Some(map) = doc.as_object_mut() {
        map.remove("tiles");
        map.remove("tilejson");
        map.remove("scheme");
        map.insert("minzoom".into(), options.minzoom.into());
        map.insert("maxzoom".into(), options.maxzoom.into());
        map.insert("format".into(), "pbf".into());
        map.insert("type".into(), "overlay".into());
        map.insert(
            "version".into(),
            env!("CARGO_PKG_VERSION").to_string().into(),
        );
        map.insert("data_version".into(), snap.data_version.clone().into());
        let access = if options.include_private {
            "private"
        } else {
            "public"
        };
        map.insert("access".into(), access.into());
        if let Some(Value::Array(layers)) = map.get_mut("vector_layers") {
            layers.retain(|l| {
                let id = l["id"].as_str().and_then(|s| s.parse::<LayerId>().ok());
                let held = id.is_some_and(|id| options.include_private || !id.is_private());
                let shown = l["minzoom"]
                    .as_u64()
                    .is_some_and(|z| z <= u64::from(options.maxzoom));
                held && shown
            });
            for l in layers.iter_mut() {
                if let Some(o) = l.as_object_mut() {
                    o.insert("maxzoom".into(), options.maxzoom.into());
                    // The server's "requires a token" does not hold in a
                    // file: say what the archive is instead.
                    let private = o
                        .get("id")
                        .and_then(Value::as_str)
                        .and_then(|s| s.parse::<LayerId>().ok())
                        .is_some_and(LayerId::is_private);
                    if private && let Some(Value::String(d)) = o.get_mut("description") {
                        let base = d.split("; requires a token").next().unwrap_or_default();
                        *d = format!(
                            "{base}; confidential: exported with --include-private, \
                             not for public hosting"
                        );
                    }
                }
            }
        }
    }
    doc
}

/// One built, gzipped tile (`None`: empty).
fn render(
    snap: &Snapshot,
    tile: TileId,
    options: &ExportOptions,
) -> Result<Option<Vec<u8>>, ExportError> {
    snap.build_tile(options.scope(), tile, &options.policy)
        .map(|t| gzip(&t.bytes).map_err(|source| ExportError::Gzip { tile, source }))
        .transpose()
}

/// `OUT.tmp` beside `OUT`.
fn temp_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    out.with_file_name(name)
}

/// Builds `tiles` (from [`plan`]) and writes them with the [`metadata`] to
/// the PMTiles archive `out`, through `OUT.tmp` renamed into place at the
/// end (an interrupted export leaves no partial `out`). `progress` is
/// called with the number of tiles just finished, from worker threads.
pub fn write_pmtiles(
    snap: &Snapshot,
    tiles: &[TileId],
    out: &Path,
    options: &ExportOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ExportSummary, ExportError> {
    options.check()?;
    let tmp = temp_path(out);
    let result = write_to(snap, tiles, &tmp, options, progress);
    match result {
        Ok(mut summary) => {
            if let Err(source) = std::fs::rename(&tmp, out) {
                let _ = std::fs::remove_file(&tmp);
                return Err(ExportError::Io {
                    path: out.to_path_buf(),
                    source,
                });
            }
            summary.bytes = std::fs::metadata(out)
                .map_err(|source| ExportError::Io {
                    path: out.to_path_buf(),
                    source,
                })?
                .len();
            Ok(summary)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn write_to(
    snap: &Snapshot,
    tiles: &[TileId],
    path: &Path,
    options: &ExportOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ExportSummary, ExportError> {
    // Prepared here, not by the first of the parallel renders: the
    // preparation is itself parallel, and a worker waiting on it must not
    // be handed a render that waits on it too.
    snap.tiles();
    let archive_err = |source| ExportError::Archive {
        path: path.to_path_buf(),
        source,
    };
    let file = File::create(path).map_err(|source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let meta = metadata(snap, options);
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .tile_compression(pmtiles::Compression::Gzip)
        .internal_compression(pmtiles::Compression::Gzip)
        .min_zoom(options.minzoom)
        .max_zoom(options.maxzoom)
        .metadata(&meta.to_string());
    if let Some([w, s, e, n]) = snap.store.bounds() {
        let center_zoom = meta["center"][2]
            .as_u64()
            .and_then(|z| u8::try_from(z).ok())
            .unwrap_or(options.minzoom)
            .clamp(options.minzoom, options.maxzoom);
        writer = writer
            .bounds(w, s, e, n)
            .center((w + e) / 2.0, (s + n) / 2.0)
            .center_zoom(center_zoom);
    }
    let mut writer = writer.create(file).map_err(archive_err)?;
    let zooms = usize::from(options.maxzoom - options.minzoom) + 1;
    let mut per_zoom = vec![0u64; zooms];
    for batch in tiles.chunks(BATCH) {
        let built: Vec<Result<Option<Vec<u8>>, ExportError>> = batch
            .par_iter()
            .map(|&t| {
                let r = render(snap, t, options);
                progress(1);
                r
            })
            .collect();
        for (&tile, body) in batch.iter().zip(built) {
            let Some(body) = body? else { continue };
            let Some(c) = coord(tile) else { continue };
            writer.add_raw_tile(c, &body).map_err(archive_err)?;
            if let Some(n) = per_zoom.get_mut(usize::from(tile.z().saturating_sub(options.minzoom)))
            {
                *n += 1;
            }
        }
    }
    writer.finalize().map_err(archive_err)?;
    let written = per_zoom.iter().sum();
    Ok(ExportSummary {
        planned: tiles.len() as u64,
        tiles: written,
        tiles_per_zoom: (options.minzoom..=options.maxzoom).zip(per_zoom).collect(),
        bytes: 0,
        data_version: snap.data_version.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstar::Envelope;

    #[test]
    fn options_are_checked() {
        let bad = ExportOptions {
            minzoom: 5,
            maxzoom: 3,
            ..ExportOptions::default()
        };
        assert!(matches!(bad.check(), Err(ExportError::Zooms { .. })));
        let high = ExportOptions {
            maxzoom: 23,
            ..ExportOptions::default()
        };
        assert!(matches!(high.check(), Err(ExportError::ZoomTooHigh(23))));
        assert!(ExportOptions::default().check().is_ok());
        assert_eq!(ExportOptions::default().scope(), Scope::Public);
    }

    #[test]
    fn temp_file_sits_beside_the_output() {
        assert_eq!(
            temp_path(Path::new("/a/b/risk.pmtiles")),
            Path::new("/a/b/risk.pmtiles.tmp")
        );
    }

    #[test]
    fn children_lie_inside_their_parent_envelope() {
        let p = TilePolicy::default();
        let parent = TileId::new(5, 26, 13).unwrap_or_else(|e| panic!("{e}"));
        let pe = envelope(parent, &p);
        for (x, y) in [(52, 26), (53, 26), (52, 27), (53, 27)] {
            let child = TileId::new(6, x, y).unwrap_or_else(|e| panic!("{e}"));
            let ce = envelope(child, &p);
            assert!(pe.contains_envelope(&ce), "{child}: {ce:?} not in {pe:?}");
        }
    }
}
