//! Typed features of the four input layers (fields as in `docs/data.md`).
//!
//! Coordinates are lon/lat degrees (WGS84/CGCS2000) once ingested.

use super::danger::HiddenDanger;
use super::enums::{CollapseKind, HazardGrade, Industry, RiskLevel, Severity};
use super::layer::Level;
use geo::{MultiPolygon, Point};

/// 生产经营单位: an enterprise of the work-safety ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct Enterprise {
    /// Ledger id, unique.
    pub id: String,
    /// 企业名称.
    pub name: String,
    /// 统一社会信用代码 (18 characters), if known.
    pub uscc: Option<String>,
    /// Industry (行业类别).
    pub industry: Industry,
    /// The enterprise's own graded risk (双重预防机制).
    pub risk_grade: RiskLevel,
    /// Number of employees.
    pub employees: u32,
    /// Open hidden dangers (未整改隐患).
    pub hidden_dangers_open: u32,
    /// Open major hidden dangers (重大隐患).
    pub major_hidden_dangers_open: u32,
    /// On the joint-punishment list (黑名单).
    pub blacklisted: bool,
    /// The ledger's own cell code (geometry wins).
    pub cell_code: Option<String>,
    /// Location, lon/lat.
    pub location: Point<f64>,
}

/// 重大危险源: a major hazard source.
#[derive(Debug, Clone, PartialEq)]
pub struct HazardSource {
    /// Id, unique.
    pub id: String,
    /// Name.
    pub name: String,
    /// The enterprise that runs it, if given (must exist).
    pub enterprise_id: Option<String>,
    /// Grade 1–4 (given, or derived from `r_value`).
    pub grade: HazardGrade,
    /// R = α Σ βᵢ qᵢ/Qᵢ, if known.
    pub r_value: Option<f64>,
    /// Main hazardous chemicals.
    pub substances: String,
    /// Connected to online monitoring and early warning (在线监测预警).
    pub monitored: bool,
    /// 督长 / responsible official.
    pub supervisor: Option<String>,
    /// Location, lon/lat.
    pub location: Point<f64>,
}

/// 道路塌陷风险区: a road-collapse risk zone.
#[derive(Debug, Clone, PartialEq)]
pub struct CollapseZone {
    /// Id, unique.
    pub id: String,
    /// Cause.
    pub kind: CollapseKind,
    /// 1–3, 3 = worst.
    pub severity: Severity,
    /// Date of the last ground-radar survey (ISO date text), if any.
    pub surveyed: Option<String>,
    /// Outline, lon/lat.
    pub geometry: MultiPolygon<f64>,
}

/// A grid unit of any level: county, town, village or unit cell.
#[derive(Debug, Clone, PartialEq)]
pub struct GridUnit {
    /// Statistical code (6, 9, 12 or 15 digits).
    pub code: String,
    /// Name.
    pub name: String,
    /// Level in the hierarchy.
    pub level: Level,
    /// Parent's code (a town's is its county's; counties have none).
    pub parent_code: Option<String>,
    /// Resident population (for villages, towns and counties: the sum of
    /// their cells once the hierarchy is built).
    pub population: u64,
    /// 网格员 / responsible person.
    pub manager: Option<String>,
    /// Outline, lon/lat.
    pub geometry: MultiPolygon<f64>,
}

/// All features of a dataset, typed and in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    /// Enterprises.
    pub enterprises: Vec<Enterprise>,
    /// Major hazard sources.
    pub hazard_sources: Vec<HazardSource>,
    /// Collapse zones.
    pub collapse_zones: Vec<CollapseZone>,
    /// Grid units of every level (counties from the optional counties file
    /// or dissolved; towns, villages and cells from `grid_cells`).
    pub units: Vec<GridUnit>,
    /// 隐患 records of the optional `hidden_dangers` layer (empty when the
    /// dataset has none; see [`Dataset::has_hidden_dangers`]).
    pub hidden_dangers: Vec<HiddenDanger>,
    /// Whether the dataset has a `hidden_dangers` layer (even an empty one):
    /// then an enterprise's open counts come from the records, not from its
    /// own `hidden_dangers_open` fields.
    pub has_hidden_dangers: bool,
    /// Monitoring sensors of the optional `sensors` layer.
    pub sensors: Vec<super::Sensor>,
    /// Alarms of the optional `alarms` layer (the store keeps them in its
    /// alarm book; live writes add and change them).
    pub alarms: Vec<super::Alarm>,
}
