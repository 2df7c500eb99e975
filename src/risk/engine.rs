//! [`Scores`] of every grid unit: cells in parallel, then the roll-up
//! village → town → county.
//!
//! A `Snapshot` keeps the `Scores` next to the `Store` it was computed from;
//! handlers look a unit up by its [`UnitId`] (`store.unit_by_code(code)`,
//! then `scores.unit(id)`).

use super::cell;
use super::explain;
use super::exposure;
use super::params::RiskParams;
use super::score::{Contributor, Domain, LevelCounts, UnitScore};
use crate::index::ChunkVec;
use crate::index::{Store, UnitId};
use crate::model::Level;
use rayon::prelude::*;

/// Unit scores per shared chunk: a live write rescores cells scattered
/// over the province and copies every chunk it touches.
pub(crate) const SCORE_CHUNK: usize = 32;

/// The scores of every grid unit of a [`Store`], indexed by [`UnitId`].
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    pub(crate) units: ChunkVec<UnitScore, SCORE_CHUNK>,
    /// [`Store::grid_digest`] of the store scored.
    pub(crate) grid: [u8; 32],
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
    let empty = UnitScore::new(
        0.0,
        0.0,
        params,
        None,
        LevelCounts::default(),
        None,
        Vec::new(),
    );
    let mut units = vec![empty; store.units().len()];
    for (c, s) in cells {
        units[c as usize] = s;
    }
    let mut units = ChunkVec::from_vec(units);
    for level in [Level::Village, Level::Town, Level::County] {
        let rolled: Vec<UnitScore> = store
            .units_at(level)
            .par_iter()
            .map(|&id| roll_up(store, &units, id, params))
            .collect();
        for (&id, s) in store.units_at(level).iter().zip(rolled) {
            units.set(id as usize, s);
        }
    }
    Scores {
        units,
        grid: *store.grid_digest(),
        params: params.clone(),
    }
}

/// The roll-up weight kᵢ of each child of `id`, in code order:
/// w · [i is the max child] + (1 − w) · (popᵢ / Σ pop, or 1/n if the
/// children's population is 0). The first child in code order wins a tie
/// for the max. They sum to 1; a unit's S, domains and contributions are
/// Σ kᵢ · (the child's).
pub(crate) fn child_weights(
    store: &Store,
    units: &ChunkVec<UnitScore, SCORE_CHUNK>,
    id: UnitId,
    params: &RiskParams,
) -> Vec<(UnitId, f64)> {
    let children = store.children(id);
    let Some(&first) = children.first() else {
        return Vec::new();
    };
    let mut top = first;
    let mut people = 0.0;
    for &c in children {
        if units[c as usize].score() > units[top as usize].score() {
            top = c;
        }
        people += store.unit(c).population as f64;
    }
    let w = params.rollup.max_weight;
    let n = children.len() as f64;
    children
        .iter()
        .map(|&c| {
            let share = if people > 0.0 {
                store.unit(c).population as f64 / people
            } else {
                1.0 / n
            };
            let max = if c == top { w } else { 0.0 };
            (c, max + (1.0 - w) * share)
        })
        .collect()
}

