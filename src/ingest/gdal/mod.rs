//! OGR reader (cargo feature `gdal`): any vector source GDAL opens —
//! Shapefile, GeoPackage, Excel, KML, GML, a PostGIS connection string —
//! into the same [`Table`] as the native readers.
//!
//! Geometry in a projected CRS (CGCS2000 Gauss–Krüger EPSG:4527/4528 or
//! 4548/4549, UTM, Web Mercator, …) is converted by GDAL/PROJ to lon/lat in
//! CGCS2000 (EPSG:4490) when the source datum is CGCS2000, else WGS84, with
//! the traditional GIS axis order (x = longitude). Geographic WGS84/CGCS2000
//! sources, and sources without a CRS (spreadsheets with 经度/纬度 columns),
//! are left to the layer's configured `crs` as for the native readers.
//!
//! A Shapefile's DBF is decoded by its `.cpg` or language byte; without
//! either, the text is checked: UTF-8 if it is valid UTF-8, GBK otherwise.
//! GDAL's own errors and warnings are collected as issues of the file.

mod reproject;
mod shapefile;

use super::is_connection_string;
use super::issue::{Issue, IssueLevel, IssueSink, feature_label};
use super::table::{Record, Table};
use crate::crs::Crs;
use crate::model::Value;
use gdal::errors::CplErrType;
use gdal::vector::{FieldValue, LayerAccess};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use reproject::Reprojection;
use std::cell::RefCell;
use std::path::Path;

/// Extensions of spreadsheets, whose first row is always the header.
const SHEETS: [&str; 3] = ["xlsx", "xls", "ods"];

/// How to read one source.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions<'a> {
    /// The layer to read (from `layers.X.layer`).
    pub layer: Option<&'a str>,
    /// The layer to prefer when the source has several and none is named
    /// (riskmap's layer name, e.g. `enterprises`).
    pub preferred: Option<&'a str>,
    /// The DBF text encoding (from `layers.X.encoding`).
    pub encoding: Option<&'a str>,
    /// The CRS the configuration declares for the layer.
    pub declared: Crs,
    /// The config key of the layer, for messages (`layers.enterprises`).
    pub config_key: Option<&'a str>,
}

/// A table read through GDAL.
#[derive(Debug)]
pub struct GdalTable {
    /// The records, geometry in lon/lat when `crs` is set.
    pub table: Table,
    /// The CRS the geometry is now in when the reader converted it (the
    /// layer's configured `crs` must then not be applied again).
    pub crs: Option<Crs>,
}

thread_local! {
    /// GDAL messages raised on this thread since the last [`take_messages`].
    static MESSAGES: RefCell<Vec<(CplErrType, String)>> = const { RefCell::new(Vec::new()) };
}

/// Most GDAL messages kept per read.
const MAX_MESSAGES: usize = 50;

/// Routes GDAL's messages to the thread that raised them instead of stderr.
fn install_error_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        gdal::config::set_error_handler(|kind, _code, message| {
            if matches!(
                kind,
                CplErrType::Warning | CplErrType::Failure | CplErrType::Fatal
            ) {
                MESSAGES.with(|m| {
                    let mut m = m.borrow_mut();
                    if m.len() < MAX_MESSAGES {
                        m.push((kind, message.trim().to_string()));
                    }
                });
            }
        });
    });
}

fn take_messages() -> Vec<(CplErrType, String)> {
    MESSAGES.with(|m| std::mem::take(&mut *m.borrow_mut()))
}

/// The last GDAL failure raised on this thread since the read began.
fn last_failure() -> Option<String> {
    MESSAGES.with(|m| {
        m.borrow()
            .iter()
            .rev()
            .find(|(k, _)| matches!(k, CplErrType::Failure | CplErrType::Fatal))
            .map(|(_, m)| m.clone())
    })
}

