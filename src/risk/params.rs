//! `[risk]` constants with the documented defaults (`docs/risk-model.md`).
//!
//! ```toml
//! [risk]
//! top_contributors = 10
//! percent_cap = 99.99                # λ = −ln(1 − min(x, cap)/100)
//! as_of = "2026-12-06"               # default: today in Asia/Shanghai
//!
//! [risk.hazard]
//! intensity = [100, 60, 30, 15]      # grade 1..4
//! reach_m = [3000, 2000, 1000, 500]  # grade 1..4, metres
//! monitored_factor = 0.8
//!
//! [risk.alarms]
//! intensity = [100, 60, 30, 15]      # level 1 (红) .. 4 (蓝)
//! reach_m = [1000, 500, 300, 100]
//! acknowledged_factor = 0.5
//!
//! [risk.hidden_dangers]
//! overdue_factor = 1.25              # enterprises and standalone records
//! standalone_general = 2             # w of a record with no enterprise
//! standalone_major = 8
//!
//! [risk.enterprise]
//! hidden_danger_step = 0.1
//! hidden_danger_cap = 10
//! major_hidden_factor = 2
//! blacklist_factor = 1.5
//! employees_coefficient = 0.25
//! saturation = 60
//! [risk.enterprise.industry_weights]
//! hazardous_chemicals = 10           # … one key per industry
//! [risk.enterprise.grade_weights]
//! major = 4                          # high, medium, low
//!
//! [risk.collapse]
//! severity_factors = [0.5, 0.75, 1.0] # severity 1..3
//! [risk.collapse.kind_weights]
//! cavity = 1.0                       # underground_works, old_pipes, loess, civil_defense
//!
//! [risk.exposure]
//! base = 0.8                         # V = base + span · p
//! span = 0.4
//!
//! [risk.levels]
//! major = 75
//! high = 50
//! medium = 25
//!
//! [risk.rollup]
//! max_weight = 0.6
//! ```

use crate::model::{CollapseKind, HazardGrade, Industry, RiskLevel, Severity};
use serde::{Deserialize, Serialize};

/// A parameter that is out of range, naming its key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("risk.{key}: {message}")]
pub struct ParamError {
    /// The key below `[risk]`, e.g. `levels` or `hazard.reach_m`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

fn fail(key: &str, message: &str) -> Result<(), ParamError> {
    Err(ParamError {
        key: key.to_string(),
        message: message.to_string(),
    })
}

/// Checks that every value is finite and ≥ 0.
fn non_negative(key: &str, values: &[f64]) -> Result<(), ParamError> {
    if values.iter().all(|v| v.is_finite() && *v >= 0.0) {
        Ok(())
    } else {
        fail(key, "must be finite and ≥ 0")
    }
}

/// Checks that every value is finite and within `lo..=hi`.
fn within(key: &str, values: &[f64], lo: f64, hi: f64) -> Result<(), ParamError> {
    if values
        .iter()
        .all(|v| v.is_finite() && (lo..=hi).contains(v))
    {
        Ok(())
    } else {
        fail(key, &format!("must be within {lo}–{hi}"))
    }
}

/// The risk model's constants (`[risk]` in the config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskParams {
    /// H: major hazard sources.
    pub hazard: HazardParams,
    /// E: enterprises.
    pub enterprise: EnterpriseParams,
    /// C: road collapse.
    pub collapse: CollapseParams,
    /// V: exposure multiplier.
    pub exposure: ExposureParams,
    /// Level thresholds on the rounded score.
    pub levels: LevelThresholds,
    /// Roll-up of villages, towns and counties.
    pub rollup: RollupParams,
    /// M: monitoring alarms.
    pub alarms: AlarmParams,
    /// Hidden-danger records: the overdue factor and standalone weights.
    pub hidden_dangers: HiddenDangerParams,
    /// How many contributors `top_contributors` lists, largest first.
    pub top_contributors: usize,
    /// The cap on a percentage before it becomes a pressure:
    /// λ = −ln(1 − min(x, cap)/100), so λ stays finite.
    pub percent_cap: f64,
    /// The as-of date (`YYYY-MM-DD`) for "overdue"; none: today in
    /// Asia/Shanghai.
    pub as_of: Option<String>,
}

impl Default for RiskParams {
    fn default() -> Self {
        RiskParams {
            hazard: HazardParams::default(),
            enterprise: EnterpriseParams::default(),
            collapse: CollapseParams::default(),
            exposure: ExposureParams::default(),
            levels: LevelThresholds::default(),
            rollup: RollupParams::default(),
            alarms: AlarmParams::default(),
            hidden_dangers: HiddenDangerParams::default(),
            top_contributors: 10,
            percent_cap: 99.99,
            as_of: None,
        }
    }
}

