//! [`RiskLookup`]: where the tile builder reads a grid unit's risk fields.

use crate::index::UnitId;
use crate::model::RiskLevel;
use std::collections::HashMap;

/// The shown risk of a grid unit: `risk_score` (0–100, already rounded to
/// one decimal) and its [`RiskLevel`].
pub trait RiskLookup: Send + Sync {
    /// The unit's risk, if it has been scored.
    fn risk(&self, unit: UnitId) -> Option<(f64, RiskLevel)>;
}

impl RiskLookup for HashMap<UnitId, (f64, RiskLevel)> {
    fn risk(&self, unit: UnitId) -> Option<(f64, RiskLevel)> {
        self.get(&unit).copied()
    }
}

impl RiskLookup for crate::risk::Scores {
    fn risk(&self, unit: UnitId) -> Option<(f64, RiskLevel)> {
        self.get(unit)
            .map(|s| (crate::model::unsigned_zero(s.risk_score()), s.level()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_map_lookup() {
        let mut m: HashMap<UnitId, (f64, RiskLevel)> = HashMap::new();
        m.insert(3, (71.5, RiskLevel::High));
        assert_eq!(m.risk(3), Some((71.5, RiskLevel::High)));
        assert_eq!(m.risk(4), None);
    }
}
