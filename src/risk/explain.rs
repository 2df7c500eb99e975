//! Contributors of a unit: each feature's additive share of its score.
//!
//! In a cell, a feature's contribution is S · λ_f / Λ, so the cell's
//! contributions sum to S. A village, town or county gives each feature
//! 0.6 · (its contribution to the max child) + 0.4 · Σ wᵢ · (its contribution
//! to child i) (the roll-up's own weights), which again sum to its S.
//! Contributions are computed on demand from the stored scores: nothing per
//! feature is kept for the whole grid.
//!
//! Only features with a positive pressure are listed, largest first, ties by
//! layer then id. Labels read like `HS-0007 一级 1.5 km → H +25.0`: the
//! feature, what places it (at the cell where it contributes most), and the
//! component it acts through with its contribution to this unit's S.

use super::cell::{CellInputs, domain_of};
use super::collapse;
use super::engine::{Scores, child_weights};
use super::params::RiskParams;
use super::score::{Contributor, FeatureRef, contributor_order, round1, score_of_pressure};
use crate::index::{Store, UnitId};
use crate::model::Level;
use std::collections::HashMap;

/// One feature's contribution in one cell, with what places it there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellItem {
    /// The feature.
    pub feature: FeatureRef,
    /// S · λ_f / Λ.
    pub contribution: f64,
    /// Distance in metres (sources, alarms) or covered share (zones).
    pub detail: f64,
    /// S minus S without the feature.
    pub marginal: f64,
}

/// Every feature of a cell's inputs with its contribution and marginal, in
/// [`CellInputs::pressures`] order.
pub fn cell_items(inputs: &CellInputs, params: &RiskParams) -> Vec<CellItem> {
    let details = inputs
        .hazards
        .iter()
        .map(|t| t.distance_m)
        .chain(inputs.enterprises.iter().map(|_| 0.0))
        .chain(inputs.dangers.iter().map(|_| 0.0))
        .chain(inputs.zones.iter().map(|t| t.overlap))
        .chain(inputs.alarms.iter().map(|t| t.distance_m));
    let lambda = inputs.lambda();
    let s = score_of_pressure(inputs.v * lambda);
    let zones_lambda: f64 = inputs.zones.iter().map(|t| t.lambda).sum();
    let zones_x = collapse::sum(&inputs.zones);
    let mut zone_slot = 0;
    inputs
        .contributions()
        .zip(inputs.pressures())
        .zip(details)
        .map(|(((feature, contribution), own), detail)| {
            let without = match feature {
                FeatureRef::CollapseZone(_) => {
                    let x = inputs.zones.get(zone_slot).map_or(0.0, |t| t.t);
                    zone_slot += 1;
                    let rest = params.pressure(collapse::combine(zones_x - x));
                    lambda - zones_lambda + rest
                }
                _ => lambda - own.lambda,
            };
            CellItem {
                feature,
                contribution,
                detail,
                marginal: s - score_of_pressure(inputs.v * without.max(0.0)),
            }
        })
        .collect()
}

/// Every contributor of a cell given its inputs, largest first.
pub fn contributors(
    store: &Store,
    cell: UnitId,
    inputs: &CellInputs,
    params: &RiskParams,
) -> Vec<Contributor> {
    let mut out: Vec<Contributor> = cell_items(inputs, params)
        .into_iter()
        .filter(|i| i.contribution > 0.0)
        .map(|i| {
            describe(
                store,
                cell,
                i.feature,
                i.contribution,
                i.detail,
                Some(i.marginal),
            )
        })
        .collect();
    out.sort_by(contributor_order);
    out
}

/// A feature's running total over the cells below a unit.
struct Acc {
    total: f64,
    best: f64,
    cell: UnitId,
    detail: f64,
}

