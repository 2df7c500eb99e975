//! One grid unit as the API shows it: risk fields, breakdown, top
//! contributors, what is inside, parent chain, children and rank.

use super::inside::Inside;
use crate::auth::{ContributorView, Scope};
use crate::index::{Store, UnitId};
use crate::model::unsigned_zero;
use crate::risk::{Components, LevelCounts, Scores};
use serde::Serialize;

/// A unit named by code, name and level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitRef {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// `county`, `town`, `village` or `cell`.
    pub level: &'static str,
}

/// A child with its risk fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChildRef {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level word.
    pub level: &'static str,
    /// Shown score.
    pub risk_score: f64,
    /// Level word.
    pub risk_level: &'static str,
    /// Colour.
    pub risk_color: &'static str,
}

/// Feature counts inside a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InsideCounts {
    /// Unit cells at or below.
    pub cells: usize,
    /// Enterprises.
    pub enterprises: usize,
    /// Major hazard sources.
    pub hazard_sources: usize,
    /// Collapse zones intersecting.
    pub collapse_zones: usize,
}

/// Open hidden dangers summed over the enterprises inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HiddenDangers {
    /// 未整改隐患.
    pub open: u64,
    /// 未整改重大隐患.
    pub major: u64,
}

/// Position among the siblings (1 = highest score).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rank {
    /// 1-based position.
    pub position: usize,
    /// Number of siblings, the unit included.
    pub of: usize,
    /// 1-based position among every unit of its level in the city.
    pub city_position: usize,
    /// Number of units of its level in the city.
    pub city_of: usize,
}

/// The API body for one grid unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitSummary {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level word.
    pub level: &'static str,
    /// Parent's code.
    pub parent_code: Option<String>,
    /// Shown score (one decimal).
    pub risk_score: f64,
    /// `major`/`high`/`medium`/`low`.
    pub risk_level: &'static str,
    /// 重大/较大/一般/低.
    pub risk_level_zh: &'static str,
    /// Colour.
    pub risk_color: &'static str,
    /// Resident population.
    pub population: u64,
    /// Area in km².
    pub area_km2: f64,
    /// H, E, C, V (unit cells only).
    pub breakdown: Option<Components>,
    /// The first `risk.top_contributors` (10) of `contributions`.
    pub top_contributors: Vec<ContributorView>,
    /// Every contributor, largest first; they sum to the unrounded score.
    pub contributions: Vec<ContributorView>,
    /// The contributions summed per domain (the non-zero ones, in domain
    /// order); they sum to the unrounded score.
    pub domains: serde_json::Map<String, serde_json::Value>,
    /// Direct children per risk level.
    pub children_levels: LevelCounts,
    /// Unit cells at or below per risk level.
    pub cell_levels: LevelCounts,
    /// Counts per layer inside.
    pub counts: InsideCounts,
    /// Open hidden dangers inside.
    pub hidden_dangers: HiddenDangers,
    /// County first, down to the parent.
    pub parents: Vec<UnitRef>,
    /// Direct children, highest score first.
    pub children: Vec<ChildRef>,
    /// Position among its siblings.
    pub rank: Rank,
}

fn unit_ref(store: &Store, id: UnitId) -> UnitRef {
    let u = store.unit(id);
    UnitRef {
        code: u.code.clone(),
        name: u.name.clone(),
        level: u.level.as_str(),
    }
}

/// The summary of `unit` for a caller who may see every feature.
pub fn summarize(store: &Store, scores: &Scores, unit: UnitId) -> UnitSummary {
    summarize_for(store, scores, unit, Scope::All)
}

/// The summary of `unit` for a caller of `scope`: contributors outside it
/// are shown without identity.
pub fn summarize_for(store: &Store, scores: &Scores, unit: UnitId, scope: Scope) -> UnitSummary {
    let u = store.unit(unit);
    let s = scores.unit(unit);
    let inside = Inside::gather(store, unit);
    let (open, major) = inside.hidden_dangers(store);
    let mut parents: Vec<UnitRef> = store
        .ancestors(unit)
        .into_iter()
        .map(|p| unit_ref(store, p))
        .collect();
    parents.reverse();
    let children: Vec<ChildRef> = scores
        .top_children(store, unit, usize::MAX)
        .into_iter()
        .map(|c| {
            let cs = scores.unit(c);
            let cu = store.unit(c);
            ChildRef {
                code: cu.code.clone(),
                name: cu.name.clone(),
                level: cu.level.as_str(),
                risk_score: cs.risk_score(),
                risk_level: cs.level().as_str(),
                risk_color: cs.color(),
            }
        })
        .collect();
    let level_units = store.units_at(u.level);
    let siblings: Vec<UnitId> = match store.parent(unit) {
        Some(p) => scores.top_children(store, p, usize::MAX),
        None => {
            let mut all = level_units.to_vec();
            all.sort_by(|a, b| scores.rank_order(*a, *b));
            all
        }
    };
    // City-wide: one plus the units of the level ranked before this one.
    let city_position = 1 + level_units
        .iter()
        .filter(|&&x| x != unit && scores.rank_order(x, unit).is_lt())
        .count();
    let contributions: Vec<ContributorView> = scores
        .contributors(store, unit)
        .iter()
        .map(|c| scope.contributor(store, c))
        .collect();
    let position = siblings
        .iter()
        .position(|&x| x == unit)
        .map_or(1, |p| p + 1);
    UnitSummary {
        code: u.code.clone(),
        name: u.name.clone(),
        level: u.level.as_str(),
        parent_code: u.parent_code.clone(),
        risk_score: s.risk_score(),
        risk_level: s.level().as_str(),
        risk_level_zh: s.level().label_zh(),
        risk_color: s.color(),
        population: u.population,
        area_km2: (store.area_m2(unit) / 1e6 * 1000.0).round() / 1000.0,
        breakdown: s.components().map(|k| Components {
            h: unsigned_zero(k.h),
            e: unsigned_zero(k.e),
            c: unsigned_zero(k.c),
            m: unsigned_zero(k.m),
            v: unsigned_zero(k.v),
        }),
        top_contributors: contributions
            .iter()
            .take(scores.params().top_contributors)
            .cloned()
            .collect(),
        domains: s
            .domains()
            .iter()
            .map(|(d, x)| (d.as_str().to_string(), serde_json::json!(x)))
            .collect(),
        contributions,
        children_levels: *s.children_levels(),
        cell_levels: *s.cell_levels(),
        counts: InsideCounts {
            cells: inside.cells.len(),
            enterprises: inside.enterprises.len(),
            hazard_sources: inside.hazard_sources.len(),
            collapse_zones: inside.collapse_zones.len(),
        },
        hidden_dangers: HiddenDangers { open, major },
        parents,
        children,
        rank: Rank {
            position,
            of: siblings.len().max(1),
            city_position,
            city_of: level_units.len().max(1),
        },
    }
}
