//! GeoPackage and Shapefile writers through GDAL (cargo feature `gdal`).
//!
//! Both are in lon/lat (EPSG:4326). A GeoPackage keeps every field name as
//! it is, Chinese included, and is written in one transaction. A Shapefile's
//! DBF allows 10-byte names, so fields get the short names of
//! [`crate::model::short_names`]; a legend `NAME.fields.csv` beside it lists
//! short name, full name and type. Its text is UTF-8 (a `.cpg` says so) and
//! booleans, which DBF lacks, are integers 0/1.
//!
//! The files appear whole or not at all: they are written under a temporary
//! name in the same directory and then renamed.

use super::{ColumnKind, FeatureTable, GeometryKind, WriteError, io_error};
use crate::model::Value;
use crate::model::short_names::dbf_names;
use gdal::spatial_ref::{AxisMappingStrategy, SpatialRef};
use gdal::vector::{
    Feature, FieldDefn, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType, ToGdal,
};
use gdal::{Dataset, DriverManager};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Widest text field a DBF allows, bytes.
const DBF_TEXT_BYTES: usize = 254;

fn gdal_error(path: &Path) -> impl Fn(gdal::errors::GdalError) -> WriteError + '_ {
    move |e| WriteError::Gdal {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// A name for a temporary sibling of `path` (`.NAME.PID.tmp` + `suffix`).
fn temporary(path: &Path, suffix: &str) -> PathBuf {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(".{name}.{}.tmp{suffix}", std::process::id()))
}

