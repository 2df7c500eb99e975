//! Reading a dataset directory: one reader per format feeding one builder
//! and validator that collects every problem with its file, feature and
//! field, never stopping at the first.
//!
//! Formats: GeoJSON ([`geojson`]), FlatGeobuf ([`fgb`]), CSV points in
//! UTF-8 or GBK ([`csv`]) and, with the `gdal` cargo feature, anything OGR
//! reads (`gdal`: Shapefile, GeoPackage, Excel, KML, GML, PostGIS). A
//! `postgresql://` URL instead of a directory reads every layer from a
//! PostGIS database with a native driver ([`postgis`]).
//!
//! The layers, fields, formats and checks for users: `docs/data.md`.

pub mod alarms;
pub mod build;
pub mod cache;
pub mod csv;
pub mod fgb;
pub mod fields;
#[cfg(feature = "gdal")]
pub mod gdal;
pub mod geojson;
pub mod hierarchy;
pub mod issue;
pub mod options;
pub mod postgis;
pub mod table;

use crate::crs::Crs;
use crate::index::Store;
use crate::model::{Dataset, LayerId};
use build::Builder;
pub use issue::{Issue, IssueLevel, IssueSink};
pub use options::{LayerConfig, LayersConfig, OnInvalid, Options};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use table::Table;

/// Extensions tried, in order, when the config names no file for a layer.
pub const EXTENSIONS: [&str; 3] = ["fgb", "geojson", "csv"];
/// Extensions read through GDAL (the `gdal` feature), tried in this order
/// after [`EXTENSIONS`].
pub const GDAL_EXTENSIONS: [&str; 7] = ["gpkg", "shp", "xlsx", "xls", "ods", "kml", "gml"];

/// Whether a layer's `file` is a database connection string (`PG:…`,
/// read through GDAL) rather than a path.
pub fn is_connection_string(source: &str) -> bool {
    source.starts_with("PG:")
}

