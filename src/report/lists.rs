//! Rankings, statistics and search over the grid.

use super::inside::Inside;
use crate::auth::Scope;
use crate::index::{Store, UnitId, envelope_of};
use crate::model::{LayerId, Level, RiskLevel};
use crate::risk::{LevelCounts, Scores};
use serde::Serialize;
use serde_json::{Value, json};

/// A unit in a ranking: its risk fields and parent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankItem {
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
    /// Parent's code.
    pub parent_code: Option<String>,
    /// Parent's name.
    pub parent_name: Option<String>,
}

/// Units of `level` (below `within` if given), highest first by the
/// unrounded pressure V·Λ (ties by code), at most `limit`.
pub fn ranking(
    store: &Store,
    scores: &Scores,
    level: Level,
    within: Option<UnitId>,
    limit: usize,
) -> Vec<RankItem> {
    let mut ids: Vec<UnitId> = store
        .units_at(level)
        .iter()
        .copied()
        .filter(|&u| within.is_none_or(|w| store.is_within(u, w)))
        .collect();
    ids.sort_by(|a, b| scores.rank_order(*a, *b));
    ids.truncate(limit);
    ids.into_iter()
        .map(|id| {
            let u = store.unit(id);
            let s = scores.unit(id);
            RankItem {
                code: u.code.clone(),
                name: u.name.clone(),
                level: u.level.as_str(),
                risk_score: crate::model::unsigned_zero(s.risk_score()),
                risk_level: s.level().as_str(),
                risk_color: s.color(),
                parent_code: u.parent_code.clone(),
                parent_name: store.parent(id).map(|p| store.unit(p).name.clone()),
            }
        })
        .collect()
}

fn counts_json(c: &LevelCounts) -> Value {
    json!({"major": c.major, "high": c.high, "medium": c.medium, "low": c.low})
}

/// Counts per risk level at each level below `within` (every level without
/// it), and the layer totals inside it (private layers as numbers only).
pub fn stats(store: &Store, scores: &Scores, within: Option<UnitId>) -> Value {
    let mut levels = serde_json::Map::new();
    let below = within.map(|w| store.unit(w).level);
    for level in Level::ALL {
        if below.is_some_and(|b| level <= b) {
            continue;
        }
        let mut c = LevelCounts::default();
        for &u in store.units_at(level) {
            if within.is_none_or(|w| store.is_within(u, w)) {
                c.add(scores.unit(u).level());
            }
        }
        levels.insert(level.as_str().into(), counts_json(&c));
    }
    let layers = match within {
        Some(w) => {
            let inside = Inside::gather(store, w);
            json!({
                "enterprises": inside.enterprises.len(),
                "hazard_sources": inside.hazard_sources.len(),
                "collapse_zones": inside.collapse_zones.len(),
                "cells": inside.cells.len(),
            })
        }
        None => json!({
            "enterprises": store.dataset.enterprises.len(),
            "hazard_sources": store.dataset.hazard_sources.len(),
            "collapse_zones": store.dataset.collapse_zones.len(),
            "cells": store.count(Level::Cell),
        }),
    };
    json!({
        "within": within.map(|w| store.unit(w).code.clone()),
        "levels": levels,
        "layers": layers,
        "level_labels": RiskLevel::ALL.iter().map(|l| (l.as_str(), l.label_zh())).collect::<std::collections::BTreeMap<_, _>>(),
    })
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    /// `grid_unit`, `enterprise` or `hazard_source`.
    pub kind: &'static str,
    /// Code or id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Level word (grid units only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<&'static str>,
    /// [west, south, east, north].
    pub bbox: [f64; 4],
    /// The unit one level up (grid units below the county level only), so
    /// that namesakes can be told apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentRef>,
}

/// A parent unit named in a search hit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParentRef {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

fn bbox_of_unit(store: &Store, id: UnitId) -> [f64; 4] {
    let r = envelope_of(&store.unit(id).geometry);
    let e = rstar::RTreeObject::envelope(&r);
    [e.lower()[0], e.lower()[1], e.upper()[0], e.upper()[1]]
}

/// Grid units whose code starts with `q` or whose name contains it (coarser
/// levels first, then code); with a token, also enterprises and hazard
/// sources in scope by id prefix or name.
pub fn search(store: &Store, q: &str, limit: usize, scope: Scope) -> Vec<SearchHit> {
    let q = q.trim();
    if q.is_empty() {
        return Vec::new();
    }
    let digits = q.bytes().all(|b| b.is_ascii_digit());
    let latin = super::pinyin::Query::new(q);
    // Grid units: every match, then the best `limit` — coarser levels
    // first, a name that starts with the query before one that holds it,
    // then by code.
    let mut units: Vec<(Level, super::pinyin::Fit, UnitId)> = Vec::new();
    for (i, u) in store.units().iter().enumerate() {
        let fit = if digits {
            u.code.starts_with(q).then_some(super::pinyin::Fit::Prefix)
        } else if let Some(latin) = &latin {
            latin.fit(&u.name)
        } else if u.name.starts_with(q) {
            Some(super::pinyin::Fit::Prefix)
        } else {
            u.name.contains(q).then_some(super::pinyin::Fit::Inside)
        };
        if let Some(fit) = fit {
            units.push((u.level, fit, i as UnitId));
        }
    }
    units.sort_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| store.unit(a.2).code.cmp(&store.unit(b.2).code))
    });
    let mut hits: Vec<SearchHit> = units
        .into_iter()
        .take(limit)
        .map(|(_, _, id)| {
            let u = store.unit(id);
            SearchHit {
                kind: "grid_unit",
                id: u.code.clone(),
                name: u.name.clone(),
                level: Some(u.level.as_str()),
                bbox: bbox_of_unit(store, id),
                parent: store.parent(id).map(|p| ParentRef {
                    code: store.unit(p).code.clone(),
                    name: store.unit(p).name.clone(),
                }),
            }
        })
        .collect();
    if !scope.opens(LayerId::HazardSources) && !scope.opens(LayerId::Enterprises) {
        return hits;
    }
    for (i, h) in store.dataset.hazard_sources.iter().enumerate() {
        if hits.len() >= limit {
            break;
        }
        if (h.id.starts_with(q) || h.name.contains(q))
            && scope.sees_feature(store, LayerId::HazardSources, i as u32)
        {
            let (x, y) = (h.location.x(), h.location.y());
            hits.push(SearchHit {
                kind: "hazard_source",
                id: h.id.clone(),
                name: h.name.clone(),
                level: None,
                bbox: [x, y, x, y],
                parent: None,
            });
        }
    }
    for (i, e) in store.dataset.enterprises.iter().enumerate() {
        if hits.len() >= limit {
            break;
        }
        if (e.id.starts_with(q) || e.name.contains(q))
            && scope.sees_feature(store, LayerId::Enterprises, i as u32)
        {
            let (x, y) = (e.location.x(), e.location.y());
            hits.push(SearchHit {
                kind: "enterprise",
                id: e.id.clone(),
                name: e.name.clone(),
                level: None,
                bbox: [x, y, x, y],
                parent: None,
            });
        }
    }
    hits
}
