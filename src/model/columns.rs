//! The input-layer schema: for each layer file riskmap reads and writes
//! (`enterprises`, `hazard_sources`, `collapse_zones`, `grid_cells`,
//! `counties`, `hidden_dangers`, `sensors`, `alarms`) its canonical fields — name, column type
//! and where a typed feature keeps the value — in file order.
//!
//! The readers (`ingest`) look these names up in a file, and the writers
//! (`write`: GeoJSON, CSV, FlatGeobuf, GeoPackage, Shapefile, used by
//! `generate`, `journal compact` and the exports) iterate the same table,
//! so a field is added to a layer file in one place. The fields are
//! described for users in `docs/data.md`.

use super::{
    Alarm, CollapseZone, Enterprise, GridUnit, HazardSource, HiddenDanger, LayerId, Sensor, Value,
};

/// Type of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// Text.
    Text,
    /// 64-bit integer.
    Int,
    /// 64-bit float.
    Float,
    /// Boolean.
    Bool,
}

/// One field of a layer file whose features are `T`.
pub struct Column<T: 'static> {
    /// Field (column, property) name.
    pub name: &'static str,
    /// Its type.
    pub kind: ColumnKind,
    /// The value of a feature.
    pub get: fn(&T) -> Value,
}

impl<T> std::fmt::Debug for Column<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {:?}", self.name, self.kind)
    }
}

const fn col<T>(name: &'static str, kind: ColumnKind, get: fn(&T) -> Value) -> Column<T> {
    Column { name, kind, get }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn opt_text(s: Option<&str>) -> Value {
    s.map(text).unwrap_or(Value::Null)
}

fn opt_display<D: ToString>(v: Option<D>) -> Value {
    v.map(|v| Value::Text(v.to_string())).unwrap_or(Value::Null)
}

use ColumnKind::{Bool, Float, Int, Text};

/// `enterprises` (points).
pub const ENTERPRISES: &[Column<Enterprise>] = &[
    col("id", Text, |e| text(&e.id)),
    col("name", Text, |e| text(&e.name)),
    col("uscc", Text, |e| opt_text(e.uscc.as_deref())),
    col("industry", Text, |e| text(e.industry.as_str())),
    col("risk_grade", Text, |e| text(e.risk_grade.as_str())),
    col("employees", Int, |e| Value::Int(i64::from(e.employees))),
    col("hidden_dangers_open", Int, |e| {
        Value::Int(i64::from(e.hidden_dangers_open))
    }),
    col("major_hidden_dangers_open", Int, |e| {
        Value::Int(i64::from(e.major_hidden_dangers_open))
    }),
    col("blacklisted", Bool, |e| Value::Bool(e.blacklisted)),
    col("cell_code", Text, |e| opt_text(e.cell_code.as_deref())),
];

/// `hazard_sources` (points).
pub const HAZARD_SOURCES: &[Column<HazardSource>] = &[
    col("id", Text, |h| text(&h.id)),
    col("name", Text, |h| text(&h.name)),
    col("enterprise_id", Text, |h| {
        opt_text(h.enterprise_id.as_deref())
    }),
    col("grade", Int, |h| Value::Int(i64::from(h.grade.get()))),
    col("r_value", Float, |h| {
        h.r_value.map_or(Value::Null, Value::Float)
    }),
    col("substances", Text, |h| text(&h.substances)),
    col("monitored", Bool, |h| Value::Bool(h.monitored)),
    col("supervisor", Text, |h| opt_text(h.supervisor.as_deref())),
];

/// `collapse_zones` (polygons).
pub const COLLAPSE_ZONES: &[Column<CollapseZone>] = &[
    col("id", Text, |z| text(&z.id)),
    col("kind", Text, |z| text(z.kind.as_str())),
    col("severity", Int, |z| Value::Int(i64::from(z.severity.get()))),
    col("surveyed", Text, |z| opt_text(z.surveyed.as_deref())),
];

fn population(u: &GridUnit) -> Value {
    Value::Int(i64::try_from(u.population).unwrap_or(i64::MAX))
}

/// `grid_cells`: towns, villages and unit cells (polygons).
pub const GRID_CELLS: &[Column<GridUnit>] = &[
    col("code", Text, |u| text(&u.code)),
    col("name", Text, |u| text(&u.name)),
    col("level", Text, |u| text(u.level.as_str())),
    col("parent_code", Text, |u| opt_text(u.parent_code.as_deref())),
    col("population", Int, population),
    col("manager", Text, |u| opt_text(u.manager.as_deref())),
];

/// `counties` (polygons).
pub const COUNTIES: &[Column<GridUnit>] = &[
    col("code", Text, |u| text(&u.code)),
    col("name", Text, |u| text(&u.name)),
    col("population", Int, population),
];

/// `hidden_dangers` (points; every value is text, dates `YYYY-MM-DD`).
pub const HIDDEN_DANGERS: &[Column<HiddenDanger>] = &[
    col("id", Text, |d| text(&d.id)),
    col("enterprise_id", Text, |d| {
        opt_text(d.enterprise_id.as_deref())
    }),
    col("category", Text, |d| text(d.category.as_str())),
    col("grade", Text, |d| text(d.grade.as_str())),
    col("description", Text, |d| text(&d.description)),
    col("source", Text, |d| text(d.source.as_str())),
    col("found_at", Text, |d| text(&d.found_at.to_string())),
    col("deadline", Text, |d| opt_display(d.deadline)),
    col("responsible", Text, |d| opt_text(d.responsible.as_deref())),
    col("status", Text, |d| text(d.status.as_str())),
    col("closed_at", Text, |d| opt_display(d.closed_at)),
];

/// `sensors` (points).
pub const SENSORS: &[Column<Sensor>] = &[
    col("id", Text, |s| text(&s.id)),
    col("kind", Text, |s| text(s.kind.as_str())),
    col("watches", Text, |s| opt_text(s.watches.as_deref())),
];

fn opt_float(v: Option<f64>) -> Value {
    v.map_or(Value::Null, Value::Float)
}

/// `alarms` (points; times RFC 3339; the kind is the sensor's).
pub const ALARMS: &[Column<Alarm>] = &[
    col("id", Text, |a| text(&a.id)),
    col("sensor_id", Text, |a| opt_text(a.sensor_id.as_deref())),
    col("level", Int, |a| Value::Int(i64::from(a.level.get()))),
    col("value", Float, |a| opt_float(a.value)),
    col("threshold", Float, |a| opt_float(a.threshold)),
    col("started_at", Text, |a| text(&a.started_at)),
    col("acknowledged_at", Text, |a| {
        opt_text(a.acknowledged_at.as_deref())
    }),
    col("cleared_at", Text, |a| opt_text(a.cleared_at.as_deref())),
    col("hidden_danger_id", Text, |a| {
        opt_text(a.hidden_danger_id.as_deref())
    }),
];

/// The layer files, in the order a dataset is written.
pub const FILE_LAYERS: [LayerId; 8] = [
    LayerId::Enterprises,
    LayerId::HazardSources,
    LayerId::CollapseZones,
    LayerId::GridCells,
    LayerId::Counties,
    LayerId::HiddenDangers,
    LayerId::Sensors,
    LayerId::Alarms,
];

fn names_of<T>(columns: &[Column<T>]) -> Vec<&'static str> {
    columns.iter().map(|c| c.name).collect()
}

