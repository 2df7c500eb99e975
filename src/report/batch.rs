//! `riskmap score`: every grid unit of every level with its risk fields,
//! as a table for the writers.

use crate::index::Store;
use crate::model::{Value, unsigned_zero};
use crate::risk::{Domain, Scores, scored_rows};
use crate::write::{Column, ColumnKind, FeatureTable, GeometryKind, TableFeature};

/// The scored grid units (counties, towns, villages, cells) with `code`,
/// `name`, `level`, `parent_code`, `population`, `risk_score`, `risk_level`,
/// `risk_color`, for cells the components `h`, `e`, `c`, `m`, `v`, and for
/// every unit one `domain_<word>` column per domain (分系统: each industry,
/// `hazard_sources`, `collapse_zones`, `hidden_dangers`, `alarms`): the
/// unrounded sum of that domain's contributions; they sum to the score.
pub fn scores_table(store: &Store, scores: &Scores) -> FeatureTable {
    let mut columns = vec![
        Column::new("code", ColumnKind::Text),
        Column::new("name", ColumnKind::Text),
        Column::new("level", ColumnKind::Text),
        Column::new("parent_code", ColumnKind::Text),
        Column::new("population", ColumnKind::Int),
        Column::new("risk_score", ColumnKind::Float),
        Column::new("risk_level", ColumnKind::Text),
        Column::new("risk_color", ColumnKind::Text),
        Column::new("h", ColumnKind::Float),
        Column::new("e", ColumnKind::Float),
        Column::new("c", ColumnKind::Float),
        Column::new("m", ColumnKind::Float),
        Column::new("v", ColumnKind::Float),
    ];
    columns.extend(Domain::all().map(|d| Column::new(&d.property(), ColumnKind::Float)));
    let opt = |v: Option<f64>| v.map_or(Value::Null, |x| Value::Float(unsigned_zero(x)));
    let features = scored_rows(store, scores)
        .map(|r| {
            let mut values = vec![
                Value::Text(r.code.to_string()),
                Value::Text(r.name.to_string()),
                Value::Text(r.level.as_str().to_string()),
                r.parent_code
                    .map_or(Value::Null, |p| Value::Text(p.to_string())),
                Value::Int(i64::try_from(r.population).unwrap_or(i64::MAX)),
                Value::Float(unsigned_zero(r.risk_score)),
                Value::Text(r.risk_level.as_str().to_string()),
                Value::Text(r.risk_color.to_string()),
                opt(r.h),
                opt(r.e),
                opt(r.c),
                opt(r.m),
                opt(r.v),
            ];
            values.extend(r.domains.iter().map(|&x| Value::Float(unsigned_zero(x))));
            TableFeature {
                geometry: geo::Geometry::MultiPolygon(store.unit(r.id).geometry.clone()),
                values,
            }
        })
        .collect();
    FeatureTable {
        name: "risk_scores".into(),
        geometry_type: GeometryKind::MultiPolygon,
        columns,
        features,
    }
}
