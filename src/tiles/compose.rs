//! [`build_tile`]: the composite tile of every layer a caller may see.

use super::clip::ClipBox;
use super::cluster::{ClusterInput, Clustered, cluster};
use super::encode::{LayerBuilder, Prop, layer_field_key, push_layer};
use super::filter::TileFilter;
use super::geometry::{TileGeometry, polygons_to_tile, shape_to_tile};
use super::gzip_layers::{self, Deflater, Segment};
use super::layer_cache::{KeptLayer, KeptLayers, LayerCache, Reuse, UnitGeometries, reusable};
use super::prepared::Prepared;
use super::risk::{domains_at_zoom, tile_domain_value};
use super::shapes::UnitShapes;
use super::{RiskLookup, TileId, TilePolicy};
use crate::auth::Scope;
use crate::crs::mercator::TileFrame;
use crate::index::{Store, UnitId, aabb};
use crate::model::{LayerId, Level};
use crate::schema::{self, Ctx, Outputs, PropValue};
use rstar::AABB;
use std::io;
use std::sync::Arc;

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
    prepared: &'a Prepared,
    /// Whether the prepared per-zoom copies are simplified as this cut
    /// wants (first attempt, same policy), so tiles need not simplify.
    exact_copies: bool,
    risk: &'a dyn RiskLookup,
    scope: Scope,
    /// The enterprises and hazard sources kept.
    filter: TileFilter,
    tile: TileId,
    z: u8,
    frame: TileFrame,
    window: ClipBox,
    env: AABB<[f64; 2]>,
    extent: u32,
    tolerance: f64,
    min_area: f64,
    cluster_threshold: usize,
    cluster_cell: f64,
    /// Where the units' encoded geometries are kept (first attempt, with
    /// the default policy, only: a tile cut again is cut coarser).
    kept: Option<&'a LayerCache>,
}

/// Builds the composite tile `tile` for a caller with `scope`: the grid
/// levels and collapse zones for everyone, hazard sources, enterprises,
/// hidden dangers, sensors and alarms only within the scope; unit cells' `domain_<word>` values only where
/// the scope opens the cell. `None` when the tile has no feature at all.
///
/// A tile whose encoding exceeds `policy.max_bytes` is cut again with a
/// coarser tolerance and a lower clustering threshold (up to four times).
pub fn build_tile(
    store: &Store,
    prepared: &Prepared,
    risk: &dyn RiskLookup,
    scope: Scope,
    tile: TileId,
    policy: &TilePolicy,
) -> Option<BuiltTile> {
    build_tile_filtered(store, prepared, risk, scope, tile, policy, TileFilter::NONE)
}

/// [`build_tile`] keeping only the enterprises and hazard sources that
/// pass `filter`. Enterprises are then clustered from those kept (the
/// prepared pyramid counts every enterprise, so it serves unfiltered
/// tiles only); every other layer is as in the unfiltered tile (unless
/// the tile is cut again for its size, which the unfiltered one may need
/// and the smaller filtered one not).
pub fn build_tile_filtered(
    store: &Store,
    prepared: &Prepared,
    risk: &dyn RiskLookup,
    scope: Scope,
    tile: TileId,
    policy: &TilePolicy,
    filter: TileFilter,
) -> Option<BuiltTile> {
    let mut cut = Cut::new(store, prepared, risk, scope, tile, policy, filter);
    match cut_to_size(&mut cut, policy, |_| Plain::default()) {
        Ok(built) => built.map(|(plain, (counts, clustered))| BuiltTile {
            bytes: plain.bytes,
            counts,
            clustered,
        }),
        Err(never) => match never {},
    }
}

