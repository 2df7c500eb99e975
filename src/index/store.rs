//! The [`Store`]: a dataset with its R-trees and grid hierarchy.

use super::alarms::AlarmBook;
use super::dangers::DangerBook;
use super::id_table::IdTable;
use crate::crs::metric;
use crate::model::{Dataset, GridUnit, Level};
use geo::{BoundingRect, Intersects, MultiPolygon, Point};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use std::ops::Deref;
use std::sync::Arc;

/// Index of a grid unit in [`Store::units`].
pub type UnitId = u32;

/// A point in an R-tree, carrying the index of its feature.
pub type IndexedPoint = GeomWithData<[f64; 2], u32>;
/// A bounding box in an R-tree, carrying the index of its feature.
pub type IndexedBox = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// The envelope of a lon/lat multipolygon as an R-tree box (a degenerate box
/// at the origin for an empty one).
pub fn envelope_of(mp: &MultiPolygon<f64>) -> Rectangle<[f64; 2]> {
    match mp.bounding_rect() {
        Some(r) => Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
        None => Rectangle::from_corners([0.0, 0.0], [0.0, 0.0]),
    }
}

/// An envelope query box from (west, south, east, north).
pub fn aabb(w: f64, s: f64, e: f64, n: f64) -> AABB<[f64; 2]> {
    AABB::from_corners([w, s], [e, n])
}

/// An immutable, indexed dataset without its hidden-danger records: what
/// every snapshot derived by a live write shares.
///
/// Grid units are sorted by level (counties first) and code; every unit has
/// a parent one level up except counties. Enterprises, hazard sources and
/// collapse zones keep their file order; their indices are `u32`.
#[derive(Debug)]
pub struct Base {
    /// The features (without the hidden-danger records, which are in the
    /// [`DangerBook`]).
    pub dataset: Dataset,
    by_code: IdTable,
    parent: Vec<Option<UnitId>>,
    children: Vec<Vec<UnitId>>,
    levels: [Vec<UnitId>; 4],
    unit_bounds: Vec<Rectangle<[f64; 2]>>,
    unit_trees: [RTree<IndexedBox>; 4],
    area_m2: Vec<f64>,
    enterprise_tree: RTree<IndexedPoint>,
    hazard_tree: RTree<IndexedPoint>,
    zone_tree: RTree<IndexedBox>,
    enterprise_cell: Vec<Option<UnitId>>,
    hazard_cell: Vec<Option<UnitId>>,
    cell_enterprises: CellLists,
    enterprise_by_id: IdTable,
    hazard_by_id: IdTable,
    grid_digest: [u8; 32],
}

/// [`Base::grid_digest`] of units with their parents and areas.
fn grid_digest(units: &[GridUnit], parent: &[Option<UnitId>], area_m2: &[f64]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update((units.len() as u64).to_le_bytes());
    for ((u, p), a) in units.iter().zip(parent).zip(area_m2) {
        h.update(p.map_or(u64::MAX, u64::from).to_le_bytes());
        h.update(u.population.to_le_bytes());
        h.update(a.to_bits().to_le_bytes());
    }
    h.finalize().into()
}

/// Lists of feature indices per unit, in one allocation: the indices
/// sorted by unit, and where each unit's run starts.
#[derive(Debug, Default)]
struct CellLists {
    starts: Vec<u32>,
    items: Vec<u32>,
}

