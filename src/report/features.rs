//! GeoJSON features of the served layers, with the contract's property
//! names (grid units carry the risk fields).

use crate::auth::Scope;
use crate::index::{Store, UnitId};
use crate::model::LayerId;
use crate::risk::Scores;
use geojson::{Feature, FeatureCollection, JsonObject};
use serde_json::{Value, json};

fn object(v: Value) -> Option<JsonObject> {
    match v {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// A grid unit as a GeoJSON feature (`id` = its code).
pub fn unit_feature(store: &Store, scores: &Scores, id: UnitId) -> Feature {
    let u = store.unit(id);
    let s = scores.unit(id);
    Feature {
        bbox: None,
        geometry: Some(geojson::Geometry::from(&u.geometry)),
        id: Some(geojson::feature::Id::String(u.code.clone())),
        properties: object(json!({
            "code": u.code,
            "name": u.name,
            "level": u.level.as_str(),
            "parent_code": u.parent_code,
            "population": u.population,
            "risk_score": crate::model::unsigned_zero(s.risk_score()),
            "risk_level": s.level().as_str(),
            "risk_color": s.color(),
        })),
        foreign_members: None,
    }
}

/// An enterprise as a GeoJSON feature.
pub fn enterprise_feature(store: &Store, index: u32) -> Feature {
    let e = &store.dataset.enterprises[index as usize];
    Feature {
        bbox: None,
        geometry: Some(geojson::Geometry::from(&e.location)),
        id: Some(geojson::feature::Id::String(e.id.clone())),
        properties: object(json!({
            "id": e.id,
            "name": e.name,
            "uscc": e.uscc,
            "industry": e.industry.as_str(),
            "risk_grade": e.risk_grade.as_str(),
            "employees": e.employees,
            "hidden_dangers_open": e.hidden_dangers_open,
            "major_hidden_dangers_open": e.major_hidden_dangers_open,
            "blacklisted": e.blacklisted,
            "cell_code": store.enterprise_cell(index).map(|c| store.unit(c).code.clone()),
        })),
        foreign_members: None,
    }
}

/// A hazard source as a GeoJSON feature.
pub fn hazard_feature(store: &Store, index: u32) -> Feature {
    let h = &store.dataset.hazard_sources[index as usize];
    Feature {
        bbox: None,
        geometry: Some(geojson::Geometry::from(&h.location)),
        id: Some(geojson::feature::Id::String(h.id.clone())),
        properties: object(json!({
            "id": h.id,
            "name": h.name,
            "enterprise_id": h.enterprise_id,
            "grade": h.grade.get(),
            "r_value": h.r_value,
            "substances": h.substances,
            "monitored": h.monitored,
            "supervisor": h.supervisor,
        })),
        foreign_members: None,
    }
}

/// A collapse zone as a GeoJSON feature.
pub fn zone_feature(store: &Store, index: u32) -> Feature {
    let z = &store.dataset.collapse_zones[index as usize];
    Feature {
        bbox: None,
        geometry: Some(geojson::Geometry::from(&z.geometry)),
        id: Some(geojson::feature::Id::String(z.id.clone())),
        properties: object(json!({
            "id": z.id,
            "kind": z.kind.as_str(),
            "severity": z.severity.get(),
            "surveyed": z.surveyed,
        })),
        foreign_members: None,
    }
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
            .map(|&i| enterprise_feature(store, i))
            .collect(),
        LayerId::HazardSources => inside
            .hazard_sources
            .iter()
            .filter(seen)
            .map(|&i| hazard_feature(store, i))
            .collect(),
        LayerId::CollapseZones => inside
            .collapse_zones
            .iter()
            .map(|&i| zone_feature(store, i))
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
