//! The canonical layer tables of a [`Dataset`]: every column comes from
//! the input-layer schema ([`crate::model::columns`]), which the readers
//! use too (fields as in `docs/data.md`).

use super::{Column, FeatureTable, GeometryKind, TableFeature};
use crate::model::columns::{self, Column as SchemaColumn};
use crate::model::{Dataset, LayerId, Level};
use geo::Geometry;

/// The table of `layer` with `columns` for `features`, each drawn by
/// `geometry`.
pub fn layer_table<'a, T: 'a>(
    layer: LayerId,
    geometry_type: GeometryKind,
    schema: &[SchemaColumn<T>],
    features: impl IntoIterator<Item = &'a T>,
    geometry: impl Fn(&T) -> Geometry<f64>,
) -> FeatureTable {
    FeatureTable {
        name: layer.as_str().to_string(),
        geometry_type,
        columns: schema.iter().map(|c| Column::new(c.name, c.kind)).collect(),
        features: features
            .into_iter()
            .map(|f| TableFeature {
                geometry: geometry(f),
                values: schema.iter().map(|c| (c.get)(f)).collect(),
            })
            .collect(),
    }
}

/// The five layer tables of `ds`: `enterprises`, `hazard_sources`,
/// `collapse_zones`, `grid_cells` (towns, villages and cells) and
/// `counties`, in that order.
pub fn dataset_tables(ds: &Dataset) -> Vec<FeatureTable> {
    use GeometryKind::{MultiPolygon, Point};
    vec![
        layer_table(
            LayerId::Enterprises,
            Point,
            columns::ENTERPRISES,
            &ds.enterprises,
            |e| Geometry::Point(e.location),
        ),
        layer_table(
            LayerId::HazardSources,
            Point,
            columns::HAZARD_SOURCES,
            &ds.hazard_sources,
            |h| Geometry::Point(h.location),
        ),
        layer_table(
            LayerId::CollapseZones,
            MultiPolygon,
            columns::COLLAPSE_ZONES,
            &ds.collapse_zones,
            |z| Geometry::MultiPolygon(z.geometry.clone()),
        ),
        layer_table(
            LayerId::GridCells,
            MultiPolygon,
            columns::GRID_CELLS,
            ds.units.iter().filter(|u| u.level != Level::County),
            |u| Geometry::MultiPolygon(u.geometry.clone()),
        ),
        layer_table(
            LayerId::Counties,
            MultiPolygon,
            columns::COUNTIES,
            ds.units.iter().filter(|u| u.level == Level::County),
            |u| Geometry::MultiPolygon(u.geometry.clone()),
        ),
    ]
}