/// The canonical field names of layer file `layer`, in file order (none
/// for a layer that is not a file of its own).
pub fn names(layer: LayerId) -> Vec<&'static str> {
    match layer {
        LayerId::Enterprises => names_of(ENTERPRISES),
        LayerId::HazardSources => names_of(HAZARD_SOURCES),
        LayerId::CollapseZones => names_of(COLLAPSE_ZONES),
        LayerId::GridCells => names_of(GRID_CELLS),
        LayerId::Counties => names_of(COUNTIES),
        LayerId::HiddenDangers => names_of(HIDDEN_DANGERS),
        LayerId::Sensors => names_of(SENSORS),
        LayerId::Alarms => names_of(ALARMS),
        _ => Vec::new(),
    }
}

/// Whether the features of layer file `layer` are points (which a file
/// without geometry, e.g. CSV, gives as `lon`/`lat` columns).
pub fn is_point_layer(layer: LayerId) -> bool {
    matches!(
        layer,
        LayerId::Enterprises
            | LayerId::HazardSources
            | LayerId::HiddenDangers
            | LayerId::Sensors
            | LayerId::Alarms
    )
}

/// The names a reader looks up in layer file `layer`: [`names`] and, for
/// a point layer, `lon` and `lat`.
pub fn read_names(layer: LayerId) -> Vec<&'static str> {
    let mut out = names(layer);
    if is_point_layer(layer) {
        out.extend(["lon", "lat"]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_layer_has_unique_names_starting_with_its_key() {
        for layer in FILE_LAYERS {
            let n = names(layer);
            assert!(!n.is_empty(), "{layer}");
            let key = if matches!(layer, LayerId::GridCells | LayerId::Counties) {
                "code"
            } else {
                "id"
            };
            assert_eq!(n[0], key, "{layer}");
            for (i, a) in n.iter().enumerate() {
                assert!(!n[..i].contains(a), "{layer}: {a} twice");
            }
            assert_eq!(
                read_names(layer).len(),
                n.len() + if is_point_layer(layer) { 2 } else { 0 }
            );
        }
    }
}
