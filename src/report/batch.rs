//! `riskmap score`: every grid unit of every level with its risk fields,
//! as a table for the writers.

use crate::index::Store;
use crate::model::{LayerId, Value};
use crate::risk::Scores;
use crate::schema::{self, Ctx, Field, Kind, Outputs};
use crate::write::{Column, ColumnKind, FeatureTable, GeometryKind, TableFeature};

/// The column type of a field.
fn column_kind(f: &Field) -> ColumnKind {
    match f.kind {
        Kind::Text | Kind::Word(_) => ColumnKind::Text,
        Kind::Integer { .. } => ColumnKind::Int,
        Kind::Number { .. } => ColumnKind::Float,
        Kind::Boolean => ColumnKind::Bool,
    }
}

/// The scored grid units (counties, towns, villages, cells): one column per
/// grid-unit field the schema gives the score table ([`crate::schema::grid`]:
/// the unit's own fields and risk, for cells the components `h`, `e`, `c`,
/// `m`, `v`, and for every unit one `domain_<word>` column per domain
/// (分系统: each industry, `hazard_sources`, `collapse_zones`,
/// `hidden_dangers`, `alarms`): the unrounded sum of that domain's
/// contributions; they sum to the score).
pub fn scores_table(store: &Store, scores: &Scores) -> FeatureTable {
    let fields: Vec<&Field> = schema::fields_in(LayerId::Cells, Outputs::SCORE).collect();
    let columns = fields
        .iter()
        .map(|f| Column::new(f.name, column_kind(f)))
        .collect();
    let ctx = Ctx {
        store,
        risk: scores,
        scope: crate::auth::Scope::All,
    };
    let features = scores
        .iter()
        .map(|(id, _)| TableFeature {
            geometry: geo::Geometry::MultiPolygon(store.unit(id).geometry.clone()),
            values: fields
                .iter()
                .map(|f| match f.value(&ctx, id).to_value() {
                    Value::Float(x) => Value::Float(crate::model::unsigned_zero(x)),
                    v => v,
                })
                .collect(),
        })
        .collect();
    FeatureTable {
        name: "risk_scores".into(),
        geometry_type: GeometryKind::MultiPolygon,
        columns,
        features,
    }
}
