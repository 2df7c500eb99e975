//! GeoJSON features of the served layers for `/api`: the properties the
//! layer schema ([`crate::schema`]) gives the `/api` output.

use crate::auth::Scope;
use crate::index::{Store, UnitId};
use crate::model::LayerId;
use crate::risk::Scores;
use crate::schema::{self, Ctx, Outputs};
use geojson::{Feature, FeatureCollection, JsonObject};

/// The properties `/api` shows of feature `index` of `layer` (grid units:
/// the unit id), from the layer schema.
fn properties(store: &Store, scores: &Scores, layer: LayerId, index: u32) -> JsonObject {
    let ctx = Ctx {
        store,
        risk: scores,
        scope: crate::auth::Scope::All,
    };
    schema::fields_in(layer, Outputs::API)
        .map(|f| (f.name.to_string(), f.value(&ctx, index).to_json()))
        .collect()
}

fn feature(id: &str, geometry: geojson::Geometry, properties: JsonObject) -> Feature {
    Feature {
        bbox: None,
        geometry: Some(geometry),
        id: Some(geojson::feature::Id::String(id.to_string())),
        properties: Some(properties),
        foreign_members: None,
    }
}

/// A grid unit as a GeoJSON feature (`id` = its code).
pub fn unit_feature(store: &Store, scores: &Scores, id: UnitId) -> Feature {
    let u = store.unit(id);
    let layer = u.level.layer();
    feature(
        &u.code,
        geojson::Geometry::from(&u.geometry),
        properties(store, scores, layer, id),
    )
}

/// An enterprise as a GeoJSON feature.
pub fn enterprise_feature(store: &Store, scores: &Scores, index: u32) -> Feature {
    let e = &store.dataset.enterprises[index as usize];
    feature(
        &e.id,
        geojson::Geometry::from(&e.location),
        properties(store, scores, LayerId::Enterprises, index),
    )
}

/// A hazard source as a GeoJSON feature.
pub fn hazard_feature(store: &Store, scores: &Scores, index: u32) -> Feature {
    let h = &store.dataset.hazard_sources[index as usize];
    feature(
        &h.id,
        geojson::Geometry::from(&h.location),
        properties(store, scores, LayerId::HazardSources, index),
    )
}

/// A collapse zone as a GeoJSON feature.
pub fn zone_feature(store: &Store, scores: &Scores, index: u32) -> Feature {
    let z = &store.dataset.collapse_zones[index as usize];
    feature(
        &z.id,
        geojson::Geometry::from(&z.geometry),
        properties(store, scores, LayerId::CollapseZones, index),
    )
}

/// The features of `layer` inside `unit` (points by their cell, zones by
/// intersection, grid units at or below it) that `scope` sees, as a
/// FeatureCollection.
pub fn features_inside(
    store: &Store,
    scores: &Scores,
    unit: UnitId,
    layer: LayerId,
    scope: Scope,
) -> FeatureCollection {
    let inside = super::Inside::gather(store, unit);
    let seen = |i: &&u32| scope.sees_feature(store, layer, **i);
    let features: Vec<Feature> = match layer {
        LayerId::Enterprises => inside
            .enterprises
            .iter()
            .filter(seen)
            .map(|&i| enterprise_feature(store, scores, i))
            .collect(),
        LayerId::HazardSources => inside
            .hazard_sources
            .iter()
            .filter(seen)
            .map(|&i| hazard_feature(store, scores, i))
            .collect(),
        LayerId::CollapseZones => inside
            .collapse_zones
            .iter()
            .map(|&i| zone_feature(store, scores, i))
            .collect(),
        other => match other.level() {
            Some(level) => store
                .units_at(level)
                .iter()
                .filter(|&&u| store.is_within(u, unit))
                .map(|&u| unit_feature(store, scores, u))
                .collect(),
            None => Vec::new(),
        },
    };
    FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    }
}
