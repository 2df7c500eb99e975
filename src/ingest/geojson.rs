//! GeoJSON reader (RFC 7946 FeatureCollection; a UTF-8 BOM is accepted).

use super::issue::{Issue, IssueLevel, IssueSink, feature_label};
use super::table::{Record, Table};
use crate::model::Value;
use geo::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon};
use geojson::{GeoJson, GeometryValue, Position};

/// Reads GeoJSON bytes into a [`Table`]. File-level failures (not JSON,
/// truncated, not a FeatureCollection) are one error; per-feature geometry
/// problems are recorded in `issues` and leave that record without geometry.
pub fn read(file: &str, bytes: &[u8], issues: &mut Vec<Issue>) -> Result<Table, Issue> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Issue::file_error(file, "the file is empty"));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Issue::file_error(file, format!("not UTF-8 text: {e}")))?;
    let gj: GeoJson = text
        .parse()
        .map_err(|e| Issue::file_error(file, format!("not valid GeoJSON: {e}")))?;
    let features = match gj {
        GeoJson::FeatureCollection(fc) => fc.features,
        GeoJson::Feature(f) => vec![f],
        GeoJson::Geometry(_) => {
            return Err(Issue::file_error(
                file,
                "a bare geometry has no attributes: expected a FeatureCollection",
            ));
        }
    };
    let mut sink = IssueSink::new(file, issues);
    let mut table = Table::default();
    for (index, feature) in features.into_iter().enumerate() {
        let mut values = vec![Value::Null; table.columns.len()];
        if let Some(props) = feature.properties {
            for (key, v) in props {
                let col = table.column_index(&key);
                if values.len() <= col {
                    values.resize(col + 1, Value::Null);
                }
                values[col] = json_value(v);
            }
        }
        if let Some(id) = feature.id {
            let col = table.column_index("id");
            if values.len() <= col {
                values.resize(col + 1, Value::Null);
            }
            if values[col].is_blank() {
                values[col] = match id {
                    geojson::feature::Id::String(s) => Value::Text(s),
                    geojson::feature::Id::Number(n) => json_value(serde_json::Value::Number(n)),
                };
            }
        }
        let label = || {
            let id = table
                .columns
                .iter()
                .position(|c| c == "id" || c == "code")
                .and_then(|i| values.get(i))
                .map(|v| v.to_string());
            feature_label(index, id.as_deref())
        };
        let geometry = match feature.geometry {
            None => None,
            Some(g) => match convert(&g.value) {
                Ok(g) => Some(g),
                Err(message) => {
                    sink.push(IssueLevel::Error, Some(label()), Some("geometry"), message);
                    None
                }
            },
        };
        table.records.push(Record { geometry, values });
    }
    let width = table.columns.len();
    for r in &mut table.records {
        r.values.resize(width, Value::Null);
    }
    Ok(table)
}

fn json_value(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => n.as_f64().map(Value::Float).unwrap_or(Value::Null),
        },
        serde_json::Value::String(s) => Value::Text(s),
        other => Value::Text(other.to_string()),
    }
}

fn coord(p: &Position) -> Result<Coord<f64>, String> {
    match p.as_slice() {
        [x, y, ..] => Ok(Coord { x: *x, y: *y }),
        other => Err(format!(
            "a position needs at least 2 numbers, found {}",
            other.len()
        )),
    }
}

fn ring(positions: &[Position], which: &str) -> Result<LineString<f64>, String> {
    if positions.len() < 4 {
        return Err(format!(
            "{which} ring has {} positions; a closed ring needs at least 4",
            positions.len()
        ));
    }
    let coords = positions.iter().map(coord).collect::<Result<Vec<_>, _>>()?;
    if coords.first() != coords.last() {
        return Err(format!(
            "{which} ring is not closed (first and last positions differ)"
        ));
    }
    Ok(LineString(coords))
}

fn polygon(rings: &[Vec<Position>]) -> Result<Polygon<f64>, String> {
    let Some((exterior, holes)) = rings.split_first() else {
        return Err("polygon has no rings".into());
    };
    let exterior = ring(exterior, "exterior")?;
    let holes = holes
        .iter()
        .map(|h| ring(h, "interior"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, holes))
}

/// Converts a GeoJSON geometry, checking positions and ring closure (the
/// `geojson` crate's own conversion would silently close rings).
pub fn convert(value: &GeometryValue) -> Result<Geometry<f64>, String> {
    match value {
        GeometryValue::Point { coordinates } => Ok(Geometry::Point(Point(coord(coordinates)?))),
        GeometryValue::Polygon { coordinates } => Ok(Geometry::Polygon(polygon(coordinates)?)),
        GeometryValue::MultiPolygon { coordinates } => {
            if coordinates.is_empty() {
                return Err("multipolygon has no polygons".into());
            }
            Ok(Geometry::MultiPolygon(MultiPolygon(
                coordinates
                    .iter()
                    .map(|p| polygon(p))
                    .collect::<Result<Vec<_>, _>>()?,
            )))
        }
        GeometryValue::MultiPoint { coordinates } => match coordinates.as_slice() {
            [one] => Ok(Geometry::Point(Point(coord(one)?))),
            _ => Err(format!(
                "a MultiPoint with {} points where one point was expected",
                coordinates.len()
            )),
        },
        other => Err(format!("unsupported geometry type {}", other.type_name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_features_with_bom_and_types() {
        let text = "\u{feff}{\"type\":\"FeatureCollection\",\"features\":[\
            {\"type\":\"Feature\",\"id\":\"A1\",\"properties\":{\"name\":\"甲\",\"n\":3,\"x\":1.5,\"ok\":true},\
             \"geometry\":{\"type\":\"Point\",\"coordinates\":[118.5,24.9]}}]}";
        let mut issues = Vec::new();
        let t = read("a.geojson", text.as_bytes(), &mut issues).ok();
        let t = t.as_ref();
        assert!(issues.is_empty());
        assert_eq!(t.map(|t| t.columns.len()), Some(5));
        let value = |name: &str| {
            t.and_then(|t| {
                let i = t.columns.iter().position(|c| c == name)?;
                t.records.first().map(|r| r.values[i].clone())
            })
        };
        assert_eq!(value("name"), Some(Value::Text("甲".into())));
        assert_eq!(value("n"), Some(Value::Int(3)));
        assert_eq!(value("x"), Some(Value::Float(1.5)));
        assert_eq!(value("ok"), Some(Value::Bool(true)));
        assert_eq!(value("id"), Some(Value::Text("A1".into())));
    }

    #[test]
    fn file_errors_name_the_problem() {
        let mut issues = Vec::new();
        for (bytes, want) in [
            (&b""[..], "empty"),
            (
                &b"{\"type\":\"FeatureCollection\",\"features\":[{"[..],
                "not valid GeoJSON",
            ),
            (&b"hello"[..], "not valid GeoJSON"),
        ] {
            let err = read("z.geojson", bytes, &mut issues).err();
            let msg = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                msg.starts_with("z.geojson:-: ") && msg.contains(want),
                "{msg}"
            );
        }
    }

    #[test]
    fn unclosed_ring_is_a_feature_error() {
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"Z"},
            "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}}]}"#;
        let mut issues = Vec::new();
        let t = read("z.geojson", text.as_bytes(), &mut issues).ok();
        assert_eq!(t.map(|t| t.records.len()), Some(1));
        assert_eq!(issues.len(), 1);
        assert!(issues[0].to_string().contains("#1 Z"), "{}", issues[0]);
        assert!(issues[0].message.contains("not closed"));
    }
}
