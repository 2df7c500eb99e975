//! [`build_tile`]: the composite tile of every layer a caller may see.

use super::clip::ClipBox;
use super::cluster::{ClusterInput, Clustered, cluster};
use super::encode::{LayerBuilder, TileValue, encode_tile};
use super::geometry::{TileGeometry, polygons_to_tile};
use super::{RiskLookup, TileId, TilePolicy};
use crate::auth::Scope;
use crate::crs::mercator::TileFrame;
use crate::index::{Store, UnitId, aabb};
use crate::model::{LayerId, Level};
use geozero::mvt::tile::Layer;
use rstar::AABB;

/// An encoded tile with what went into it.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltTile {
    /// The protobuf bytes (not compressed).
    pub bytes: Vec<u8>,
    /// Features per layer present in the tile, in layer order.
    pub counts: Vec<(LayerId, usize)>,
    /// Whether enterprise points were clustered.
    pub clustered: bool,
}

/// Settings of one attempt at a tile (coarsened when a tile is too big).
struct Cut<'a> {
    store: &'a Store,
    risk: &'a dyn RiskLookup,
    scope: Scope,
    z: u8,
    frame: TileFrame,
    window: ClipBox,
    env: AABB<[f64; 2]>,
    extent: u32,
    tolerance: f64,
    min_area: f64,
    cluster_threshold: usize,
    cluster_cell: f64,
}

/// Builds the composite tile `tile` for a caller with `scope`: the grid
/// levels and collapse zones for everyone, hazard sources and enterprises
/// only within the scope. `None` when the tile has no feature at all.
///
/// A tile whose encoding exceeds `policy.max_bytes` is cut again with a
/// coarser tolerance and a lower clustering threshold (up to four times).
pub fn build_tile(
    store: &Store,
    risk: &dyn RiskLookup,
    scope: Scope,
    tile: TileId,
    policy: &TilePolicy,
) -> Option<BuiltTile> {
    let frame = TileFrame::new(tile.z(), tile.x(), tile.y(), policy.extent);
    let [w, s, e, n] = frame.lon_lat_bounds(f64::from(policy.buffer));
    let mut cut = Cut {
        store,
        risk,
        scope,
        z: tile.z(),
        frame,
        window: ClipBox::buffered(policy.extent, policy.buffer),
        env: aabb(w, s, e, n),
        extent: policy.extent,
        tolerance: policy.tolerance,
        min_area: policy.min_ring_area,
        cluster_threshold: policy.cluster_threshold,
        cluster_cell: f64::from(policy.cluster_cell),
    };
    let mut built = cut.build(policy)?;
    for _ in 0..4 {
        if built.bytes.len() <= policy.max_bytes {
            break;
        }
        cut.tolerance *= 4.0;
        cut.min_area *= 4.0;
        cut.cluster_threshold = (cut.cluster_threshold / 2).max(1);
        built = cut.build(policy)?;
    }
    if built.bytes.len() > policy.max_bytes {
        tracing::warn!(%tile, bytes = built.bytes.len(), "tile above the size limit");
    }
    Some(built)
}

/// Whether a feature located in `cell` is visible to `scope`.
fn in_scope(store: &Store, scope: Scope, cell: Option<UnitId>) -> bool {
    match scope {
        Scope::All => true,
        Scope::Unit(u) => cell.is_some_and(|c| store.is_within(c, u)),
        Scope::Nothing => false,
    }
}