fn extension(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

fn value_of(v: Option<FieldValue>) -> Value {
    let join = |items: Vec<String>| Value::Text(items.join(","));
    match v {
        None => Value::Null,
        Some(FieldValue::IntegerValue(i)) => Value::Int(i64::from(i)),
        Some(FieldValue::Integer64Value(i)) => Value::Int(i),
        Some(FieldValue::RealValue(f)) => Value::Float(f),
        Some(FieldValue::StringValue(s)) => Value::Text(s),
        Some(FieldValue::DateValue(d)) => Value::Text(d.to_string()),
        Some(FieldValue::DateTimeValue(d)) => {
            Value::Text(format!("{}{}", d.naive_local(), d.offset()))
        }
        Some(FieldValue::IntegerListValue(l)) => join(l.iter().map(i32::to_string).collect()),
        Some(FieldValue::Integer64ListValue(l)) => join(l.iter().map(i64::to_string).collect()),
        Some(FieldValue::RealListValue(l)) => join(l.iter().map(f64::to_string).collect()),
        Some(FieldValue::StringListValue(l)) => join(l),
    }
}

/// A geometry in riskmap's terms: 2D, lon/lat when reprojected, a
/// one-point multipoint as a point.
fn geometry_of(
    g: &gdal::vector::Geometry,
    reprojection: Option<&Reprojection>,
) -> Result<Option<geo::Geometry<f64>>, String> {
    if g.is_empty() {
        return Ok(None);
    }
    let converted;
    let g = match reprojection {
        Some(r) => {
            converted = g.transform(&r.transform).map_err(|e| {
                format!(
                    "cannot convert from {} to {}: {e}",
                    r.from,
                    r.target.as_str()
                )
            })?;
            &converted
        }
        None => g,
    };
    let geo = g
        .to_geo()
        .map_err(|e| format!("unsupported geometry {}: {e}", g.geometry_name()))?;
    Ok(Some(match geo {
        geo::Geometry::MultiPoint(mp) if mp.0.len() == 1 => geo::Geometry::Point(mp.0[0]),
        other => other,
    }))
}

/// Opens `source` and reads one layer. `file` names it in issues.
pub fn read(
    source: &Path,
    file: &str,
    opts: &ReadOptions<'_>,
    issues: &mut Vec<Issue>,
) -> Result<GdalTable, Issue> {
    install_error_handler();
    take_messages();
    let result = read_inner(source, file, opts, issues);
    // GDAL's warnings become warnings of the file (its failures are in the
    // error already).
    let mut sink = IssueSink::new(file, issues);
    for (kind, message) in take_messages() {
        if kind == CplErrType::Warning {
            sink.push(IssueLevel::Warning, None, None, format!("GDAL: {message}"));
        }
    }
    result
}

fn read_inner(
    source: &Path,
    file: &str,
    opts: &ReadOptions<'_>,
    issues: &mut Vec<Issue>,
) -> Result<GdalTable, Issue> {
    if !is_connection_string(&source.to_string_lossy()) && !source.exists() {
        return Err(Issue::file_error(file, "the file does not exist"));
    }
    let ext = extension(source);
    let mut open_options: Vec<String> = Vec::new();
    if ext == "shp"
        && let Some(enc) = shapefile::check(source, file, opts.encoding)?
    {
        open_options.push(format!("ENCODING={enc}"));
    }
    // A ledger's first row is its header, even when every cell is text.
    let sheet_option = SHEETS
        .contains(&ext.as_str())
        .then(|| format!("OGR_{}_HEADERS", ext.to_ascii_uppercase()));
    if let Some(key) = &sheet_option {
        let _ = gdal::config::set_thread_local_config_option(key, "FORCE");
    }
    let result = open_and_read(source, file, opts, &open_options, issues);
    if let Some(key) = &sheet_option {
        let _ = gdal::config::clear_thread_local_config_option(key);
    }
    result
}

fn open_and_read(
    source: &Path,
    file: &str,
    opts: &ReadOptions<'_>,
    open_options: &[String],
    issues: &mut Vec<Issue>,
) -> Result<GdalTable, Issue> {
    let open_refs: Vec<&str> = open_options.iter().map(String::as_str).collect();
    let dataset = Dataset::open_ex(
        source,
        DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
            open_options: (!open_refs.is_empty()).then_some(open_refs.as_slice()),
            ..Default::default()
        },
    )
    .map_err(|e| {
        let detail = last_failure().unwrap_or_else(|| e.to_string());
        Issue::file_error(
            file,
            format!("GDAL cannot open it as a vector dataset: {detail}"),
        )
    })?;
    let mut layer = pick_layer(&dataset, file, opts)?;
    let mut sink = IssueSink::new(file, issues);
    let reprojection = reproject::plan(layer.spatial_ref(), file, opts, &mut sink)?;
    let columns: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
    let expected = layer.try_feature_count();
    let mut table = Table {
        columns,
        records: Vec::new(),
    };
    for (index, feature) in layer.features().enumerate() {
        let values: Vec<Value> = (0..table.columns.len())
            .map(|i| match feature.field(i) {
                Ok(v) => value_of(v),
                Err(e) => {
                    sink.push(
                        IssueLevel::Error,
                        Some(feature_label(index, None)),
                        table.columns.get(i).map(String::as_str),
                        format!("unreadable value: {e}"),
                    );
                    Value::Null
                }
            })
            .collect();
        let geometry = match feature.geometry() {
            None => None,
            Some(g) => match geometry_of(g, reprojection.as_ref()) {
                Ok(g) => g,
                Err(message) => {
                    sink.push(
                        IssueLevel::Error,
                        Some(feature_label(index, None)),
                        Some("geometry"),
                        message,
                    );
                    None
                }
            },
        };
        table.records.push(Record { geometry, values });
    }
    if let Some(n) = expected
        && table.records.len() as u64 != n
    {
        let detail = last_failure().map(|m| format!(": {m}")).unwrap_or_default();
        return Err(Issue::file_error(
            file,
            format!(
                "{} features were read but the source declares {n} (truncated or corrupt file?){detail}",
                table.records.len()
            ),
        ));
    }
    if let Some(m) = last_failure() {
        return Err(Issue::file_error(
            file,
            format!("GDAL failed while reading it: {m}"),
        ));
    }
    Ok(GdalTable {
        table,
        crs: reprojection.map(|r| r.target),
    })
}

fn pick_layer<'d>(
    dataset: &'d Dataset,
    file: &str,
    opts: &ReadOptions<'_>,
) -> Result<gdal::vector::Layer<'d>, Issue> {
    let names: Vec<String> = dataset.layers().map(|l| l.name()).collect();
    let listed = || {
        names
            .iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let key = opts.config_key.unwrap_or("layers.NAME");
    let name = match opts.layer {
        Some(wanted) => {
            if !names.iter().any(|n| n == wanted) {
                return Err(Issue::file_error(
                    file,
                    format!(
                        "it has no layer {wanted:?} ({key}.layer); its layers: {}",
                        listed()
                    ),
                ));
            }
            wanted.to_string()
        }
        None => match names.as_slice() {
            [] => return Err(Issue::file_error(file, "it holds no vector layer")),
            [only] => only.clone(),
            _ => match opts.preferred.filter(|p| names.iter().any(|n| n == p)) {
                Some(p) => p.to_string(),
                None => {
                    return Err(Issue::file_error(
                        file,
                        format!(
                            "it holds {} layers ({}); name the one to read with {key}.layer",
                            names.len(),
                            listed()
                        ),
                    ));
                }
            },
        },
    };
    dataset
        .layer_by_name(&name)
        .map_err(|e| Issue::file_error(file, format!("cannot open layer {name:?}: {e}")))
}
