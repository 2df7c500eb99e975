//! The synthetic grid: splitting a parent unit among its children with
//! retries, unit cells inside villages, population roll-ups and a
//! point-in-cell index.

use super::geom::{Frame, Shape, spread_points};
use super::names;
use super::partition::partition;
use super::rng::{Rand, Stream, item_rng};
use crate::model::{GridUnit, Level};
use geo::{Area, BoundingRect, Coord, Intersects, MultiPolygon, Point};
use rand::Rng;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};
use std::collections::BTreeMap;

/// Smallest accepted child, as a fraction of the average child's area.
const MIN_SHARE: f64 = 0.03;
/// Attempts at a split before the best one is taken.
const ATTEMPTS: usize = 8;

/// A unit built at some level, with its metric geometry for its children.
#[derive(Debug, Clone)]
pub struct Built {
    /// Final lon/lat geometry (rounded).
    pub ll: MultiPolygon<f64>,
    /// The same in metres.
    pub m: MultiPolygon<f64>,
    /// Its Voronoi site, metres.
    pub site: Coord<f64>,
    /// Area, m².
    pub area: f64,
}

/// Splits `parent_m` into `n` pieces at sites from `choose`, retrying
/// (with the same generator, so deterministically) when a piece comes out
/// tiny or empty. Pieces are in site order; fewer than `n` sites from
/// `choose` count as a failed attempt.
pub fn split(
    frame: &Frame,
    parent_m: &MultiPolygon<f64>,
    n: usize,
    rng: &mut Rand,
    mut choose: impl FnMut(&mut Rand) -> Vec<Coord<f64>>,
) -> Vec<Built> {
    if n == 0 {
        return Vec::new();
    }
    let average = parent_m.unsigned_area() / n as f64;
    let mut best: Option<(f64, Vec<Built>)> = None;
    for _ in 0..ATTEMPTS {
        let sites = choose(rng);
        if sites.len() < n {
            continue;
        }
        let pieces = partition(parent_m, &sites[..n]);
        let built: Vec<Built> = pieces
            .iter()
            .zip(&sites)
            .map(|(p, s)| {
                let ll = frame.finish(p);
                let m = frame.mp_to_m(&ll);
                let area = m.unsigned_area();
                Built {
                    ll,
                    m,
                    site: *s,
                    area,
                }
            })
            .collect();
        let score = built.iter().map(|b| b.area).fold(f64::INFINITY, f64::min) / average;
        if score >= MIN_SHARE {
            return built;
        }
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, built));
        }
    }
    best.map(|(_, b)| b).unwrap_or_default()
}

/// How a village's unit cells are sized.
#[derive(Debug, Clone, Copy)]
pub struct CellSizing {
    /// Range of the cell side, metres, for urban communities.
    pub urban_side: (f64, f64),
    /// Range of the cell side, metres, for rural villages.
    pub rural_side: (f64, f64),
    /// Most cells in one village.
    pub max_cells: usize,
}

/// Number of cells for a village of `area` m².
pub fn cell_count(rng: &mut Rand, area: f64, urban: bool, sizing: &CellSizing) -> usize {
    let (lo, hi) = if urban {
        sizing.urban_side
    } else {
        sizing.rural_side
    };
    let side = lo + rng.random::<f64>() * (hi - lo);
    ((area / (side * side)).round() as usize).clamp(1, sizing.max_cells)
}

/// A unit cell being built.
#[derive(Debug, Clone)]
pub struct BuiltCell {
    /// The finished unit.
    pub unit: GridUnit,
    /// Area, m².
    pub area: f64,
    /// In an urban community.
    pub urban: bool,
}

