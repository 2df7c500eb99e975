//! The province benchmark grid: synthetic counties, towns, villages and
//! cells inside the real Fujian outline, denser around nine
//! prefecture-like centres.

use super::geom::{Frame, Shape, dist2, spread_points};
use super::grid::{Built, Grid, village_cells};
use super::names;
use super::rng::{Rand, Stream, item_rng, normal};
use crate::model::{GridUnit, Level};
use geo::{Centroid, Coord, MultiPolygon};
use rand::Rng;
use rayon::prelude::*;

/// Enterprises of the province preset.
pub const ENTERPRISES: usize = 1_050_000;
/// Hazard sources of the province preset.
pub const HAZARD_SOURCES: usize = 1_200;
/// Collapse zones of the province preset.
pub const COLLAPSE_ZONES: usize = 5_500;
/// Counties of the province preset.
const COUNTIES: usize = 85;
/// Resident population the cells add up to.
const POPULATION: f64 = 41_500_000.0;

/// Prefecture-like centres: code prefix, lon, lat, weight, spread (km).
const CENTRES: &[(&str, f64, f64, f64, f64)] = &[
    ("3501", 119.30, 26.08, 1.0, 30.0),
    ("3502", 118.09, 24.48, 1.0, 20.0),
    ("3503", 119.01, 25.45, 0.6, 20.0),
    ("3504", 117.64, 26.26, 0.35, 20.0),
    ("3505", 118.59, 24.91, 1.0, 28.0),
    ("3506", 117.65, 24.51, 0.6, 22.0),
    ("3507", 118.18, 26.64, 0.3, 20.0),
    ("3508", 117.02, 25.08, 0.35, 20.0),
    ("3509", 119.53, 26.66, 0.4, 20.0),
];

/// Population density shape (relative) at a point in metres.
struct Density {
    centres: Vec<(Coord<f64>, f64, f64)>,
}

impl Density {
    fn new(frame: &Frame) -> Self {
        Density {
            centres: CENTRES
                .iter()
                .map(|(_, lon, lat, w, km)| {
                    (frame.to_m(Coord { x: *lon, y: *lat }), *w, km * 1000.0)
                })
                .collect(),
        }
    }

    fn at(&self, c: Coord<f64>) -> f64 {
        0.03 + self
            .centres
            .iter()
            .map(|(m, w, s)| w * (-dist2(*m, c) / (2.0 * s * s)).exp())
            .sum::<f64>()
    }

    /// Index of the nearest centre and the distance to it.
    fn nearest(&self, c: Coord<f64>) -> (usize, f64) {
        self.centres
            .iter()
            .enumerate()
            .map(|(i, (m, _, _))| (i, dist2(*m, c).sqrt()))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, 0.0))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TownKind {
    Subdistrict,
    Town,
    Township,
}

fn unit(code: String, name: String, level: Level, parent: &str, b: &Built) -> GridUnit {
    GridUnit {
        code,
        name,
        level,
        parent_code: (!parent.is_empty()).then(|| parent.to_string()),
        population: 0,
        manager: None,
        geometry: b.ll.clone(),
    }
}

fn weighted_sites(rng: &mut Rand, shape: &Shape, n: usize, density: &Density) -> Vec<Coord<f64>> {
    let w = |c: Coord<f64>| density.at(c);
    spread_points(rng, shape, n, &[], 6, Some(&w))
}

