//! E — enterprises inside the cell (by geometry, not by `cell_code`).
//!
//! wₑ = industry × grade × (1 + step · min(open, cap)) × (major factor if any
//! major hidden danger is open) × (overdue factor if any open danger is past
//! its deadline) × (blacklist factor if blacklisted)
//! × (1 + coefficient · log₁₀(1 + employees)); λₑ = wₑ / saturation.
//!
//! A hidden-danger record with no enterprise is a feature of its own:
//! w = the standalone general or major weight, × the overdue factor if past
//! its deadline, 0 once closed; λ = w / saturation.
//! E = 100 · (1 − e^(−Σλ)) over both.

use super::params::{EnterpriseParams, HiddenDangerParams, RiskParams};
use super::score::percent_of_pressure;
use crate::index::{OpenCounts, Store, UnitId};
use crate::model::{DangerGrade, Enterprise};

/// One enterprise's term in its cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnterpriseTerm {
    /// Index of the enterprise in the dataset.
    pub index: u32,
    /// Its weight wₑ.
    pub w: f64,
    /// λₑ = wₑ / saturation.
    pub lambda: f64,
}

/// One standalone hidden-danger record's term in its cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DangerTerm {
    /// Index of the record in its layer.
    pub index: u32,
    /// Its weight w.
    pub w: f64,
    /// λ = w / saturation.
    pub lambda: f64,
}

/// The weight wₑ of an enterprise from its own open-danger fields (no
/// overdue factor: the fields carry no deadline).
pub fn weight(e: &Enterprise, params: &EnterpriseParams) -> f64 {
    weight_with(e, false, params, &HiddenDangerParams::default())
}

/// The weight wₑ of an enterprise; `overdue`: one of its open dangers is
/// past its deadline on the as-of date.
pub fn weight_with(
    e: &Enterprise,
    overdue: bool,
    params: &EnterpriseParams,
    dangers: &HiddenDangerParams,
) -> f64 {
    let counts = OpenCounts {
        open: e.hidden_dangers_open,
        major_open: e.major_hidden_dangers_open,
        overdue,
    };
    weight_counted(e, counts, params, dangers)
}

/// The weight wₑ of an enterprise with `counts` for its open dangers in
/// place of its own fields.
pub fn weight_counted(
    e: &Enterprise,
    counts: OpenCounts,
    params: &EnterpriseParams,
    dangers: &HiddenDangerParams,
) -> f64 {
    let hidden = f64::from(counts.open.min(params.hidden_danger_cap));
    let mut w = params.industry_weights.get(e.industry)
        * params.grade_weights.get(e.risk_grade)
        * (1.0 + params.hidden_danger_step * hidden);
    if counts.major_open > 0 {
        w *= params.major_hidden_factor;
    }
    if counts.overdue {
        w *= dangers.overdue_factor;
    }
    if e.blacklisted {
        w *= params.blacklist_factor;
    }
    w * (1.0 + params.employees_coefficient * (1.0 + f64::from(e.employees)).log10())
}

/// The weight w of a standalone hidden-danger record (no enterprise).
pub fn standalone_weight(major: bool, overdue: bool, closed: bool, p: &HiddenDangerParams) -> f64 {
    if closed {
        return 0.0;
    }
    let w = if major {
        p.standalone_major
    } else {
        p.standalone_general
    };
    if overdue { w * p.overdue_factor } else { w }
}

/// E from the pressures of enterprises and standalone dangers, summed in
/// that order.
pub fn combine(enterprises: &[EnterpriseTerm], dangers: &[DangerTerm]) -> f64 {
    let lambda: f64 = enterprises.iter().map(|t| t.lambda).sum::<f64>()
        + dangers.iter().map(|t| t.lambda).sum::<f64>();
    percent_of_pressure(lambda)
}

