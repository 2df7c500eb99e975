//! The `sensors` and `alarms` layers: their canonical tables (the
//! generator writes them into the demo folder).

use super::{
    Column, ColumnKind, FeatureTable, GeometryKind, TableFeature, WriteError, folder_extension,
    write_table,
};
use crate::model::{Alarm, LayerId, Sensor, Value};
use geo::Geometry;
use std::path::{Path, PathBuf};

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn opt(v: Option<&str>) -> Value {
    v.map(text).unwrap_or(Value::Null)
}

fn num(v: Option<f64>) -> Value {
    v.map(Value::Float).unwrap_or(Value::Null)
}

/// The `sensors` table: points with `id`, `kind`, `watches`.
pub fn sensors_table(sensors: &[Sensor]) -> FeatureTable {
    FeatureTable {
        name: LayerId::Sensors.as_str().to_string(),
        geometry_type: GeometryKind::Point,
        columns: ["id", "kind", "watches"]
            .iter()
            .map(|n| Column::new(n, ColumnKind::Text))
            .collect(),
        features: sensors
            .iter()
            .map(|s| TableFeature {
                geometry: Geometry::Point(s.location),
                values: vec![
                    text(&s.id),
                    text(s.kind.as_str()),
                    opt(s.watches.as_deref()),
                ],
            })
            .collect(),
    }
}

/// The `alarms` table: points with the DATA.md fields.
pub fn alarms_table(alarms: &[Alarm]) -> FeatureTable {
    let columns = vec![
        Column::new("id", ColumnKind::Text),
        Column::new("sensor_id", ColumnKind::Text),
        Column::new("level", ColumnKind::Int),
        Column::new("value", ColumnKind::Float),
        Column::new("threshold", ColumnKind::Float),
        Column::new("started_at", ColumnKind::Text),
        Column::new("acknowledged_at", ColumnKind::Text),
        Column::new("cleared_at", ColumnKind::Text),
        Column::new("hidden_danger_id", ColumnKind::Text),
    ];
    FeatureTable {
        name: LayerId::Alarms.as_str().to_string(),
        geometry_type: GeometryKind::Point,
        columns,
        features: alarms
            .iter()
            .map(|a| TableFeature {
                geometry: Geometry::Point(a.location),
                values: vec![
                    text(&a.id),
                    opt(a.sensor_id.as_deref()),
                    Value::Int(i64::from(a.level.get())),
                    num(a.value),
                    num(a.threshold),
                    text(&a.started_at),
                    opt(a.acknowledged_at.as_deref()),
                    opt(a.cleared_at.as_deref()),
                    opt(a.hidden_danger_id.as_deref()),
                ],
            })
            .collect(),
    }
}

/// Writes `alarms` as the `alarms` layer of the dataset folder `dir`
/// (replacing an existing `alarms` file in its format, else in the
/// folder's format). Returns the path written.
pub fn write_alarms(dir: &Path, alarms: &[Alarm]) -> Result<PathBuf, WriteError> {
    let stem = LayerId::Alarms.as_str();
    let ext = ["fgb", "geojson", "csv", "gpkg", "shp"]
        .into_iter()
        .find(|ext| dir.join(format!("{stem}.{ext}")).exists())
        .unwrap_or_else(|| folder_extension(dir));
    let path = dir.join(format!("{stem}.{ext}"));
    write_table(&path, &alarms_table(alarms))?;
    Ok(path)
}