/// The gzip body of [`build_tile_filtered`]'s tile, one deflate segment
/// per layer ([`super::gzip_layers`]), taking the layers [`Reuse`] finds in
/// the tile's previous body instead of encoding and compressing them
/// again, and the grid units' geometries its cache keeps (see
/// [`super::layer_cache`]). The body is
/// [`super::gzip_layers::gzip_tile`] of the tile [`build_tile_filtered`]
/// makes from the same snapshot, as long as the previous body was built
/// for the same tile, caller and filter.
#[allow(clippy::too_many_arguments)]
pub fn build_tile_gzip<'a>(
    store: &'a Store,
    prepared: &'a Prepared,
    risk: &'a dyn RiskLookup,
    scope: Scope,
    tile: TileId,
    policy: &TilePolicy,
    filter: TileFilter,
    reuse: Option<Reuse<'a>>,
) -> io::Result<Option<GzippedTile>> {
    let mut cut = Cut::new(store, prepared, risk, scope, tile, policy, filter);
    cut.kept = reuse.as_ref().map(|r| r.cache);
    // A tile cut again for its size is cut coarser than the kept layers:
    // only the first attempt reuses and keeps.
    let built = cut_to_size(&mut cut, policy, |first| Zipped {
        reuse: if first { reuse.as_ref() } else { None },
        deflater: Deflater::new(),
        segments: Vec::new(),
        kept: Vec::new(),
        len: 0,
    })?;
    Ok(built.map(|(zipped, (counts, clustered))| {
        let kept = zipped.reuse.and_then(|r| {
            let ranges = gzip_layers::ranges(&zipped.segments);
            let layers = zipped
                .kept
                .into_iter()
                .map(|(layer, at, count, clustered)| {
                    let segment = match at {
                        Some(i) => Some((ranges.get(i)?.clone(), zipped.segments.get(i)?.crc())),
                        None => None,
                    };
                    Some(KeptLayer {
                        layer,
                        segment,
                        count,
                        clustered,
                    })
                })
                .collect::<Option<Vec<_>>>()?;
            Some(KeptLayers {
                load: r.cache.load(),
                danger_version: r.danger_version,
                layers,
            })
        });
        GzippedTile {
            body: gzip_layers::gzip(&zipped.segments),
            len: zipped.len,
            counts,
            clustered,
            kept,
        }
    }))
}

/// A tile's gzip body with what went into it.
#[derive(Debug, Clone, PartialEq)]
pub struct GzippedTile {
    /// The gzip body.
    pub body: Vec<u8>,
    /// Length of the tile's protobuf bytes.
    pub len: usize,
    /// Features per layer present in the tile, in layer order.
    pub counts: Vec<(LayerId, usize)>,
    /// Whether enterprise points were clustered.
    pub clustered: bool,
    /// Where its reusable layers lie in the body, when it was built with a
    /// [`Reuse`] (and not cut again for its size).
    pub kept: Option<KeptLayers>,
}

/// The layers of a tile and whether enterprise points were clustered.
type Made = (Vec<(LayerId, usize)>, bool);

/// Builds `cut` into the sink `sink(first attempt)` makes, cutting it again
/// coarser while it is above `policy.max_bytes` (up to four times).
fn cut_to_size<S: Sink>(
    cut: &mut Cut<'_>,
    policy: &TilePolicy,
    mut sink: impl FnMut(bool) -> S,
) -> Result<Option<(S, Made)>, S::Error> {
    let mut out = sink(true);
    let Some(mut made) = cut.build(policy, &mut out)? else {
        return Ok(None);
    };
    for _ in 0..4 {
        if out.len() <= policy.max_bytes {
            break;
        }
        cut.tolerance *= 4.0;
        cut.exact_copies = false;
        cut.min_area *= 4.0;
        cut.cluster_threshold = (cut.cluster_threshold / 2).max(1);
        cut.kept = None;
        out = sink(false);
        let Some(again) = cut.build(policy, &mut out)? else {
            return Ok(None);
        };
        made = again;
    }
    if out.len() > policy.max_bytes {
        tracing::warn!(tile = %cut.tile, bytes = out.len(), "tile above the size limit");
    }
    Ok(Some((out, made)))
}

/// Where [`Cut::build`] puts the layers it makes.
trait Sink {
    /// What taking a layer may fail with.
    type Error;
    /// Takes the kept copy of `layer`, if there is one: its feature count
    /// and whether its enterprise points were clustered.
    fn take_kept(&mut self, layer: LayerId) -> Option<(usize, bool)>;
    /// Takes `layer` as just made (`message` `None`: no feature).
    fn take(
        &mut self,
        layer: LayerId,
        message: Option<Vec<u8>>,
        count: usize,
        clustered: bool,
    ) -> Result<(), Self::Error>;
    /// Length of the tile's bytes taken so far.
    fn len(&self) -> usize;
}

/// The tile's protobuf bytes.
#[derive(Default)]
struct Plain {
    bytes: Vec<u8>,
}

impl Sink for Plain {
    type Error = std::convert::Infallible;

    fn take_kept(&mut self, _: LayerId) -> Option<(usize, bool)> {
        None
    }