/// The score of a village, town or county from its children's unrounded
/// scores: S = w · max + (1 − w) · m, m the population-weighted mean (the
/// plain mean if the children's population sums to 0). Its domains are the
/// children's rolled up with the same weights ([`child_weights`]), and its
/// ranking pressure is −ln(Σ kᵢ · e^(−pressureᵢ)), i.e. −ln(1 − S/100)
/// without cancellation. A unit without children scores 0.
pub(crate) fn roll_up(
    store: &Store,
    units: &ChunkVec<UnitScore, SCORE_CHUNK>,
    id: UnitId,
    params: &RiskParams,
) -> UnitScore {
    let children = store.children(id);
    let mut counts = LevelCounts::default();
    let mut cells = LevelCounts::default();
    if children.is_empty() {
        return UnitScore::new(0.0, 0.0, params, None, counts, Some(cells), Vec::new());
    }
    let mut max = 0.0f64;
    let (mut weighted, mut people, mut plain) = (0.0, 0.0, 0.0);
    for &c in children {
        let s = &units[c as usize];
        max = max.max(s.score());
        let pop = store.unit(c).population as f64;
        weighted += pop * s.score();
        people += pop;
        plain += s.score();
        counts.add(s.level());
        cells.merge(s.cell_levels());
    }
    let mean = if people > 0.0 {
        weighted / people
    } else {
        plain / children.len() as f64
    };
    let w = params.rollup.max_weight;
    let score = w * max + (1.0 - w) * mean;
    let weights = child_weights(store, units, id, params);
    let least = weights
        .iter()
        .filter(|(_, k)| *k > 0.0)
        .map(|(c, _)| units[*c as usize].pressure())
        .fold(f64::INFINITY, f64::min);
    let mut domains = vec![0.0; Domain::count()];
    let mut survival = 0.0;
    for (c, k) in weights {
        let s = &units[c as usize];
        for (d, x) in s.domains() {
            domains[d.index()] += k * x;
        }
        survival += k * (least - s.pressure()).exp();
    }
    let pressure = if survival > 0.0 && least.is_finite() {
        least - survival.ln()
    } else {
        0.0
    };
    let domains = Domain::all()
        .zip(domains)
        .filter(|(_, x)| *x != 0.0)
        .collect();
    UnitScore::new(score, pressure, params, None, counts, Some(cells), domains)
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

    /// Up to `n` children of `id`, highest first by the unrounded pressure
    /// (ties by code).
    pub fn top_children(&self, store: &Store, id: UnitId, n: usize) -> Vec<UnitId> {
        let mut kids = store.children(id).to_vec();
        kids.sort_by(|a, b| self.rank_order(*a, *b));
        kids.truncate(n);
        kids
    }

    /// Ranking order: higher pressure (V·Λ for cells) first, then by code
    /// (the store's unit order).
    pub fn rank_order(&self, a: UnitId, b: UnitId) -> std::cmp::Ordering {
        self.unit(b)
            .pressure()
            .total_cmp(&self.unit(a).pressure())
            .then(a.cmp(&b))
    }

    /// Every contributor of a unit of any level, largest first; their
    /// contributions sum to the unit's S. Computed on demand.
    pub fn contributors(&self, store: &Store, unit: UnitId) -> Vec<Contributor> {
        explain::unit_contributors(store, self, unit)
    }

    /// The first `risk.top_contributors` of [`Scores::contributors`].
    pub fn top_contributors(&self, store: &Store, unit: UnitId) -> Vec<Contributor> {
        let mut all = self.contributors(store, unit);
        all.truncate(self.params.top_contributors);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::metric::LocalProjection;
    use crate::model::{CollapseKind, Dataset, Industry, RiskLevel};
    use crate::risk::fixtures::*;
    use crate::risk::score::Domain;
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

    /// S = 100 · (1 − e^(−V·Λ)) by hand.
    fn s_of(v: f64, lambdas: &[f64]) -> f64 {
        100.0 * (1.0 - (-v * lambdas.iter().sum::<f64>()).exp())
    }

    fn lam(x: f64) -> f64 {
        -(1.0 - x.min(99.99) / 100.0).ln()
    }

    #[test]
    fn example_1_grade_2_inside() {
        let (store, scores) = single(Dataset {
            hazard_sources: vec![hazard("HS-0001", 2, false, X0 + 0.005, Y0 + 0.005)],
            ..Dataset::default()
        });
        let cell = cell_of(&store);
        let s = scores.unit(cell);
        let k = s.components().copied().unwrap();
        assert!((k.h - 60.0).abs() < 1e-9 && k.v == 1.0 && k.e == 0.0 && k.c == 0.0 && k.m == 0.0);
        assert_eq!(s.risk_score(), 60.0);
        assert_eq!(s.level(), RiskLevel::High);
        assert_eq!(s.color(), "#fd8d3c");
        let all = scores.contributors(&store, cell);
        assert_eq!(all[0].label, "HS-0001 二级 格内 → H +60.0");
        assert!((all[0].contribution - 60.0).abs() < 1e-9);
        assert!((all[0].marginal.unwrap() - 60.0).abs() < 1e-9);
    }

    #[test]
    fn example_2_grade_1_at_1500_m() {
        let p = east_of_cell(1500.0);
        let (store, scores) = single(Dataset {
            hazard_sources: vec![hazard("HS-0007", 1, false, p.x(), p.y())],
            ..Dataset::default()
        });
        let cell = cell_of(&store);
        assert_eq!(scores.unit(cell).risk_score(), 25.0);
        assert_eq!(
            scores.contributors(&store, cell)[0].label,
            "HS-0007 一级 1.5 km → H +25.0"
        );
        let (store, scores) = single(Dataset {
            hazard_sources: vec![hazard("HS-0007", 1, true, p.x(), p.y())],
            ..Dataset::default()
        });
        let s = scores.unit(cell);
        assert!((s.components().unwrap().h - 20.0).abs() < 1e-6);
        assert_eq!(s.risk_score(), 20.0);
        assert_eq!(s.level(), RiskLevel::Low);
        assert_eq!(
            scores.contributors(&store, cell)[0].label,
            "HS-0007 一级 1.5 km 在线监测 → H +20.0"
        );
        // Beyond the reach: nothing.
        let far = east_of_cell(3000.5);
        let (store, scores) = single(Dataset {
            hazard_sources: vec![hazard("HS-0007", 1, false, far.x(), far.y())],
            ..Dataset::default()
        });
        assert_eq!(scores.unit(cell_of(&store)).risk_score(), 0.0);
        assert!(scores.contributors(&store, cell_of(&store)).is_empty());
    }

    #[test]
    fn example_3_chemicals_enterprise() {
        let (store, scores) = single(example3());
        let cell = cell_of(&store);
        let s = scores.unit(cell);
        let expected = s_of(1.0, &[52.0 / 60.0]);
        assert!((s.components().unwrap().e - expected).abs() < 1e-9);
        assert!((s.score() - 57.96).abs() < 0.005);
        assert_eq!(s.risk_score(), 58.0);
        assert_eq!(s.level(), RiskLevel::High);
        assert_eq!(
            scores.contributors(&store, cell)[0].label,
            "E-1 E-1公司 危险化学品 重大 隐患3 → E +58.0"
        );
        assert_eq!(
            s.domains(),
            &[(Domain::Industry(Industry::HazardousChemicals), s.score())]
        );
    }

    #[test]
    fn example_4_plus_half_cavity() {
        let (store, scores) = single(example4());
        let cell = cell_of(&store);
        let s = scores.unit(cell);
        assert!((s.components().unwrap().c - 50.0).abs() < 1e-6);
        let lambdas = [52.0 / 60.0, 2f64.ln()];
        let expected = s_of(1.0, &lambdas);
        assert!((s.score() - expected).abs() < 1e-6);
        assert!((s.score() - 78.98).abs() < 0.005);
        assert_eq!(s.risk_score(), 79.0);
        assert_eq!(s.level(), RiskLevel::Major);
        assert_eq!(s.color(), "#d7191c");
        let all = scores.contributors(&store, cell);
        let labels: Vec<&str> = all.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "E-1 E-1公司 危险化学品 重大 隐患3 → E +43.9",
                "CZ-1 探地雷达发现空洞 3级 覆盖50% → C +35.1"
            ]
        );
        let total: f64 = lambdas.iter().sum();
        assert!((all[0].contribution - expected * lambdas[0] / total).abs() < 1e-6);
        assert!((all[1].contribution - expected * lambdas[1] / total).abs() < 1e-6);
        assert!((all[0].contribution - 43.88).abs() < 0.005);
        assert!((all[1].contribution - 35.10).abs() < 0.005);
        // The v1 number stays as `marginal`: S − S without the feature.
        assert!((all[0].marginal.unwrap() - (expected - 50.0)).abs() < 1e-6);
        let sum: f64 = s.domains().iter().map(|(_, x)| x).sum();
        assert!((sum - s.score()).abs() < 1e-9);
        assert!((s.domain(Domain::CollapseZones) - all[1].contribution).abs() < 1e-9);
    }

    #[test]
    fn example_5_least_and_densest_cell() {
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
        let lambdas = [52.0 / 60.0, 2f64.ln()];
        assert!((s.score() - s_of(0.8, &lambdas)).abs() < 1e-6);
        assert_eq!(s.risk_score(), 71.3);
        assert_eq!(s.level(), RiskLevel::High);
        let all = scores.contributors(&store, a);
        assert!((all[0].contribution - 39.61).abs() < 0.005);
        assert!((all[1].contribution - 31.68).abs() < 0.005);
        assert!((scores.unit(b).components().unwrap().v - 1.2).abs() < 1e-12);
        // The same features in the densest cell: 84.6.
        let dense = Store::build(Dataset {
            units: one_village(&[
                (rect(X0, Y0, X0 + 0.01, Y0 + 0.01), 500),
                (rect(X0 + 0.02, Y0, X0 + 0.03, Y0 + 0.01), 0),
            ]),
            ..example4()
        });
        let scores = score_all(&dense, &RiskParams::default());
        let s = scores.unit(dense.units_at(Level::Cell)[0]);
        assert!((s.score() - s_of(1.2, &lambdas)).abs() < 1e-6);
        assert_eq!(s.risk_score(), 84.6);
    }

    #[test]
    fn example_7_alarm_through_the_cell() {
        use crate::risk::alarm::{self, AlarmState};
        use crate::risk::cell::{CellInputs, score_inputs};
        use crate::risk::explain;
        let p = east_of_cell(1500.0);
        let (store, _) = single(Dataset {
            hazard_sources: vec![hazard("HS-0007", 1, true, p.x(), p.y())],
            ..Dataset::default()
        });
        let params = RiskParams::default();
        let cell = cell_of(&store);
        let mut inputs = CellInputs::gather(&store, cell, 1.0, &params);
        inputs.alarms = alarm::term(0, 1, 200.0, AlarmState::Active, &params)
            .into_iter()
            .collect();
        let s = score_inputs(&store, &inputs, &params);
        let lambdas = [lam(20.0), lam(64.0)];
        assert!((s.score() - s_of(1.0, &lambdas)).abs() < 1e-6);
        assert_eq!(s.risk_score(), 71.2);
        assert_eq!(s.level(), RiskLevel::High);
        assert!((s.components().unwrap().m - 64.0).abs() < 1e-9);
        let all = explain::contributors(&store, cell, &inputs, &params);
        assert_eq!(all[0].layer, "alarms");
        assert_eq!(all[0].domain, Domain::Alarms);
        assert!((all[0].contribution - 58.44).abs() < 0.005);
        assert!((all[1].contribution - 12.76).abs() < 0.005);
        assert!(
            (s.domain(Domain::Alarms) + s.domain(Domain::HazardSources) - s.score()).abs() < 1e-9
        );
        inputs.alarms = alarm::term(0, 1, 200.0, AlarmState::Acknowledged, &params)
            .into_iter()
            .collect();
        let s = score_inputs(&store, &inputs, &params);
        assert!((s.score() - s_of(1.0, &[lam(20.0), lam(32.0)])).abs() < 1e-6);
        assert_eq!(s.risk_score(), 45.6);
        assert_eq!(s.level(), RiskLevel::Medium);
    }

    #[test]
    fn example_7_from_the_alarm_book() {
        use crate::risk::fixtures::{alarm, sensor};
        let src = east_of_cell(1500.0);
        let at = east_of_cell(200.0);
        let with = |watches: Option<&str>, ack: bool, clear: bool| {
            let mut a = alarm("ALM-1", Some("S-1"), 1, at.x(), at.y());
            if ack {
                a.acknowledged_at = Some("2026-06-15T09:00:00Z".into());
            }
            if clear {
                a.cleared_at = Some("2026-06-15T10:00:00Z".into());
            }
            let (store, scores) = single(Dataset {
                hazard_sources: vec![hazard("HS-0007", 1, true, src.x(), src.y())],
                sensors: vec![sensor("S-1", watches, at.x(), at.y())],
                alarms: vec![a],
                ..Dataset::default()
            });
            let cell = cell_of(&store);
            let s = scores.unit(cell).clone();
            let all = scores.contributors(&store, cell);
            (s, all)
        };
        let (s, all) = with(None, false, false);
        assert!((s.score() - s_of(1.0, &[lam(20.0), lam(64.0)])).abs() < 1e-9);
        assert_eq!(s.risk_score(), 71.2);
        assert_eq!(all[0].id, "ALM-1");
        assert!(
            all[0]
                .label
                .starts_with("ALM-1 一级 可燃气体 200 m → M +58.4"),
            "{}",
            all[0].label
        );
        let (s, _) = with(None, true, false);
        assert_eq!(s.risk_score(), 45.6);
        let (cleared, _) = with(None, false, true);
        assert_eq!(cleared.score().to_bits(), {
            let (store, scores) = single(Dataset {
                hazard_sources: vec![hazard("HS-0007", 1, true, src.x(), src.y())],
                ..Dataset::default()
            });
            scores.unit(cell_of(&store)).score().to_bits()
        });
        // The sensor watches the source: unacknowledged, h = 25 (no 0.8).
        let (s, _) = with(Some("HS-0007"), false, false);
        assert!((s.score() - s_of(1.0, &[lam(25.0), lam(64.0)])).abs() < 1e-9);
        let (s, _) = with(Some("HS-0007"), true, false);
        assert!((s.score() - s_of(1.0, &[lam(20.0), lam(32.0)])).abs() < 1e-9);
    }

    #[test]
    fn example_8_roll_up_contributions() {
        // Cell A: example 4 (population 1,000); cell B: example 2 (3,000).
        let b_source = {
            let y = Y0 + 0.005;
            let east = X0 + 0.05;
            let (kx, _) = LocalProjection::new(Point::new(east, y)).metres_per_degree();
            hazard("HS-0007", 1, true, east + 1500.0 / kx, y)
        };
        let store = Store::build(Dataset {
            units: one_village(&[
                (rect(X0, Y0, X0 + 0.01, Y0 + 0.01), 1000),
                (rect(X0 + 0.04, Y0, X0 + 0.05, Y0 + 0.01), 3000),
            ]),
            hazard_sources: vec![b_source],
            ..example4()
        });
        // Equal densities would differ: give both V = 1 by equal areas?
        // Populations differ, so V differs; the example is stated with V = 1.
        let mut params = RiskParams::default();
        params.exposure.span = 0.0;
        params.exposure.base = 1.0;
        let scores = score_all(&store, &params);
        let cells = store.units_at(Level::Cell);
        let (sa, sb) = (scores.unit(cells[0]).score(), scores.unit(cells[1]).score());
        assert!((sa - 78.98).abs() < 0.005, "{sa}");
        assert!((sb - 20.0).abs() < 1e-6, "{sb}");
        let village = store.units_at(Level::Village)[0];
        let m = (1000.0 * sa + 3000.0 * sb) / 4000.0;
        assert!((m - 34.75).abs() < 0.005);
        let expected = 0.6 * sa + 0.4 * m;
        let v = scores.unit(village);
        assert!((v.score() - expected).abs() < 1e-9);
        assert_eq!(v.risk_score(), 61.3);
        assert_eq!(v.level(), RiskLevel::High);
        let all = scores.contributors(&store, village);
        let got: Vec<(&str, f64)> = all
            .iter()
            .map(|c| (c.id.as_str(), c.contribution))
            .collect();
        let lambdas = [52.0 / 60.0, 2f64.ln()];
        let total: f64 = lambdas.iter().sum();
        let (ea, ca) = (sa * lambdas[0] / total, sa * lambdas[1] / total);
        let want = [
            ("E-1", 0.6 * ea + 0.4 * 0.25 * ea),
            ("CZ-1", 0.6 * ca + 0.4 * 0.25 * ca),
            ("HS-0007", 0.4 * 0.75 * sb),
        ];
        assert_eq!(got.len(), 3);
        for ((id, c), (wid, wc)) in got.iter().zip(want) {
            assert_eq!(*id, wid);
            assert!((c - wc).abs() < 1e-6, "{id}: {c} vs {wc}");
        }
        assert!((got[0].1 - 30.72).abs() < 0.005);
        assert!((got[1].1 - 24.57).abs() < 0.005);
        assert!((got[2].1 - 6.00).abs() < 0.005);
        let sum: f64 = got.iter().map(|(_, c)| c).sum();
        assert!((sum - v.score()).abs() < 1e-9);
        let domains: f64 = v.domains().iter().map(|(_, x)| x).sum();
        assert!((domains - v.score()).abs() < 1e-9);
        assert!((v.domain(Domain::HazardSources) - got[2].1).abs() < 1e-9);
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
            let id = store.units_at(level)[0];
            let u = scores.unit(id);
            assert!((u.score() - 48.0).abs() < 1e-9, "{level}");
            assert!((u.pressure() + (1.0 - 0.48f64).ln()).abs() < 1e-12);
            assert_eq!(u.level(), RiskLevel::Medium);
            assert!(u.components().is_none());
            assert_eq!(u.cell_levels().high, 1);
            assert_eq!(u.cell_levels().low, 1);
            let all = scores.contributors(&store, id);
            assert_eq!(all[0].id, "HS-1");
            assert!((all[0].contribution - 48.0).abs() < 1e-9);
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
                    for x in [k.h, k.e, k.c, k.m] {
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
