//! [`RiskLookup`]: where the tile builder reads a grid unit's risk fields,
//! and [`domain_properties`], the 分系统 values a unit's tile feature carries.

use super::encode::Prop;
use crate::index::UnitId;
use crate::model::RiskLevel;
use crate::risk::Domain;
use std::collections::HashMap;

/// The shown risk of a grid unit: `risk_score` (0–100, already rounded to
/// one decimal) and its [`RiskLevel`].
pub trait RiskLookup: Send + Sync {
    /// The unit's risk, if it has been scored.
    fn risk(&self, unit: UnitId) -> Option<(f64, RiskLevel)>;

    /// The unit's non-zero per-domain sums of contributions, unrounded, in
    /// [`Domain`] order (none if not scored).
    fn domains(&self, _unit: UnitId) -> &[(Domain, f64)] {
        &[]
    }
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

    fn domains(&self, unit: UnitId) -> &[(Domain, f64)] {
        self.get(unit).map_or(&[], |s| s.domains())
    }
}

/// The tile property names `domain_<word>`, in [`Domain::all`] order.
pub const DOMAIN_PROPERTIES: [&str; 17] = [
    "domain_hazardous_chemicals",
    "domain_fireworks",
    "domain_mining",
    "domain_metallurgy",
    "domain_nonferrous",
    "domain_dust_explosion",
    "domain_ammonia_refrigeration",
    "domain_confined_space",
    "domain_gas",
    "domain_construction",
    "domain_crowded_place",
    "domain_warehousing",
    "domain_general_manufacturing",
    "domain_hazard_sources",
    "domain_collapse_zones",
    "domain_hidden_dangers",
    "domain_alarms",
];

/// Appends a unit's `domain_<word>` properties (分系统贡献分): each
/// domain's contribution rounded to one decimal, only those that do not
/// round to 0.0 (a style reads a missing one as 0). Rounding keeps the
/// tiles' value tables small; the unrounded sums are in `/api/cells` and
/// OGC API – Features.
pub fn domain_properties(domains: &[(Domain, f64)], props: &mut Vec<(&str, Prop<'_>)>) {
    for &(d, x) in domains {
        let shown = crate::risk::score::round1(x);
        if shown > 0.0
            && let Some(name) = DOMAIN_PROPERTIES.get(d.index())
        {
            props.push((name, Prop::Double(shown)));
        }
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
        assert!(m.domains(3).is_empty());
    }

    #[test]
    fn domain_property_names_follow_the_domains() {
        let names: Vec<String> = Domain::all().map(Domain::property).collect();
        assert_eq!(names, DOMAIN_PROPERTIES);
    }

    #[test]
    fn domain_properties_are_rounded_and_only_non_zero() {
        let domains = [
            (Domain::HazardSources, 12.345),
            (Domain::CollapseZones, 0.04),
            (Domain::Alarms, 0.05),
        ];
        let mut props = Vec::new();
        domain_properties(&domains, &mut props);
        assert_eq!(
            props,
            vec![
                ("domain_hazard_sources", Prop::Double(12.3)),
                ("domain_alarms", Prop::Double(0.1)),
            ]
        );
    }
}
