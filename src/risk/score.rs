//! One grid unit's score: unrounded S, shown `risk_score`, level, breakdown.

use super::params::RiskParams;
use crate::index::UnitId;
use crate::model::{Industry, RiskLevel};
use serde::Serialize;

/// A cell's components, each 0–100 except V (a multiplier around 1).
///
/// Each of H, E, C and M is the percentage its own features' pressures
/// make, 100 · (1 − e^(−Σλ)); S combines every pressure with V.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Components {
    /// H — major hazard sources.
    pub h: f64,
    /// E — enterprises and standalone hidden dangers inside the cell.
    pub e: f64,
    /// C — road collapse.
    pub c: f64,
    /// M — active monitoring alarms.
    pub m: f64,
    /// V — exposure multiplier.
    pub v: f64,
}

/// S = 100 · (1 − e^(−V·Λ)) from the exposed pressure V·Λ, unrounded.
pub fn score_of_pressure(exposed: f64) -> f64 {
    if exposed.is_nan() || exposed <= 0.0 {
        return 0.0;
    }
    -100.0 * (-exposed).exp_m1()
}

/// The percentage 100 · (1 − e^(−Λ)) a component's pressures make.
pub fn percent_of_pressure(lambda: f64) -> f64 {
    score_of_pressure(lambda)
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

/// What a contributor is: its kind of feature and its index in that list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FeatureRef {
    /// A major hazard source (index in `hazard_sources`).
    HazardSource(u32),
    /// An enterprise (index in `enterprises`).
    Enterprise(u32),
    /// A standalone hidden-danger record (index in its layer).
    HiddenDanger(u32),
    /// A collapse zone (index in `collapse_zones`).
    CollapseZone(u32),
    /// A monitoring alarm (index in its layer).
    Alarm(u32),
}

impl FeatureRef {
    /// The feature's layer word (`hazard_sources`, `enterprises`, …).
    pub fn layer(self) -> &'static str {
        match self {
            FeatureRef::HazardSource(_) => "hazard_sources",
            FeatureRef::Enterprise(_) => "enterprises",
            FeatureRef::HiddenDanger(_) => "hidden_dangers",
            FeatureRef::CollapseZone(_) => "collapse_zones",
            FeatureRef::Alarm(_) => "alarms",
        }
    }

    /// The component the feature acts through.
    pub fn component(self) -> Component {
        match self {
            FeatureRef::HazardSource(_) => Component::H,
            FeatureRef::Enterprise(_) | FeatureRef::HiddenDanger(_) => Component::E,
            FeatureRef::CollapseZone(_) => Component::C,
            FeatureRef::Alarm(_) => Component::M,
        }
    }
}

/// One of the components H, E, C, M.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Component {
    /// Major hazard sources.
    H,
    /// Enterprises and hidden dangers.
    E,
    /// Road collapse.
    C,
    /// Monitoring alarms.
    M,
}

impl Component {
    /// "H", "E", "C" or "M".
    pub fn as_str(self) -> &'static str {
        match self {
            Component::H => "H",
            Component::E => "E",
            Component::C => "C",
            Component::M => "M",
        }
    }
}

/// A domain of the 分系统 view: each enterprise industry, hazard sources,
/// collapse zones, standalone hidden dangers, alarms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Domain {
    /// Enterprises of one industry.
    Industry(Industry),
    /// Major hazard sources.
    HazardSources,
    /// Road-collapse zones.
    CollapseZones,
    /// Hidden-danger records without an enterprise.
    HiddenDangers,
    /// Monitoring alarms.
    Alarms,
}

impl Domain {
    /// Every domain: the industries in their declaration order, then
    /// `hazard_sources`, `collapse_zones`, `hidden_dangers`, `alarms`.
    pub fn all() -> impl Iterator<Item = Domain> {
        Industry::ALL.iter().map(|&i| Domain::Industry(i)).chain([
            Domain::HazardSources,
            Domain::CollapseZones,
            Domain::HiddenDangers,
            Domain::Alarms,
        ])
    }

    /// The number of domains.
    pub fn count() -> usize {
        Industry::ALL.len() + 4
    }

    /// Position in [`Domain::all`].
    pub fn index(self) -> usize {
        let n = Industry::ALL.len();
        match self {
            Domain::Industry(i) => i.index(),
            Domain::HazardSources => n,
            Domain::CollapseZones => n + 1,
            Domain::HiddenDangers => n + 2,
            Domain::Alarms => n + 3,
        }
    }

    /// The domain word: the industry's word, or `hazard_sources`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Industry(i) => i.as_str(),
            Domain::HazardSources => "hazard_sources",
            Domain::CollapseZones => "collapse_zones",
            Domain::HiddenDangers => "hidden_dangers",
            Domain::Alarms => "alarms",
        }
    }

    /// The Chinese label (危险化学品, 重大危险源, …).
    pub fn label_zh(self) -> &'static str {
        match self {
            Domain::Industry(i) => i.label_zh(),
            Domain::HazardSources => "重大危险源",
            Domain::CollapseZones => "道路塌陷",
            Domain::HiddenDangers => "独立隐患",
            Domain::Alarms => "监测预警",
        }
    }

    /// The property name of its contribution in outputs: `domain_<word>`.
    pub fn property(self) -> String {
        format!("domain_{}", self.as_str())
    }
}