impl CellLists {
    /// The lists of `units` units from each feature's unit (`None`: in
    /// none); a unit's list keeps feature order.
    fn build(units: usize, unit_of: &[Option<UnitId>]) -> CellLists {
        let mut starts = vec![0u32; units + 1];
        for u in unit_of.iter().flatten() {
            starts[*u as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let mut items = vec![0u32; starts[units] as usize];
        for (i, u) in unit_of.iter().enumerate() {
            if let Some(u) = u {
                let at = &mut next[*u as usize];
                items[*at as usize] = i as u32;
                *at += 1;
            }
        }
        CellLists { starts, items }
    }

    /// The list of one unit (empty for an unknown unit).
    fn of(&self, unit: UnitId) -> &[u32] {
        let u = unit as usize;
        match (self.starts.get(u), self.starts.get(u + 1)) {
            (Some(&a), Some(&b)) => self.items.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// The units of each level (by [`level_index`]), in unit order.
fn unit_levels(units: &[GridUnit]) -> [Vec<UnitId>; 4] {
    let mut levels: [Vec<UnitId>; 4] = Default::default();
    for (i, u) in units.iter().enumerate() {
        levels[level_index(u.level)].push(i as UnitId);
    }
    levels
}

/// Every unit's envelope (by id), and one R-tree of them per level (by
/// [`level_index`]).
fn unit_trees(units: &[GridUnit]) -> (Vec<Rectangle<[f64; 2]>>, [RTree<IndexedBox>; 4]) {
    let bounds: Vec<Rectangle<[f64; 2]>> =
        units.par_iter().map(|u| envelope_of(&u.geometry)).collect();
    let levels = unit_levels(units);
    let trees = levels.map(|ids| {
        RTree::bulk_load(
            ids.iter()
                .map(|&i| IndexedBox::new(bounds[i as usize], i))
                .collect(),
        )
    });
    (bounds, trees)
}

fn level_index(level: Level) -> usize {
    match level {
        Level::County => 0,
        Level::Town => 1,
        Level::Village => 2,
        Level::Cell => 3,
    }
}

/// An indexed dataset: the shared [`Base`] (dereferenced to) and the
/// hidden-danger records in a [`DangerBook`]. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct Store {
    base: Arc<Base>,
    dangers: DangerBook,
    /// The hidden-danger records as the base files hold them (before the
    /// journal), which the daily history replays from: the book as first
    /// built, sharing every record the journal has not changed.
    base_dangers: Arc<DangerBook>,
    alarms: AlarmBook,
}

impl Deref for Store {
    type Target = Base;
    fn deref(&self) -> &Base {
        &self.base
    }
}

impl Store {
    /// Indexes a dataset whose hierarchy is complete (every non-county unit's
    /// `parent_code` names a unit one level up; see `ingest`).
    pub fn build(mut dataset: Dataset) -> Store {
        let records = std::mem::take(&mut dataset.hidden_dangers);
        let loaded = dataset.has_hidden_dangers;
        let sensors = std::mem::take(&mut dataset.sensors);
        let alarms = std::mem::take(&mut dataset.alarms);
        let base = Base::build(dataset);
        let dangers = DangerBook::build(&base, records, loaded);
        let base_dangers = Arc::new(dangers.clone());
        let alarms = AlarmBook::build(&base, sensors, alarms);
        Store {
            base: Arc::new(base),
            dangers,
            base_dangers,
            alarms,
        }
    }

    /// The sensors and alarms.
    pub fn alarms(&self) -> &AlarmBook {
        &self.alarms
    }

    /// The same base with other hidden-danger records and alarms (a live
    /// write).
    pub fn with_live(&self, dangers: DangerBook, alarms: AlarmBook) -> Store {
        Store {
            base: Arc::clone(&self.base),
            dangers,
            base_dangers: Arc::clone(&self.base_dangers),
            alarms,
        }
    }

    /// The hidden-danger records of the base files, before any journal
    /// entry.
    pub fn base_dangers(&self) -> &DangerBook {
        &self.base_dangers
    }

    /// The hidden-danger records.
    pub fn dangers(&self) -> &DangerBook {
        &self.dangers
    }

    /// The same base with other hidden-danger records (a live write).
    pub fn with_dangers(&self, dangers: DangerBook) -> Store {
        Store {
            base: Arc::clone(&self.base),
            dangers,
            base_dangers: Arc::clone(&self.base_dangers),
            alarms: self.alarms.clone(),
        }
    }

    /// The shared base.
    pub fn base(&self) -> &Base {
        &self.base
    }

    /// Whether both stores share one base (so only hidden dangers differ).
    pub fn same_base(&self, other: &Store) -> bool {
        Arc::ptr_eq(&self.base, &other.base)
    }
}

impl Base {
    /// Indexes a dataset whose hierarchy is complete (every non-county unit's
    /// `parent_code` names a unit one level up; see `ingest`).
    pub fn build(mut dataset: Dataset) -> Base {
        dataset
            .units
            .sort_by(|a, b| (a.level, &a.code).cmp(&(b.level, &b.code)));
        let units = &dataset.units;
        // The independent parts in parallel: the unit hierarchy and trees,
        // the point and zone trees, the id maps.
        let (
            (by_code, ((unit_bounds, unit_trees), area_m2)),
            ((enterprise_tree, enterprise_by_id), rest),
        ) = rayon::join(
            || {
                rayon::join(
                    || IdTable::build(units.len(), |i| &units[i as usize].code),
                    || {
                        rayon::join(
                            || unit_trees(units),
                            || -> Vec<f64> {
                                units
                                    .par_iter()
                                    .map(|u| metric::area(&u.geometry).0)
                                    .collect()
                            },
                        )
                    },
                )
            },
            || {
                rayon::join(
                    || {
                        rayon::join(
                            || {
                                RTree::bulk_load(
                                    dataset
                                        .enterprises
                                        .iter()
                                        .enumerate()
                                        .map(|(i, e)| {
                                            IndexedPoint::new(
                                                [e.location.x(), e.location.y()],
                                                i as u32,
                                            )
                                        })
                                        .collect(),
                                )
                            },
                            || {
                                IdTable::build(dataset.enterprises.len(), |i| {
                                    &dataset.enterprises[i as usize].id
                                })
                            },
                        )
                    },
                    || {
                        let hazard_tree = RTree::bulk_load(
                            dataset
                                .hazard_sources
                                .iter()
                                .enumerate()
                                .map(|(i, h)| {
                                    IndexedPoint::new([h.location.x(), h.location.y()], i as u32)
                                })
                                .collect(),
                        );
                        let zone_tree = RTree::bulk_load(
                            dataset
                                .collapse_zones
                                .iter()
                                .enumerate()
                                .map(|(i, z)| IndexedBox::new(envelope_of(&z.geometry), i as u32))
                                .collect(),
                        );
                        let hazard_by_id = IdTable::build(dataset.hazard_sources.len(), |i| {
                            &dataset.hazard_sources[i as usize].id
                        });
                        (hazard_tree, zone_tree, hazard_by_id)
                    },
                )
            },
        );
        let (hazard_tree, zone_tree, hazard_by_id) = rest;
        let parent: Vec<Option<UnitId>> = units
            .iter()
            .map(|u| {
                u.parent_code
                    .as_ref()
                    .and_then(|p| by_code.get(p, |i| &units[i as usize].code))
                    .filter(|&p| Some(units[p as usize].level) == u.level.parent())
            })
            .collect();
        let mut children = vec![Vec::new(); units.len()];
        for (i, p) in parent.iter().enumerate() {
            if let Some(p) = p {
                children[*p as usize].push(i as UnitId);
            }
        }
        let levels = unit_levels(units);
        let grid_digest = grid_digest(&dataset.units, &parent, &area_m2);
        let mut store = Base {
            dataset,
            by_code,
            parent,
            children,
            levels,
            unit_bounds,
            unit_trees,
            area_m2,
            enterprise_tree,
            hazard_tree,
            zone_tree,
            enterprise_cell: Vec::new(),
            hazard_cell: Vec::new(),
            cell_enterprises: CellLists::default(),
            enterprise_by_id,
            hazard_by_id,
            grid_digest,
        };
        store.enterprise_cell = store
            .dataset
            .enterprises
            .par_iter()
            .map(|e| store.cell_at(e.location))
            .collect();
        store.hazard_cell = store
            .dataset
            .hazard_sources
            .par_iter()
            .map(|h| store.cell_at(h.location))
            .collect();
        store.cell_enterprises =
            CellLists::build(store.dataset.units.len(), &store.enterprise_cell);
        store
    }

    /// SHA-256 over every unit's parent, population and area: what a score
    /// depends on of the grid besides the features. Two stores with the
    /// same digest score a feature change the same way, so scores can be
    /// updated incrementally from one to the other.
    pub fn grid_digest(&self) -> &[u8; 32] {
        &self.grid_digest
    }

    /// All grid units, sorted by level and code.
    pub fn units(&self) -> &[GridUnit] {
        &self.dataset.units
    }

    /// One grid unit.
    pub fn unit(&self, id: UnitId) -> &GridUnit {
        &self.dataset.units[id as usize]
    }

    /// A unit's envelope (lon/lat; a degenerate box at the origin for an
    /// empty geometry), kept from indexing.
    pub fn unit_envelope(&self, id: UnitId) -> AABB<[f64; 2]> {
        self.unit_bounds
            .get(id as usize)
            .map_or_else(|| aabb(0.0, 0.0, 0.0, 0.0), rstar::RTreeObject::envelope)
    }

    /// The unit with this code.
    pub fn unit_by_code(&self, code: &str) -> Option<UnitId> {
        let units = &self.dataset.units;
        self.by_code.get(code, |i| &units[i as usize].code)
    }

    /// The units of one level, sorted by code.
    pub fn units_at(&self, level: Level) -> &[UnitId] {
        &self.levels[level_index(level)]
    }

    /// The parent one level up (none for counties).
    pub fn parent(&self, id: UnitId) -> Option<UnitId> {
        self.parent[id as usize]
    }

    /// The children one level down, sorted by code.
    pub fn children(&self, id: UnitId) -> &[UnitId] {
        &self.children[id as usize]
    }

    /// The chain of ancestors, nearest first.
    pub fn ancestors(&self, id: UnitId) -> Vec<UnitId> {
        let mut out = Vec::new();
        let mut cur = self.parent(id);
        while let Some(p) = cur {
            out.push(p);
            cur = self.parent(p);
        }
        out
    }

    /// Whether `id` is `scope` or lies below it.
    pub fn is_within(&self, id: UnitId, scope: UnitId) -> bool {
        id == scope || self.ancestors(id).contains(&scope)
    }

    /// Area of a unit in square metres.
    pub fn area_m2(&self, id: UnitId) -> f64 {
        self.area_m2[id as usize]
    }

    /// Units of `level` whose envelope intersects `env`.
    pub fn units_in_envelope(
        &self,
        level: Level,
        env: &AABB<[f64; 2]>,
    ) -> impl Iterator<Item = UnitId> + '_ {
        self.unit_trees[level_index(level)]
            .locate_in_envelope_intersecting(env)
            .map(|b| b.data)
    }

    /// The unit of `level` containing the lon/lat point (on a shared boundary,
    /// the one with the lowest code).
    pub fn unit_at(&self, level: Level, p: Point<f64>) -> Option<UnitId> {
        self.unit_trees[level_index(level)]
            .locate_all_at_point(&[p.x(), p.y()])
            .map(|b| b.data)
            .filter(|&id| self.unit(id).geometry.intersects(&p))
            .min()
    }

    /// The finest cell containing the lon/lat point.
    pub fn cell_at(&self, p: Point<f64>) -> Option<UnitId> {
        self.unit_at(Level::Cell, p)
    }

    /// Enterprises (indices) whose location lies in `env`.
    pub fn enterprises_in_envelope(&self, env: &AABB<[f64; 2]>) -> impl Iterator<Item = u32> + '_ {
        self.enterprise_tree.locate_in_envelope(env).map(|p| p.data)
    }

    /// Hazard sources (indices) whose location lies in `env`.
    pub fn hazards_in_envelope(&self, env: &AABB<[f64; 2]>) -> impl Iterator<Item = u32> + '_ {
        self.hazard_tree.locate_in_envelope(env).map(|p| p.data)
    }

    /// Collapse zones (indices) whose envelope intersects `env`.
    pub fn zones_in_envelope(&self, env: &AABB<[f64; 2]>) -> impl Iterator<Item = u32> + '_ {
        self.zone_tree
            .locate_in_envelope_intersecting(env)
            .map(|b| b.data)
    }