/// Writes `table` as a GeoPackage.
pub(super) fn write_gpkg(path: &Path, table: &FeatureTable) -> Result<(), WriteError> {
    let tmp = temporary(path, ".gpkg");
    let _ = fs::remove_file(&tmp);
    let names: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    let result = (|| {
        let driver = DriverManager::get_driver_by_name("GPKG").map_err(gdal_error(path))?;
        let mut ds = driver.create_vector_only(&tmp).map_err(gdal_error(path))?;
        let mut txn = ds.start_transaction().map_err(gdal_error(path))?;
        fill(path, &mut txn, table, &table.name, &names, false)?;
        txn.commit().map_err(gdal_error(path))?;
        ds.close().map_err(gdal_error(path))?;
        fs::rename(&tmp, path).map_err(io_error(path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `table` as a Shapefile with its `.cpg` and `.fields.csv` legend.
/// Returns the short field names used, in column order.
pub(super) fn write_shp(path: &Path, table: &FeatureTable) -> Result<Vec<String>, WriteError> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "layer".into());
    let tmp_dir = temporary(path, "");
    let _ = fs::remove_dir_all(&tmp_dir);
    let names = dbf_names(
        &table
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
    );
    let result = (|| {
        fs::create_dir_all(&tmp_dir).map_err(io_error(&tmp_dir))?;
        let shp = tmp_dir.join(format!("{stem}.shp"));
        let driver =
            DriverManager::get_driver_by_name("ESRI Shapefile").map_err(gdal_error(path))?;
        let mut ds = driver.create_vector_only(&shp).map_err(gdal_error(path))?;
        fill(path, &mut ds, table, &stem, &names, true)?;
        ds.close().map_err(gdal_error(path))?;
        write_legend(&tmp_dir.join(format!("{stem}.fields.csv")), table, &names)?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // Companions first, the .shp last: a reader that sees the .shp
        // finds the rest.
        let mut files: Vec<PathBuf> = fs::read_dir(&tmp_dir)
            .map_err(io_error(&tmp_dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort_by_key(|f| f.extension().is_some_and(|e| e == "shp"));
        for f in files {
            if let Some(name) = f.file_name() {
                let to = dir.join(name);
                fs::rename(&f, &to).map_err(io_error(&to))?;
            }
        }
        Ok(())
    })();
    let _ = fs::remove_dir_all(&tmp_dir);
    result.map(|()| names)
}

/// `short_name,field,type` per column, UTF-8 with a BOM (Excel).
fn write_legend(path: &Path, table: &FeatureTable, names: &[String]) -> Result<(), WriteError> {
    let mut out = String::from("\u{feff}short_name,field,type\n");
    for (c, short) in table.columns.iter().zip(names) {
        let kind = match c.kind {
            ColumnKind::Text => "text",
            ColumnKind::Int => "integer",
            ColumnKind::Float => "real",
            ColumnKind::Bool => "boolean (1/0)",
        };
        let quote = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        out.push_str(&format!(
            "{},{},{}\n",
            quote(short),
            quote(&c.name),
            quote(kind)
        ));
    }
    let mut f = fs::File::create(path).map_err(io_error(path))?;
    f.write_all(out.as_bytes()).map_err(io_error(path))?;
    f.sync_all().map_err(io_error(path))
}

/// Creates the layer and its fields and writes every feature.
fn fill(
    path: &Path,
    ds: &mut Dataset,
    table: &FeatureTable,
    layer_name: &str,
    names: &[String],
    shapefile: bool,
) -> Result<(), WriteError> {
    let err = gdal_error(path);
    let mut srs = SpatialRef::from_epsg(4326).map_err(&err)?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let ty = match table.geometry_type {
        GeometryKind::Point => OGRwkbGeometryType::wkbPoint,
        GeometryKind::Polygon => OGRwkbGeometryType::wkbPolygon,
        GeometryKind::MultiPolygon => OGRwkbGeometryType::wkbMultiPolygon,
    };
    let layer = ds
        .create_layer(LayerOptions {
            name: layer_name,
            srs: Some(&srs),
            ty,
            // A Shapefile's text is UTF-8, and its .cpg says so.
            options: shapefile.then_some(&["ENCODING=UTF-8"][..]),
        })
        .map_err(&err)?;
    for (i, (c, name)) in table.columns.iter().zip(names).enumerate() {
        let ty = match c.kind {
            ColumnKind::Text => OGRFieldType::OFTString,
            ColumnKind::Int => OGRFieldType::OFTInteger64,
            ColumnKind::Float => OGRFieldType::OFTReal,
            ColumnKind::Bool => OGRFieldType::OFTInteger,
        };
        let defn = FieldDefn::new(name, ty).map_err(&err)?;
        if shapefile && c.kind == ColumnKind::Text {
            let widest = table
                .features
                .iter()
                .filter_map(|f| match f.values.get(i) {
                    Some(Value::Null) | None => None,
                    Some(v) => Some(v.to_string().len()),
                })
                .max()
                .unwrap_or(1);
            defn.set_width(widest.clamp(1, DBF_TEXT_BYTES) as i32);
        }
        if shapefile && c.kind == ColumnKind::Bool {
            defn.set_width(1);
        }
        defn.add_to_layer(&layer).map_err(&err)?;
    }
    for (index, f) in table.features.iter().enumerate() {
        let bad = |message: String| WriteError::BadFeature {
            path: path.to_path_buf(),
            index,
            message,
        };
        let mut feature = Feature::new(layer.defn()).map_err(&err)?;
        for (i, (c, v)) in table.columns.iter().zip(&f.values).enumerate() {
            let set = match (c.kind, v) {
                (_, Value::Null) => feature.set_field_null(i),
                (ColumnKind::Text, v) => {
                    let text = v.to_string();
                    if shapefile && text.len() > DBF_TEXT_BYTES {
                        return Err(bad(format!(
                            "field {:?} has {} bytes; a Shapefile holds at most {DBF_TEXT_BYTES}",
                            c.name,
                            text.len()
                        )));
                    }
                    feature.set_field_string(i, &text)
                }
                (_, Value::Int(n)) if c.kind == ColumnKind::Float => {
                    feature.set_field_double(i, *n as f64)
                }
                (_, Value::Int(n)) => feature.set_field_integer64(i, *n),
                (_, Value::Bool(b)) => feature.set_field_integer64(i, i64::from(*b)),
                (_, Value::Float(x)) => feature.set_field_double(i, *x),
                (_, Value::Text(t)) => {
                    return Err(bad(format!(
                        "field {:?} is {:?} but holds text {t:?}",
                        c.name, c.kind
                    )));
                }
            };
            set.map_err(|e| bad(format!("field {:?}: {e}", c.name)))?;
        }
        let geometry = match (&f.geometry, table.geometry_type) {
            (geo::Geometry::Polygon(p), GeometryKind::MultiPolygon) => {
                geo::Geometry::MultiPolygon(geo::MultiPolygon(vec![p.clone()]))
            }
            (g, _) => g.clone(),
        };
        let g = geometry
            .to_gdal()
            .map_err(|e| bad(format!("geometry: {e}")))?;
        feature
            .set_geometry(g)
            .map_err(|e| bad(format!("geometry: {e}")))?;
        feature.create(&layer).map_err(&err)?;
    }
    Ok(())
}