/// Every contributor of a unit of any level, largest first.
pub fn unit_contributors(store: &Store, scores: &Scores, unit: UnitId) -> Vec<Contributor> {
    let params = scores.params();
    if store.unit(unit).level == Level::Cell {
        let Some(v) = scores.get(unit).and_then(|s| s.components()).map(|c| c.v) else {
            return Vec::new();
        };
        let inputs = CellInputs::gather(store, unit, v, params);
        return contributors(store, unit, &inputs, params);
    }
    let mut acc: HashMap<FeatureRef, Acc> = HashMap::new();
    let mut order: Vec<FeatureRef> = Vec::new();
    let mut stack = vec![(unit, 1.0f64)];
    while let Some((id, factor)) = stack.pop() {
        let s = scores.unit(id);
        if factor <= 0.0 || s.score() <= 0.0 {
            continue;
        }
        if store.unit(id).level != Level::Cell {
            let kids = child_weights(store, &scores.units, id, params);
            stack.extend(kids.into_iter().rev().map(|(c, k)| (c, factor * k)));
            continue;
        }
        let v = s.components().map_or(params.exposure.base, |c| c.v);
        let inputs = CellInputs::gather(store, id, v, params);
        for item in cell_items(&inputs, params) {
            let a = acc.entry(item.feature).or_insert_with(|| {
                order.push(item.feature);
                Acc {
                    total: 0.0,
                    best: f64::NEG_INFINITY,
                    cell: id,
                    detail: item.detail,
                }
            });
            a.total += factor * item.contribution;
            if item.contribution > a.best {
                a.best = item.contribution;
                a.cell = id;
                a.detail = item.detail;
            }
        }
    }
    let mut out: Vec<Contributor> = order
        .iter()
        .filter_map(|f| acc.get(f).map(|a| (f, a)))
        .filter(|(_, a)| a.total > 0.0)
        .map(|(&f, a)| describe(store, a.cell, f, a.total, a.detail, None))
        .collect();
    out.sort_by(contributor_order);
    out
}

/// "1.5 km", "800 m", or "格内" (inside the cell).
fn distance_text(d: f64) -> String {
    if d <= 0.0 {
        "格内".to_string()
    } else if d < 1000.0 {
        format!("{d:.0} m")
    } else {
        format!("{:.1} km", d / 1000.0)
    }
}

fn describe(
    store: &Store,
    cell: UnitId,
    feature: FeatureRef,
    contribution: f64,
    detail: f64,
    marginal: Option<f64>,
) -> Contributor {
    let ds = &store.dataset;
    let plus = format!("+{:.1}", round1(contribution));
    let component = feature.component();
    let (id, name, facts) = match feature {
        FeatureRef::HazardSource(i) => match ds.hazard_sources.get(i as usize) {
            Some(s) => {
                let watch = if s.monitored { " 在线监测" } else { "" };
                let facts = format!("{} {}{watch}", s.grade.label_zh(), distance_text(detail));
                (s.id.clone(), s.name.clone(), facts)
            }
            None => (format!("HS#{i}"), String::new(), distance_text(detail)),
        },
        FeatureRef::Enterprise(i) => match ds.enterprises.get(i as usize) {
            Some(e) => {
                let mut facts = format!(
                    "{} {} {}",
                    e.name,
                    e.industry.label_zh(),
                    e.risk_grade.label_zh()
                );
                if e.hidden_dangers_open > 0 {
                    facts.push_str(&format!(" 隐患{}", e.hidden_dangers_open));
                }
                if e.major_hidden_dangers_open > 0 {
                    facts.push_str(&format!(" 重大隐患{}", e.major_hidden_dangers_open));
                }
                if e.blacklisted {
                    facts.push_str(" 黑名单");
                }
                (e.id.clone(), e.name.clone(), facts)
            }
            None => (format!("E#{i}"), String::new(), String::new()),
        },
        FeatureRef::CollapseZone(i) => match ds.collapse_zones.get(i as usize) {
            Some(z) => {
                let facts = format!(
                    "{} {}级 覆盖{:.0}%",
                    z.kind.label_zh(),
                    z.severity.get(),
                    detail * 100.0
                );
                (z.id.clone(), z.kind.label_zh().to_string(), facts)
            }
            None => (format!("CZ#{i}"), String::new(), String::new()),
        },
        // No hidden-danger or alarm layer is loaded yet: index-based ids.
        FeatureRef::HiddenDanger(i) => (format!("HD#{i}"), "独立隐患".into(), "独立隐患".into()),
        FeatureRef::Alarm(i) => match store.alarms().get(i) {
            Some(a) => {
                let r = &a.record;
                let kind = r.kind.map_or("监测预警", |k| k.label_zh());
                let ack = if r.status() == crate::model::AlarmStatus::Acknowledged {
                    " 已确认"
                } else {
                    ""
                };
                let facts = format!(
                    "{} {kind}{ack} {}",
                    r.level.label_zh(),
                    distance_text(detail)
                );
                (r.id.clone(), kind.to_string(), facts)
            }
            None => (
                format!("AL#{i}"),
                "监测预警".into(),
                format!("监测预警 {}", distance_text(detail)),
            ),
        },
    };
    let label = if facts.is_empty() {
        format!("{id} → {} {plus}", component.as_str())
    } else {
        format!("{id} {facts} → {} {plus}", component.as_str())
    };
    Contributor {
        layer: feature.layer(),
        domain: domain_of(store, feature),
        component,
        id,
        name,
        contribution,
        label,
        marginal,
        feature,
        cell,
    }
}

