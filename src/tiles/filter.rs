//! [`TileFilter`]: which enterprises and hazard sources a tile keeps
//! (`?industry=`, `?risk_level=`, `?hazard_grade=` on the tile route).
//!
//! Each dimension is a bit set over its values, so a filter is `Copy`,
//! needs no allocation, and two spellings of one selection (another
//! order, a value twice, a Chinese alias) are one value: one cache entry
//! and one ETag. A set that selects every value of its dimension, or none,
//! is no filter on that dimension.

use super::TileError;
use crate::model::{Enterprise, HazardGrade, HazardSource, Industry, RiskLevel};
use std::fmt;

/// The most values one filter parameter may list.
pub const MAX_FILTER_VALUES: usize = 32;

/// The query parameter of the enterprises' industry filter.
pub const INDUSTRY_PARAM: &str = "industry";
/// The query parameter of the enterprises' risk grade filter.
pub const RISK_LEVEL_PARAM: &str = "risk_level";
/// The query parameter of the hazard sources' grade filter.
pub const HAZARD_GRADE_PARAM: &str = "hazard_grade";

/// Bits of every industry.
const ALL_INDUSTRIES: u32 = (1 << Industry::ALL.len()) - 1;
/// Bits of every risk level.
const ALL_RISK_LEVELS: u8 = (1 << RiskLevel::ALL.len()) - 1;
/// Bits of the four hazard grades.
const ALL_HAZARD_GRADES: u8 = 0b1111;
const _: () = assert!(Industry::ALL.len() <= 32, "industries fit in a u32");

/// The features a filtered tile keeps: enterprises of the chosen
/// industries and risk grades, hazard sources of the chosen grades. An
/// empty dimension keeps every feature; [`TileFilter::NONE`] keeps all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TileFilter {
    /// Bit `i`: `Industry::ALL[i]`; 0 for every industry.
    industries: u32,
    /// Bit `i`: `RiskLevel::ALL[i]`; 0 for every grade.
    risk_levels: u8,
    /// Bit `g − 1`: hazard grade `g`; 0 for every grade.
    hazard_grades: u8,
}

fn industry_bit(i: Industry) -> u32 {
    1 << (i as u32)
}

fn risk_bit(r: RiskLevel) -> u8 {
    1 << (r as u8)
}

fn grade_bit(g: HazardGrade) -> u8 {
    1 << (g.get().saturating_sub(1) & 3)
}

/// A selection that holds every value is no selection.
fn normal<T: PartialEq + Default>(bits: T, all: T) -> T {
    if bits == all { T::default() } else { bits }
}

impl TileFilter {
    /// No filter: every feature the scope sees.
    pub const NONE: TileFilter = TileFilter {
        industries: 0,
        risk_levels: 0,
        hazard_grades: 0,
    };

    /// The filter of the tile route's three query values (each absent,
    /// empty, or a comma-separated list of words; blank items are
    /// skipped). A value no dimension knows, or more than
    /// [`MAX_FILTER_VALUES`] items in one list, is an error naming the
    /// parameter.
    pub fn parse(
        industry: Option<&str>,
        risk_level: Option<&str>,
        hazard_grade: Option<&str>,
    ) -> Result<TileFilter, TileError> {
        let industries = parse_list(INDUSTRY_PARAM, industry, |w| {
            w.parse::<Industry>().ok().map(industry_bit)
        })?;
        let risk_levels = parse_list(RISK_LEVEL_PARAM, risk_level, |w| {
            w.parse::<RiskLevel>().ok().map(|r| u32::from(risk_bit(r)))
        })?;
        let hazard_grades = parse_list(HAZARD_GRADE_PARAM, hazard_grade, |w| {
            w.parse::<HazardGrade>()
                .ok()
                .map(|g| u32::from(grade_bit(g)))
        })?;
        Ok(TileFilter {
            industries: normal(industries, ALL_INDUSTRIES),
            risk_levels: normal(u8::try_from(risk_levels).unwrap_or(0), ALL_RISK_LEVELS),
            hazard_grades: normal(u8::try_from(hazard_grades).unwrap_or(0), ALL_HAZARD_GRADES),
        })
    }

    /// This filter keeping only enterprises of `industries` (none: any).
    pub fn with_industries(self, industries: &[Industry]) -> TileFilter {
        let bits = industries.iter().fold(0, |b, &i| b | industry_bit(i));
        TileFilter {
            industries: normal(bits, ALL_INDUSTRIES),
            ..self
        }
    }