impl RiskParams {
    /// Rejects out-of-range values; the message names the key.
    pub fn check(&self) -> Result<(), String> {
        self.validate().map_err(|e| e.to_string())
    }

    /// Like [`RiskParams::check`], with a typed error.
    pub fn validate(&self) -> Result<(), ParamError> {
        self.hazard.validate()?;
        self.enterprise.validate()?;
        self.collapse.validate()?;
        self.exposure.validate()?;
        self.levels.validate()?;
        self.rollup.validate()?;
        self.alarms.validate()?;
        self.hidden_dangers.validate()?;
        if self.top_contributors > 100 {
            return fail("top_contributors", "must be at most 100");
        }
        if !(self.percent_cap.is_finite() && self.percent_cap > 0.0 && self.percent_cap < 100.0) {
            return fail("percent_cap", "must be > 0 and < 100");
        }
        if self
            .as_of
            .as_deref()
            .is_some_and(|d| parse_date(d).is_none())
        {
            return fail("as_of", "must be a date YYYY-MM-DD");
        }
        Ok(())
    }

    /// λ = −ln(1 − min(x, cap)/100) of a percentage x (0 for x ≤ 0).
    pub fn pressure(&self, percent: f64) -> f64 {
        if percent.is_nan() || percent <= 0.0 {
            return 0.0;
        }
        -(-percent.min(self.percent_cap) / 100.0).ln_1p()
    }

    /// These parameters with `as_of` fixed to [`RiskParams::as_of_date`]
    /// (today, when unset), so that every score computed with them measures
    /// "overdue" against one day.
    pub fn pinned(&self) -> RiskParams {
        let (y, m, d) = self.as_of_date();
        RiskParams {
            as_of: Some(format!("{y:04}-{m:02}-{d:02}")),
            ..self.clone()
        }
    }

    /// The as-of date as a [`Date`](crate::model::Date) (see
    /// [`RiskParams::as_of_date`]).
    pub fn as_of_day(&self) -> crate::model::Date {
        let (y, m, d) = self.as_of_date();
        crate::model::Date::from_ymd(y, m, d).unwrap_or_default()
    }

    /// The as-of date as (year, month, day): `as_of` if set, else today in
    /// Asia/Shanghai (UTC+8, no daylight saving).
    pub fn as_of_date(&self) -> (i32, u32, u32) {
        self.as_of
            .as_deref()
            .and_then(parse_date)
            .unwrap_or_else(today_in_shanghai)
    }
}

/// `YYYY-MM-DD` → (year, month, day), checking the day exists.
pub fn parse_date(text: &str) -> Option<(i32, u32, u32)> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let days = crate::model::days_in_month(y, m)?;
    (1..=days).contains(&d).then_some((y, m, d))
}

/// Today's date in Asia/Shanghai (UTC+8), on [`crate::clock`].
pub fn today_in_shanghai() -> (i32, u32, u32) {
    let secs = crate::clock::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = crate::model::civil_from_days(((secs + 8 * 3600) / 86_400) as i64);
    (y as i32, m, d)
}

/// Constants of M (monitoring alarms, `[risk.alarms]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlarmParams {
    /// Intensity I of levels 1 (红) – 4 (蓝), 0–100.
    pub intensity: [f64; 4],
    /// Reach r of levels 1–4, metres.
    pub reach_m: [f64; 4],
    /// Factor once an alarm is acknowledged (0–1).
    pub acknowledged_factor: f64,
}

impl Default for AlarmParams {
    fn default() -> Self {
        AlarmParams {
            intensity: [100.0, 60.0, 30.0, 15.0],
            reach_m: [1000.0, 500.0, 300.0, 100.0],
            acknowledged_factor: 0.5,
        }
    }
}

impl AlarmParams {
    fn validate(&self) -> Result<(), ParamError> {
        within("alarms.intensity", &self.intensity, 0.0, 100.0)?;
        if !self
            .reach_m
            .iter()
            .all(|r| r.is_finite() && *r > 0.0 && *r <= MAX_REACH_M)
        {
            return fail("alarms.reach_m", "must be > 0 and ≤ 100000 metres");
        }
        within(
            "alarms.acknowledged_factor",
            &[self.acknowledged_factor],
            0.0,
            1.0,
        )
    }

