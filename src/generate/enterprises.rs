//! Enterprises: clustered in industrial areas, the rest spread with the
//! population; plausible grades, hidden dangers and employee counts.

use super::geom::{Shape, round_point};
use super::grid::{CellIndex, Grid};
use super::names;
use super::rng::{Cumulative, Rand, Stream, item_rng, normal, weighted_index};
use crate::model::{Enterprise, Industry, RiskLevel, uscc};
use geo::{BoundingRect, Coord};
use geo::{InteriorPoint, Intersects, Point};
use rand::Rng;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// An industrial area and how many enterprises it holds.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Outline, lon/lat.
    pub shape: Shape,
    /// Category of the area (`petrochemical`, `footwear`, …).
    pub category: String,
    /// Number of enterprises placed in it.
    pub count: usize,
}

/// Where enterprises go.
#[derive(Debug, Clone, Default)]
pub struct EnterprisePlan {
    /// Industrial clusters, filled first.
    pub clusters: Vec<Cluster>,
    /// Enterprises spread over the cells by population.
    pub spread: usize,
}

impl EnterprisePlan {
    /// Total number of enterprises.
    pub fn total(&self) -> usize {
        self.clusters.iter().map(|c| c.count).sum::<usize>() + self.spread
    }
}

use Industry::*;

/// Industry mix of an area category (`None`: spread over the city).
fn mix(category: Option<&str>) -> &'static [(Industry, f64)] {
    match category {
        Some("petrochemical") => &[
            (HazardousChemicals, 55.0),
            (Warehousing, 12.0),
            (Gas, 5.0),
            (ConfinedSpace, 6.0),
            (GeneralManufacturing, 10.0),
            (Construction, 6.0),
            (Metallurgy, 2.0),
            (DustExplosion, 3.0),
            (CrowdedPlace, 1.0),
        ],
        Some("footwear" | "footwear-garment" | "textile-garment") => &[
            (GeneralManufacturing, 68.0),
            (DustExplosion, 8.0),
            (Warehousing, 10.0),
            (ConfinedSpace, 3.0),
            (HazardousChemicals, 3.0),
            (CrowdedPlace, 3.0),
            (Construction, 3.0),
            (Gas, 2.0),
        ],
        Some("stone") => &[
            (GeneralManufacturing, 55.0),
            (Mining, 12.0),
            (DustExplosion, 10.0),
            (Construction, 10.0),
            (Warehousing, 8.0),
            (Gas, 2.0),
            (HazardousChemicals, 1.0),
            (CrowdedPlace, 2.0),
        ],
        Some("ceramics") => &[
            (GeneralManufacturing, 58.0),
            (DustExplosion, 12.0),
            (Gas, 12.0),
            (Warehousing, 8.0),
            (Construction, 4.0),
            (Mining, 4.0),
            (HazardousChemicals, 2.0),
        ],
        Some("tea-processing") => &[
            (GeneralManufacturing, 62.0),
            (DustExplosion, 12.0),
            (AmmoniaRefrigeration, 4.0),
            (Warehousing, 10.0),
            (CrowdedPlace, 7.0),
            (Construction, 3.0),
            (Gas, 2.0),
        ],
        _ => &[
            (CrowdedPlace, 24.0),
            (GeneralManufacturing, 26.0),
            (Construction, 12.0),
            (Warehousing, 10.0),
            (Gas, 4.0),
            (HazardousChemicals, 5.0),
            (ConfinedSpace, 5.0),
            (AmmoniaRefrigeration, 3.0),
            (DustExplosion, 4.0),
            (Metallurgy, 2.0),
            (Nonferrous, 1.5),
            (Fireworks, 1.0),
            (Mining, 2.5),
        ],
    }
}

/// Median employees of an industry.
fn median_employees(industry: Industry) -> f64 {
    match industry {
        HazardousChemicals => 60.0,
        Fireworks => 25.0,
        Mining => 30.0,
        Metallurgy => 120.0,
        Nonferrous => 80.0,
        DustExplosion => 45.0,
        AmmoniaRefrigeration => 25.0,
        ConfinedSpace => 20.0,
        Gas => 15.0,
        Construction => 80.0,
        CrowdedPlace => 25.0,
        Warehousing => 18.0,
        GeneralManufacturing => 40.0,
    }
}

fn high_risk(industry: Industry) -> bool {
    matches!(
        industry,
        HazardousChemicals | Fireworks | Mining | Metallurgy | Gas | DustExplosion
    )
}

fn risk_grade(rng: &mut Rand, industry: Industry) -> RiskLevel {
    // low, medium, high, major
    let w: [f64; 4] = if high_risk(industry) {
        [40.0, 45.5, 13.0, 1.5]
    } else {
        [62.0, 34.1, 3.5, 0.4]
    };
    [
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::High,
        RiskLevel::Major,
    ][weighted_index(rng, &w)]
}