    /// This filter keeping only enterprises of risk grades `levels` (none:
    /// any).
    pub fn with_risk_levels(self, levels: &[RiskLevel]) -> TileFilter {
        let bits = levels.iter().fold(0, |b, &r| b | risk_bit(r));
        TileFilter {
            risk_levels: normal(bits, ALL_RISK_LEVELS),
            ..self
        }
    }

    /// This filter keeping only hazard sources of `grades` (none: any).
    pub fn with_hazard_grades(self, grades: &[HazardGrade]) -> TileFilter {
        let bits = grades.iter().fold(0, |b, &g| b | grade_bit(g));
        TileFilter {
            hazard_grades: normal(bits, ALL_HAZARD_GRADES),
            ..self
        }
    }

    /// Whether the filter keeps every feature.
    pub fn is_none(self) -> bool {
        self == TileFilter::NONE
    }

    /// Whether the filter keeps every enterprise.
    pub fn keeps_all_enterprises(self) -> bool {
        self.industries == 0 && self.risk_levels == 0
    }

    /// Whether the filter keeps every hazard source.
    pub fn keeps_all_hazard_sources(self) -> bool {
        self.hazard_grades == 0
    }

    /// Whether enterprise `e` passes.
    pub fn keeps_enterprise(self, e: &Enterprise) -> bool {
        (self.industries == 0 || self.industries & industry_bit(e.industry) != 0)
            && (self.risk_levels == 0 || self.risk_levels & risk_bit(e.risk_grade) != 0)
    }

    /// Whether hazard source `h` passes.
    pub fn keeps_hazard_source(self, h: &HazardSource) -> bool {
        self.hazard_grades == 0 || self.hazard_grades & grade_bit(h.grade) != 0
    }

    /// The industries kept, in declaration order (empty: any).
    pub fn industries(self) -> impl Iterator<Item = Industry> {
        Industry::ALL
            .iter()
            .copied()
            .filter(move |&i| self.industries & industry_bit(i) != 0)
    }

    /// The risk grades kept, most severe first (empty: any).
    pub fn risk_levels(self) -> impl Iterator<Item = RiskLevel> {
        RiskLevel::ALL
            .iter()
            .copied()
            .filter(move |&r| self.risk_levels & risk_bit(r) != 0)
    }

    /// The hazard grades kept, 1 to 4 (empty: any).
    pub fn hazard_grades(self) -> impl Iterator<Item = HazardGrade> {
        (1..=4)
            .filter_map(HazardGrade::new)
            .filter(move |&g| self.hazard_grades & grade_bit(g) != 0)
    }

    /// Six bytes that tell filters apart (for cache keys and ETags).
    pub fn key_bytes(self) -> [u8; 6] {
        let [a, b, c, d] = self.industries.to_le_bytes();
        [a, b, c, d, self.risk_levels, self.hazard_grades]
    }
}

/// The canonical query text of the filter, e.g.
/// `industry=gas,mining&risk_level=major&hazard_grade=1` (values in
/// declaration order, dimensions without a selection left out; empty for
/// [`TileFilter::NONE`]).
impl fmt::Display for TileFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        write_list(f, &mut sep, INDUSTRY_PARAM, self.industries())?;
        write_list(f, &mut sep, RISK_LEVEL_PARAM, self.risk_levels())?;
        write_list(
            f,
            &mut sep,
            HAZARD_GRADE_PARAM,
            self.hazard_grades().map(HazardGrade::get),
        )
    }
}

/// `name=a,b` after `sep` (then `&`), nothing for no items.
fn write_list<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    sep: &mut &str,
    name: &str,
    items: impl Iterator<Item = T>,
) -> fmt::Result {
    let mut items = items.peekable();
    if items.peek().is_none() {
        return Ok(());
    }
    write!(f, "{sep}{name}=")?;
    *sep = "&";
    for (n, x) in items.enumerate() {
        if n > 0 {
            f.write_str(",")?;
        }
        write!(f, "{x}")?;
    }
    Ok(())
}

