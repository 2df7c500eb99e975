//! Contributors of a cell: how much each feature raises its score.
//!
//! A feature's contribution is S minus the S the cell would have without that
//! one feature, everything else unchanged; contributions need not add up to
//! S. Only features with a positive term (a source within reach, an
//! enterprise of positive weight inside, a zone overlapping) are listed,
//! largest first, ties by layer then id. Labels read like
//! `HS-0007 一级 1.5 km → H +25.0`: the feature, what places it, and the
//! component it acts through with its contribution to S.

use super::cell::CellInputs;
use super::collapse;
use super::enterprise;
use super::hazard;
use super::params::RiskParams;
use super::score::{self, Contributor, round1};
use crate::index::{Store, UnitId};
use crate::model::LayerId;

/// One feature before its label is written.
struct Candidate {
    layer: LayerId,
    /// Position in the matching list of [`CellInputs`].
    slot: usize,
    contribution: f64,
}

/// The contributors of `cell` given its inputs, largest first; at most
/// `limit` of them if given.
pub fn contributors(
    store: &Store,
    cell: UnitId,
    inputs: &CellInputs,
    params: &RiskParams,
    limit: Option<usize>,
) -> Vec<Contributor> {
    let comps = inputs.components(params);
    let s = comps.score();
    let mut out: Vec<Candidate> =
        Vec::with_capacity(inputs.hazards.len() + inputs.enterprises.len() + inputs.zones.len());
    for slot in 0..inputs.hazards.len() {
        let h = hazard::combine(
            inputs
                .hazards
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != slot)
                .map(|(_, t)| t.h),
        );
        out.push(Candidate {
            layer: LayerId::HazardSources,
            slot,
            contribution: s - score::combine(h, comps.e, comps.c, comps.v),
        });
    }
    let sum_w = enterprise::sum(&inputs.enterprises);
    for (slot, t) in inputs.enterprises.iter().enumerate() {
        let e = enterprise::saturate(sum_w - t.w, &params.enterprise);
        out.push(Candidate {
            layer: LayerId::Enterprises,
            slot,
            contribution: s - score::combine(comps.h, e, comps.c, comps.v),
        });
    }
    let sum_t = collapse::sum(&inputs.zones);
    for (slot, t) in inputs.zones.iter().enumerate() {
        let c = collapse::combine(sum_t - t.t);
        out.push(Candidate {
            layer: LayerId::CollapseZones,
            slot,
            contribution: s - score::combine(comps.h, comps.e, c, comps.v),
        });
    }
    let id_of = |c: &Candidate| -> &str { feature_id(store, inputs, c) };
    out.sort_by(|a, b| {
        b.contribution
            .total_cmp(&a.contribution)
            .then(a.layer.cmp(&b.layer))
            .then_with(|| id_of(a).cmp(id_of(b)))
    });
    if let Some(n) = limit {
        out.truncate(n);
    }
    out.iter()
        .map(|c| describe(store, cell, inputs, c))
        .collect()
}

fn feature_id<'a>(store: &'a Store, inputs: &CellInputs, c: &Candidate) -> &'a str {
    let ds = &store.dataset;
    match c.layer {
        LayerId::HazardSources => &ds.hazard_sources[inputs.hazards[c.slot].index as usize].id,
        LayerId::Enterprises => &ds.enterprises[inputs.enterprises[c.slot].index as usize].id,
        _ => &ds.collapse_zones[inputs.zones[c.slot].index as usize].id,
    }
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

fn describe(store: &Store, cell: UnitId, inputs: &CellInputs, c: &Candidate) -> Contributor {
    let ds = &store.dataset;
    let plus = format!("+{:.1}", round1(c.contribution));
    let (id, name, label) = match c.layer {
        LayerId::HazardSources => {
            let t = &inputs.hazards[c.slot];
            let s = &ds.hazard_sources[t.index as usize];
            let watch = if s.monitored { " 在线监测" } else { "" };
            let label = format!(
                "{} {} {}{watch} → H {plus}",
                s.id,
                s.grade.label_zh(),
                distance_text(t.distance_m)
            );
            (s.id.clone(), s.name.clone(), label)
        }
        LayerId::Enterprises => {
            let t = &inputs.enterprises[c.slot];
            let e = &ds.enterprises[t.index as usize];
            let mut facts = format!("{} {}", e.industry.label_zh(), e.risk_grade.label_zh());
            if e.hidden_dangers_open > 0 {
                facts.push_str(&format!(" 隐患{}", e.hidden_dangers_open));
            }
            if e.major_hidden_dangers_open > 0 {
                facts.push_str(&format!(" 重大隐患{}", e.major_hidden_dangers_open));
            }
            if e.blacklisted {
                facts.push_str(" 黑名单");
            }
            let label = format!("{} {} {facts} → E {plus}", e.id, e.name);
            (e.id.clone(), e.name.clone(), label)
        }
        _ => {
            let t = &inputs.zones[c.slot];
            let z = &ds.collapse_zones[t.index as usize];
            let label = format!(
                "{} {} {}级 覆盖{:.0}% → C {plus}",
                z.id,
                z.kind.label_zh(),
                z.severity.get(),
                t.overlap * 100.0
            );
            (z.id.clone(), z.kind.label_zh().to_string(), label)
        }
    };
    Contributor {
        layer: c.layer,
        id,
        name,
        contribution: c.contribution,
        label,
        cell,
    }
}

#[cfg(test)]
mod tests {
    use crate::index::Store;
    use crate::model::{Dataset, LayerId, Level};
    use crate::risk::fixtures::arb;
    use crate::risk::{RiskParams, score_all};
    use proptest::prelude::*;

    fn without(ds: &Dataset, layer: LayerId, id: &str) -> Dataset {
        let mut out = ds.clone();
        match layer {
            LayerId::Enterprises => out.enterprises.retain(|e| e.id != id),
            LayerId::HazardSources => out.hazard_sources.retain(|h| h.id != id),
            _ => out.collapse_zones.retain(|z| z.id != id),
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn contribution_is_s_minus_s_without_the_feature(ds in arb::dataset()) {
            let p = RiskParams::default();
            let store = Store::build(ds.clone());
            let scores = score_all(&store, &p);
            for &cell in store.units_at(Level::Cell) {
                let all = scores.explain_all(&store, cell);
                let top = scores.unit(cell).contributors();
                prop_assert_eq!(&all[..top.len()], top);
                for pair in all.windows(2) {
                    prop_assert!(crate::risk::score::contributor_order(&pair[0], &pair[1]).is_lt());
                }
                for c in &all {
                    let other = score_all(&Store::build(without(&ds, c.layer, &c.id)), &p);
                    let expected = scores.unit(cell).score() - other.unit(cell).score();
                    prop_assert!((c.contribution - expected).abs() < 1e-9, "{} vs {expected}", c.contribution);
                    prop_assert!(c.contribution >= 0.0);
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
        for &cell in store.units_at(Level::Cell) {
            assert!(scores.explain_all(&store, cell).is_empty());
        }
    }
}
