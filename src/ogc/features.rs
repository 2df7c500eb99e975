//! Features of a served layer as the API shows them: ids, property values
//! and GeoJSON text in any offered CRS.

use super::crs::OgcCrs;
use super::queryables::{Property, properties};
use crate::model::LayerId;
use geo::{LineString, MultiPolygon, Point};

pub use crate::schema::{Ctx, PropValue};

impl<'a> Ctx<'a> {
    /// Every feature of `layer` in id order: unit ids sorted by code for
    /// grid layers, file order for the others.
    pub fn all(&self, layer: LayerId) -> Vec<u32> {
        let ds = &self.store.dataset;
        let n = match layer.level() {
            Some(level) => return self.store.units_at(level).to_vec(),
            None => match layer {
                LayerId::Enterprises => ds.enterprises.len(),
                LayerId::HazardSources => ds.hazard_sources.len(),
                LayerId::HiddenDangers => self.store.dangers().len(),
                LayerId::Sensors => self.store.alarms().sensors().len(),
                LayerId::Alarms => self.store.alarms().len(),
                _ => ds.collapse_zones.len(),
            },
        };
        (0..n as u32).collect()
    }

    /// The feature id (`code` for grid units, the ledger id otherwise).
    pub fn id(&self, layer: LayerId, index: u32) -> &'a str {
        let ds = &self.store.dataset;
        let i = index as usize;
        match layer {
            LayerId::Enterprises => ds.enterprises.get(i).map_or("", |e| e.id.as_str()),
            LayerId::HazardSources => ds.hazard_sources.get(i).map_or("", |h| h.id.as_str()),
            LayerId::CollapseZones => ds.collapse_zones.get(i).map_or("", |z| z.id.as_str()),
            LayerId::HiddenDangers => {
                let store: &'a crate::index::Store = self.store;
                store
                    .dangers()
                    .get(index)
                    .map_or("", |e| e.record.id.as_str())
            }
            LayerId::Sensors => {
                let store: &'a crate::index::Store = self.store;
                store
                    .alarms()
                    .sensors()
                    .get(i)
                    .map_or("", |s| s.id.as_str())
            }
            LayerId::Alarms => {
                let store: &'a crate::index::Store = self.store;
                store
                    .alarms()
                    .get(index)
                    .map_or("", |e| e.record.id.as_str())
            }
            _ => ds.units.get(i).map_or("", |u| u.code.as_str()),
        }
    }

    /// The feature of `layer` whose id is `fid`.
    pub fn find(&self, layer: LayerId, fid: &str) -> Option<u32> {
        let ds = &self.store.dataset;
        match layer.level() {
            Some(level) => self
                .store
                .unit_by_code(fid)
                .filter(|&u| self.store.unit(u).level == level),
            None => {
                let pos = match layer {
                    LayerId::Enterprises => ds.enterprises.iter().position(|e| e.id == fid),
                    LayerId::HazardSources => ds.hazard_sources.iter().position(|h| h.id == fid),
                    LayerId::HiddenDangers => {
                        return self.store.dangers().index_of(fid);
                    }
                    LayerId::Sensors => return self.store.alarms().sensor_by_id(fid),
                    LayerId::Alarms => return self.store.alarms().index_of(fid),
                    _ => ds.collapse_zones.iter().position(|z| z.id == fid),
                };
                pos.map(|p| p as u32)
            }
        }
    }

    /// The value of `prop` for one feature (its schema getter).
    pub fn value(&self, _layer: LayerId, index: u32, prop: &Property) -> PropValue<'a> {
        prop.value(self, index)
    }

    /// Whether a feature index is valid for `layer` (grid units must be of
    /// the layer's level).
    pub fn exists(&self, layer: LayerId, index: u32) -> bool {
        let ds = &self.store.dataset;
        let i = index as usize;
        match layer.level() {
            Some(level) => ds.units.get(i).is_some_and(|u| u.level == level),
            None => match layer {
                LayerId::Enterprises => i < ds.enterprises.len(),
                LayerId::HazardSources => i < ds.hazard_sources.len(),
                LayerId::HiddenDangers => i < self.store.dangers().len(),
                LayerId::Sensors => i < self.store.alarms().sensors().len(),
                LayerId::Alarms => i < self.store.alarms().len(),
                _ => i < ds.collapse_zones.len(),
            },
        }
    }

    /// Appends one GeoJSON Feature: `id`, `geometry` in `crs`, and the
    /// properties at positions `props` of [`properties`]`(layer)`.
    pub fn write_feature(
        &self,
        out: &mut String,
        layer: LayerId,
        index: u32,
        crs: OgcCrs,
        props: &[usize],
    ) {
        out.push_str("{\"type\":\"Feature\",\"id\":");
        PropValue::Str(self.id(layer, index)).write_json(out);
        out.push_str(",\"geometry\":");
        let ds = &self.store.dataset;
        let i = index as usize;
        match layer {
            LayerId::Enterprises => match ds.enterprises.get(i) {
                Some(e) => write_point(out, e.location, crs),
                None => out.push_str("null"),
            },
            LayerId::HazardSources => match ds.hazard_sources.get(i) {
                Some(h) => write_point(out, h.location, crs),
                None => out.push_str("null"),
            },
            LayerId::CollapseZones => match ds.collapse_zones.get(i) {
                Some(z) => write_multipolygon(out, &z.geometry, crs),
                None => out.push_str("null"),
            },
            LayerId::HiddenDangers => match self.store.dangers().get(index) {
                Some(e) => write_point(out, e.record.location, crs),
                None => out.push_str("null"),
            },
            LayerId::Sensors => match self.store.alarms().sensors().get(i) {
                Some(s) => write_point(out, s.location, crs),
                None => out.push_str("null"),
            },
            LayerId::Alarms => match self.store.alarms().get(index) {
                Some(e) => write_point(out, e.record.location, crs),
                None => out.push_str("null"),
            },
            _ => match ds.units.get(i) {
                Some(u) => write_multipolygon(out, &u.geometry, crs),
                None => out.push_str("null"),
            },
        }
        out.push_str(",\"properties\":{");
        let all = properties(layer);
        for (n, &p) in props.iter().enumerate() {
            let Some(prop) = all.get(p) else { continue };
            if n > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(prop.name);
            out.push_str("\":");
            self.value(layer, index, prop).write_json(out);
        }
        out.push_str("}}");
    }
}

fn write_position(out: &mut String, lon: f64, lat: f64, crs: OgcCrs) {
    let [a, b] = crs.from_lon_lat(lon, lat);
    out.push('[');
    crate::json_text::write_f64(out, a);
    out.push(',');
    crate::json_text::write_f64(out, b);
    out.push(']');
}

fn write_point(out: &mut String, p: Point<f64>, crs: OgcCrs) {
    out.push_str("{\"type\":\"Point\",\"coordinates\":");
    write_position(out, p.x(), p.y(), crs);
    out.push('}');
}

fn write_ring(out: &mut String, ring: &LineString<f64>, crs: OgcCrs) {
    out.push('[');
    for (n, c) in ring.0.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        write_position(out, c.x, c.y, crs);
    }
    out.push(']');
}

fn write_multipolygon(out: &mut String, mp: &MultiPolygon<f64>, crs: OgcCrs) {
    out.push_str("{\"type\":\"MultiPolygon\",\"coordinates\":[");
    for (n, poly) in mp.0.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push('[');
        write_ring(out, poly.exterior(), crs);
        for ring in poly.interiors() {
            out.push(',');
            write_ring(out, ring, crs);
        }
        out.push(']');
    }
    out.push_str("]}");
}
