//! [`RiskLookup`]: where the tile builder reads a grid unit's risk fields
//! (the schema's trait: tiles, OGC and the reports read scores alike).

pub use crate::schema::RiskLookup;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::UnitId;
    use crate::model::RiskLevel;
    use std::collections::HashMap;

    #[test]
    fn hash_map_lookup() {
        let mut m: HashMap<UnitId, (f64, RiskLevel)> = HashMap::new();
        m.insert(3, (71.5, RiskLevel::High));
        assert_eq!(m.risk(3), Some((71.5, RiskLevel::High)));
        assert_eq!(m.risk(4), None);
    }
}