    fn take(
        &mut self,
        _: LayerId,
        message: Option<Vec<u8>>,
        _: usize,
        _: bool,
    ) -> Result<(), Self::Error> {
        if let Some(m) = message {
            push_layer(&mut self.bytes, &m);
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.bytes.len()
    }
}

/// The tile's layers as deflate segments, kept ones reused.
struct Zipped<'r> {
    reuse: Option<&'r Reuse<'r>>,
    deflater: Deflater,
    segments: Vec<Segment>,
    /// The reusable layers made or taken: layer, its segment's index (none
    /// without a feature), features, clustered.
    kept: Vec<(LayerId, Option<usize>, usize, bool)>,
    len: usize,
}

impl Zipped<'_> {
    fn push(&mut self, layer: LayerId, segment: Option<Segment>, count: usize, clustered: bool) {
        let at = segment.map(|s| {
            self.len += s.len();
            self.segments.push(s);
            self.segments.len() - 1
        });
        if self.reuse.is_some() && reusable(layer) {
            self.kept.push((layer, at, count, clustered));
        }
    }
}

impl Sink for Zipped<'_> {
    type Error = io::Error;

    fn take_kept(&mut self, layer: LayerId) -> Option<(usize, bool)> {
        let (segment, count, clustered) = self.reuse?.take(layer)?;
        self.push(layer, segment, count, clustered);
        Some((count, clustered))
    }

    fn take(
        &mut self,
        layer: LayerId,
        message: Option<Vec<u8>>,
        count: usize,
        clustered: bool,
    ) -> Result<(), Self::Error> {
        let segment = match message {
            Some(m) => Some(self.deflater.segment(&[&layer_field_key(m.len()), &m])?),
            None => None,
        };
        self.push(layer, segment, count, clustered);
        Ok(())
    }

    fn len(&self) -> usize {
        self.len
    }
}

impl<'a> Cut<'a> {
    /// The first attempt at `tile` for `scope` under `policy`.
    fn new(
        store: &'a Store,
        prepared: &'a Prepared,
        risk: &'a dyn RiskLookup,
        scope: Scope,
        tile: TileId,
        policy: &TilePolicy,
        filter: TileFilter,
    ) -> Self {
        let frame = TileFrame::new(tile.z(), tile.x(), tile.y(), policy.extent);
        let [w, s, e, n] = frame.lon_lat_bounds(f64::from(policy.buffer));
        Cut {
            store,
            prepared,
            exact_copies: prepared.matches(policy),
            risk,
            scope,
            filter,
            tile,
            z: tile.z(),
            frame,
            window: ClipBox::buffered(policy.extent, policy.buffer),
            env: aabb(w, s, e, n),
            extent: policy.extent,
            tolerance: policy.tolerance,
            min_area: policy.min_ring_area,
            cluster_threshold: policy.cluster_threshold,
            cluster_cell: f64::from(policy.cluster_cell),
            kept: None,
        }
    }

    /// Makes every layer the caller sees into `sink`; `None` when none
    /// has a feature.
    fn build<S: Sink>(&self, policy: &TilePolicy, sink: &mut S) -> Result<Option<Made>, S::Error> {
        let mut counts = Vec::new();
        let mut clustered = false;
        for layer in LayerId::SERVED {
            if !policy.shows(layer, self.z) {
                continue;
            }
            if !self.scope.opens(layer) {
                continue;
            }
            if let Some((count, c)) = sink.take_kept(layer) {
                counts.push((layer, count));
                clustered |= c;
                continue;
            }
            let mut layer_clustered = false;
            let built = match layer {
                LayerId::CollapseZones => self.zones(),
                LayerId::HazardSources => self.hazards(),
                LayerId::HiddenDangers => self.dangers(),
                LayerId::Sensors => self.sensors(),
                LayerId::Alarms => self.alarms(),
                LayerId::Enterprises => {
                    let (b, c) = self.enterprises();
                    layer_clustered = c;
                    b
                }
                other => match other.level() {
                    Some(level) => self.units(level),
                    None => continue,
                },
            };
            let count = built.len();
            counts.push((layer, count));
            clustered |= layer_clustered;
            sink.take(layer, built.finish(), count, layer_clustered)?;
        }
        counts.retain(|(_, n)| *n > 0);
        if counts.is_empty() {
            return Ok(None);
        }
        Ok(Some((counts, clustered)))
    }

    /// The tile geometry of a polygon feature, from its prepared shapes
    /// when there are any.
    fn polygons(&self, shapes: Option<&UnitShapes>, mp: &geo::MultiPolygon<f64>) -> TileGeometry {
        let polys = match shapes {
            Some(s) => {
                let (shape, exact) = s.for_zoom(self.z);
                let tolerance = if exact && self.exact_copies {
                    0.0
                } else {
                    self.tolerance
                };
                shape_to_tile(shape, &self.frame, self.window, tolerance, self.min_area)
            }
            None => polygons_to_tile(mp, &self.frame, self.window, self.tolerance, self.min_area),
        };
        TileGeometry::Polygons(polys)
    }

