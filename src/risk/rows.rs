//! Flat rows of scored grid units for batch output (`riskmap score --out`).

use super::engine::Scores;
#[cfg(doc)]
use super::score::Domain;
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
    /// M, one decimal (unit cells only).
    pub m: Option<f64>,
    /// V, three decimals (unit cells only).
    pub v: Option<f64>,
    /// Every domain's contribution (unrounded), in [`Domain::all`] order;
    /// they sum to the unrounded S.
    pub domains: Vec<f64>,
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
            m: k.map(|k| round1(k.m)),
            v: k.map(|k| (k.v * 1000.0).round() / 1000.0),
            domains: s.domain_vector(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Dataset;
    use crate::risk::fixtures::*;
    use crate::risk::{RiskParams, score_all};

    #[test]
    fn one_row_per_unit_with_parent_and_breakdown() {
        let store = Store::build(Dataset {
            units: grid4x4(),
            hazard_sources: vec![hazard("HS-1", 2, false, X0 + 0.001, Y0 + 0.001)],
            ..Dataset::default()
        });
        let scores = score_all(&store, &RiskParams::default());
        let rows: Vec<ScoredUnit> = scored_rows(&store, &scores).collect();
        assert_eq!(rows.len(), 1 + 2 + 4 + 16);
        assert_eq!(rows[0].code, "350502");
        assert_eq!(rows[0].parent_code, None);
        assert_eq!(rows[0].level, Level::County);
        assert!(rows[0].h.is_none() && rows[0].v.is_none());
        let cell = rows.iter().find(|r| r.code == "350502001001001").unwrap();
        assert_eq!(cell.parent_code, Some("350502001001"));
        assert_eq!(cell.h, Some(60.0));
        assert_eq!(cell.risk_color, cell.risk_level.color());
        assert!(cell.v.is_some_and(|v| (0.8..=1.2).contains(&v)));
        assert_eq!(cell.m, Some(0.0));
        let hs = crate::risk::Domain::HazardSources.index();
        assert!((cell.domains[hs] - scores.unit(cell.id).score()).abs() < 1e-9);
        assert_eq!(cell.domains.len(), crate::risk::Domain::count());
        let total: u64 = rows
            .iter()
            .filter(|r| r.level == Level::Cell)
            .map(|r| r.population)
            .sum();
        assert_eq!(rows[0].population, total);
        // The params serialize (the data_version hashes them).
        assert!(serde_json::to_string(scores.params()).is_ok_and(|s| s.contains("max_weight")));
    }
}