/// Splits village `index` into `n` unit cells named after it.
pub fn village_cells(
    seed: u64,
    index: usize,
    frame: &Frame,
    village: &GridUnit,
    village_m: &MultiPolygon<f64>,
    n: usize,
    urban: bool,
) -> Vec<BuiltCell> {
    let mut rng = item_rng(seed, Stream::Cells, index as u64);
    let shape = Shape::new(village_m.clone());
    let built = split(frame, village_m, n, &mut rng, |r| {
        spread_points(r, &shape, n, &[], 6, None)
    });
    let short = names::village_short(&village.name);
    let mut people = item_rng(seed, Stream::People, index as u64);
    built
        .into_iter()
        .filter(|b| !b.ll.0.is_empty())
        .enumerate()
        .map(|(k, b)| BuiltCell {
            unit: GridUnit {
                code: format!("{}{:03}", village.code, k + 1),
                name: format!("{short}第{}网格", k + 1),
                level: Level::Cell,
                parent_code: Some(village.code.clone()),
                population: 0,
                manager: Some(names::person(&mut people)),
                geometry: b.ll,
            },
            area: b.area,
            urban,
        })
        .collect()
}

/// The whole grid of a preset.
#[derive(Debug, Clone, Default)]
pub struct Grid {
    /// Counties (including any without towns).
    pub counties: Vec<GridUnit>,
    /// Towns.
    pub towns: Vec<GridUnit>,
    /// Villages.
    pub villages: Vec<GridUnit>,
    /// Unit cells.
    pub cells: Vec<GridUnit>,
    /// Whether each cell is urban (parallel to `cells`).
    pub cell_urban: Vec<bool>,
    /// Area of each cell, m² (parallel to `cells`).
    pub cell_area: Vec<f64>,
}

impl Grid {
    /// Sets villages', towns' and counties' populations to the sums of
    /// their cells.
    pub fn sum_populations(&mut self) {
        let mut sums: BTreeMap<String, u64> = BTreeMap::new();
        for c in &self.cells {
            for len in [12, 9, 6] {
                if let Some(prefix) = c.code.get(..len) {
                    *sums.entry(prefix.to_string()).or_default() += c.population;
                }
            }
        }
        for u in self
            .villages
            .iter_mut()
            .chain(self.towns.iter_mut())
            .chain(self.counties.iter_mut())
        {
            u.population = sums.get(&u.code).copied().unwrap_or(0);
        }
    }

    /// Makes the cells share their boundary vertices exactly (see
    /// [`super::topology`]).
    pub fn conform_cells(&mut self) {
        let mut geoms: Vec<MultiPolygon<f64>> = self
            .cells
            .iter_mut()
            .map(|c| std::mem::replace(&mut c.geometry, MultiPolygon(Vec::new())))
            .collect();
        super::topology::conform(&mut geoms);
        for (c, g) in self.cells.iter_mut().zip(geoms) {
            c.geometry = g;
        }
    }

    /// Total population of the cells.
    pub fn population(&self) -> u64 {
        self.cells.iter().map(|c| c.population).sum()
    }

    /// Short name of the county a code belongs to (for enterprise names).
    pub fn county_short_names(&self) -> BTreeMap<String, String> {
        self.counties
            .iter()
            .map(|c| (c.code.clone(), names::county_short(&c.name)))
            .collect()
    }

    /// Every unit, coarsest level first.
    pub fn into_units(self) -> Vec<GridUnit> {
        let mut units = self.counties;
        units.extend(self.towns);
        units.extend(self.villages);
        units.extend(self.cells);
        units
    }
}

type CellBox = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Finds the unit cell containing a lon/lat point.
pub struct CellIndex {
    tree: RTree<CellBox>,
}

impl CellIndex {
    /// Indexes the cells of `grid`.
    pub fn new(grid: &Grid) -> Self {
        let boxes = grid
            .cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let r = c.geometry.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect();
        CellIndex {
            tree: RTree::bulk_load(boxes),
        }
    }

    /// Index of the cell containing `p` (the first by index when it lies
    /// on a shared edge).
    pub fn find(&self, grid: &Grid, p: Point<f64>) -> Option<usize> {
        let mut hits: Vec<usize> = self
            .tree
            .locate_all_at_point(&[p.x(), p.y()])
            .map(|b| b.data)
            .filter(|i| {
                grid.cells
                    .get(*i)
                    .is_some_and(|c| c.geometry.intersects(&p))
            })
            .collect();
        hits.sort_unstable();
        hits.first().copied()
    }
}
