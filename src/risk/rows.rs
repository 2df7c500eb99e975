//! Flat rows of scored grid units for batch output (`riskmap score --out`).

use super::engine::Scores;
use super::score::round1;
use crate::index::{Store, UnitId};
use crate::model::{Level, RiskLevel};

/// One grid unit with its risk fields, as written by `riskmap score`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredUnit<'a> {
    /// The unit's id in the store (its geometry: `store.unit(id).geometry`).
    pub id: UnitId,
    /// Statistical code.
    pub code: &'a str,
    /// Name.
    pub name: &'a str,
    /// Level.
    pub level: Level,
    /// Parent's code (none for counties).
    pub parent_code: Option<&'a str>,
    /// Resident population.
    pub population: u64,
    /// Score 0–100, one decimal.
    pub risk_score: f64,
    /// Level of the score.
    pub risk_level: RiskLevel,
    /// Colour of the level.
    pub risk_color: &'static str,
    /// H, one decimal (unit cells only).
    pub h: Option<f64>,
    /// E, one decimal (unit cells only).
    pub e: Option<f64>,
    /// C, one decimal (unit cells only).
    pub c: Option<f64>,
    /// V, three decimals (unit cells only).
    pub v: Option<f64>,
}

/// Every grid unit of all four levels with its risk fields, in the store's
/// order (counties first, then by code).
pub fn scored_rows<'a>(
    store: &'a Store,
    scores: &'a Scores,
) -> impl Iterator<Item = ScoredUnit<'a>> + 'a {
    scores.iter().map(move |(id, s)| {
        let unit = store.unit(id);
        let parent_code = store
            .parent(id)
            .map(|p| store.unit(p).code.as_str())
            .or(unit.parent_code.as_deref());
        let k = s.components();
        ScoredUnit {
            id,
            code: &unit.code,
            name: &unit.name,
            level: unit.level,
            parent_code,
            population: unit.population,
            risk_score: s.risk_score(),
            risk_level: s.level(),
            risk_color: s.color(),
            h: k.map(|k| round1(k.h)),
            e: k.map(|k| round1(k.e)),
            c: k.map(|k| round1(k.c)),
            v: k.map(|k| (k.v * 1000.0).round() / 1000.0),
        }
    })
}