    /// Intensity I of an alarm level (1–4; others count as 4).
    pub fn intensity(&self, level: u8) -> f64 {
        self.intensity[usize::from(level.clamp(1, 4) - 1)]
    }

    /// Reach r of an alarm level, metres.
    pub fn reach_m(&self, level: u8) -> f64 {
        self.reach_m[usize::from(level.clamp(1, 4) - 1)]
    }

    /// The largest reach of any level, metres.
    pub fn max_reach_m(&self) -> f64 {
        self.reach_m.iter().copied().fold(0.0, f64::max)
    }
}

/// Constants of hidden-danger records (`[risk.hidden_dangers]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HiddenDangerParams {
    /// Factor when an open danger is past its deadline (an enterprise's wₑ
    /// once, a standalone record's w).
    pub overdue_factor: f64,
    /// w of an open general record with no enterprise.
    pub standalone_general: f64,
    /// w of an open major record with no enterprise.
    pub standalone_major: f64,
}

impl Default for HiddenDangerParams {
    fn default() -> Self {
        HiddenDangerParams {
            overdue_factor: 1.25,
            standalone_general: 2.0,
            standalone_major: 8.0,
        }
    }
}

impl HiddenDangerParams {
    fn validate(&self) -> Result<(), ParamError> {
        non_negative("hidden_dangers.overdue_factor", &[self.overdue_factor])?;
        non_negative(
            "hidden_dangers.standalone_general",
            &[self.standalone_general],
        )?;
        non_negative("hidden_dangers.standalone_major", &[self.standalone_major])
    }
}

/// Constants of H (major hazard sources).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HazardParams {
    /// Intensity I of grades 1–4 (0–100).
    pub intensity: [f64; 4],
    /// Reach r of grades 1–4, metres.
    pub reach_m: [f64; 4],
    /// Factor applied to a source with online monitoring (0–1).
    pub monitored_factor: f64,
}

impl Default for HazardParams {
    fn default() -> Self {
        HazardParams {
            intensity: [100.0, 60.0, 30.0, 15.0],
            reach_m: [3000.0, 2000.0, 1000.0, 500.0],
            monitored_factor: 0.8,
        }
    }
}

/// The largest reach accepted, metres (keeps reach queries local).
pub const MAX_REACH_M: f64 = 100_000.0;

impl HazardParams {
    fn validate(&self) -> Result<(), ParamError> {
        within("hazard.intensity", &self.intensity, 0.0, 100.0)?;
        if !self
            .reach_m
            .iter()
            .all(|r| r.is_finite() && *r > 0.0 && *r <= MAX_REACH_M)
        {
            return fail("hazard.reach_m", "must be > 0 and ≤ 100000 metres");
        }
        within(
            "hazard.monitored_factor",
            &[self.monitored_factor],
            0.0,
            1.0,
        )
    }

    /// Intensity I of a grade.
    pub fn intensity(&self, grade: HazardGrade) -> f64 {
        self.intensity[grade_index(grade)]
    }

    /// Reach r of a grade, metres.
    pub fn reach_m(&self, grade: HazardGrade) -> f64 {
        self.reach_m[grade_index(grade)]
    }

    /// The largest reach of any grade, metres.
    pub fn max_reach_m(&self) -> f64 {
        self.reach_m.iter().copied().fold(0.0, f64::max)
    }
}

fn grade_index(grade: HazardGrade) -> usize {
    usize::from(grade.get().clamp(1, 4) - 1)
}

/// Constants of E (enterprises).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnterpriseParams {
    /// Weight per industry.
    pub industry_weights: IndustryWeights,
    /// Weight per the enterprise's own risk grade.
    pub grade_weights: GradeWeights,
    /// Added per open hidden danger: × (1 + step · min(open, cap)).
    pub hidden_danger_step: f64,
    /// Open hidden dangers counted at most.
    pub hidden_danger_cap: u32,
    /// Factor when any major hidden danger is open.
    pub major_hidden_factor: f64,
    /// Factor when blacklisted.
    pub blacklist_factor: f64,
    /// × (1 + coefficient · log₁₀(1 + employees)).
    pub employees_coefficient: f64,
    /// λₑ = wₑ / saturation; E = 100 · (1 − exp(−Σλ)).
    pub saturation: f64,
}

