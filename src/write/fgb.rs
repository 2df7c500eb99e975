//! FlatGeobuf writer: typed columns, EPSG:4326, packed Hilbert R-tree index.

use super::number::oriented;
use super::{ColumnKind, FeatureTable, GeometryKind, WriteError, polygons_of};
use crate::model::Value;
use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geo::{Geometry, MultiPolygon};
use geozero::{ColumnValue, PropertyProcessor};
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

fn column_type(kind: ColumnKind) -> ColumnType {
    match kind {
        ColumnKind::Text => ColumnType::String,
        ColumnKind::Int => ColumnType::Long,
        ColumnKind::Float => ColumnType::Double,
        ColumnKind::Bool => ColumnType::Bool,
    }
}

/// Writes `table` as FlatGeobuf.
pub(super) fn write(
    path: &Path,
    table: &FeatureTable,
    out: &mut BufWriter<File>,
) -> Result<(), WriteError> {
    let fgb_err = |e: &dyn std::fmt::Display| WriteError::Fgb {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let geometry_type = match table.geometry_type {
        GeometryKind::Point => GeometryType::Point,
        GeometryKind::Polygon => GeometryType::Polygon,
        GeometryKind::MultiPolygon => GeometryType::MultiPolygon,
    };
    let options = FgbWriterOptions {
        write_index: true,
        detect_type: false,
        promote_to_multi: false,
        crs: FgbCrs {
            org: Some("EPSG"),
            code: 4326,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut w = FgbWriter::create_with_options(&table.name, geometry_type, options)
        .map_err(|e| fgb_err(&e))?;
    for c in &table.columns {
        w.add_column(&c.name, column_type(c.kind), |_, col| col.nullable = true);
    }
    for (index, f) in table.features.iter().enumerate() {
        let geometry = match (&f.geometry, table.geometry_type) {
            (Geometry::Polygon(p), GeometryKind::Polygon) => Geometry::Polygon(oriented(p)),
            (Geometry::Point(p), _) => Geometry::Point(*p),
            (g, _) => Geometry::MultiPolygon(MultiPolygon(
                polygons_of(g).into_iter().map(oriented).collect(),
            )),
        };
        let mut failure = None;
        w.add_feature_geom(geometry, |feat| {
            for (i, (c, v)) in table.columns.iter().zip(&f.values).enumerate() {
                let text;
                let value = match v {
                    Value::Null => continue,
                    Value::Bool(b) => ColumnValue::Bool(*b),
                    Value::Int(n) => ColumnValue::Long(*n),
                    Value::Float(x) => ColumnValue::Double(crate::model::unsigned_zero(*x)),
                    Value::Text(t) => {
                        text = t.as_str();
                        ColumnValue::String(text)
                    }
                };
                if let Err(e) = feat.property(i, &c.name, &value) {
                    failure = Some(e);
                    break;
                }
            }
        })
        .map_err(|e| WriteError::BadFeature {
            path: path.to_path_buf(),
            index,
            message: e.to_string(),
        })?;
        if let Some(e) = failure {
            return Err(WriteError::BadFeature {
                path: path.to_path_buf(),
                index,
                message: e.to_string(),
            });
        }
    }
    w.write(out).map_err(|e| fgb_err(&e))
}