impl Cut<'_> {
    fn build(&self, policy: &TilePolicy) -> Option<BuiltTile> {
        let mut layers: Vec<Layer> = Vec::new();
        let mut counts = Vec::new();
        let mut clustered = false;
        for layer in LayerId::SERVED {
            if !policy.shows(layer, self.z) {
                continue;
            }
            if layer.is_private() && self.scope == Scope::Nothing {
                continue;
            }
            let built = match layer {
                LayerId::CollapseZones => self.zones(),
                LayerId::HazardSources => self.hazards(),
                LayerId::Enterprises => {
                    let (b, c) = self.enterprises();
                    clustered = c;
                    b
                }
                other => match other.level() {
                    Some(level) => self.units(level),
                    None => continue,
                },
            };
            counts.push((layer, built.len()));
            if let Some(l) = built.finish() {
                layers.push(l);
            }
        }
        if layers.is_empty() {
            return None;
        }
        counts.retain(|(_, n)| *n > 0);
        Some(BuiltTile {
            bytes: encode_tile(layers),
            counts,
            clustered,
        })
    }

    fn polygons(&self, mp: &geo::MultiPolygon<f64>) -> TileGeometry {
        TileGeometry::Polygons(polygons_to_tile(
            mp,
            &self.frame,
            self.window,
            self.tolerance,
            self.min_area,
        ))
    }

    fn point(&self, p: geo::Point<f64>) -> Option<[f64; 2]> {
        let (x, y) = self.frame.project(p.x(), p.y());
        self.window.contains([x, y]).then_some([x, y])
    }

    fn units(&self, level: Level) -> LayerBuilder {
        let mut out = LayerBuilder::new(level.layer(), self.extent);
        let mut ids: Vec<UnitId> = self.store.units_in_envelope(level, &self.env).collect();
        ids.sort_unstable();
        for id in ids {
            let u = self.store.unit(id);
            let geom = self.polygons(&u.geometry);
            if geom.is_empty() {
                continue;
            }
            let mut props = vec![
                ("code", TileValue::Str(u.code.clone())),
                ("name", TileValue::Str(u.name.clone())),
                ("level", TileValue::Str(level.as_str().into())),
            ];
            if let Some((score, risk)) = self.risk.risk(id) {
                props.push(("risk_score", TileValue::Double(score)));
                props.push(("risk_level", TileValue::Str(risk.as_str().into())));
                props.push(("risk_color", TileValue::Str(risk.color().into())));
            }
            if let Some(p) = &u.parent_code {
                props.push(("parent_code", TileValue::Str(p.clone())));
            }
            props.push(("population", TileValue::Uint(u.population)));
            let fid = u.code.parse::<u64>().unwrap_or(u64::from(id));
            out.add(fid, &geom, props);
        }
        out
    }

    fn zones(&self) -> LayerBuilder {
        let mut out = LayerBuilder::new(LayerId::CollapseZones, self.extent);
        let mut ids: Vec<u32> = self.store.zones_in_envelope(&self.env).collect();
        ids.sort_unstable();
        for i in ids {
            let z = &self.store.dataset.collapse_zones[i as usize];
            let geom = self.polygons(&z.geometry);
            let mut props = vec![
                ("id", TileValue::Str(z.id.clone())),
                ("kind", TileValue::Str(z.kind.as_str().into())),
                ("severity", TileValue::Uint(u64::from(z.severity.get()))),
            ];
            if let Some(s) = &z.surveyed {
                props.push(("surveyed", TileValue::Str(s.clone())));
            }
            out.add(u64::from(i), &geom, props);
        }
        out
    }

    fn hazards(&self) -> LayerBuilder {
        let mut out = LayerBuilder::new(LayerId::HazardSources, self.extent);
        let mut ids: Vec<u32> = self.store.hazards_in_envelope(&self.env).collect();
        ids.sort_unstable();
        for i in ids {
            if !in_scope(self.store, self.scope, self.store.hazard_cell(i)) {
                continue;
            }
            let h = &self.store.dataset.hazard_sources[i as usize];
            let Some(p) = self.point(h.location) else {
                continue;
            };
            let props = vec![
                ("id", TileValue::Str(h.id.clone())),
                ("name", TileValue::Str(h.name.clone())),
                ("grade", TileValue::Uint(u64::from(h.grade.get()))),
                ("monitored", TileValue::Bool(h.monitored)),
                ("substances", TileValue::Str(h.substances.clone())),
            ];
            out.add(u64::from(i), &round_point(p), props);
        }
        out
    }

    fn enterprises(&self) -> (LayerBuilder, bool) {
        let mut out = LayerBuilder::new(LayerId::Enterprises, self.extent);
        let mut ids: Vec<u32> = self.store.enterprises_in_envelope(&self.env).collect();
        ids.sort_unstable();
        let mut kept: Vec<(u32, [f64; 2])> = Vec::with_capacity(ids.len());
        for i in ids {
            if !in_scope(self.store, self.scope, self.store.enterprise_cell(i)) {
                continue;
            }
            let e = &self.store.dataset.enterprises[i as usize];
            if let Some(p) = self.point(e.location) {
                kept.push((i, p));
            }
        }
        let inputs: Vec<ClusterInput> = kept
            .iter()
            .map(|(i, at)| ClusterInput {
                at: *at,
                grade: self.store.dataset.enterprises[*i as usize].risk_grade,
            })
            .collect();
        let groups = cluster(&inputs, self.cluster_threshold, self.cluster_cell);
        let clustered = groups.len() < kept.len();
        for g in groups {
            match g {
                Clustered::Single(k) => {
                    let (i, at) = kept[k];
                    let e = &self.store.dataset.enterprises[i as usize];
                    let props = vec![
                        ("id", TileValue::Str(e.id.clone())),
                        ("name", TileValue::Str(e.name.clone())),
                        ("industry", TileValue::Str(e.industry.as_str().into())),
                        ("risk_grade", TileValue::Str(e.risk_grade.as_str().into())),
                        (
                            "hidden_dangers_open",
                            TileValue::Uint(u64::from(e.hidden_dangers_open)),
                        ),
                        (
                            "major_hidden_dangers_open",
                            TileValue::Uint(u64::from(e.major_hidden_dangers_open)),
                        ),
                    ];
                    out.add(u64::from(i), &round_point(at), props);
                }
                Clustered::Cluster {
                    at,
                    point_count,
                    max_grade,
                    cell,
                } => {
                    let props = vec![
                        ("point_count", TileValue::Uint(u64::from(point_count))),
                        ("max_risk_grade", TileValue::Str(max_grade.as_str().into())),
                    ];
                    // Cluster ids live above every enterprise index.
                    out.add((1 << 63) | cell, &round_point(at), props);
                }
            }
        }
        (out, clustered)
    }
}

fn round_point(p: [f64; 2]) -> TileGeometry {
    TileGeometry::Points(vec![[p[0].round() as i32, p[1].round() as i32]])
}
