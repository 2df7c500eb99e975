//! The Quanzhou grid: real counties, real town and village codes and
//! names, synthetic shapes below county level, synthetic populations.

use super::geom::{Frame, Shape, dist2, spread_points};
use super::grid::{Built, BuiltCell, CellSizing, Grid, cell_count, split, village_cells};
use super::reference::{Reference, TownKind, TownRef, VillageRef};
use super::rng::{Stream, item_rng, normal};
use crate::model::{GridUnit, Level};
use geo::{BooleanOps, Coord, LineString, MultiPolygon, Polygon};
use rand::Rng;
use rayon::prelude::*;

/// Approximate resident population of each county (about the 2020
/// census, rounded), the targets the cells' populations add up to.
const COUNTY_POPULATION: &[(&str, f64)] = &[
    ("350502", 404_000.0),
    ("350503", 729_000.0),
    ("350504", 233_000.0),
    ("350505", 398_000.0),
    ("350521", 1_000_000.0),
    ("350524", 977_000.0),
    ("350525", 455_000.0),
    ("350526", 277_000.0),
    ("350581", 690_000.0),
    ("350582", 2_062_000.0),
    ("350583", 1_519_000.0),
];

/// Cell sizes of the demo city.
const SIZING: CellSizing = CellSizing {
    urban_side: (250.0, 500.0),
    rural_side: (900.0, 1500.0),
    max_cells: 40,
};

/// Centre of the working frame.
pub const FRAME_CENTRE: (f64, f64) = (118.5, 25.1);

fn disc(centre: Coord<f64>, radius: f64) -> MultiPolygon<f64> {
    let ring: Vec<Coord<f64>> = (0..=32)
        .map(|i| {
            let a = std::f64::consts::TAU * f64::from(i % 32) / 32.0;
            Coord {
                x: centre.x + radius * a.cos(),
                y: centre.y + radius * a.sin(),
            }
        })
        .collect();
    MultiPolygon(vec![Polygon::new(LineString(ring), vec![])])
}

/// Town sites of one county: matched place points where unique, the
/// related industrial area for zones and towns tied to one, subdistricts
/// near the urban core, the rest spread over the county.
struct TownSites<'a> {
    towns: Vec<&'a TownRef>,
    fixed: Vec<Option<Coord<f64>>>,
    areas: Vec<Option<Shape>>,
    core_shape: Shape,
    county: Shape,
}

impl TownSites<'_> {
    fn choose(&self, rng: &mut super::rng::Rand) -> Vec<Coord<f64>> {
        let n = self.towns.len();
        let mut sites: Vec<Option<Coord<f64>>> = self.fixed.clone();
        let mut placed: Vec<Coord<f64>> = sites.iter().flatten().copied().collect();
        let place = |i: usize,
                     shape: &Shape,
                     rng: &mut super::rng::Rand,
                     sites: &mut Vec<Option<Coord<f64>>>,
                     placed: &mut Vec<Coord<f64>>| {
            if let Some(c) = spread_points(rng, shape, 1, placed, 6, None).first() {
                placed.push(*c);
                sites[i] = Some(*c);
            }
        };
        for i in 0..n {
            if sites[i].is_none()
                && let Some(area) = &self.areas[i]
            {
                place(i, area, rng, &mut sites, &mut placed);
            }
        }
        for i in 0..n {
            if sites[i].is_none() && self.towns[i].kind == TownKind::Subdistrict {
                place(i, &self.core_shape, rng, &mut sites, &mut placed);
            }
        }
        for i in 0..n {
            if sites[i].is_none() {
                place(i, &self.county, rng, &mut sites, &mut placed);
            }
        }
        sites.into_iter().flatten().collect()
    }
}