/// The words one filter parameter accepts, for its error message.
fn accepted(param: &str) -> String {
    match param {
        INDUSTRY_PARAM => Industry::ALL
            .iter()
            .map(|i| i.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        RISK_LEVEL_PARAM => RiskLevel::ALL
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        _ => "1, 2, 3, 4".into(),
    }
}

/// The bits of the items of one comma-separated list (`word` gives an
/// item's bit, `None` for an unknown one).
fn parse_list(
    param: &'static str,
    raw: Option<&str>,
    word: impl Fn(&str) -> Option<u32>,
) -> Result<u32, TileError> {
    let Some(raw) = raw else { return Ok(0) };
    let mut bits = 0;
    let mut items = 0;
    for item in raw.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        items += 1;
        if items > MAX_FILTER_VALUES {
            return Err(TileError::TooManyFilterValues {
                param,
                max: MAX_FILTER_VALUES,
            });
        }
        bits |= word(item).ok_or_else(|| TileError::UnknownFilterValue {
            param,
            value: item.chars().take(64).collect(),
            accepted: accepted(param),
        })?;
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(i: Option<&str>, r: Option<&str>, g: Option<&str>) -> TileFilter {
        TileFilter::parse(i, r, g).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn absent_empty_and_full_lists_are_no_filter() {
        assert!(parse(None, None, None).is_none());
        assert!(parse(Some(""), Some(" , "), Some("")).is_none());
        assert!(parse(None, Some("major,high,medium,low"), Some("4,3,2,1")).is_none());
        let every: Vec<&str> = Industry::ALL.iter().map(|i| i.as_str()).collect();
        assert!(parse(Some(&every.join(",")), None, None).is_none());
    }

    #[test]
    fn order_duplicates_and_aliases_make_one_filter() {
        let a = parse(Some("gas,mining"), Some("major"), Some("1,2"));
        let b = parse(Some("mining, 燃气,gas"), Some("重大,major"), Some("二级,1"));
        assert_eq!(a, b);
        assert_eq!(a.key_bytes(), b.key_bytes());
        assert_eq!(
            a.to_string(),
            "industry=mining,gas&risk_level=major&hazard_grade=1,2"
        );
        assert_eq!(TileFilter::NONE.to_string(), "");
        assert_eq!(
            TileFilter::NONE
                .with_risk_levels(&[RiskLevel::Low])
                .to_string(),
            "risk_level=low"
        );
        assert_ne!(a, parse(Some("gas"), Some("major"), Some("1,2")));
    }

    #[test]
    fn unknown_values_and_long_lists_name_the_parameter() {
        let err = |i, r, g| {
            TileFilter::parse(i, r, g)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let e = err(Some("gas,nonsense"), None, None);
        assert!(e.starts_with("industry: unknown value \"nonsense\""), "{e}");
        assert!(e.contains("hazardous_chemicals") && e.contains("general_manufacturing"));
        let e = err(None, Some("7"), None);
        assert!(
            e.starts_with("risk_level:") && e.contains("major, high, medium, low"),
            "{e}"
        );
        let e = err(None, None, Some("9"));
        assert!(
            e.starts_with("hazard_grade:") && e.contains("1, 2, 3, 4"),
            "{e}"
        );
        let many = vec!["gas"; MAX_FILTER_VALUES + 1].join(",");
        let e = err(Some(&many), None, None);
        assert!(e.starts_with("industry: at most 32 values"), "{e}");
        assert!(
            TileFilter::parse(Some(&vec!["gas"; MAX_FILTER_VALUES].join(",")), None, None).is_ok()
        );
    }

    #[test]
    fn features_are_kept_by_every_dimension() {
        let f = parse(Some("gas"), Some("major,high"), Some("1"));
        let mut e = Enterprise {
            id: "E".into(),
            name: "n".into(),
            uscc: None,
            industry: Industry::Gas,
            risk_grade: RiskLevel::High,
            employees: 1,
            hidden_dangers_open: 0,
            major_hidden_dangers_open: 0,
            blacklisted: false,
            cell_code: None,
            location: geo::Point::new(0.0, 0.0),
        };
        assert!(f.keeps_enterprise(&e));
        assert!(!f.keeps_all_enterprises() && !f.keeps_all_hazard_sources());
        e.risk_grade = RiskLevel::Low;
        assert!(!f.keeps_enterprise(&e));
        e.risk_grade = RiskLevel::Major;
        e.industry = Industry::Mining;
        assert!(!f.keeps_enterprise(&e));
        assert!(TileFilter::NONE.keeps_enterprise(&e));
        let mut h = HazardSource {
            id: "H".into(),
            name: "n".into(),
            enterprise_id: None,
            grade: HazardGrade::from_r_value(120.0),
            r_value: None,
            substances: String::new(),
            monitored: false,
            supervisor: None,
            location: geo::Point::new(0.0, 0.0),
        };
        assert!(f.keeps_hazard_source(&h));
        h.grade = HazardGrade::from_r_value(60.0);
        assert!(!f.keeps_hazard_source(&h));
        assert!(TileFilter::NONE.keeps_hazard_source(&h));
        let only = TileFilter::NONE.with_hazard_grades(&[h.grade]);
        assert!(only.keeps_hazard_source(&h) && only.keeps_all_enterprises());
        assert_eq!(
            only.hazard_grades()
                .map(HazardGrade::get)
                .collect::<Vec<_>>(),
            [2]
        );
    }
}
