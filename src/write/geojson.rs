//! Streaming GeoJSON (RFC 7946) writer.

use super::number::{oriented, push_coord};
use super::{FeatureTable, GeometryKind, WriteError, io_error, polygons_of};
use crate::model::Value;
use geo::{Geometry, LineString, Polygon};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

fn push_ring(out: &mut String, ring: &LineString<f64>) {
    out.push('[');
    for (i, c) in ring.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        push_coord(out, c.x);
        out.push(',');
        push_coord(out, c.y);
        out.push(']');
    }
    out.push(']');
}

fn push_polygon(out: &mut String, p: &Polygon<f64>) {
    let p = oriented(p);
    out.push('[');
    push_ring(out, p.exterior());
    for hole in p.interiors() {
        out.push(',');
        push_ring(out, hole);
    }
    out.push(']');
}

fn push_geometry(out: &mut String, kind: GeometryKind, g: &Geometry<f64>) {
    match (kind, g) {
        (_, Geometry::Point(p)) => {
            out.push_str("{\"type\":\"Point\",\"coordinates\":[");
            push_coord(out, p.x());
            out.push(',');
            push_coord(out, p.y());
            out.push_str("]}");
        }
        (GeometryKind::Polygon, Geometry::Polygon(p)) => {
            out.push_str("{\"type\":\"Polygon\",\"coordinates\":");
            push_polygon(out, p);
            out.push('}');
        }
        _ => {
            out.push_str("{\"type\":\"MultiPolygon\",\"coordinates\":[");
            for (i, p) in polygons_of(g).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_polygon(out, p);
            }
            out.push_str("]}");
        }
    }
}

/// Appends `s` as a JSON string literal.
pub(super) fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(x) if x.is_finite() => {
            // serde_json prints the shortest text that reads back exactly.
            match serde_json::to_string(&crate::model::unsigned_zero(*x)) {
                Ok(t) => out.push_str(&t),
                Err(_) => out.push_str("null"),
            }
        }
        Value::Float(_) => out.push_str("null"),
        Value::Text(t) => push_json_string(out, t),
    }
}

/// Writes `table` as a GeoJSON FeatureCollection.
pub(super) fn write(
    path: &Path,
    table: &FeatureTable,
    out: &mut BufWriter<File>,
) -> Result<(), WriteError> {
    let err = io_error(path);
    let mut buf = String::with_capacity(1 << 16);
    buf.push_str("{\"type\":\"FeatureCollection\",\"name\":");
    push_json_string(&mut buf, &table.name);
    buf.push_str(",\"features\":[\n");
    for (i, f) in table.features.iter().enumerate() {
        buf.push_str("{\"type\":\"Feature\",\"properties\":{");
        for (j, (c, v)) in table.columns.iter().zip(&f.values).enumerate() {
            if j > 0 {
                buf.push(',');
            }
            push_json_string(&mut buf, &c.name);
            buf.push(':');
            push_value(&mut buf, v);
        }
        buf.push_str("},\"geometry\":");
        push_geometry(&mut buf, table.geometry_type, &f.geometry);
        buf.push('}');
        if i + 1 < table.features.len() {
            buf.push(',');
        }
        buf.push('\n');
        if buf.len() > 1 << 16 {
            out.write_all(buf.as_bytes()).map_err(&err)?;
            buf.clear();
        }
    }
    buf.push_str("]}\n");
    out.write_all(buf.as_bytes()).map_err(&err)
}