fn town_sites<'a>(
    reference: &'a Reference,
    frame: &Frame,
    county_code: &str,
    county_m: &MultiPolygon<f64>,
) -> TownSites<'a> {
    let towns: Vec<&TownRef> = reference
        .towns
        .iter()
        .filter(|t| t.county_code == county_code)
        .collect();
    let county = Shape::new(county_m.clone());
    let mut fixed: Vec<Option<Coord<f64>>> = Vec::with_capacity(towns.len());
    for t in &towns {
        let matches: Vec<Coord<f64>> = reference
            .places
            .iter()
            .filter(|p| p.matched == "town:same-county" && p.nbs_code == t.code)
            .map(|p| frame.to_m(p.point.0))
            .collect();
        let candidate = match matches.as_slice() {
            [one] if county.contains(*one) => Some(*one),
            _ => None,
        };
        let far_enough = candidate.is_some_and(|c| {
            fixed
                .iter()
                .flatten()
                .all(|f: &Coord<f64>| dist2(*f, c) > 400.0 * 400.0)
        });
        fixed.push(candidate.filter(|_| far_enough));
    }
    let areas: Vec<Option<Shape>> = towns
        .iter()
        .map(|t| {
            let area = reference
                .industrial_areas
                .iter()
                .find(|a| a.related_town_codes.contains(&t.code))?;
            let clipped = frame.mp_to_m(&area.geometry).intersection(county_m);
            (!clipped.0.is_empty()).then(|| Shape::new(clipped))
        })
        .collect();
    let core = reference
        .places
        .iter()
        .find(|p| p.matched == "county-or-city" && p.county_code == county_code)
        .map(|p| frame.to_m(p.point.0))
        .or_else(|| {
            let subs: Vec<Coord<f64>> = towns
                .iter()
                .zip(&fixed)
                .filter(|(t, _)| t.kind == TownKind::Subdistrict)
                .filter_map(|(_, f)| *f)
                .collect();
            (!subs.is_empty()).then(|| Coord {
                x: subs.iter().map(|c| c.x).sum::<f64>() / subs.len() as f64,
                y: subs.iter().map(|c| c.y).sum::<f64>() / subs.len() as f64,
            })
        })
        .or_else(|| {
            towns
                .iter()
                .zip(&fixed)
                .find(|(t, f)| t.kind == TownKind::Town && f.is_some())
                .and_then(|(_, f)| *f)
        });
    let subdistricts = towns
        .iter()
        .filter(|t| t.kind == TownKind::Subdistrict)
        .count();
    let core_shape = match core {
        Some(c) => {
            let radius = 2500.0 + 1500.0 * (subdistricts as f64).sqrt();
            let near = disc(c, radius).intersection(county_m);
            if near.0.is_empty() {
                county.clone()
            } else {
                Shape::new(near)
            }
        }
        None => county.clone(),
    };
    TownSites {
        towns,
        fixed,
        areas,
        core_shape,
        county,
    }
}

fn town_weight(kind: TownKind) -> f64 {
    match kind {
        TownKind::Subdistrict => 3.0,
        TownKind::Town => 1.0,
        TownKind::Township => 0.45,
        TownKind::SpecialZone => 0.5,
    }
}

/// Builds the Quanzhou grid with populations.
pub fn grid(seed: u64, reference: &Reference, progress: &dyn Fn(&str)) -> Grid {
    let frame = Frame::new(FRAME_CENTRE.0, FRAME_CENTRE.1);
    let counties: Vec<GridUnit> = reference
        .counties
        .iter()
        .map(|c| GridUnit {
            code: c.code.clone(),
            name: c.name.clone(),
            level: Level::County,
            parent_code: None,
            population: 0,
            manager: None,
            geometry: c.geometry.clone(),
        })
        .collect();

    // Towns, county by county.
    let per_county: Vec<Vec<(GridUnit, Built, TownKind)>> = reference
        .counties
        .par_iter()
        .enumerate()
        .map(|(ci, c)| {
            let county_m = frame.mp_to_m(&c.geometry);
            let sites = town_sites(reference, &frame, &c.code, &county_m);
            let n = sites.towns.len();
            let mut rng = item_rng(seed, Stream::Towns, ci as u64);
            let built = split(&frame, &county_m, n, &mut rng, |r| sites.choose(r));
            sites
                .towns
                .iter()
                .zip(built)
                .filter(|(_, b)| !b.ll.0.is_empty())
                .map(|(t, b)| {
                    (
                        GridUnit {
                            code: t.code.clone(),
                            name: t.name.clone(),
                            level: Level::Town,
                            parent_code: Some(t.county_code.clone()),
                            population: 0,
                            manager: None,
                            geometry: b.ll.clone(),
                        },
                        b,
                        t.kind,
                    )
                })
                .collect()
        })
        .collect();
    let towns: Vec<(GridUnit, Built, TownKind)> = per_county.into_iter().flatten().collect();
    progress(&format!("towns {}/{}", towns.len(), reference.towns.len()));

    // Villages, town by town: communities nearest the town's site.
    let per_town: Vec<Vec<(GridUnit, Built, bool)>> = towns
        .par_iter()
        .enumerate()
        .map(|(ti, (town, tb, _))| {
            let mut refs: Vec<&VillageRef> = reference
                .villages
                .iter()
                .filter(|v| v.town_code == town.code)
                .collect();
            refs.sort_by_key(|v| (!v.community, v.code.clone()));
            let n = refs.len();
            let shape = Shape::new(tb.m.clone());
            let mut rng = item_rng(seed, Stream::Villages, ti as u64);
            let centre = tb.site;
            let built = split(&frame, &tb.m, n, &mut rng, |r| {
                let mut pts = spread_points(r, &shape, n, &[], 6, None);
                pts.sort_by(|a, b| dist2(*a, centre).total_cmp(&dist2(*b, centre)));
                pts
            });
            let mut out: Vec<(GridUnit, Built, bool)> = refs
                .iter()
                .zip(built)
                .filter(|(_, b)| !b.ll.0.is_empty())
                .map(|(v, b)| {
                    (
                        GridUnit {
                            code: v.code.clone(),
                            name: v.name.clone(),
                            level: Level::Village,
                            parent_code: Some(v.town_code.clone()),
                            population: 0,
                            manager: None,
                            geometry: b.ll.clone(),
                        },
                        b,
                        v.community,
                    )
                })
                .collect();
            out.sort_by(|a, b| a.0.code.cmp(&b.0.code));
            out
        })
        .collect();
    let villages: Vec<(GridUnit, Built, bool)> = per_town.into_iter().flatten().collect();
    progress(&format!(
        "villages {}/{}",
        villages.len(),
        reference.villages.len()
    ));

    // Unit cells, village by village.
    let cells: Vec<Vec<BuiltCell>> = villages
        .par_iter()
        .enumerate()
        .map(|(vi, (v, vb, community))| {
            let mut rng = item_rng(seed, Stream::Cells, (1 << 32) + vi as u64);
            let n = cell_count(&mut rng, vb.area, *community, &SIZING);
            village_cells(seed, vi, &frame, v, &vb.m, n, *community)
        })
        .collect();

    let mut grid = Grid {
        counties,
        ..Grid::default()
    };
    let town_kinds: Vec<(String, TownKind, f64)> = towns
        .iter()
        .map(|(t, b, k)| (t.code.clone(), *k, b.area))
        .collect();
    let village_info: Vec<(String, bool, f64)> = villages
        .iter()
        .map(|(v, b, c)| (v.code.clone(), *c, b.area))
        .collect();
    grid.towns = towns.into_iter().map(|(t, _, _)| t).collect();
    grid.villages = villages.into_iter().map(|(v, _, _)| v).collect();
    for c in cells.into_iter().flatten() {
        grid.cell_urban.push(c.urban);
        grid.cell_area.push(c.area);
        grid.cells.push(c.unit);
    }
    grid.conform_cells();
    progress(&format!("cells {}", grid.cells.len()));
    populate(seed, &mut grid, &town_kinds, &village_info);
    grid
}

