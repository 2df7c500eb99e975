//! [`RiskLookup`]: where the tile builder reads a grid unit's risk fields
//! (the schema's trait: tiles, OGC and the reports read scores alike), and
//! when a unit's tile feature carries its 分系统 values.

pub use crate::schema::RiskLookup;

use crate::model::Level;

/// Whether units of `level` carry their `domain_<word>` values in tiles of
/// zoom `z`: in the zooms where that level is the map's choropleth (the
/// bands of `metadata["riskmap:levels"]` in `styles/riskmap.json`, widened
/// to whole tile zooms: a view at zoom 10.7 draws tiles of zoom 10).
/// Elsewhere a level is only drawn as boundaries and labels, and the values
/// would only make tiles bigger.
pub fn domains_at_zoom(level: Level, z: u8) -> bool {
    domain_zooms(level).contains(&z)
}

/// The zooms of [`domains_at_zoom`] for `level`.
pub fn domain_zooms(level: Level) -> std::ops::RangeInclusive<u8> {
    match level {
        Level::County => 0..=8,
        Level::Town => 9..=10,
        Level::Village => 10..=12,
        Level::Cell => 12..=u8::MAX,
    }
}

/// A domain value as tiles carry it: one decimal, `None` when it rounds to
/// 0 (a style reads a missing one as 0). Rounding keeps the tiles' value
/// tables small; the unrounded sums are in `/api/cells` and OGC.
pub fn tile_domain_value(x: f64) -> Option<f64> {
    let shown = crate::risk::score::round1(x);
    (shown > 0.0).then_some(shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::UnitId;
    use crate::model::RiskLevel;
    use crate::risk::Domain;
    use std::collections::HashMap;

    #[test]
    fn hash_map_lookup() {
        let mut m: HashMap<UnitId, (f64, RiskLevel)> = HashMap::new();
        m.insert(3, (71.5, RiskLevel::High));
        assert_eq!(m.risk(3), Some((71.5, RiskLevel::High)));
        assert_eq!(m.risk(4), None);
        assert_eq!(m.domain(3, Domain::Alarms), None);
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
    fn domain_values_are_rounded_and_only_non_zero() {
        assert_eq!(tile_domain_value(12.345), Some(12.3));
        assert_eq!(tile_domain_value(0.04), None);
        assert_eq!(tile_domain_value(0.05), Some(0.1));
    }
}
