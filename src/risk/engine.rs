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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::metric::LocalProjection;
    use crate::model::{CollapseKind, Dataset, Industry, RiskLevel};
    use crate::risk::fixtures::*;
    use geo::Point;

    /// One 0.01° cell at (X0, Y0): N = 1, so p = 0.5 and V = 1.
    fn single(ds: Dataset) -> (Store, Scores) {
        let store = Store::build(Dataset {
            units: one_village(&[(rect(X0, Y0, X0 + 0.01, Y0 + 0.01), 1000)]),
            ..ds
        });
        let scores = score_all(&store, &RiskParams::default());
        (store, scores)
    }

    fn cell_of(store: &Store) -> UnitId {
        store.units_at(Level::Cell)[0]
    }

    fn example3() -> Dataset {
        let mut e = enterprise(
            "E-1",
            X0 + 0.005,
            Y0 + 0.005,
            Industry::HazardousChemicals,
            RiskLevel::Major,
        );
        e.hidden_dangers_open = 3;
        Dataset {
            enterprises: vec![e],
            ..Dataset::default()
        }
    }

    fn example4() -> Dataset {
        Dataset {
            collapse_zones: vec![zone(
                "CZ-1",
                CollapseKind::Cavity,
                3,
                rect(X0 - 0.01, Y0 - 0.01, X0 + 0.005, Y0 + 0.02),
            )],
            ..example3()
        }
    }

    /// A source `metres` east of the cell's east edge, at its mid latitude.
    fn east_of_cell(metres: f64) -> Point<f64> {
        let y = Y0 + 0.005;
        let (kx, _) = LocalProjection::new(Point::new(X0 + 0.01, y)).metres_per_degree();
        Point::new(X0 + 0.01 + metres / kx, y)
    }

    #[test]
    fn example_1_grade_2_inside() {
        let (store, scores) = single(Dataset {
            hazard_sources: vec![hazard("HS-0001", 2, false, X0 + 0.005, Y0 + 0.005)],
            ..Dataset::default()
        });
        let s = scores.unit(cell_of(&store));
        let k = s.components().copied().unwrap();
        assert!((k.h - 60.0).abs() < 1e-9 && k.v == 1.0 && k.e == 0.0 && k.c == 0.0);
        assert_eq!(s.risk_score(), 60.0);
        assert_eq!(s.level(), RiskLevel::High);
        assert_eq!(s.color(), "#fd8d3c");
        assert_eq!(s.contributors()[0].label, "HS-0001 二级 格内 → H +60.0");
    }

    #[test]
    fn example_2_grade_1_at_1500_m() {
        let p = east_of_cell(1500.0);
        let (store, scores) = single(Dataset {
            hazard_sources: vec![hazard("HS-0007", 1, false, p.x(), p.y())],
            ..Dataset::default()
        });
        let s = scores.unit(cell_of(&store));
        assert_eq!(s.risk_score(), 25.0);
        assert_eq!(s.contributors()[0].label, "HS-0007 一级 1.5 km → H +25.0");
        let (store, scores) = single(Dataset {
            hazard_sources: vec![hazard("HS-0007", 1, true, p.x(), p.y())],
            ..Dataset::default()
        });
        let s = scores.unit(cell_of(&store));
        assert!((s.components().unwrap().h - 20.0).abs() < 1e-6);
        assert_eq!(s.risk_score(), 20.0);
        assert_eq!(s.level(), RiskLevel::Low);
        assert_eq!(
            s.contributors()[0].label,
            "HS-0007 一级 1.5 km 在线监测 → H +20.0"
        );
        // Beyond the reach: nothing.
        let far = east_of_cell(3000.5);
        let (store, scores) = single(Dataset {
            hazard_sources: vec![hazard("HS-0007", 1, false, far.x(), far.y())],
            ..Dataset::default()
        });
        assert_eq!(scores.unit(cell_of(&store)).risk_score(), 0.0);
        assert!(scores.unit(cell_of(&store)).contributors().is_empty());
    }

    #[test]
    fn example_3_chemicals_enterprise() {
        let (store, scores) = single(example3());
        let s = scores.unit(cell_of(&store));
        assert!((s.components().unwrap().e - 57.96).abs() < 0.005);
        assert_eq!(s.risk_score(), 58.0);
        assert_eq!(s.level(), RiskLevel::High);
        assert_eq!(
            s.contributors()[0].label,
            "E-1 E-1公司 危险化学品 重大 隐患3 → E +58.0"
        );
    }

    #[test]
    fn example_4_plus_half_cavity() {
        let (store, scores) = single(example4());
        let s = scores.unit(cell_of(&store));
        assert!((s.components().unwrap().c - 50.0).abs() < 1e-6);
        assert!((s.score() - 78.98).abs() < 0.005);
        assert_eq!(s.risk_score(), 79.0);
        assert_eq!(s.level(), RiskLevel::Major);
        assert_eq!(s.color(), "#d7191c");
        let labels: Vec<&str> = s.contributors().iter().map(|c| c.label.as_str()).collect();
        // Without E: 50 → +29.0; without C: 57.96 → +21.0.
        assert_eq!(
            labels,
            [
                "E-1 E-1公司 危险化学品 重大 隐患3 → E +29.0",
                "CZ-1 探地雷达发现空洞 3级 覆盖50% → C +21.0"
            ]
        );
    }

    #[test]
    fn example_5_least_dense_cell() {
        let store = Store::build(Dataset {
            units: one_village(&[
                (rect(X0, Y0, X0 + 0.01, Y0 + 0.01), 0),
                (rect(X0 + 0.02, Y0, X0 + 0.03, Y0 + 0.01), 500),
            ]),
            ..example4()
        });
        let scores = score_all(&store, &RiskParams::default());
        let [a, b] = [
            store.units_at(Level::Cell)[0],
            store.units_at(Level::Cell)[1],
        ];
        let s = scores.unit(a);
        assert!((s.components().unwrap().v - 0.8).abs() < 1e-12);
        assert_eq!(s.risk_score(), 63.2);
        assert_eq!(s.level(), RiskLevel::High);
        assert!((scores.unit(b).components().unwrap().v - 1.2).abs() < 1e-12);
    }

    #[test]
    fn roll_up_by_hand() {
        // Two cells without population tie (V = 1): 60 and 0 → 0.6·60 + 0.4·30.
        let store = Store::build(Dataset {
            units: one_village(&[
                (rect(X0, Y0, X0 + 0.01, Y0 + 0.01), 0),
                (rect(X0 + 0.05, Y0, X0 + 0.06, Y0 + 0.01), 0),
            ]),
            hazard_sources: vec![hazard("HS-1", 2, false, X0 + 0.005, Y0 + 0.005)],
            ..Dataset::default()
        });
        let scores = score_all(&store, &RiskParams::default());
        for level in [Level::Village, Level::Town, Level::County] {
            let u = scores.unit(store.units_at(level)[0]);
            assert!((u.score() - 48.0).abs() < 1e-9, "{level}");
            assert_eq!(u.level(), RiskLevel::Medium);
            assert!(u.components().is_none());
            assert_eq!(u.cell_levels().high, 1);
            assert_eq!(u.cell_levels().low, 1);
            assert_eq!(u.contributors()[0].id, "HS-1");
        }
        let village = scores.unit(store.units_at(Level::Village)[0]);
        assert_eq!(village.children_levels().total(), 2);
        let town = scores.unit(store.units_at(Level::Town)[0]);
        assert_eq!(town.children_levels().medium, 1);
        let v = store.units_at(Level::Village)[0];
        assert_eq!(
            scores.top_children(&store, v, 1),
            vec![store.units_at(Level::Cell)[0]]
        );
    }

    #[test]
    fn weighted_roll_up_on_the_grid() {
        let store = Store::build(Dataset {
            units: grid4x4(),
            hazard_sources: vec![hazard("HS-1", 3, false, X0 + 0.001, Y0 + 0.001)],
            enterprises: vec![enterprise(
                "E-1",
                X0 + 0.017,
                Y0 + 0.018,
                Industry::Fireworks,
                RiskLevel::High,
            )],
            ..Dataset::default()
        });
        let p = RiskParams::default();
        let scores = score_all(&store, &p);
        for level in [Level::Village, Level::Town, Level::County] {
            for &id in store.units_at(level) {
                let kids = store.children(id);
                let pops: f64 = kids.iter().map(|&k| store.unit(k).population as f64).sum();
                let m = kids
                    .iter()
                    .map(|&k| store.unit(k).population as f64 * scores.unit(k).score())
                    .sum::<f64>()
                    / pops;
                let max = kids
                    .iter()
                    .map(|&k| scores.unit(k).score())
                    .fold(0.0, f64::max);
                assert!((scores.unit(id).score() - (0.6 * max + 0.4 * m)).abs() < 1e-9);
            }
        }
        assert_eq!(
            scores
                .unit(store.units_at(Level::County)[0])
                .cell_levels()
                .total(),
            16
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::crs::metric::LocalProjection;
    use crate::model::Dataset;
    use crate::risk::fixtures::{self, arb};
    use geo::{BoundingRect, Coord};
    use proptest::prelude::*;

    fn scored(ds: &Dataset) -> (Store, Scores) {
        let store = Store::build(ds.clone());
        let scores = score_all(&store, &RiskParams::default());
        (store, scores)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn scores_are_within_0_and_100(ds in arb::dataset()) {
            let (store, scores) = scored(&ds);
            let p = RiskParams::default();
            prop_assert_eq!(scores.len(), store.units().len());
            for (_, s) in scores.iter() {
                prop_assert!((0.0..=100.0).contains(&s.score()));
                prop_assert!((0.0..=100.0).contains(&s.risk_score()));
                prop_assert_eq!(s.risk_score(), crate::risk::score::round1(s.score()));
                prop_assert_eq!(s.level(), p.levels.level(s.risk_score()));
                if let Some(k) = s.components() {
                    for x in [k.h, k.e, k.c] {
                        prop_assert!((0.0..=100.0).contains(&x));
                    }
                    prop_assert!((0.8..=1.2 + 1e-12).contains(&k.v));
                }
            }
        }

        #[test]
        fn adding_a_hazard_never_lowers_a_score(ds in arb::dataset(), extra in arb::hazard()) {
            let (_, before) = scored(&ds);
            let mut more = ds.clone();
            more.hazard_sources.push(extra);
            arb::name_features(&mut more);
            let (_, after) = scored(&more);
            for ((_, a), (_, b)) in after.iter().zip(before.iter()) {
                prop_assert!(a.score() >= b.score(), "{} < {}", a.score(), b.score());
            }
        }

        #[test]
        fn moving_a_source_farther_never_raises_its_cell(
            ds in arb::dataset(), source in arb::hazard(), cell in 0usize..16,
            angle in 0.0..std::f64::consts::TAU, near in 0.0..3500.0f64,
        ) {
            let store = Store::build(ds.clone());
            let id = store.units_at(Level::Cell)[cell];
            let centre = store.unit(id).geometry.bounding_rect().map(|r| r.center()).unwrap_or_default();
            let proj = LocalProjection::new(centre.into());
            let at = |t: f64| {
                proj.unproject(Coord { x: t * angle.cos(), y: t * angle.sin() })
            };
            let score_with = |t: f64| {
                let mut moved = ds.clone();
                let mut s = source.clone();
                s.location = at(t).into();
                moved.hazard_sources.push(s);
                arb::name_features(&mut moved);
                scored(&moved).1.unit(id).score()
            };
            let far = near * 1.2 + 50.0;
            prop_assert!(score_with(far) <= score_with(near) + 1e-9);
        }

        #[test]
        fn parents_lie_between_weighted_mean_and_max(ds in arb::dataset()) {
            let (store, scores) = scored(&ds);
            for level in [Level::Village, Level::Town, Level::County] {
                for &id in store.units_at(level) {
                    let kids = store.children(id);
                    let pops: f64 = kids.iter().map(|&k| store.unit(k).population as f64).sum();
                    let s = |k: &UnitId| scores.unit(*k).score();
                    let m = if pops > 0.0 {
                        kids.iter().map(|k| store.unit(*k).population as f64 * s(k)).sum::<f64>() / pops
                    } else {
                        kids.iter().map(s).sum::<f64>() / kids.len() as f64
                    };
                    let max = kids.iter().map(s).fold(0.0, f64::max);
                    let own = scores.unit(id).score();
                    prop_assert!(m - 1e-9 <= own && own <= max + 1e-9, "{m} ≤ {own} ≤ {max}");
                }
            }
        }
    }

    #[test]
    fn grid_fixture_has_zero_and_tied_populations() {
        let units = fixtures::grid4x4();
        let pops: Vec<u64> = units
            .iter()
            .filter(|u| u.level == Level::Cell)
            .map(|u| u.population)
            .collect();
        assert_eq!(pops.len(), 16);
        assert!(pops.contains(&0));
        assert!(pops.iter().filter(|&&p| p == 100).count() > 1);
    }
}
