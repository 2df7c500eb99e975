//! The canonical layer tables of a [`Dataset`] (fields as in `docs/data.md`).

use super::{Column, ColumnKind, FeatureTable, GeometryKind, TableFeature};
use crate::model::{Dataset, LayerId, Level, Value};
use geo::Geometry;

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn opt_text(s: Option<&str>) -> Value {
    s.map(text).unwrap_or(Value::Null)
}

fn columns(spec: &[(&str, ColumnKind)]) -> Vec<Column> {
    spec.iter().map(|(n, k)| Column::new(n, *k)).collect()
}

/// The five layer tables of `ds`: `enterprises`, `hazard_sources`,
/// `collapse_zones`, `grid_cells` (towns, villages and cells) and
/// `counties`, in that order.
pub fn dataset_tables(ds: &Dataset) -> Vec<FeatureTable> {
    use ColumnKind::{Bool, Float, Int, Text};
    let enterprises = FeatureTable {
        name: LayerId::Enterprises.as_str().to_string(),
        geometry_type: GeometryKind::Point,
        columns: columns(&[
            ("id", Text),
            ("name", Text),
            ("uscc", Text),
            ("industry", Text),
            ("risk_grade", Text),
            ("employees", Int),
            ("hidden_dangers_open", Int),
            ("major_hidden_dangers_open", Int),
            ("blacklisted", Bool),
            ("cell_code", Text),
        ]),
        features: ds
            .enterprises
            .iter()
            .map(|e| TableFeature {
                geometry: Geometry::Point(e.location),
                values: vec![
                    text(&e.id),
                    text(&e.name),
                    opt_text(e.uscc.as_deref()),
                    text(e.industry.as_str()),
                    text(e.risk_grade.as_str()),
                    Value::Int(i64::from(e.employees)),
                    Value::Int(i64::from(e.hidden_dangers_open)),
                    Value::Int(i64::from(e.major_hidden_dangers_open)),
                    Value::Bool(e.blacklisted),
                    opt_text(e.cell_code.as_deref()),
                ],
            })
            .collect(),
    };
    let hazard_sources = FeatureTable {
        name: LayerId::HazardSources.as_str().to_string(),
        geometry_type: GeometryKind::Point,
        columns: columns(&[
            ("id", Text),
            ("name", Text),
            ("enterprise_id", Text),
            ("grade", Int),
            ("r_value", Float),
            ("substances", Text),
            ("monitored", Bool),
            ("supervisor", Text),
        ]),
        features: ds
            .hazard_sources
            .iter()
            .map(|h| TableFeature {
                geometry: Geometry::Point(h.location),
                values: vec![
                    text(&h.id),
                    text(&h.name),
                    opt_text(h.enterprise_id.as_deref()),
                    Value::Int(i64::from(h.grade.get())),
                    h.r_value.map(Value::Float).unwrap_or(Value::Null),
                    text(&h.substances),
                    Value::Bool(h.monitored),
                    opt_text(h.supervisor.as_deref()),
                ],
            })
            .collect(),
    };
    let collapse_zones = FeatureTable {
        name: LayerId::CollapseZones.as_str().to_string(),
        geometry_type: GeometryKind::MultiPolygon,
        columns: columns(&[
            ("id", Text),
            ("kind", Text),
            ("severity", Int),
            ("surveyed", Text),
        ]),
        features: ds
            .collapse_zones
            .iter()
            .map(|z| TableFeature {
                geometry: Geometry::MultiPolygon(z.geometry.clone()),
                values: vec![
                    text(&z.id),
                    text(z.kind.as_str()),
                    Value::Int(i64::from(z.severity.get())),
                    opt_text(z.surveyed.as_deref()),
                ],
            })
            .collect(),
    };
    let grid_cells = FeatureTable {
        name: LayerId::GridCells.as_str().to_string(),
        geometry_type: GeometryKind::MultiPolygon,
        columns: columns(&[
            ("code", Text),
            ("name", Text),
            ("level", Text),
            ("parent_code", Text),
            ("population", Int),
            ("manager", Text),
        ]),
        features: ds
            .units
            .iter()
            .filter(|u| u.level != Level::County)
            .map(|u| TableFeature {
                geometry: Geometry::MultiPolygon(u.geometry.clone()),
                values: vec![
                    text(&u.code),
                    text(&u.name),
                    text(u.level.as_str()),
                    opt_text(u.parent_code.as_deref()),
                    Value::Int(i64::try_from(u.population).unwrap_or(i64::MAX)),
                    opt_text(u.manager.as_deref()),
                ],
            })
            .collect(),
    };
    let counties = FeatureTable {
        name: LayerId::Counties.as_str().to_string(),
        geometry_type: GeometryKind::MultiPolygon,
        columns: columns(&[("code", Text), ("name", Text), ("population", Int)]),
        features: ds
            .units
            .iter()
            .filter(|u| u.level == Level::County)
            .map(|u| TableFeature {
                geometry: Geometry::MultiPolygon(u.geometry.clone()),
                values: vec![
                    text(&u.code),
                    text(&u.name),
                    Value::Int(i64::try_from(u.population).unwrap_or(i64::MAX)),
                ],
            })
            .collect(),
    };
    vec![
        enterprises,
        hazard_sources,
        collapse_zones,
        grid_cells,
        counties,
    ]
}