    fn point(&self, p: geo::Point<f64>) -> Option<[f64; 2]> {
        let (x, y) = self.frame.project(p.x(), p.y());
        self.window.contains([x, y]).then_some([x, y])
    }

    /// The properties of feature `index` of `layer` that `output` carries,
    /// in schema order; absent (null) values are left out.
    fn props(
        &self,
        layer: LayerId,
        index: u32,
        output: Outputs,
        out: &mut Vec<(&'static str, Prop<'a>)>,
    ) {
        let ctx = Ctx {
            store: self.store,
            risk: self.risk,
            scope: self.scope,
        };
        for f in schema::fields_in(layer, output) {
            if let Some(p) = tile_prop(f.value(&ctx, index)) {
                out.push((f.name, p));
            }
        }
    }

    fn units(&self, level: Level) -> LayerBuilder<'a> {
        let layer = level.layer();
        let shapes = match self.kept.and_then(|k| k.shapes(self.tile, layer)) {
            Some(s) => s,
            None => {
                let mut g = self.unit_geometries(level);
                if let Some(k) = self.kept {
                    g.geometry.shrink();
                    g.units.shrink_to_fit();
                    let g = Arc::new(g);
                    k.keep_shapes(self.tile, layer, Arc::clone(&g));
                    g
                } else {
                    Arc::new(g)
                }
            }
        };
        let mut out = LayerBuilder::with_capacity(layer, self.extent, shapes.units.len());
        let mut props = Vec::with_capacity(12);
        let ctx = Ctx {
            store: self.store,
            risk: self.risk,
            scope: self.scope,
        };
        for (i, &(id, fid)) in shapes.units.iter().enumerate() {
            let Some((kind, geometry)) = shapes.geometry.get(i) else {
                continue;
            };
            props.clear();
            self.props(layer, id, Outputs::TILES, &mut props);
            if self.shows_domains(level, id) {
                for f in schema::fields_in(layer, Outputs::TILE_DOMAINS) {
                    if let PropValue::Num(x) = f.value(&ctx, id)
                        && let Some(v) = tile_domain_value(x)
                    {
                        props.push((f.name, Prop::Double(v)));
                    }
                }
            }
            out.add_encoded(fid, kind, geometry, &props);
        }
        out
    }

    /// The units of `level` with a geometry in the tile, in id order, and
    /// their geometries cut and encoded.
    fn unit_geometries(&self, level: Level) -> UnitGeometries {
        let mut ids: Vec<UnitId> = self.store.units_in_envelope(level, &self.env).collect();
        ids.sort_unstable();
        let mut out = UnitGeometries::default();
        for id in ids {
            let u = self.store.unit(id);
            let geom = self.polygons(self.prepared.unit(id), &u.geometry);
            if geom.is_empty() {
                continue;
            }
            out.geometry.push(&geom);
            out.units
                .push((id, u.code.parse::<u64>().unwrap_or(u64::from(id))));
        }
        out
    }

    /// Whether a unit's tile feature carries its `domain_<word>` values:
    /// only in the zooms where its level is the choropleth
    /// ([`domains_at_zoom`]); counties, towns and villages for everyone; a unit cell only for a
    /// caller whose scope opens that cell's private details, since a cell's
    /// industry values tell which industries have an enterprise in it.
    fn shows_domains(&self, level: Level, id: UnitId) -> bool {
        domains_at_zoom(level, self.z)
            && (level != Level::Cell || self.scope.sees_unit(self.store, id))
    }

    fn zones(&self) -> LayerBuilder<'a> {
        let mut out = LayerBuilder::new(LayerId::CollapseZones, self.extent);
        let mut ids: Vec<u32> = self.store.zones_in_envelope(&self.env).collect();
        ids.sort_unstable();
        for i in ids {
            let z = &self.store.dataset.collapse_zones[i as usize];
            let geom = self.polygons(self.prepared.zone(i), &z.geometry);
            let mut props = Vec::with_capacity(4);
            self.props(LayerId::CollapseZones, i, Outputs::TILES, &mut props);
            out.add(u64::from(i), &geom, &props);
        }
        out
    }

    fn hazards(&self) -> LayerBuilder<'a> {
        let mut out = LayerBuilder::new(LayerId::HazardSources, self.extent);
        let mut ids: Vec<u32> = self.store.hazards_in_envelope(&self.env).collect();
        ids.sort_unstable();
        for i in ids {
            if !self
                .scope
                .sees_feature(self.store, LayerId::HazardSources, i)
            {
                continue;
            }
            let h = &self.store.dataset.hazard_sources[i as usize];
            if !self.filter.keeps_hazard_source(h) {
                continue;
            }
            let Some(p) = self.point(h.location) else {
                continue;
            };
            let mut props = Vec::with_capacity(5);
            self.props(LayerId::HazardSources, i, Outputs::TILES, &mut props);
            out.add(u64::from(i), &round_point(p), &props);
        }
        out
    }

    /// Open hidden-danger records (closed ones weigh nothing and would bury
    /// the map; OGC lists every record).
    fn dangers(&self) -> LayerBuilder<'a> {
        let mut out = LayerBuilder::new(LayerId::HiddenDangers, self.extent);
        let book = self.store.dangers();
        for i in book.in_envelope(self.store, &self.env) {
            let Some(e) = book.get(i) else { continue };
            if !e.record.status.is_open() || !self.scope.sees_located(self.store, e.cell) {
                continue;
            }
            let Some(p) = self.point(e.record.location) else {
                continue;
            };
            let mut props = Vec::with_capacity(5);
            self.props(LayerId::HiddenDangers, i, Outputs::TILES, &mut props);
            out.add(u64::from(i), &round_point(p), &props);
        }
        out
    }

    /// Monitoring sensors in the scope.
    fn sensors(&self) -> LayerBuilder<'a> {
        let mut out = LayerBuilder::new(LayerId::Sensors, self.extent);
        let book = self.store.alarms();
        for i in book.sensors_in_envelope(&self.env) {
            if !self.scope.sees_located(self.store, book.sensor_cell(i)) {
                continue;
            }
            let Some(p) = book
                .sensors()
                .get(i as usize)
                .and_then(|s| self.point(s.location))
            else {
                continue;
            };
            let mut props = Vec::with_capacity(2);
            self.props(LayerId::Sensors, i, Outputs::TILES, &mut props);
            out.add(u64::from(i), &round_point(p), &props);
        }
        out
    }

    /// Alarms not cleared (active or acknowledged) in the scope; OGC lists
    /// every alarm.
    fn alarms(&self) -> LayerBuilder<'a> {
        let mut out = LayerBuilder::new(LayerId::Alarms, self.extent);
        let book = self.store.alarms();
        for i in book.active_in_envelope(&self.env) {
            let Some(e) = book.get(i) else { continue };
            if !self.scope.sees_located(self.store, e.cell) {
                continue;
            }
            let Some(p) = self.point(e.record.location) else {
                continue;
            };
            let mut props = Vec::with_capacity(5);
            self.props(LayerId::Alarms, i, Outputs::TILES, &mut props);
            out.add(u64::from(i), &round_point(p), &props);
        }
        out
    }

    fn enterprises(&self) -> (LayerBuilder<'a>, bool) {
        // The prepared pyramid counts every enterprise: only for a scope
        // that sees them all and no filter; clusters for a grid manager or
        // a filter are built from the enterprises kept.
        if self.scope == Scope::All
            && self.filter.keeps_all_enterprises()
            && let Some(dense) = self.dense_enterprises()
        {
            return (dense, true);
        }
        let mut out = LayerBuilder::new(LayerId::Enterprises, self.extent);
        let mut ids: Vec<u32> = self.store.enterprises_in_envelope(&self.env).collect();
        ids.sort_unstable();
        let mut kept: Vec<(u32, [f64; 2])> = Vec::with_capacity(ids.len());
        for i in ids {
            if !self.scope.sees_feature(self.store, LayerId::Enterprises, i) {
                continue;
            }
            let e = &self.store.dataset.enterprises[i as usize];
            if !self.filter.keeps_enterprise(e) {
                continue;
            }
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
                    self.enterprise(&mut out, i, at);
                }
                Clustered::Cluster {
                    at,
                    point_count,
                    max_grade,
                    cell,
                } => {
                    // Cluster ids live above every enterprise index.
                    cluster_feature(&mut out, (1 << 63) | cell, at, point_count, max_grade);
                }
            }
        }
        (out, clustered)
    }

    /// One enterprise drawn as itself.
    fn enterprise(&self, out: &mut LayerBuilder<'a>, i: u32, at: [f64; 2]) {
        let mut props = Vec::with_capacity(6);
        self.props(LayerId::Enterprises, i, Outputs::TILES, &mut props);
        out.add(u64::from(i), &round_point(at), &props);
    }

    /// The enterprises of a tile that holds more than the clustering
    /// threshold, for a caller who sees every enterprise: the cells of the
    /// finest grid aligned with the tile (from `cluster_cell` units, halving
    /// the grid until at most `cluster_threshold` cells are occupied), read
    /// from the prepared Z-order pyramid, plus the occupied cells of the
    /// same grid just outside the tile whose mean lies in the buffer (so
    /// symbols at the edge are not cut, and neighbours agree on them).
    /// `None` when the tile is not dense.
    fn dense_enterprises(&self) -> Option<LayerBuilder<'a>> {
        let pyramid = &self.prepared.enterprises;
        let (z, x, y) = (self.tile.z(), self.tile.x(), self.tile.y());
        if pyramid.count_in_tile(z, x, y) <= self.cluster_threshold {
            return None;
        }
        // Cluster ids hold the level in 7 bits above a 56-bit cell code.
        let finest = (f64::from(self.extent) / self.cluster_cell)
            .log2()
            .floor()
            .clamp(0.0, 28.0) as u32;
        let mut k = finest.min(28u32.saturating_sub(u32::from(z)));
        let groups = loop {
            let groups = pyramid.cells_in_tile(z, x, y, k, self.cluster_threshold);
            if groups.len() <= self.cluster_threshold || k == 0 {
                break groups;
            }
            k -= 1;
        };
        let level = u32::from(z) + k;
        let side = 1i64 << k;
        let (x0, y0) = (i64::from(x) * side, i64::from(y) * side);
        let cells = 1i64 << level;
        let border = (x0 - 1..=x0 + side)
            .flat_map(|cx| (y0 - 1..=y0 + side).map(move |cy| (cx, cy)))
            .filter(|&(cx, cy)| cx == x0 - 1 || cx == x0 + side || cy == y0 - 1 || cy == y0 + side)
            .filter(|&(cx, cy)| (0..cells).contains(&cx) && (0..cells).contains(&cy))
            .filter_map(|(cx, cy)| pyramid.cell(level, cx as u32, cy as u32))
            .filter(|g| {
                let (tx, ty) = self.frame.project_mercator(g.mean[0], g.mean[1]);
                self.window.contains([tx, ty])
            });
        let mut out = LayerBuilder::with_capacity(LayerId::Enterprises, self.extent, groups.len());
        for g in groups.into_iter().chain(border) {
            if g.count == 1 {
                let e = &self.store.dataset.enterprises[g.first as usize];
                let (px, py) = self.frame.project(e.location.x(), e.location.y());
                self.enterprise(&mut out, g.first, [px, py]);
            } else {
                let (tx, ty) = self.frame.project_mercator(g.mean[0], g.mean[1]);
                let id = (1 << 63) | (u64::from(g.level) << 56) | g.code;
                cluster_feature(&mut out, id, [tx, ty], g.count, g.max_grade);
            }
        }
        Some(out)
    }
}