    /// The cell containing an enterprise, if any.
    pub fn enterprise_cell(&self, enterprise: u32) -> Option<UnitId> {
        self.enterprise_cell
            .get(enterprise as usize)
            .copied()
            .flatten()
    }

    /// The cell containing a hazard source, if any.
    pub fn hazard_cell(&self, hazard: u32) -> Option<UnitId> {
        self.hazard_cell.get(hazard as usize).copied().flatten()
    }

    /// The enterprise with this id (its index).
    pub fn enterprise_by_id(&self, id: &str) -> Option<u32> {
        let all = &self.dataset.enterprises;
        self.enterprise_by_id.get(id, |i| &all[i as usize].id)
    }

    /// The hazard source with this id (its index).
    pub fn hazard_by_id(&self, id: &str) -> Option<u32> {
        let all = &self.dataset.hazard_sources;
        self.hazard_by_id.get(id, |i| &all[i as usize].id)
    }

    /// Enterprises (indices) inside a cell, by geometry.
    pub fn enterprises_in_cell(&self, cell: UnitId) -> &[u32] {
        self.cell_enterprises.of(cell)
    }

    /// Number of units at each level.
    pub fn count(&self, level: Level) -> usize {
        self.units_at(level).len()
    }

    /// The envelope of every unit (west, south, east, north), if any.
    pub fn bounds(&self) -> Option<[f64; 4]> {
        let tree = &self.unit_trees[level_index(Level::County)];
        if tree.size() == 0 {
            return None;
        }
        let env = tree.root().envelope();
        let (lo, hi) = (env.lower(), env.upper());
        Some([lo[0], lo[1], hi[0], hi[1]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Enterprise, Industry, RiskLevel};
    use geo::polygon;

    #[test]
    fn cell_lists_keep_feature_order_per_unit() {
        let unit_of = [Some(2), None, Some(0), Some(2), Some(2), None, Some(0)];
        let lists = CellLists::build(4, &unit_of);
        assert_eq!(lists.of(0), &[2, 6]);
        assert_eq!(lists.of(1), &[] as &[u32]);
        assert_eq!(lists.of(2), &[0, 3, 4]);
        assert_eq!(lists.of(3), &[] as &[u32]);
        assert_eq!(lists.of(4), &[] as &[u32]);
        assert_eq!(lists.of(u32::MAX), &[] as &[u32]);
        let none = CellLists::build(0, &[]);
        assert_eq!(none.of(0), &[] as &[u32]);
    }

    #[test]
    fn unit_envelopes_are_those_of_their_geometry() {
        let store = Store::build(Dataset {
            units: vec![
                unit("35", Level::County, None, square(118.0, 24.0, 1.0)),
                unit("3501", Level::Town, Some("35"), square(118.2, 24.3, 0.5)),
            ],
            ..Dataset::default()
        });
        for (id, u) in store.units().iter().enumerate() {
            assert_eq!(
                store.unit_envelope(id as UnitId),
                rstar::RTreeObject::envelope(&envelope_of(&u.geometry))
            );
        }
        assert_eq!(store.unit_envelope(99), aabb(0.0, 0.0, 0.0, 0.0));
    }

    fn square(x: f64, y: f64, size: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x, y: y), (x: x + size, y: y), (x: x + size, y: y + size), (x: x, y: y + size)
        ]])
    }

    fn unit(code: &str, level: Level, parent: Option<&str>, geom: MultiPolygon<f64>) -> GridUnit {
        GridUnit {
            code: code.into(),
            name: code.into(),
            level,
            parent_code: parent.map(Into::into),
            population: 0,
            manager: None,
            geometry: geom,
        }
    }

    fn enterprise(id: &str, x: f64, y: f64) -> Enterprise {
        Enterprise {
            id: id.into(),
            name: id.into(),
            uscc: None,
            industry: Industry::Gas,
            risk_grade: RiskLevel::Low,
            employees: 0,
            hidden_dangers_open: 0,
            major_hidden_dangers_open: 0,
            blacklisted: false,
            cell_code: None,
            location: Point::new(x, y),
        }
    }

    fn tiny() -> Store {
        let ds = Dataset {
            units: vec![
                unit(
                    "350502001001002",
                    Level::Cell,
                    Some("350502001001"),
                    square(118.01, 25.0, 0.01),
                ),
                unit(
                    "350502001001001",
                    Level::Cell,
                    Some("350502001001"),
                    square(118.0, 25.0, 0.01),
                ),
                unit(
                    "350502001001",
                    Level::Village,
                    Some("350502001"),
                    square(118.0, 25.0, 0.02),
                ),
                unit(
                    "350502001",
                    Level::Town,
                    Some("350502"),
                    square(118.0, 25.0, 0.02),
                ),
                unit("350502", Level::County, None, square(118.0, 25.0, 0.02)),
            ],
            enterprises: vec![
                enterprise("a", 118.005, 25.005),
                enterprise("b", 118.015, 25.005),
                enterprise("out", 119.0, 25.0),
            ],
            ..Dataset::default()
        };
        Store::build(ds)
    }

    #[test]
    fn hierarchy() {
        let s = tiny();
        assert_eq!(s.count(Level::Cell), 2);
        let county = s.unit_by_code("350502");
        let cell = s.unit_by_code("350502001001001");
        assert_eq!(s.units_at(Level::County).first().copied(), county);
        let (Some(county), Some(cell)) = (county, cell) else {
            panic!("codes missing");
        };
        assert_eq!(s.ancestors(cell).len(), 3);
        assert_eq!(s.ancestors(cell).last().copied(), Some(county));
        assert!(s.is_within(cell, county));
        assert!(!s.is_within(county, cell));
        let village = s.parent(cell).unwrap_or(county);
        assert_eq!(s.children(village).len(), 2);
    }

    #[test]
    fn point_lookup_and_enterprise_cells() {
        let s = tiny();
        let a = s
            .cell_at(Point::new(118.005, 25.005))
            .map(|c| s.unit(c).code.clone());
        assert_eq!(a.as_deref(), Some("350502001001001"));
        assert_eq!(s.cell_at(Point::new(120.0, 25.0)), None);
        let b = s.enterprise_cell(1).map(|c| s.unit(c).code.clone());
        assert_eq!(b.as_deref(), Some("350502001001002"));
        assert_eq!(s.enterprise_cell(2), None);
        let c = s.unit_by_code("350502001001002").unwrap_or(0);
        assert_eq!(s.enterprises_in_cell(c), &[1]);
        // A cell of about 1 km × 1.1 km.
        assert!((1.0e6..1.2e6).contains(&s.area_m2(c)));
    }
}
