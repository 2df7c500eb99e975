//! [`RiskLookup`]: where the tile builder reads a grid unit's risk fields,
//! and [`domain_properties`], the 分系统 values a unit's tile feature carries.

use super::encode::Prop;
use crate::index::UnitId;
use crate::model::{Level, RiskLevel};
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

/// Whether units of `level` carry their `domain_<word>` values in tiles of
/// zoom `z`: in the zooms where that level is the map's choropleth (the
/// bands of `metadata["riskmap:levels"]` in `styles/riskmap.json`, widened
/// to whole tile zooms: a view at zoom 10.7 draws tiles of zoom 10).
/// Elsewhere a level is only drawn as boundaries and labels, and the values
/// would only make tiles bigger.
pub fn domains_at_zoom(level: Level, z: u8) -> bool {
    match level {
        Level::County => z <= 8,
        Level::Town => (9..=10).contains(&z),
        Level::Village => (10..=12).contains(&z),
        Level::Cell => z >= 12,
    }
}

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

    /// The zooms follow the style's bands: every zoom of a band, from its
    /// start down to the whole tile zoom, is covered for that level.
    #[test]
    fn domain_zooms_cover_the_style_bands() {
        let style: serde_json::Value =
            serde_json::from_str(include_str!("../../styles/riskmap.json")).unwrap();
        let bands = &style["metadata"]["riskmap:levels"];
        for level in Level::ALL {
            let band = &bands[level.as_str()];
            let (lo, hi) = (band[0].as_f64().unwrap(), band[1].as_f64().unwrap());
            for tenth in (lo * 10.0) as u32..(hi.min(18.0) * 10.0) as u32 {
                let z = (f64::from(tenth) / 10.0).floor() as u8;
                assert!(
                    domains_at_zoom(level, z),
                    "{level:?} at {}",
                    f64::from(tenth) / 10.0
                );
            }
        }
        assert!(!domains_at_zoom(Level::County, 12));
        assert!(!domains_at_zoom(Level::Village, 14));
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