/// A name for a source fit for messages: a connection string loses its
/// password.
pub fn source_label(source: &str) -> String {
    if !is_connection_string(source) {
        return source.to_string();
    }
    source
        .split_whitespace()
        .map(|part| match part.split_once('=') {
            Some((key, _))
                if key
                    .trim_start_matches("PG:")
                    .eq_ignore_ascii_case("password") =>
            {
                format!("{key}=***")
            }
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a source is read through GDAL (by extension or as a connection
/// string).
pub(crate) fn needs_gdal(path: &Path) -> bool {
    is_connection_string(&path.to_string_lossy())
        || path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .is_some_and(|e| GDAL_EXTENSIONS.contains(&e.as_str()))
}

/// One input file that was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The layer it holds.
    pub layer: LayerId,
    /// Its path.
    pub path: PathBuf,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
}

/// A dataset that loaded, with its warnings (and, with
/// `on_invalid = "skip"`, the errors of features left out, as warnings).
#[derive(Debug)]
pub struct Loaded {
    /// The features.
    pub dataset: Dataset,
    /// Warnings, in file order.
    pub issues: Vec<Issue>,
    /// The files read.
    pub files: Vec<SourceFile>,
}

/// A dataset that did not load.
#[derive(Debug, thiserror::Error)]
#[error("{} problem(s) in {dir}: first: {}", issues.len(), issues.first().map(|i| i.to_string()).unwrap_or_default())]
pub struct LoadError {
    /// The data directory (or the database URL, without its password).
    pub dir: PathBuf,
    /// Every problem found (errors and warnings).
    pub issues: Vec<Issue>,
    /// The source could not be read at all (a database that cannot be
    /// reached or whose query failed), as opposed to data that do not
    /// validate: trying again later may succeed with the same data.
    pub unreachable: bool,
}

pub(crate) fn find_file(dir: &Path, layer: LayerId, config: &Options<'_>) -> Option<PathBuf> {
    if let Some(f) = &config.layers.get(layer).file {
        if is_connection_string(&f.to_string_lossy()) {
            return Some(f.clone());
        }
        return Some(dir.join(f));
    }
    EXTENSIONS
        .iter()
        .chain(GDAL_EXTENSIONS.iter())
        .map(|ext| dir.join(format!("{}.{ext}", layer.as_str())))
        .find(|p| p.exists())
}

fn display_name(path: &Path) -> String {
    let text = path.to_string_lossy();
    if is_connection_string(&text) {
        return source_label(&text);
    }
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Reads one file of any supported format into a table. Formats read
/// through GDAL (`gdal` feature) are opened by `path` (`bytes` is not used);
/// their geometry is in lon/lat even when the file is projected.
pub fn read_table(path: &Path, bytes: &[u8], issues: &mut Vec<Issue>) -> Result<Table, Issue> {
    let name = display_name(path);
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if needs_gdal(path) {
        return read_gdal(path, &name, None, issues).map(|(table, _)| table);
    }
    match ext.as_str() {
        "geojson" | "json" => geojson::read(&name, bytes, issues),
        "fgb" => fgb::read(&name, bytes, issues),
        "csv" | "txt" => csv::read(&name, bytes, issues),
        e => Err(Issue::file_error(
            &name,
            format!("unsupported file type .{e} (use .fgb, .geojson or .csv)"),
        )),
    }
}

/// Reads a source through GDAL: the table and, when the reader converted
/// the geometry from the file's own CRS, the CRS it is now in.
#[cfg(feature = "gdal")]
fn read_gdal(
    path: &Path,
    name: &str,
    layer: Option<(LayerId, &LayerConfig)>,
    issues: &mut Vec<Issue>,
) -> Result<(Table, Option<Crs>), Issue> {
    let key = layer.map(|(l, _)| format!("layers.{l}"));
    let opts = gdal::ReadOptions {
        layer: layer.and_then(|(_, c)| c.layer.as_deref()),
        preferred: layer.map(|(l, _)| l.as_str()),
        encoding: layer.and_then(|(_, c)| c.encoding.as_deref()),
        declared: layer.map(|(_, c)| c.crs).unwrap_or_default(),
        config_key: key.as_deref(),
    };
    gdal::read(path, name, &opts, issues).map(|t| (t.table, t.crs))
}

/// Without the `gdal` feature, GDAL sources are an error that says how to
/// build riskmap to read them.
#[cfg(not(feature = "gdal"))]
fn read_gdal(
    path: &Path,
    name: &str,
    _layer: Option<(LayerId, &LayerConfig)>,
    _issues: &mut Vec<Issue>,
) -> Result<(Table, Option<Crs>), Issue> {
    let what = if is_connection_string(&path.to_string_lossy()) {
        "database sources".to_string()
    } else {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        format!(".{ext} files")
    };
    Err(Issue::file_error(
        name,
        format!("{what} need GDAL: build riskmap with `--features gdal`"),
    ))
}

/// The bytes that identify a GDAL source: its files (a Shapefile's
/// companions too) or, for a database, the connection string.
fn gdal_source_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    let text = path.to_string_lossy();
    if is_connection_string(&text) {
        return Ok(text.as_bytes().to_vec());
    }
    let mut bytes = std::fs::read(path)?;
    for ext in ["shx", "dbf", "prj", "cpg"] {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("shp"))
            && let Ok(b) = std::fs::read(path.with_extension(ext))
        {
            bytes.extend_from_slice(&b);
        }
    }
    Ok(bytes)
}

/// One layer as read from its source, before typing and validation.
struct ReadLayer {
    layer: LayerId,
    /// The source's name in messages (file name or table).
    name: String,
    table: Option<Table>,
    /// The CRS a GDAL or PostGIS source's geometry was converted to (it
    /// overrides the configured `crs`).
    crs: Option<Crs>,
    file: Option<SourceFile>,
    issues: Vec<Issue>,
}

impl ReadLayer {
    /// Nothing read yet for `layer`, named after it.
    fn new(layer: LayerId) -> Self {
        ReadLayer {
            layer,
            name: layer.as_str().to_string(),
            table: None,
            crs: None,
            file: None,
            issues: Vec::new(),
        }
    }
}

fn read_layer(dir: &Path, layer: LayerId, config: &Options<'_>) -> ReadLayer {
    let mut out = ReadLayer::new(layer);
    let Some(path) = find_file(dir, layer, config) else {
        match layer {
            LayerId::Counties | LayerId::HiddenDangers | LayerId::Sensors | LayerId::Alarms => {}
            LayerId::GridCells => out.issues.push(Issue::file_error(
                layer.as_str(),
                format!(
                    "no {0}.fgb, {0}.geojson or {0}.csv in {1}",
                    layer,
                    dir.display()
                ),
            )),
            _ => out.issues.push(Issue {
                level: IssueLevel::Warning,
                ..Issue::file_error(
                    layer.as_str(),
                    format!("no {layer} file in {}: the layer is empty", dir.display()),
                )
            }),
        }
        return out;
    };
    out.name = display_name(&path);
    let gdal = needs_gdal(&path);
    let read = if gdal {
        gdal_source_bytes(&path)
    } else {
        std::fs::read(&path)
    };
    let bytes = match read {
        Ok(b) => b,
        Err(e) => {
            out.issues.push(Issue::file_error(
                &out.name,
                format!("cannot read {}: {e}", path.display()),
            ));
            return out;
        }
    };
    out.file = Some(SourceFile {
        layer,
        path: path.clone(),
        sha256: hex::encode(Sha256::digest(&bytes)),
    });
    let table = if gdal {
        read_gdal(
            &path,
            &out.name,
            Some((layer, config.layers.get(layer))),
            &mut out.issues,
        )
        .map(|(t, crs)| {
            out.crs = crs;
            t
        })
    } else {
        read_table(&path, &bytes, &mut out.issues)
    };
    match table {
        Ok(t) => out.table = Some(t),
        Err(issue) => out.issues.push(issue),
    }
    out
}

/// Loads and validates a dataset directory.
///
/// With `on_invalid = "reject"` (the default) any error fails the load and
/// the [`LoadError`] lists every problem. With `"skip"`, features with errors
/// are left out and their errors become warnings; file-level errors (a layer
/// that cannot be read at all) still fail the load.
///
/// Each layer is read and typed in its own task (its file's bytes and
/// untyped table are dropped as soon as it is typed); the checks across
/// layers follow. Problems are reported in the same order as a sequential
/// read would.
pub fn load_dir(dir: &Path, config: &Options<'_>) -> Result<Loaded, LoadError> {
    let built: Vec<BuiltLayer> = LayerId::INPUTS
        .par_iter()
        .map(|&layer| build_layer(read_layer(dir, layer, config), config))
        .collect();
    link(dir, built, config)
}

/// One layer typed by its builder, with its own problems (those of the
/// read first).
struct BuiltLayer {
    layer: LayerId,
    name: String,
    file: Option<SourceFile>,
    issues: Vec<Issue>,
    /// A file-level error: the layer could not be read at all.
    fatal: bool,
    typed: Typed,
}

/// The typed features of one layer.
enum Typed {
    /// Nothing was read.
    Nothing,
    Enterprises(Vec<crate::model::Enterprise>),
    HazardSources(Vec<crate::model::HazardSource>),
    CollapseZones(Vec<crate::model::CollapseZone>),
    Grid(Vec<crate::model::GridUnit>),
    Counties(Vec<crate::model::GridUnit>),
    Dangers(Vec<build::DangerRow>),
    Sensors(Vec<crate::model::Sensor>),
    Alarms(Vec<build::AlarmRow>),
    /// A layer without features of its own.
    Other,
}

/// Types the features of one layer read.
fn build_layer(r: ReadLayer, config: &Options<'_>) -> BuiltLayer {
    let mut issues = r.issues;
    let fatal = issues
        .iter()
        .any(|i| i.is_error() && i.feature.is_none() && i.field.is_none());
    let typed = match r.table {
        None => Typed::Nothing,
        Some(table) => {
            let converted;
            let mut cfg = config.layers.get(r.layer);
            if let Some(crs) = r.crs {
                converted = LayerConfig { crs, ..cfg.clone() };
                cfg = &converted;
            }
            let mut b = Builder::new(r.layer, cfg, IssueSink::new(&r.name, &mut issues));
            match r.layer {
                LayerId::Enterprises => Typed::Enterprises(b.enterprises(&table)),
                LayerId::HazardSources => Typed::HazardSources(b.hazard_sources(&table)),
                LayerId::CollapseZones => Typed::CollapseZones(b.collapse_zones(&table)),
                LayerId::GridCells => Typed::Grid(b.grid_units(&table)),
                LayerId::Counties => Typed::Counties(b.counties(&table)),
                LayerId::HiddenDangers => Typed::Dangers(b.hidden_dangers(&table)),
                LayerId::Sensors => Typed::Sensors(b.sensors(&table)),
                LayerId::Alarms => Typed::Alarms(b.alarms(&table)),
                _ => Typed::Other,
            }
        }
    };
    BuiltLayer {
        layer: r.layer,
        name: r.name,
        file: r.file,
        issues,
        fatal,
        typed,
    }
}

/// Types, validates and links the layers read from one source (`dir`
/// names it in the [`LoadError`]).
fn assemble(dir: &Path, read: Vec<ReadLayer>, config: &Options<'_>) -> Result<Loaded, LoadError> {
    let built = read
        .into_par_iter()
        .map(|r| build_layer(r, config))
        .collect();
    link(dir, built, config)
}

/// Validates and links the typed layers: the grid hierarchy on one side,
/// ids and references between the point layers on the other (in parallel;
/// their problems in this order).
fn link(dir: &Path, built: Vec<BuiltLayer>, config: &Options<'_>) -> Result<Loaded, LoadError> {
    let mut issues = Vec::new();
    let mut files = Vec::new();
    let mut dataset = Dataset::default();
    let mut counties = Vec::new();
    let mut grid = Vec::new();
    let mut dangers = Vec::new();
    let mut alarm_rows = Vec::new();
    let mut names: HashMap<LayerId, String> = HashMap::new();
    let mut fatal = false;
    let mut grid_read = false;
    for b in built {
        names.insert(b.layer, b.name);
        fatal |= b.fatal;
        issues.extend(b.issues);
        files.extend(b.file);
        match b.typed {
            Typed::Nothing => continue,
            Typed::Enterprises(v) => dataset.enterprises = v,
            Typed::HazardSources(v) => dataset.hazard_sources = v,
            Typed::CollapseZones(v) => dataset.collapse_zones = v,
            Typed::Grid(v) => grid = v,
            Typed::Counties(v) => counties = v,
            Typed::Dangers(v) => {
                dataset.has_hidden_dangers = true;
                dangers = v;
            }
            Typed::Sensors(v) => dataset.sensors = v,
            Typed::Alarms(v) => alarm_rows = v,
            Typed::Other => {}
        }
        grid_read |= b.layer == LayerId::GridCells;
    }
    let name = |l: LayerId| {
        names
            .get(&l)
            .cloned()
            .unwrap_or_else(|| l.as_str().to_string())
    };
    let (county_file, grid_file) = (name(LayerId::Counties), name(LayerId::GridCells));
    let (hierarchy, points) = rayon::join(
        || {
            let mut grid_issues = Vec::new();
            let mut county_issues = Vec::new();
            let mut county_sink = IssueSink::new(&county_file, &mut county_issues);
            let mut grid_sink = IssueSink::new(&grid_file, &mut grid_issues);
            let units = hierarchy::assemble(counties, grid, &mut county_sink, &mut grid_sink);
            grid_issues.extend(county_issues);
            (units, grid_issues)
        },
        || {
            let mut issues = Vec::new();
            check_ids(
                &mut dataset,
                &name(LayerId::Enterprises),
                &name(LayerId::HazardSources),
                &name(LayerId::CollapseZones),
                &mut issues,
            );
            dataset.hidden_dangers = link_dangers(
                dangers,
                &dataset.enterprises,
                &name(LayerId::HiddenDangers),
                &mut issues,
            );
            dataset.alarms = alarms::link(
                &mut dataset.sensors,
                alarm_rows,
                (&name(LayerId::Sensors), &name(LayerId::Alarms)),
                &mut issues,
            );
            issues
        },
    );
    let (units, hierarchy_issues) = hierarchy;
    dataset.units = units;
    issues.extend(hierarchy_issues);
    if grid_read
        && !dataset
            .units
            .iter()
            .any(|u| u.level == crate::model::Level::Cell)
    {
        // Without unit cells nothing can be scored: never serve that.
        fatal = true;
        issues.push(Issue::file_error(
            &grid_file,
            "the grid holds no unit cells (level `cell`): there is nothing to score",
        ));
    }
    issues.extend(points);
    let has_errors = issues.iter().any(Issue::is_error);
    if fatal || (has_errors && config.on_invalid == OnInvalid::Reject) {
        return Err(LoadError {
            dir: dir.to_path_buf(),
            issues,
            unreachable: false,
        });
    }
    for i in &mut issues {
        i.level = IssueLevel::Warning;
    }
    Ok(Loaded {
        dataset,
        issues,
        files,
    })
}

/// The content hash of a dataset: the layers' file hashes plus the
/// serialized `[risk]` constants (16 hex digits).
pub fn data_version(files: &[SourceFile], config: &Options<'_>) -> String {
    files_version(files, &config.version_salt)
}

/// The content hash of the files (their layers and SHA-256s, in layer
/// order) and `salt` (16 hex digits).
pub fn files_version(files: &[SourceFile], salt: &[u8]) -> String {
    let mut h = Sha256::new();
    let mut sorted: Vec<&SourceFile> = files.iter().collect();
    sorted.sort_by_key(|f| f.layer);
    for f in sorted {
        h.update(f.layer.as_str().as_bytes());
        h.update(b"\0");
        h.update(f.sha256.as_bytes());
        h.update(b"\n");
    }
    h.update(salt);
    hex::encode(&h.finalize()[..8])
}

/// Duplicate ids (later ones are left out) and hazard sources whose
/// `enterprise_id` names no enterprise.
fn check_ids(
    ds: &mut Dataset,
    ent_file: &str,
    hs_file: &str,
    cz_file: &str,
    issues: &mut Vec<Issue>,
) {
    fn dedup<T>(items: &mut Vec<T>, id: impl Fn(&T) -> &str, file: &str, issues: &mut Vec<Issue>) {
        let mut seen: foldhash::HashMap<&str, usize> =
            HashMap::with_capacity_and_hasher(items.len(), Default::default());
        let mut keep = vec![true; items.len()];
        for (i, item) in items.iter().enumerate() {
            let key = id(item);
            if let Some(first) = seen.get(key) {
                keep[i] = false;
                issues.push(Issue {
                    level: IssueLevel::Error,
                    file: file.to_string(),
                    feature: Some(key.to_string()),
                    field: Some("id".into()),
                    message: format!(
                        "duplicate id {key:?} (also feature {} of the valid ones)",
                        first + 1
                    ),
                });
            } else {
                seen.insert(key, i);
            }
        }
        let mut k = keep.into_iter();
        items.retain(|_| k.next().unwrap_or(true));
    }
    dedup(&mut ds.enterprises, |e| &e.id, ent_file, issues);
    dedup(&mut ds.hazard_sources, |h| &h.id, hs_file, issues);
    dedup(&mut ds.collapse_zones, |z| &z.id, cz_file, issues);
    let ids: foldhash::HashSet<&str> = ds.enterprises.iter().map(|e| e.id.as_str()).collect();
    let mut bad = Vec::new();
    for h in &ds.hazard_sources {
        if let Some(e) = &h.enterprise_id
            && !ids.contains(e.as_str())
        {
            bad.push(Issue {
                level: IssueLevel::Error,
                file: hs_file.to_string(),
                feature: Some(h.id.clone()),
                field: Some("enterprise_id".into()),
                message: format!("enterprise {e:?} is not in the enterprises layer"),
            });
        }
    }
    let bad_ids: std::collections::HashSet<String> =
        bad.iter().filter_map(|i| i.feature.clone()).collect();
    ds.hazard_sources.retain(|h| !bad_ids.contains(&h.id));
    issues.extend(bad);
}

/// Links hidden-danger records to their enterprises: a duplicate id, an
/// `enterprise_id` that names no enterprise, or a record with neither a
/// point nor an enterprise is an error (the record is left out); a record
/// without a point takes its enterprise's.
fn link_dangers(
    rows: Vec<build::DangerRow>,
    enterprises: &[crate::model::Enterprise],
    file: &str,
    issues: &mut Vec<Issue>,
) -> Vec<crate::model::HiddenDanger> {
    let by_id: foldhash::HashMap<&str, &crate::model::Enterprise> =
        enterprises.iter().map(|e| (e.id.as_str(), e)).collect();
    let mut seen: foldhash::HashMap<String, String> =
        HashMap::with_capacity_and_hasher(rows.len(), Default::default());
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let error = |field: &str, message: String| Issue {
            level: IssueLevel::Error,
            file: file.to_string(),
            feature: Some(row.label.clone()),
            field: Some(field.to_string()),
            message,
        };
        if let Some(first) = seen.get(&row.danger.id) {
            issues.push(error(
                "id",
                format!("duplicate id {:?} (also feature {first})", row.danger.id),
            ));
            continue;
        }
        let mut danger = row.danger;
        if let Some(eid) = &danger.enterprise_id {
            match by_id.get(eid.as_str()) {
                Some(e) if !row.located => danger.location = e.location,
                Some(_) => {}
                None => {
                    issues.push(error(
                        "enterprise_id",
                        format!("enterprise {eid:?} is not in the enterprises layer"),
                    ));
                    continue;
                }
            }
        }
        seen.insert(danger.id.clone(), row.label);
        out.push(danger);
    }
    out
}

/// Checks that need the index: points outside every cell (kept, flagged)
/// and enterprises whose ledger `cell_code` disagrees with their location.
pub fn check_locations(store: &Store, files: &[SourceFile]) -> Vec<Issue> {
    let name = |l: LayerId| {
        files
            .iter()
            .find(|f| f.layer == l)
            .map(|f| display_name(&f.path))
            .unwrap_or_else(|| l.as_str().to_string())
    };
    let (ef, hf) = (name(LayerId::Enterprises), name(LayerId::HazardSources));
    let mut out = Vec::new();
    for (i, e) in store.dataset.enterprises.iter().enumerate() {
        let cell = store
            .enterprise_cell(i as u32)
            .map(|c| store.unit(c).code.as_str());
        let message = match (cell, e.cell_code.as_deref()) {
            (None, _) => Some("the point lies outside every cell (kept, not scored)".to_string()),
            (Some(c), Some(l)) if c != l => Some(format!(
                "ledger cell_code {l} but the point lies in cell {c}"
            )),
            _ => None,
        };
        if let Some(message) = message {
            out.push(Issue {
                level: IssueLevel::Warning,
                file: ef.clone(),
                feature: Some(e.id.clone()),
                field: Some("cell_code".into()),
                message,
            });
        }
    }
    for (i, h) in store.dataset.hazard_sources.iter().enumerate() {
        if store.hazard_cell(i as u32).is_none() {
            out.push(Issue {
                level: IssueLevel::Warning,
                file: hf.clone(),
                feature: Some(h.id.clone()),
                field: None,
                message: "the point lies outside every cell (kept; it still reaches nearby cells)"
                    .into(),
            });
        }
    }
    let df = name(LayerId::HiddenDangers);
    for (_, entry) in store.dangers().iter() {
        let d = &entry.record;
        if entry.cell.is_none() {
            out.push(Issue {
                level: IssueLevel::Warning,
                file: df.clone(),
                feature: Some(d.id.clone()),
                field: None,
                message: "the point lies outside every cell (kept, not scored)".into(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_strings_hide_their_password() {
        assert_eq!(
            source_label("PG:host=db dbname=risk password=s3cret user=u"),
            "PG:host=db dbname=risk password=*** user=u"
        );
        assert_eq!(source_label("PG:password=x"), "PG:password=***");
        assert_eq!(source_label("a/b.gpkg"), "a/b.gpkg");
        assert!(needs_gdal(Path::new("PG:dbname=risk")));
        assert!(needs_gdal(Path::new("data/x.SHP")));
        assert!(!needs_gdal(Path::new("data/x.geojson")));
    }

    #[cfg(not(feature = "gdal"))]
    #[test]
    fn gdal_sources_say_how_to_build() {
        let mut issues = Vec::new();
        for source in ["x.shp", "x.gpkg", "x.xlsx", "PG:dbname=risk password=p"] {
            let err = read_table(Path::new(source), b"", &mut issues).err();
            let msg = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(msg.contains("--features gdal"), "{msg}");
            assert!(!msg.contains("password=p"), "{msg}");
        }
    }
}