const USCC_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// A unified social credit code with a valid check character: 9 (market
/// regulator) 1 (enterprise), the county code, a random organisation part.
fn uscc_for(rng: &mut Rand, county: &str) -> Option<String> {
    let mut s = String::from("91");
    s.push_str(county);
    for i in 0..9 {
        // The organisation part is mostly digits, as real codes are.
        let c = if i < 8 && rng.random_bool(0.85) {
            USCC_CHARS[rng.random_range(0..10)]
        } else {
            USCC_CHARS[rng.random_range(0..USCC_CHARS.len())]
        };
        s.push(char::from(c));
    }
    let check = uscc::check_char(&s)?;
    s.push(check);
    Some(s)
}

/// A random point of `cell` that still lies in it once rounded.
pub fn point_in_cell(rng: &mut Rand, grid: &Grid, cell: usize) -> Option<Point<f64>> {
    let c = grid.cells.get(cell)?;
    let b = c.geometry.bounding_rect()?;
    for _ in 0..400 {
        let p = round_point(Coord {
            x: b.min().x + rng.random::<f64>() * b.width(),
            y: b.min().y + rng.random::<f64>() * b.height(),
        });
        if c.geometry.intersects(&p) {
            return Some(p);
        }
    }
    c.geometry
        .interior_point()
        .map(|p| round_point(p.0))
        .filter(|p| c.geometry.intersects(p))
}

/// Cell weights for spreading enterprises: population, plus a little for
/// every cell.
pub fn population_weights(grid: &Grid) -> Cumulative {
    Cumulative::new(grid.cells.iter().map(|c| c.population as f64 + 20.0))
}

/// Generates the enterprises of `plan` (ids `E0000001`…), in parallel and
/// deterministically.
pub fn generate(
    seed: u64,
    grid: &Grid,
    index: &CellIndex,
    plan: &EnterprisePlan,
) -> Vec<Enterprise> {
    let spread = population_weights(grid);
    let counties: BTreeMap<String, String> = grid.county_short_names();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for (k, c) in plan.clusters.iter().enumerate() {
        ranges.push((start + c.count, k));
        start += c.count;
    }
    (0..plan.total())
        .into_par_iter()
        .filter_map(|i| {
            let mut rng = item_rng(seed, Stream::Enterprises, i as u64);
            let cluster = ranges
                .iter()
                .find(|(end, _)| i < *end)
                .and_then(|(_, k)| plan.clusters.get(*k));
            let mut located = None;
            if let Some(cl) = cluster {
                for _ in 0..50 {
                    let Some(p) = cl.shape.sample(&mut rng, 500) else {
                        break;
                    };
                    let p = round_point(p);
                    if let Some(cell) = index.find(grid, p) {
                        located = Some((p, cell));
                        break;
                    }
                }
            }
            if located.is_none() {
                for _ in 0..10 {
                    let cell = spread.draw(&mut rng);
                    if let Some(p) = point_in_cell(&mut rng, grid, cell) {
                        located = Some((p, cell));
                        break;
                    }
                }
            }
            let (location, cell) = located?;
            let category = cluster.map(|c| c.category.as_str());
            let m = mix(category);
            let weights: Vec<f64> = m.iter().map(|(_, w)| *w).collect();
            let industry = m[weighted_index(&mut rng, &weights)].0;
            let cell_code = grid.cells[cell].code.clone();
            let county = &cell_code[..6];
            let place = counties.get(county).cloned().unwrap_or_default();
            let name = names::enterprise(&mut rng, &place, industry, category);
            let risk_grade = risk_grade(&mut rng, industry);
            let cluster_factor = if category.is_some() { 1.6 } else { 1.0 };
            let employees =
                (median_employees(industry).ln() + 0.9 * normal(&mut rng)).exp() * cluster_factor;
            let employees = employees.round().clamp(1.0, 20_000.0) as u32;
            let hidden_w = [45.0, 24.0, 14.0, 8.0, 4.0, 2.0, 1.0, 0.8, 0.5, 0.4, 0.3];
            let mut hidden = weighted_index(&mut rng, &hidden_w) as u32;
            if risk_grade.rank() >= 2 && rng.random_bool(0.5) {
                hidden += 1;
            }
            let p_major = if risk_grade.rank() >= 2 { 0.04 } else { 0.01 };
            let major_hidden = if rng.random_bool(p_major) {
                if rng.random_bool(0.15) { 2 } else { 1 }
            } else {
                0
            };
            let blacklisted = rng.random_bool(if major_hidden > 0 { 0.05 } else { 0.005 });
            let uscc = uscc_for(&mut rng, county);
            Some(Enterprise {
                id: String::new(),
                name,
                uscc,
                industry,
                risk_grade,
                employees,
                hidden_dangers_open: hidden.max(major_hidden),
                major_hidden_dangers_open: major_hidden,
                blacklisted,
                cell_code: Some(cell_code),
                location,
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            e.id = format!("E{:07}", i + 1);
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uscc_check_digits_are_valid() {
        let mut rng = item_rng(5, Stream::Enterprises, 0);
        for _ in 0..200 {
            let code = uscc_for(&mut rng, "350582").unwrap();
            assert_eq!(code.len(), 18);
            assert!(uscc::is_valid(&code), "{code}");
        }
    }
}