#[cfg(test)]
mod tests {
    use crate::index::Store;
    use crate::model::{Dataset, Level};
    use crate::risk::fixtures::arb;
    use crate::risk::score::{FeatureRef, contributor_order};
    use crate::risk::{RiskParams, score_all};
    use proptest::prelude::*;

    fn without(ds: &Dataset, feature: FeatureRef) -> Dataset {
        let mut out = ds.clone();
        match feature {
            FeatureRef::Enterprise(i) => {
                out.enterprises.remove(i as usize);
            }
            FeatureRef::HazardSource(i) => {
                out.hazard_sources.remove(i as usize);
            }
            FeatureRef::CollapseZone(i) => {
                out.collapse_zones.remove(i as usize);
            }
            FeatureRef::HiddenDanger(_) | FeatureRef::Alarm(_) => {}
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn contributions_add_up_at_every_level(ds in arb::dataset()) {
            let p = RiskParams::default();
            let store = Store::build(ds.clone());
            let scores = score_all(&store, &p);
            for (id, s) in scores.iter() {
                let all = scores.contributors(&store, id);
                for pair in all.windows(2) {
                    prop_assert!(contributor_order(&pair[0], &pair[1]).is_lt());
                }
                let sum: f64 = all.iter().map(|c| c.contribution).sum();
                prop_assert!((sum - s.score()).abs() < 1e-9, "{sum} vs {}", s.score());
                let domains: f64 = s.domains().iter().map(|(_, x)| x).sum();
                prop_assert!((domains - s.score()).abs() < 1e-9);
                for (d, x) in s.domains() {
                    let by: f64 = all.iter().filter(|c| c.domain == *d).map(|c| c.contribution).sum();
                    prop_assert!((by - x).abs() < 1e-9, "{d:?}: {by} vs {x}");
                }
                prop_assert!(all.iter().all(|c| c.contribution > 0.0));
                prop_assert!(all.is_empty() == (s.score() == 0.0));
            }
        }

        #[test]
        fn marginal_is_s_minus_s_without_the_feature(ds in arb::dataset()) {
            let p = RiskParams::default();
            let store = Store::build(ds.clone());
            let scores = score_all(&store, &p);
            for &cell in store.units_at(Level::Cell) {
                for c in scores.contributors(&store, cell) {
                    let other = score_all(&Store::build(without(&ds, c.feature)), &p);
                    let expected = scores.unit(cell).score() - other.unit(cell).score();
                    let m = c.marginal.unwrap_or(f64::NAN);
                    prop_assert!((m - expected).abs() < 1e-9, "{m} vs {expected}");
                    prop_assert_eq!(c.cell, cell);
                }
            }
        }
    }

    #[test]
    fn only_features_that_reach_are_listed() {
        use crate::risk::fixtures::*;
        let ds = Dataset {
            units: grid4x4(),
            hazard_sources: vec![hazard("HS-far", 4, false, X0 + 0.5, Y0)],
            enterprises: vec![enterprise(
                "E-out",
                X0 - 0.1,
                Y0,
                crate::model::Industry::Gas,
                crate::model::RiskLevel::Major,
            )],
            ..Dataset::default()
        };
        let store = Store::build(ds);
        let scores = score_all(&store, &RiskParams::default());
        for (id, _) in scores.iter() {
            assert!(scores.contributors(&store, id).is_empty());
        }
    }
}
