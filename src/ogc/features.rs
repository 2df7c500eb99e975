//! Features of a served layer as the API shows them: ids, property values
//! and GeoJSON text in any offered CRS.

use super::RiskLookup;
use super::crs::OgcCrs;
use super::queryables::{Property, properties};
use crate::auth::Scope;
use crate::index::{Store, UnitId};
use crate::model::{LayerId, Level};
use geo::{LineString, MultiPolygon, Point};
use std::fmt::Write as _;

/// What features are read from: the indexed dataset and the risk scores.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// The indexed dataset.
    pub store: &'a Store,
    /// Risk scores of grid units.
    pub risk: &'a dyn RiskLookup,
    /// The caller's scope: a unit cell's `domain_<word>` values are null
    /// unless it opens the cell.
    pub scope: Scope,
}

/// One property value of a feature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PropValue<'a> {
    /// Absent.
    Null,
    /// A boolean.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number.
    Num(f64),
    /// Text.
    Str(&'a str),
}

impl PropValue<'_> {
    /// The value as a number, for numeric comparisons.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            PropValue::Int(i) => Some(*i as f64),
            PropValue::Num(x) => Some(*x),
            _ => None,
        }
    }

    fn write_json(&self, out: &mut String) {
        match self {
            PropValue::Null => out.push_str("null"),
            PropValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            PropValue::Int(i) => {
                let _ = write!(out, "{i}");
            }
            PropValue::Num(x) if x.is_finite() => {
                let _ = write!(out, "{x}");
            }
            PropValue::Num(_) => out.push_str("null"),
            PropValue::Str(s) => {
                out.push_str(&serde_json::Value::from(*s).to_string());
            }
        }
    }
}

fn opt_str(s: &Option<String>) -> PropValue<'_> {
    s.as_deref().map_or(PropValue::Null, PropValue::Str)
}

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
                    _ => ds.collapse_zones.iter().position(|z| z.id == fid),
                };
                pos.map(|p| p as u32)
            }
        }
    }

    /// The unit cell a point feature lies in (none for other layers).
    pub fn cell_of(&self, layer: LayerId, index: u32) -> Option<UnitId> {
        match layer {
            LayerId::Enterprises => self.store.enterprise_cell(index),
            LayerId::HazardSources => self.store.hazard_cell(index),
            _ => None,
        }
    }

    /// The value of `prop` for one feature.
    pub fn value(&self, layer: LayerId, index: u32, prop: &Property) -> PropValue<'a> {
        let ds = &self.store.dataset;
        let i = index as usize;
        let cell_code = || {
            self.cell_of(layer, index).map_or(PropValue::Null, |c| {
                PropValue::Str(&self.store.unit(c).code)
            })
        };
        match layer {
            LayerId::Enterprises => {
                let Some(e) = ds.enterprises.get(i) else {
                    return PropValue::Null;
                };
                match prop.name {
                    "id" => PropValue::Str(&e.id),
                    "name" => PropValue::Str(&e.name),
                    "uscc" => opt_str(&e.uscc),
                    "industry" => PropValue::Str(e.industry.as_str()),
                    "risk_grade" => PropValue::Str(e.risk_grade.as_str()),
                    "employees" => PropValue::Int(i64::from(e.employees)),
                    "hidden_dangers_open" => PropValue::Int(i64::from(e.hidden_dangers_open)),
                    "major_hidden_dangers_open" => {
                        PropValue::Int(i64::from(e.major_hidden_dangers_open))
                    }
                    "blacklisted" => PropValue::Bool(e.blacklisted),
                    "cell_code" => cell_code(),
                    _ => PropValue::Null,
                }
            }
            LayerId::HazardSources => {
                let Some(h) = ds.hazard_sources.get(i) else {
                    return PropValue::Null;
                };
                match prop.name {
                    "id" => PropValue::Str(&h.id),
                    "name" => PropValue::Str(&h.name),
                    "enterprise_id" => opt_str(&h.enterprise_id),
                    "grade" => PropValue::Int(i64::from(h.grade.get())),
                    "r_value" => h.r_value.map_or(PropValue::Null, PropValue::Num),
                    "substances" => PropValue::Str(&h.substances),
                    "monitored" => PropValue::Bool(h.monitored),
                    "supervisor" => opt_str(&h.supervisor),
                    "cell_code" => cell_code(),
                    _ => PropValue::Null,
                }
            }
            LayerId::CollapseZones => {
                let Some(z) = ds.collapse_zones.get(i) else {
                    return PropValue::Null;
                };
                match prop.name {
                    "id" => PropValue::Str(&z.id),
                    "kind" => PropValue::Str(z.kind.as_str()),
                    "severity" => PropValue::Int(i64::from(z.severity.get())),
                    "surveyed" => opt_str(&z.surveyed),
                    _ => PropValue::Null,
                }
            }
            _ => {
                let Some(u) = ds.units.get(i) else {
                    return PropValue::Null;
                };
                let risk = || self.risk.risk(index);
                match prop.name {
                    "code" => PropValue::Str(&u.code),
                    "name" => PropValue::Str(&u.name),
                    "level" => PropValue::Str(u.level.as_str()),
                    "parent_code" => opt_str(&u.parent_code),
                    "population" => PropValue::Int(i64::try_from(u.population).unwrap_or(i64::MAX)),
                    "risk_score" => risk().map_or(PropValue::Null, |(s, _)| PropValue::Num(s)),
                    "risk_level" => {
                        risk().map_or(PropValue::Null, |(_, l)| PropValue::Str(l.as_str()))
                    }
                    "risk_color" => {
                        risk().map_or(PropValue::Null, |(_, l)| PropValue::Str(l.color()))
                    }
                    _ if u.level == Level::Cell && !self.scope.sees_unit(self.store, index) => {
                        PropValue::Null
                    }
                    name => crate::risk::Domain::all()
                        .find(|d| name.strip_prefix("domain_") == Some(d.as_str()))
                        .and_then(|d| self.risk.domain(index, d))
                        .map_or(PropValue::Null, PropValue::Num),
                }
            }
        }
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
    let _ = write!(out, "[{a},{b}]");
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
