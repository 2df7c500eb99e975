//! Major hazard sources: most inside the petrochemical parks, the rest
//! LPG and fuel depots near towns, each run by a nearby hazardous-chemicals
//! enterprise; R values consistent with the grade.

use super::geom::{Shape, round_point};
use super::grid::{CellIndex, Grid};
use super::names;
use super::rng::{Rand, Stream, item_rng, pick, shuffle, weighted_index};
use crate::crs::metric::LocalProjection;
use crate::model::{Enterprise, HazardGrade, HazardSource, Industry};
use geo::{Coord, Point};
use rand::Rng;

/// Where hazard sources go.
#[derive(Debug, Clone, Default)]
pub struct HazardPlan {
    /// Chemical parks and the number of sources in each.
    pub parks: Vec<(Shape, usize)>,
    /// Depots among the other hazardous-chemicals enterprises.
    pub depots: usize,
}

const PARK_UNITS: &[(&str, &str)] = &[
    ("原油", "原油储罐区"),
    ("汽油、柴油", "成品油罐区"),
    ("液化石油气", "液化烃球罐区"),
    ("乙烯、丙烯", "乙烯裂解装置区"),
    ("苯、甲苯、二甲苯", "芳烃罐区"),
    ("甲醇", "甲醇储罐区"),
    ("液氨", "液氨储罐区"),
    ("环氧乙烷", "环氧乙烷装置区"),
    ("丙烯腈", "丙烯腈罐区"),
    ("石脑油", "石脑油罐区"),
    ("液化天然气", "LNG储罐区"),
    ("氢气、硫化氢", "加氢裂化装置区"),
];

const DEPOT_UNITS: &[(&str, &str)] = &[
    ("液化石油气", "液化石油气储配站"),
    ("汽油、柴油", "油库"),
    ("液化天然气", "LNG气化站"),
    ("汽油、柴油、液化石油气", "油气储运站"),
];

/// R value range of each grade (1–4).
fn r_value(rng: &mut Rand, grade: usize) -> f64 {
    let (lo, hi): (f64, f64) = match grade {
        1 => (100.0, 450.0),
        2 => (50.0, 99.99),
        3 => (10.0, 49.99),
        _ => (1.0, 9.99),
    };
    let r = (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp();
    ((r * 100.0).round() / 100.0).clamp(lo, hi)
}

/// A point 30–250 m from `p` that lies in a cell (and in `within`, if
/// given); `p` itself when none is found.
fn near(
    rng: &mut Rand,
    grid: &Grid,
    index: &CellIndex,
    p: Point<f64>,
    within: Option<&Shape>,
) -> Point<f64> {
    let proj = LocalProjection::new(p);
    for _ in 0..12 {
        let d = 30.0 + 220.0 * rng.random::<f64>();
        let a = std::f64::consts::TAU * rng.random::<f64>();
        let q = round_point(proj.unproject(Coord {
            x: d * a.cos(),
            y: d * a.sin(),
        }));
        if index.find(grid, q).is_some() && within.is_none_or(|s| s.contains(q.0)) {
            return q;
        }
    }
    p
}

#[allow(clippy::too_many_arguments)]
fn source(
    rng: &mut Rand,
    grid: &Grid,
    index: &CellIndex,
    e: &Enterprise,
    within: Option<&Shape>,
    grade_weights: &[f64; 4],
    units: &[(&str, &str)],
) -> HazardSource {
    let grade = weighted_index(rng, grade_weights) + 1;
    let r = r_value(rng, grade);
    let (substances, unit) = pick(rng, units)
        .copied()
        .unwrap_or(("液化石油气", "储罐区"));
    HazardSource {
        id: String::new(),
        name: format!("{}{unit}", e.name),
        enterprise_id: Some(e.id.clone()),
        grade: HazardGrade::from_r_value(r),
        r_value: Some(r),
        substances: substances.to_string(),
        monitored: rng.random_bool(0.92),
        supervisor: Some(names::person(rng)),
        location: near(rng, grid, index, e.location, within),
    }
}

/// Generates the hazard sources of `plan` (ids `HS-0001`…).
pub fn generate(
    seed: u64,
    grid: &Grid,
    index: &CellIndex,
    enterprises: &[Enterprise],
    plan: &HazardPlan,
) -> Vec<HazardSource> {
    let chemical: Vec<&Enterprise> = enterprises
        .iter()
        .filter(|e| e.industry == Industry::HazardousChemicals)
        .collect();
    let in_park = |e: &Enterprise| plan.parks.iter().any(|(s, _)| s.contains(e.location.0));
    let mut out = Vec::new();
    let mut missing = 0;
    for (k, (park, count)) in plan.parks.iter().enumerate() {
        let mut rng = item_rng(seed, Stream::Hazards, k as u64);
        let mut here: Vec<&Enterprise> = chemical
            .iter()
            .copied()
            .filter(|e| park.contains(e.location.0))
            .collect();
        shuffle(&mut rng, &mut here);
        if here.is_empty() {
            missing += count;
            continue;
        }
        for j in 0..*count {
            let e = here[j % here.len()];
            out.push(source(
                &mut rng,
                grid,
                index,
                e,
                Some(park),
                &[8.0, 22.0, 38.0, 32.0],
                PARK_UNITS,
            ));
        }
    }
    let mut rng = item_rng(seed, Stream::Hazards, 1 << 20);
    let mut others: Vec<&Enterprise> = chemical.iter().copied().filter(|e| !in_park(e)).collect();
    shuffle(&mut rng, &mut others);
    if !others.is_empty() {
        for j in 0..plan.depots + missing {
            let e = others[j % others.len()];
            out.push(source(
                &mut rng,
                grid,
                index,
                e,
                None,
                &[1.0, 9.0, 40.0, 50.0],
                DEPOT_UNITS,
            ));
        }
    }
    for (i, h) in out.iter_mut().enumerate() {
        h.id = format!("HS-{:04}", i + 1);
    }
    out
}