/// Builds the province grid with populations.
pub fn grid(seed: u64, outline: &MultiPolygon<f64>, progress: &dyn Fn(&str)) -> Grid {
    let frame = Frame::new(118.3, 26.0);
    let density = Density::new(&frame);
    let outline_m = frame.mp_to_m(outline);
    let province = Shape::new(outline_m.clone());

    // Counties.
    let mut rng = item_rng(seed, Stream::Province, 0);
    let built = super::grid::split(&frame, &outline_m, COUNTIES, &mut rng, |r| {
        weighted_sites(r, &province, COUNTIES, &density)
    });
    let mut per_prefecture: Vec<Vec<(f64, Built)>> = vec![Vec::new(); CENTRES.len()];
    for b in built.into_iter().filter(|b| !b.ll.0.is_empty()) {
        let (i, d) = density.nearest(b.site);
        per_prefecture[i].push((d, b));
    }
    let mut counties: Vec<(GridUnit, Built, bool)> = Vec::new();
    for (pi, list) in per_prefecture.iter_mut().enumerate() {
        list.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (k, (d, b)) in list.iter().enumerate() {
            let district = *d < 25_000.0;
            let name = format!(
                "{}{}",
                names::place(&mut rng),
                if district { "区" } else { "县" }
            );
            let code = format!("{}{:02}", CENTRES[pi].0, k + 2);
            counties.push((unit(code, name, Level::County, "", b), b.clone(), district));
        }
    }
    counties.sort_by(|a, b| a.0.code.cmp(&b.0.code));
    progress(&format!("counties {}", counties.len()));

    // Towns.
    let towns: Vec<(GridUnit, Built, TownKind)> = counties
        .par_iter()
        .enumerate()
        .map(|(ci, (county, cb, district))| {
            let mut rng = item_rng(seed, Stream::Towns, ci as u64);
            let n = rng.random_range(11..=16);
            let subs = if *district {
                rng.random_range(5..=8)
            } else {
                rng.random_range(2..=3)
            };
            let shape = Shape::new(cb.m.clone());
            let centre = cb.site;
            let built = super::grid::split(&frame, &cb.m, n, &mut rng, |r| {
                let mut pts = weighted_sites(r, &shape, n, &density);
                pts.sort_by(|a, b| dist2(*a, centre).total_cmp(&dist2(*b, centre)));
                pts
            });
            let mut counters = [0usize; 3];
            let mut names_rng = item_rng(seed, Stream::Towns, (1 << 32) + ci as u64);
            built
                .into_iter()
                .enumerate()
                .filter(|(_, b)| !b.ll.0.is_empty())
                .map(|(k, b)| {
                    let kind = if k < subs {
                        TownKind::Subdistrict
                    } else if k < subs + (n - subs) * 3 / 5 {
                        TownKind::Town
                    } else {
                        TownKind::Township
                    };
                    let (slot, base, suffix) = match kind {
                        TownKind::Subdistrict => (0, 1, "街道"),
                        TownKind::Town => (1, 100, "镇"),
                        TownKind::Township => (2, 200, "乡"),
                    };
                    let code = format!("{}{:03}", county.code, base + counters[slot]);
                    counters[slot] += 1;
                    let name = format!("{}{suffix}", names::place(&mut names_rng));
                    (unit(code, name, Level::Town, &county.code, &b), b, kind)
                })
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect();
    progress(&format!("towns {}", towns.len()));

    // Villages.
    let villages: Vec<(GridUnit, Built, bool)> = towns
        .par_iter()
        .enumerate()
        .map(|(ti, (town, tb, kind))| {
            let mut rng = item_rng(seed, Stream::Villages, ti as u64);
            let (n, communities) = match kind {
                TownKind::Subdistrict => {
                    let n = rng.random_range(12..=18);
                    (n, n)
                }
                TownKind::Town => (rng.random_range(16..=24), rng.random_range(2..=4)),
                TownKind::Township => (rng.random_range(14..=20), 1),
            };
            let shape = Shape::new(tb.m.clone());
            let centre = tb.site;
            let built = super::grid::split(&frame, &tb.m, n, &mut rng, |r| {
                let mut pts = weighted_sites(r, &shape, n, &density);
                pts.sort_by(|a, b| dist2(*a, centre).total_cmp(&dist2(*b, centre)));
                pts
            });
            let mut names_rng = item_rng(seed, Stream::Villages, (1 << 32) + ti as u64);
            let (mut nc, mut nv) = (0, 0);
            built
                .into_iter()
                .enumerate()
                .filter(|(_, b)| !b.ll.0.is_empty())
                .map(|(k, b)| {
                    let community = k < communities;
                    let (code, name) = if community {
                        nc += 1;
                        (
                            format!("{}{:03}", town.code, nc),
                            format!("{}社区居委会", names::place(&mut names_rng)),
                        )
                    } else {
                        nv += 1;
                        (
                            format!("{}{:03}", town.code, 199 + nv),
                            format!("{}村委会", names::place(&mut names_rng)),
                        )
                    };
                    (
                        unit(code, name, Level::Village, &town.code, &b),
                        b,
                        community,
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect();
    progress(&format!("villages {}", villages.len()));

    // Cells.
    let cells: Vec<_> = villages
        .par_iter()
        .enumerate()
        .map(|(vi, (v, vb, community))| {
            let mut rng = item_rng(seed, Stream::Cells, (1 << 32) + vi as u64);
            let n = if *community {
                rng.random_range(12..=18)
            } else {
                rng.random_range(9..=13)
            };
            village_cells(seed, vi, &frame, v, &vb.m, n, *community)
        })
        .collect();
    let mut grid = Grid {
        counties: counties.into_iter().map(|(u, _, _)| u).collect(),
        towns: towns.into_iter().map(|(u, _, _)| u).collect(),
        villages: villages.into_iter().map(|(u, _, _)| u).collect(),
        ..Grid::default()
    };
    for c in cells.into_iter().flatten() {
        grid.cell_urban.push(c.urban);
        grid.cell_area.push(c.area);
        grid.cells.push(c.unit);
    }
    grid.conform_cells();
    progress(&format!("cells {}", grid.cells.len()));

    // Populations: density at the cell's centre times its area.
    let weights: Vec<f64> = grid
        .cells
        .par_iter()
        .enumerate()
        .map(|(i, c)| {
            let mut rng = item_rng(seed, Stream::People, i as u64);
            let centre = c
                .geometry
                .centroid()
                .map(|p| frame.to_m(p.0))
                .unwrap_or(Coord { x: 0.0, y: 0.0 });
            let urban = if grid.cell_urban[i] { 1.5 } else { 1.0 };
            density.at(centre).powf(1.3)
                * grid.cell_area[i]
                * urban
                * (0.25 * normal(&mut rng)).exp()
        })
        .collect();
    let total: f64 = weights.iter().sum();
    for (c, w) in grid.cells.iter_mut().zip(&weights) {
        c.population = (POPULATION * w / total.max(1e-9)).round() as u64;
    }
    grid.sum_populations();
    grid
}