impl Default for EnterpriseParams {
    fn default() -> Self {
        EnterpriseParams {
            industry_weights: IndustryWeights::default(),
            grade_weights: GradeWeights::default(),
            hidden_danger_step: 0.1,
            hidden_danger_cap: 10,
            major_hidden_factor: 2.0,
            blacklist_factor: 1.5,
            employees_coefficient: 0.25,
            saturation: 60.0,
        }
    }
}

impl EnterpriseParams {
    fn validate(&self) -> Result<(), ParamError> {
        self.industry_weights.validate()?;
        self.grade_weights.validate()?;
        non_negative("enterprise.hidden_danger_step", &[self.hidden_danger_step])?;
        non_negative(
            "enterprise.major_hidden_factor",
            &[self.major_hidden_factor],
        )?;
        non_negative("enterprise.blacklist_factor", &[self.blacklist_factor])?;
        non_negative(
            "enterprise.employees_coefficient",
            &[self.employees_coefficient],
        )?;
        if !(self.saturation.is_finite() && self.saturation > 0.0) {
            return fail("enterprise.saturation", "must be finite and > 0");
        }
        Ok(())
    }
}

/// Weight per industry (`[risk.enterprise.industry_weights]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndustryWeights {
    /// 危险化学品.
    pub hazardous_chemicals: f64,
    /// 烟花爆竹.
    pub fireworks: f64,
    /// 矿山.
    pub mining: f64,
    /// 冶金.
    pub metallurgy: f64,
    /// 燃气.
    pub gas: f64,
    /// 有色.
    pub nonferrous: f64,
    /// 粉尘涉爆.
    pub dust_explosion: f64,
    /// 涉氨制冷.
    pub ammonia_refrigeration: f64,
    /// 建筑施工.
    pub construction: f64,
    /// 人员密集场所.
    pub crowded_place: f64,
    /// 仓储物流.
    pub warehousing: f64,
    /// 有限空间.
    pub confined_space: f64,
    /// 一般工贸.
    pub general_manufacturing: f64,
}

impl Default for IndustryWeights {
    fn default() -> Self {
        IndustryWeights {
            hazardous_chemicals: 10.0,
            fireworks: 10.0,
            mining: 8.0,
            metallurgy: 6.0,
            gas: 6.0,
            nonferrous: 5.0,
            dust_explosion: 5.0,
            ammonia_refrigeration: 5.0,
            construction: 4.0,
            crowded_place: 4.0,
            warehousing: 3.0,
            confined_space: 3.0,
            general_manufacturing: 1.0,
        }
    }
}

impl IndustryWeights {
    /// The weight of an industry.
    pub fn get(&self, industry: Industry) -> f64 {
        match industry {
            Industry::HazardousChemicals => self.hazardous_chemicals,
            Industry::Fireworks => self.fireworks,
            Industry::Mining => self.mining,
            Industry::Metallurgy => self.metallurgy,
            Industry::Gas => self.gas,
            Industry::Nonferrous => self.nonferrous,
            Industry::DustExplosion => self.dust_explosion,
            Industry::AmmoniaRefrigeration => self.ammonia_refrigeration,
            Industry::Construction => self.construction,
            Industry::CrowdedPlace => self.crowded_place,
            Industry::Warehousing => self.warehousing,
            Industry::ConfinedSpace => self.confined_space,
            Industry::GeneralManufacturing => self.general_manufacturing,
        }
    }

    fn validate(&self) -> Result<(), ParamError> {
        let all: Vec<f64> = Industry::ALL.iter().map(|i| self.get(*i)).collect();
        non_negative("enterprise.industry_weights", &all)
    }
}

/// Weight per an enterprise's own risk grade (`[risk.enterprise.grade_weights]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GradeWeights {
    /// 重大.
    pub major: f64,
    /// 较大.
    pub high: f64,
    /// 一般.
    pub medium: f64,
    /// 低.
    pub low: f64,
}

impl Default for GradeWeights {
    fn default() -> Self {
        GradeWeights {
            major: 4.0,
            high: 2.0,
            medium: 1.0,
            low: 0.5,
        }
    }
}

impl GradeWeights {
    /// The weight of a grade.
    pub fn get(&self, grade: RiskLevel) -> f64 {
        match grade {
            RiskLevel::Major => self.major,
            RiskLevel::High => self.high,
            RiskLevel::Medium => self.medium,
            RiskLevel::Low => self.low,
        }
    }

    fn validate(&self) -> Result<(), ParamError> {
        non_negative(
            "enterprise.grade_weights",
            &[self.major, self.high, self.medium, self.low],
        )
    }
}

