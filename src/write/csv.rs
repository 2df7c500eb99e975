//! CSV writer: UTF-8 with a byte-order mark (so Excel reads Chinese), point
//! tables with `lon`,`lat` columns, polygon tables with a `wkt` column last.
//! Text that a spreadsheet would run as a formula gets a leading `'`
//! ([`super::formula`]).

use super::formula::neutralise_formula;
use super::number::{multipolygon_wkt, push_coord};
use super::{FeatureTable, GeometryKind, WriteError, io_error, polygons_of};
use crate::model::Value;
use geo::Geometry;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes `table` as CSV.
pub(super) fn write(
    path: &Path,
    table: &FeatureTable,
    out: &mut BufWriter<File>,
) -> Result<(), WriteError> {
    let csv_err = |e: csv::Error| WriteError::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    out.write_all(b"\xEF\xBB\xBF").map_err(io_error(path))?;
    let mut w = csv::WriterBuilder::new().from_writer(out);
    let mut header: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    match table.geometry_type {
        GeometryKind::Point => header.extend(["lon", "lat"]),
        GeometryKind::Polygon | GeometryKind::MultiPolygon => header.push("wkt"),
    }
    w.write_record(&header).map_err(csv_err)?;
    let mut record: Vec<String> = Vec::with_capacity(header.len());
    for f in &table.features {
        record.clear();
        record.extend(f.values.iter().map(|v| match v {
            Value::Null => String::new(),
            Value::Text(t) => neutralise_formula(t).into_owned(),
            other => other.to_string(),
        }));
        match &f.geometry {
            Geometry::Point(p) => {
                let mut s = String::new();
                push_coord(&mut s, p.x());
                record.push(s);
                let mut s = String::new();
                push_coord(&mut s, p.y());
                record.push(s);
            }
            g => record.push(multipolygon_wkt(&polygons_of(g))),
        }
        w.write_record(&record).map_err(csv_err)?;
    }
    w.flush().map_err(io_error(path))
}
