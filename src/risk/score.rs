//! One grid unit's score: unrounded S, shown `risk_score`, level, breakdown.

use super::params::RiskParams;
use crate::index::UnitId;
use crate::model::{LayerId, RiskLevel};
use serde::Serialize;

/// A cell's components, each 0–100 except V (a multiplier around 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Components {
    /// H — major hazard sources.
    pub h: f64,
    /// E — enterprises inside the cell.
    pub e: f64,
    /// C — road collapse.
    pub c: f64,
    /// V — exposure multiplier.
    pub v: f64,
}

impl Components {
    /// S = clamp(V · 100 · (1 − (1 − H/100)(1 − E/100)(1 − C/100)), 0, 100), unrounded.
    pub fn score(&self) -> f64 {
        combine(self.h, self.e, self.c, self.v)
    }
}

/// S from H, E, C and V, unrounded.
pub fn combine(h: f64, e: f64, c: f64, v: f64) -> f64 {
    let keep = (1.0 - h / 100.0) * (1.0 - e / 100.0) * (1.0 - c / 100.0);
    (v * 100.0 * (1.0 - keep)).clamp(0.0, 100.0)
}

/// Rounds half away from zero to one decimal.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Counts of units per risk level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct LevelCounts {
    /// 重大.
    pub major: u32,
    /// 较大.
    pub high: u32,
    /// 一般.
    pub medium: u32,
    /// 低.
    pub low: u32,
}

impl LevelCounts {
    /// Counts one unit of `level`.
    pub fn add(&mut self, level: RiskLevel) {
        match level {
            RiskLevel::Major => self.major += 1,
            RiskLevel::High => self.high += 1,
            RiskLevel::Medium => self.medium += 1,
            RiskLevel::Low => self.low += 1,
        }
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &LevelCounts) {
        self.major += other.major;
        self.high += other.high;
        self.medium += other.medium;
        self.low += other.low;
    }

    /// The count of one level.
    pub fn get(&self, level: RiskLevel) -> u32 {
        match level {
            RiskLevel::Major => self.major,
            RiskLevel::High => self.high,
            RiskLevel::Medium => self.medium,
            RiskLevel::Low => self.low,
        }
    }

    /// The count of all levels.
    pub fn total(&self) -> u32 {
        self.major + self.high + self.medium + self.low
    }
}

/// A feature that raises a cell's score.
///
/// For a cell, `contribution` is S minus the S the cell would have without
/// this one feature (everything else unchanged). For a village, town or
/// county, the contributors are the features with the largest contribution
/// in any cell below it, each once, with the cell where that was measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contributor {
    /// The feature's layer (enterprises, hazard sources or collapse zones).
    pub layer: LayerId,
    /// The feature's id.
    pub id: String,
    /// The feature's name (a zone's kind, which has no name).
    pub name: String,
    /// S − S without the feature, unrounded score points.
    pub contribution: f64,
    /// A human label, e.g. `HS-0007 一级 1.5 km → H +25.0`.
    pub label: String,
    /// The cell whose score it raises by `contribution`.
    #[serde(skip)]
    pub cell: UnitId,
}

/// Largest contribution first; ties by layer, then id.
pub fn contributor_order(a: &Contributor, b: &Contributor) -> std::cmp::Ordering {
    b.contribution
        .total_cmp(&a.contribution)
        .then(a.layer.cmp(&b.layer))
        .then_with(|| a.id.cmp(&b.id))
}

/// The score of one grid unit of any level.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitScore {
    score: f64,
    risk_score: f64,
    level: RiskLevel,
    components: Option<Components>,
    children: LevelCounts,
    cells: LevelCounts,
    contributors: Vec<Contributor>,
}

impl UnitScore {
    /// A unit's score from its unrounded S; the level is read from the
    /// rounded score.
    pub(crate) fn new(
        score: f64,
        params: &RiskParams,
        components: Option<Components>,
        children: LevelCounts,
        cells: Option<LevelCounts>,
        contributors: Vec<Contributor>,
    ) -> UnitScore {
        let score = if score.is_finite() {
            score.clamp(0.0, 100.0)
        } else {
            0.0
        };
        let risk_score = round1(score);
        let level = params.levels.level(risk_score);
        let cells = cells.unwrap_or_else(|| {
            let mut own = LevelCounts::default();
            own.add(level);
            own
        });
        UnitScore {
            score,
            risk_score,
            level,
            components,
            children,
            cells,
            contributors,
        }
    }

    /// The unrounded score S (0–100), which roll-ups use.
    pub fn score(&self) -> f64 {
        self.score
    }

    /// The shown score: S rounded half away from zero to one decimal.
    pub fn risk_score(&self) -> f64 {
        self.risk_score
    }

    /// The risk level, read from [`UnitScore::risk_score`].
    pub fn level(&self) -> RiskLevel {
        self.level
    }

    /// The level's map colour.
    pub fn color(&self) -> &'static str {
        self.level.color()
    }

    /// H, E, C and V (unit cells only).
    pub fn components(&self) -> Option<&Components> {
        self.components.as_ref()
    }

    /// Counts of the direct children per level (zero for cells).
    pub fn children_levels(&self) -> &LevelCounts {
        &self.children
    }

    /// Counts of the unit cells at or below this unit per level (a cell
    /// counts itself).
    pub fn cell_levels(&self) -> &LevelCounts {
        &self.cells
    }

    /// The top contributors, largest first (at most `risk.top_contributors`).
    pub fn contributors(&self) -> &[Contributor] {
        &self.contributors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round1(78.98), 79.0);
        assert_eq!(round1(63.184), 63.2);
        assert_eq!(round1(0.25), 0.3);
        assert_eq!(round1(74.95), 75.0);
        assert_eq!(round1(57.96), 58.0);
    }

    #[test]
    fn shown_75_is_major() {
        let p = RiskParams::default();
        let u = UnitScore::new(74.96, &p, None, LevelCounts::default(), None, vec![]);
        assert_eq!(u.risk_score(), 75.0);
        assert_eq!(u.level(), RiskLevel::Major);
        assert_eq!(u.color(), "#d7191c");
        assert_eq!(u.cell_levels().major, 1);
        let nan = UnitScore::new(f64::NAN, &p, None, LevelCounts::default(), None, vec![]);
        assert_eq!(nan.risk_score(), 0.0);
    }

    #[test]
    fn combine_follows_the_model() {
        assert!((combine(60.0, 0.0, 0.0, 1.0) - 60.0).abs() < 1e-9);
        assert_eq!(combine(100.0, 0.0, 0.0, 1.2), 100.0);
        assert_eq!(combine(0.0, 0.0, 0.0, 1.2), 0.0);
    }
}