/// Spreads each county's population over its towns (by kind and size),
/// villages (communities denser) and cells (by area).
fn populate(
    seed: u64,
    grid: &mut Grid,
    towns: &[(String, TownKind, f64)],
    villages: &[(String, bool, f64)],
) {
    let mut share: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    for (code, target) in COUNTY_POPULATION {
        share.insert((*code).to_string(), *target);
    }
    let jitter = |stream_index: u64| {
        let mut rng = item_rng(seed, Stream::People, (2 << 32) + stream_index);
        (0.3 * normal(&mut rng)).exp()
    };
    // Towns within counties.
    let mut sums: std::collections::BTreeMap<String, f64> = Default::default();
    let town_w: Vec<f64> = towns
        .iter()
        .enumerate()
        .map(|(i, (_, k, area))| {
            town_weight(*k) * (area / 1e6).max(0.1).powf(0.35) * jitter(i as u64)
        })
        .collect();
    for ((code, _, _), w) in towns.iter().zip(&town_w) {
        *sums.entry(code[..6].to_string()).or_default() += w;
    }
    for ((code, _, _), w) in towns.iter().zip(&town_w) {
        let county = &code[..6];
        let v = share.get(county).copied().unwrap_or(0.0) * w
            / sums.get(county).copied().unwrap_or(1.0);
        share.insert(code.clone(), v);
    }
    // Villages within towns.
    let mut sums: std::collections::BTreeMap<String, f64> = Default::default();
    let village_w: Vec<f64> = villages
        .iter()
        .enumerate()
        .map(|(i, (_, community, area))| {
            let k = if *community { 2.5 } else { 1.0 };
            k * (area / 1e6).max(0.05).powf(0.35) * jitter((1 << 20) + i as u64)
        })
        .collect();
    for ((code, _, _), w) in villages.iter().zip(&village_w) {
        *sums.entry(code[..9].to_string()).or_default() += w;
    }
    for ((code, _, _), w) in villages.iter().zip(&village_w) {
        let town = &code[..9];
        let v =
            share.get(town).copied().unwrap_or(0.0) * w / sums.get(town).copied().unwrap_or(1.0);
        share.insert(code.clone(), v);
    }
    // Cells within villages, by area.
    let mut sums: std::collections::BTreeMap<String, f64> = Default::default();
    let cell_w: Vec<f64> = grid
        .cell_area
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut rng = item_rng(seed, Stream::People, (3 << 32) + i as u64);
            a * (0.6 + 0.8 * rng.random::<f64>())
        })
        .collect();
    for (c, w) in grid.cells.iter().zip(&cell_w) {
        *sums.entry(c.code[..12].to_string()).or_default() += w;
    }
    for (c, w) in grid.cells.iter_mut().zip(&cell_w) {
        let village = &c.code[..12];
        let v = share.get(village).copied().unwrap_or(0.0) * w
            / sums.get(village).copied().unwrap_or(1.0);
        c.population = v.round().max(0.0) as u64;
    }
    grid.sum_populations();
}