/// The terms of the enterprises inside `cell` with a positive weight, by index.
///
/// Until a hidden-danger layer is loaded, an enterprise's open dangers come
/// from its own fields and none is overdue.
pub fn terms(store: &Store, cell: UnitId, params: &RiskParams) -> Vec<EnterpriseTerm> {
    let book = store.dangers();
    let as_of = params.as_of_day();
    let mut out: Vec<EnterpriseTerm> = store
        .enterprises_in_cell(cell)
        .iter()
        .map(|&index| {
            let e = &store.dataset.enterprises[index as usize];
            let w = match book.enterprise_counts(index, e, as_of) {
                Some(counts) => {
                    weight_counted(e, counts, &params.enterprise, &params.hidden_dangers)
                }
                None => weight_with(e, false, &params.enterprise, &params.hidden_dangers),
            };
            EnterpriseTerm {
                index,
                w,
                lambda: w / params.enterprise.saturation,
            }
        })
        .filter(|t| t.w > 0.0)
        .collect();
    out.sort_by_key(|t| t.index);
    out
}

/// The terms of the open hidden-danger records inside `cell` that belong
/// to no enterprise (or to one the dataset does not have), by index.
pub fn danger_terms(store: &Store, cell: UnitId, params: &RiskParams) -> Vec<DangerTerm> {
    let book = store.dangers();
    let as_of = params.as_of_day();
    book.in_cell(cell)
        .iter()
        .filter_map(|&index| {
            let entry = book.get(index)?;
            if entry.enterprise.is_some() {
                return None;
            }
            let r = &entry.record;
            let w = standalone_weight(
                r.grade == DangerGrade::Major,
                r.is_overdue(as_of),
                !r.is_open_on(as_of),
                &params.hidden_dangers,
            );
            (w > 0.0).then(|| DangerTerm {
                index,
                w,
                lambda: w / params.enterprise.saturation,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Industry, RiskLevel};
    use geo::Point;

    pub(crate) fn chemicals() -> Enterprise {
        Enterprise {
            id: "E-1".into(),
            name: "某化工有限公司".into(),
            uscc: None,
            industry: Industry::HazardousChemicals,
            risk_grade: RiskLevel::Major,
            employees: 0,
            hidden_dangers_open: 3,
            major_hidden_dangers_open: 0,
            blacklisted: false,
            cell_code: None,
            location: Point::new(118.0, 25.0),
        }
    }

    #[test]
    fn worked_example_3_weight() {
        let p = EnterpriseParams::default();
        let e = chemicals();
        assert!((weight(&e, &p) - 52.0).abs() < 1e-9);
        let t = EnterpriseTerm {
            index: 0,
            w: 52.0,
            lambda: 52.0 / p.saturation,
        };
        assert!((combine(&[t], &[]) - 57.96).abs() < 0.005);
    }

    #[test]
    fn worked_example_6_overdue() {
        let p = EnterpriseParams::default();
        let d = HiddenDangerParams::default();
        assert!((weight_with(&chemicals(), true, &p, &d) - 65.0).abs() < 1e-9);
        let t = EnterpriseTerm {
            index: 0,
            w: 65.0,
            lambda: 65.0 / p.saturation,
        };
        assert!((combine(&[t], &[]) - 66.15).abs() < 0.005);
    }

    #[test]
    fn standalone_dangers() {
        let d = HiddenDangerParams::default();
        assert_eq!(standalone_weight(false, false, false, &d), 2.0);
        assert_eq!(standalone_weight(true, false, false, &d), 8.0);
        assert_eq!(standalone_weight(true, true, false, &d), 10.0);
        assert_eq!(standalone_weight(true, true, true, &d), 0.0);
    }

    #[test]
    fn factors_apply() {
        let p = EnterpriseParams::default();
        let mut e = chemicals();
        e.hidden_dangers_open = 25;
        e.major_hidden_dangers_open = 1;
        e.blacklisted = true;
        e.employees = 99;
        // 10 · 4 · 2 (capped at 10) · 2 · 1.5 · (1 + 0.25 · 2)
        assert!((weight(&e, &p) - 360.0).abs() < 1e-9);
        assert_eq!(combine(&[], &[]), 0.0);
    }
}