/// A cluster of enterprises drawn as one point.
fn cluster_feature(
    out: &mut LayerBuilder<'_>,
    id: u64,
    at: [f64; 2],
    point_count: u32,
    max_grade: crate::model::RiskLevel,
) {
    let props: Vec<(&str, Prop)> = schema::fields_in(LayerId::Enterprises, Outputs::CLUSTERS)
        .filter_map(|f| match f.name {
            "point_count" => Some((f.name, Prop::Uint(u64::from(point_count)))),
            "max_risk_grade" => Some((f.name, Prop::Str(max_grade.as_str()))),
            _ => None,
        })
        .collect();
    out.add(id, &round_point(at), &props);
}

/// A property value as a tile value (`None` for null: left out).
fn tile_prop(v: PropValue<'_>) -> Option<Prop<'_>> {
    match v {
        PropValue::Null => None,
        PropValue::Bool(b) => Some(Prop::Bool(b)),
        PropValue::Int(i) => Some(u64::try_from(i).map_or(Prop::Double(i as f64), Prop::Uint)),
        PropValue::Num(x) => Some(Prop::Double(x)),
        PropValue::Str(s) => Some(Prop::Str(s)),
    }
}

fn round_point(p: [f64; 2]) -> TileGeometry {
    TileGeometry::Points(vec![[p[0].round() as i32, p[1].round() as i32]])
}
