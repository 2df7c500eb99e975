//! [`Scores`] of every grid unit: cells in parallel, then the roll-up
//! village → town → county.
//!
//! A `Snapshot` keeps the `Scores` next to the `Store` it was computed from;
//! handlers look a unit up by its [`UnitId`] (`store.unit_by_code(code)`,
//! then `scores.unit(id)`).

use super::cell::{self, CellInputs};
use super::explain;
use super::exposure;
use super::params::RiskParams;
use super::score::{Contributor, LevelCounts, UnitScore, contributor_order};
use crate::index::{Store, UnitId};
use crate::model::Level;
use rayon::prelude::*;
use std::collections::HashSet;

/// What of the grid a [`Scores`] was computed for; any difference in a later
/// store means a full rescore.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GridKey {
    parent: Option<UnitId>,
    population: u64,
    area_bits: u64,
}

/// The scores of every grid unit of a [`Store`], indexed by [`UnitId`].
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    pub(crate) units: Vec<UnitScore>,
    pub(crate) grid: Vec<GridKey>,
    pub(crate) params: RiskParams,
}

/// Scores every grid unit: unit cells in parallel, then villages, towns and
/// counties from their children's unrounded scores.
pub fn score_all(store: &Store, params: &RiskParams) -> Scores {
    let exposures = exposure::all(store, &params.exposure);
    let cells: Vec<(UnitId, UnitScore)> = exposures
        .par_iter()
        .map(|&(c, v)| (c, cell::score_cell(store, c, v, params)))
        .collect();
    let empty = UnitScore::new(0.0, params, None, LevelCounts::default(), None, Vec::new());
    let mut units = vec![empty; store.units().len()];
    for (c, s) in cells {
        units[c as usize] = s;
    }
    for level in [Level::Village, Level::Town, Level::County] {
        let rolled: Vec<UnitScore> = store
            .units_at(level)
            .par_iter()
            .map(|&id| roll_up(store, &units, id, params))
            .collect();
        for (&id, s) in store.units_at(level).iter().zip(rolled) {
            units[id as usize] = s;
        }
    }
    Scores {
        units,
        grid: grid_key(store),
        params: params.clone(),
    }
}

pub(crate) fn grid_key(store: &Store) -> Vec<GridKey> {
    (0..store.units().len())
        .map(|i| {
            let id = i as UnitId;
            GridKey {
                parent: store.parent(id),
                population: store.unit(id).population,
                area_bits: store.area_m2(id).to_bits(),
            }
        })
        .collect()
}

/// The score of a village, town or county from its children's unrounded
/// scores: S = w · max + (1 − w) · m, m the population-weighted mean (the
/// plain mean if the children's population sums to 0). Its contributors are
/// the features with the largest contribution in any cell below it, each
/// listed once. A unit without children scores 0.
pub(crate) fn roll_up(
    store: &Store,
    units: &[UnitScore],
    id: UnitId,
    params: &RiskParams,
) -> UnitScore {
    let children = store.children(id);
    let mut counts = LevelCounts::default();
    let mut cells = LevelCounts::default();
    if children.is_empty() {
        return UnitScore::new(0.0, params, None, counts, Some(cells), Vec::new());
    }
    let mut max = 0.0f64;
    let (mut weighted, mut people, mut plain) = (0.0, 0.0, 0.0);
    let mut pool: Vec<&Contributor> = Vec::new();
    for &c in children {
        let s = &units[c as usize];
        max = max.max(s.score());
        let pop = store.unit(c).population as f64;
        weighted += pop * s.score();
        people += pop;
        plain += s.score();
        counts.add(s.level());
        cells.merge(s.cell_levels());
        pool.extend(s.contributors());
    }
    let mean = if people > 0.0 {
        weighted / people
    } else {
        plain / children.len() as f64
    };
    let w = params.rollup.max_weight;
    let score = w * max + (1.0 - w) * mean;
    UnitScore::new(
        score,
        params,
        None,
        counts,
        Some(cells),
        top_features(pool, params.top_contributors),
    )
}

/// The `n` largest contributors, each feature once (its largest entry).
fn top_features(mut pool: Vec<&Contributor>, n: usize) -> Vec<Contributor> {
    pool.sort_by(|a, b| contributor_order(a, b));
    let mut seen = HashSet::new();
    pool.into_iter()
        .filter(|c| seen.insert((c.layer, c.id.as_str())))
        .take(n)
        .cloned()
        .collect()
}

impl Scores {
    /// The score of a unit. Panics if `id` is not a unit of the scored store.
    pub fn unit(&self, id: UnitId) -> &UnitScore {
        &self.units[id as usize]
    }

    /// The score of a unit, if `id` is one.
    pub fn get(&self, id: UnitId) -> Option<&UnitScore> {
        self.units.get(id as usize)
    }

    /// Number of units scored (every unit of the store).
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// Whether no unit was scored.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// Every unit's score with its id, in the store's unit order.
    pub fn iter(&self) -> impl Iterator<Item = (UnitId, &UnitScore)> {
        self.units.iter().enumerate().map(|(i, s)| (i as UnitId, s))
    }

    /// The parameters the scores were computed with.
    pub fn params(&self) -> &RiskParams {
        &self.params
    }

    /// Up to `n` children of `id`, highest unrounded score first (ties by id).
    pub fn top_children(&self, store: &Store, id: UnitId, n: usize) -> Vec<UnitId> {
        let mut kids = store.children(id).to_vec();
        kids.sort_by(|a, b| {
            self.unit(*b)
                .score()
                .total_cmp(&self.unit(*a).score())
                .then(a.cmp(b))
        });
        kids.truncate(n);
        kids
    }

    /// Every contributor of a unit cell, largest first (not only the top
    /// ones kept in [`UnitScore::contributors`]); empty for other levels.
    pub fn explain_all(&self, store: &Store, cell: UnitId) -> Vec<Contributor> {
        let Some(v) = self.get(cell).and_then(|s| s.components()).map(|c| c.v) else {
            return Vec::new();
        };
        let inputs = CellInputs::gather(store, cell, v, &self.params);
        explain::contributors(store, cell, &inputs, &self.params, None)
    }
}
