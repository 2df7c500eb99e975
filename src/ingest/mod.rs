//! Reading a dataset directory: one reader per format feeding one builder
//! and validator that collects every problem with its file, feature and
//! field, never stopping at the first.
//!
//! Formats: GeoJSON ([`geojson`]), FlatGeobuf ([`fgb`]), CSV points in
//! UTF-8 or GBK ([`csv`]).

pub mod build;
pub mod csv;
pub mod fgb;
pub mod fields;
pub mod geojson;
pub mod hierarchy;
pub mod issue;
pub mod table;

use crate::config::{Config, OnInvalid};
use crate::index::Store;
use crate::model::{Dataset, LayerId};
use build::Builder;
pub use issue::{Issue, IssueLevel, IssueSink};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use table::Table;

/// Extensions tried, in order, when the config names no file for a layer.
pub const EXTENSIONS: [&str; 3] = ["fgb", "geojson", "csv"];
/// Extensions that need the `gdal` feature.
const GDAL_EXTENSIONS: [&str; 5] = ["gpkg", "shp", "xlsx", "kml", "gml"];

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
    /// The data directory.
    pub dir: PathBuf,
    /// Every problem found (errors and warnings).
    pub issues: Vec<Issue>,
}

fn find_file(dir: &Path, layer: LayerId, config: &Config) -> Option<PathBuf> {
    if let Some(f) = &config.layers.get(layer).file {
        return Some(dir.join(f));
    }
    EXTENSIONS
        .iter()
        .chain(GDAL_EXTENSIONS.iter())
        .map(|ext| dir.join(format!("{}.{ext}", layer.as_str())))
        .find(|p| p.exists())
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Reads one file of any supported format into a table.
pub fn read_table(path: &Path, bytes: &[u8], issues: &mut Vec<Issue>) -> Result<Table, Issue> {
    let name = display_name(path);
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "geojson" | "json" => geojson::read(&name, bytes, issues),
        "fgb" => fgb::read(&name, bytes, issues),
        "csv" | "txt" => csv::read(&name, bytes, issues),
        e if GDAL_EXTENSIONS.contains(&e) => Err(Issue::file_error(
            &name,
            format!(".{e} files need GDAL: build riskmap with `--features gdal`"),
        )),
        e => Err(Issue::file_error(
            &name,
            format!("unsupported file type .{e} (use .fgb, .geojson or .csv)"),
        )),
    }
}

struct ReadLayer {
    layer: LayerId,
    name: String,
    table: Option<Table>,
    file: Option<SourceFile>,
    issues: Vec<Issue>,
}

fn read_layer(dir: &Path, layer: LayerId, config: &Config) -> ReadLayer {
    let mut out = ReadLayer {
        layer,
        name: layer.as_str().to_string(),
        table: None,
        file: None,
        issues: Vec::new(),
    };
    let Some(path) = find_file(dir, layer, config) else {
        match layer {
            LayerId::Counties => {}
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
    let bytes = match std::fs::read(&path) {
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
    match read_table(&path, &bytes, &mut out.issues) {
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
pub fn load_dir(dir: &Path, config: &Config) -> Result<Loaded, LoadError> {
    let read: Vec<ReadLayer> = LayerId::INPUTS
        .par_iter()
        .map(|&layer| read_layer(dir, layer, config))
        .collect();
    let mut issues = Vec::new();
    let mut files = Vec::new();
    let mut dataset = Dataset::default();
    let mut counties = Vec::new();
    let mut grid = Vec::new();
    let mut names: HashMap<LayerId, String> = HashMap::new();
    let mut fatal = false;
    for r in read {
        names.insert(r.layer, r.name.clone());
        fatal |= r
            .issues
            .iter()
            .any(|i| i.is_error() && i.feature.is_none() && i.field.is_none());
        issues.extend(r.issues);
        files.extend(r.file);
        let Some(table) = r.table else { continue };
        let cfg = config.layers.get(r.layer);
        let mut b = Builder::new(r.layer, cfg, IssueSink::new(&r.name, &mut issues));
        match r.layer {
            LayerId::Enterprises => dataset.enterprises = b.enterprises(&table),
            LayerId::HazardSources => dataset.hazard_sources = b.hazard_sources(&table),
            LayerId::CollapseZones => dataset.collapse_zones = b.collapse_zones(&table),
            LayerId::GridCells => grid = b.grid_units(&table),
            LayerId::Counties => counties = b.counties(&table),
            _ => {}
        }
    }
    let name = |l: LayerId| {
        names
            .get(&l)
            .cloned()
            .unwrap_or_else(|| l.as_str().to_string())
    };
    let (county_file, grid_file) = (name(LayerId::Counties), name(LayerId::GridCells));
    {
        let mut county_issues = Vec::new();
        let mut county_sink = IssueSink::new(&county_file, &mut county_issues);
        let mut grid_sink = IssueSink::new(&grid_file, &mut issues);
        dataset.units = hierarchy::assemble(counties, grid, &mut county_sink, &mut grid_sink);
        issues.extend(county_issues);
    }
    check_ids(
        &mut dataset,
        &name(LayerId::Enterprises),
        &name(LayerId::HazardSources),
        &name(LayerId::CollapseZones),
        &mut issues,
    );
    let has_errors = issues.iter().any(Issue::is_error);
    if fatal || (has_errors && config.on_invalid == OnInvalid::Reject) {
        return Err(LoadError {
            dir: dir.to_path_buf(),
            issues,
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
        let mut seen: HashMap<String, usize> = HashMap::with_capacity(items.len());
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
                seen.insert(key.to_string(), i);
            }
        }
        let mut k = keep.into_iter();
        items.retain(|_| k.next().unwrap_or(true));
    }
    dedup(&mut ds.enterprises, |e| &e.id, ent_file, issues);
    dedup(&mut ds.hazard_sources, |h| &h.id, hs_file, issues);
    dedup(&mut ds.collapse_zones, |z| &z.id, cz_file, issues);
    let ids: std::collections::HashSet<&str> =
        ds.enterprises.iter().map(|e| e.id.as_str()).collect();
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
    out
}