/// Constants of C (road collapse).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollapseParams {
    /// Weight per kind of zone.
    pub kind_weights: KindWeights,
    /// Factor of severities 1–3.
    pub severity_factors: [f64; 3],
}

impl Default for CollapseParams {
    fn default() -> Self {
        CollapseParams {
            kind_weights: KindWeights::default(),
            severity_factors: [0.5, 0.75, 1.0],
        }
    }
}

impl CollapseParams {
    fn validate(&self) -> Result<(), ParamError> {
        let k = &self.kind_weights;
        non_negative(
            "collapse.kind_weights",
            &[
                k.cavity,
                k.underground_works,
                k.old_pipes,
                k.loess,
                k.civil_defense,
            ],
        )?;
        non_negative("collapse.severity_factors", &self.severity_factors)
    }

    /// The factor of a severity.
    pub fn severity_factor(&self, severity: Severity) -> f64 {
        self.severity_factors[usize::from(severity.get().clamp(1, 3) - 1)]
    }
}

/// Weight per kind of collapse zone (`[risk.collapse.kind_weights]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KindWeights {
    /// 探地雷达发现空洞.
    pub cavity: f64,
    /// 地下工程施工影响.
    pub underground_works: f64,
    /// 老旧管网集中.
    pub old_pipes: f64,
    /// 湿陷性黄土.
    pub loess: f64,
    /// 地下人防工程影响.
    pub civil_defense: f64,
}

impl Default for KindWeights {
    fn default() -> Self {
        KindWeights {
            cavity: 1.0,
            underground_works: 0.8,
            old_pipes: 0.7,
            loess: 0.6,
            civil_defense: 0.6,
        }
    }
}

impl KindWeights {
    /// The weight of a kind.
    pub fn get(&self, kind: CollapseKind) -> f64 {
        match kind {
            CollapseKind::Cavity => self.cavity,
            CollapseKind::UndergroundWorks => self.underground_works,
            CollapseKind::OldPipes => self.old_pipes,
            CollapseKind::Loess => self.loess,
            CollapseKind::CivilDefense => self.civil_defense,
        }
    }
}

/// Constants of V (exposure): V = base + span · p.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExposureParams {
    /// V of the least dense cell (p = 0).
    pub base: f64,
    /// V(p = 1) − V(p = 0).
    pub span: f64,
}

impl Default for ExposureParams {
    fn default() -> Self {
        ExposureParams {
            base: 0.8,
            span: 0.4,
        }
    }
}

impl ExposureParams {
    fn validate(&self) -> Result<(), ParamError> {
        non_negative("exposure.base", &[self.base])?;
        non_negative("exposure.span", &[self.span])
    }
}

/// Thresholds of the levels on the rounded score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LevelThresholds {
    /// 重大 from this score.
    pub major: f64,
    /// 较大 from this score.
    pub high: f64,
    /// 一般 from this score.
    pub medium: f64,
}

impl Default for LevelThresholds {
    fn default() -> Self {
        LevelThresholds {
            major: 75.0,
            high: 50.0,
            medium: 25.0,
        }
    }
}

impl LevelThresholds {
    fn validate(&self) -> Result<(), ParamError> {
        let ok = [self.major, self.high, self.medium]
            .iter()
            .all(|v| v.is_finite())
            && 0.0 < self.medium
            && self.medium < self.high
            && self.high < self.major
            && self.major <= 100.0;
        if ok {
            Ok(())
        } else {
            fail(
                "levels",
                "thresholds must satisfy 0 < medium < high < major ≤ 100",
            )
        }
    }

    /// The level of a (rounded) score.
    pub fn level(&self, score: f64) -> RiskLevel {
        if score >= self.major {
            RiskLevel::Major
        } else if score >= self.high {
            RiskLevel::High
        } else if score >= self.medium {
            RiskLevel::Medium
        } else {
            RiskLevel::Low
        }
    }
}

/// Constants of the roll-up: S = w · max(children) + (1 − w) · mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RollupParams {
    /// Weight w of the children's maximum (0–1).
    pub max_weight: f64,
}

impl Default for RollupParams {
    fn default() -> Self {
        RollupParams { max_weight: 0.6 }
    }
}