impl Serialize for Domain {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A feature's share of a unit's score.
///
/// In a cell, `contribution` = S · λ_f / Λ, so a cell's contributions sum to
/// S. In a village, town or county, 0.6 · (its contribution to the max
/// child) + 0.4 · Σ wᵢ · (its contribution to child i), which again sum to
/// the unit's S.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contributor {
    /// The feature's layer word.
    pub layer: &'static str,
    /// The feature's domain.
    pub domain: Domain,
    /// The component it acts through.
    pub component: Component,
    /// The feature's id.
    pub id: String,
    /// The feature's name (a zone's kind, which has no name).
    pub name: String,
    /// Its additive share of the unit's S, unrounded score points.
    pub contribution: f64,
    /// A human label, e.g. `HS-0007 一级 1.5 km → H +25.0`.
    pub label: String,
    /// S minus S without the feature (unit cells only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marginal: Option<f64>,
    /// Which feature it is.
    #[serde(skip)]
    pub feature: FeatureRef,
    /// The cell where the feature's contribution is largest.
    #[serde(skip)]
    pub cell: UnitId,
}

/// Largest contribution first; ties by layer, then id.
pub fn contributor_order(a: &Contributor, b: &Contributor) -> std::cmp::Ordering {
    b.contribution
        .total_cmp(&a.contribution)
        .then(a.layer.cmp(b.layer))
        .then_with(|| a.id.cmp(&b.id))
}

/// The score of one grid unit of any level.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitScore {
    score: f64,
    pressure: f64,
    risk_score: f64,
    level: RiskLevel,
    components: Option<Components>,
    children: LevelCounts,
    cells: LevelCounts,
    /// Shared, so that copying a score (a live write copies the chunk of
    /// scores it changes) allocates nothing.
    domains: std::sync::Arc<[(Domain, f64)]>,
}

/// The empty domain list, shared (no allocation per unscored unit).
fn no_domains() -> std::sync::Arc<[(Domain, f64)]> {
    static EMPTY: std::sync::LazyLock<std::sync::Arc<[(Domain, f64)]>> =
        std::sync::LazyLock::new(|| std::sync::Arc::from(Vec::new()));
    std::sync::Arc::clone(&EMPTY)
}

impl UnitScore {
    /// A unit's score from its unrounded S and its ranking pressure; the
    /// level is read from the rounded score. `domains` lists the non-zero
    /// per-domain sums in [`Domain`] order.
    pub(crate) fn new(
        score: f64,
        pressure: f64,
        params: &RiskParams,
        components: Option<Components>,
        children: LevelCounts,
        cells: Option<LevelCounts>,
        domains: Vec<(Domain, f64)>,
    ) -> UnitScore {
        let score = if score.is_finite() {
            score.clamp(0.0, 100.0)
        } else {
            0.0
        };
        let pressure = if pressure.is_nan() {
            0.0
        } else {
            pressure.max(0.0)
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
            pressure,
            risk_score,
            level,
            components,
            children,
            cells,
            domains: if domains.is_empty() {
                no_domains()
            } else {
                domains.into()
            },
        }
    }

    /// The unrounded score S (0–100), which roll-ups use.
    pub fn score(&self) -> f64 {
        self.score
    }

    /// The ranking key: V·Λ for a unit cell; for a roll-up, −ln(1 − S/100)
    /// computed without cancellation, so units whose S rounds to 100 still
    /// order. Monotone in S.
    pub fn pressure(&self) -> f64 {
        self.pressure
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

    /// H, E, C, M and V (unit cells only).
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

    /// The non-zero per-domain sums of the contributions, in [`Domain`]
    /// order; they sum to S.
    pub fn domains(&self) -> &[(Domain, f64)] {
        &self.domains
    }

    /// The sum of one domain's contributions (0 if none).
    pub fn domain(&self, domain: Domain) -> f64 {
        self.domains
            .iter()
            .find(|(d, _)| *d == domain)
            .map_or(0.0, |(_, x)| *x)
    }

    /// Every domain's sum in [`Domain::all`] order, zeros included.
    pub fn domain_vector(&self) -> Vec<f64> {
        let mut out = vec![0.0; Domain::count()];
        for (d, x) in self.domains.iter() {
            out[d.index()] = *x;
        }
        out
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
        let u = UnitScore::new(74.96, 1.38, &p, None, LevelCounts::default(), None, vec![]);
        assert_eq!(u.risk_score(), 75.0);
        assert_eq!(u.level(), RiskLevel::Major);
        assert_eq!(u.color(), "#d7191c");
        assert_eq!(u.cell_levels().major, 1);
        let nan = UnitScore::new(
            f64::NAN,
            f64::NAN,
            &p,
            None,
            LevelCounts::default(),
            None,
            vec![],
        );
        assert_eq!(nan.risk_score(), 0.0);
    }

    #[test]
    fn pressure_form_follows_the_model() {
        assert!((score_of_pressure(-(0.4f64).ln()) - 60.0).abs() < 1e-9);
        assert_eq!(score_of_pressure(0.0), 0.0);
        assert_eq!(score_of_pressure(f64::NAN), 0.0);
        // Never clamped: a huge pressure approaches, and shows, 100.
        assert!(score_of_pressure(9.0) < 100.0);
        assert_eq!(round1(score_of_pressure(9.0)), 100.0);
    }

    #[test]
    fn domains_are_indexed_in_order() {
        let all: Vec<Domain> = Domain::all().collect();
        assert_eq!(all.len(), Domain::count());
        for (i, d) in all.iter().enumerate() {
            assert_eq!(d.index(), i);
        }
        assert_eq!(
            Domain::Industry(Industry::HazardousChemicals).property(),
            "domain_hazardous_chemicals"
        );
        assert_eq!(Domain::Alarms.property(), "domain_alarms");
    }
}