impl RollupParams {
    fn validate(&self) -> Result<(), ParamError> {
        within("rollup.max_weight", &[self.max_weight], 0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented() {
        let p = RiskParams::default();
        assert_eq!(p.check(), Ok(()));
        assert_eq!(
            p.hazard
                .intensity(HazardGrade::new(2).unwrap_or(HazardGrade::from_r_value(0.0))),
            60.0
        );
        assert_eq!(p.hazard.max_reach_m(), 3000.0);
        assert_eq!(p.enterprise.industry_weights.get(Industry::Mining), 8.0);
        assert_eq!(p.collapse.kind_weights.get(CollapseKind::OldPipes), 0.7);
        assert_eq!(p.levels.level(75.0), RiskLevel::Major);
        assert_eq!(p.levels.level(74.9), RiskLevel::High);
        assert_eq!(p.levels.level(25.0), RiskLevel::Medium);
        assert_eq!(p.levels.level(24.9), RiskLevel::Low);
    }

    #[test]
    fn toml_round_trip_and_partial_tables() {
        let p: RiskParams = toml::from_str(
            "top_contributors = 3\n[hazard]\nmonitored_factor = 0.5\n[enterprise.industry_weights]\ngas = 7\n",
        )
        .unwrap();
        assert_eq!(p.top_contributors, 3);
        assert_eq!(p.hazard.monitored_factor, 0.5);
        assert_eq!(p.hazard.reach_m[0], 3000.0);
        assert_eq!(p.enterprise.industry_weights.gas, 7.0);
        assert_eq!(p.enterprise.industry_weights.mining, 8.0);
        let text = toml::to_string(&p).unwrap();
        let back: RiskParams = toml::from_str(&text).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn v2_constants_and_the_as_of_date() {
        let p = RiskParams::default();
        assert_eq!(p.top_contributors, 10);
        assert_eq!(p.alarms.intensity(1), 100.0);
        assert_eq!(p.alarms.reach_m(4), 100.0);
        assert_eq!(p.alarms.acknowledged_factor, 0.5);
        assert_eq!(p.hidden_dangers.overdue_factor, 1.25);
        assert!((p.pressure(60.0) + (0.4f64).ln()).abs() < 1e-12);
        assert!((p.pressure(100.0) + (1e-4f64).ln()).abs() < 1e-9);
        assert_eq!(p.pressure(0.0), 0.0);
        let q: RiskParams = toml::from_str("as_of = \"2026-02-28\"\n").unwrap();
        assert_eq!(q.as_of_date(), (2026, 2, 28));
        let bad: RiskParams = toml::from_str("as_of = \"2026-02-30\"\n").unwrap();
        assert!(bad.check().unwrap_err().starts_with("risk.as_of"));
        let (y, m, d) = p.as_of_date();
        assert!(y >= 2025 && (1..=12).contains(&m) && (1..=31).contains(&d));
        // The data version hashes the serialized constants: they change it.
        let a = serde_json::to_string(&p).unwrap();
        let b = serde_json::to_string(&q).unwrap();
        assert_ne!(a, b);
        assert!(a.contains("acknowledged_factor") && a.contains("overdue_factor"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<RiskParams>("[hazard]\nreach = 1\n").is_err());
        assert!(
            toml::from_str::<RiskParams>("[enterprise.industry_weights]\nbakery = 1\n").is_err()
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        let mut p = RiskParams::default();
        p.levels.high = 80.0;
        assert_eq!(
            p.check(),
            Err("risk.levels: thresholds must satisfy 0 < medium < high < major ≤ 100".into())
        );
        let mut p = RiskParams::default();
        p.enterprise.industry_weights.gas = -1.0;
        assert!(
            p.check()
                .unwrap_err()
                .starts_with("risk.enterprise.industry_weights")
        );
        let mut p = RiskParams::default();
        p.hazard.reach_m[3] = 0.0;
        assert!(p.check().unwrap_err().starts_with("risk.hazard.reach_m"));
        let mut p = RiskParams::default();
        p.hazard.intensity[0] = 120.0;
        assert!(p.check().unwrap_err().starts_with("risk.hazard.intensity"));
        let mut p = RiskParams::default();
        p.enterprise.saturation = 0.0;
        assert!(
            p.check()
                .unwrap_err()
                .starts_with("risk.enterprise.saturation")
        );
        let mut p = RiskParams::default();
        p.rollup.max_weight = 1.5;
        assert!(p.check().unwrap_err().starts_with("risk.rollup.max_weight"));
        let mut p = RiskParams::default();
        p.collapse.severity_factors[1] = f64::NAN;
        assert!(
            p.check()
                .unwrap_err()
                .starts_with("risk.collapse.severity_factors")
        );
        let mut p = RiskParams::default();
        p.levels.major = 101.0;
        assert!(p.check().unwrap_err().starts_with("risk.levels"));
    }
}
