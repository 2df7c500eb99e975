//! E — enterprises inside the cell (by geometry, not by `cell_code`).
//!
//! wₑ = industry × grade × (1 + step · min(open, cap)) × (major factor if any
//! major hidden danger is open) × (blacklist factor if blacklisted)
//! × (1 + coefficient · log₁₀(1 + employees)); E = 100 · (1 − exp(−Σw / saturation)).

use super::params::EnterpriseParams;
use crate::index::{Store, UnitId};
use crate::model::Enterprise;

/// One enterprise's term in its cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnterpriseTerm {
    /// Index of the enterprise in the dataset.
    pub index: u32,
    /// Its weight wₑ.
    pub w: f64,
}

/// The weight wₑ of an enterprise.
pub fn weight(e: &Enterprise, params: &EnterpriseParams) -> f64 {
    let hidden = f64::from(e.hidden_dangers_open.min(params.hidden_danger_cap));
    let mut w = params.industry_weights.get(e.industry)
        * params.grade_weights.get(e.risk_grade)
        * (1.0 + params.hidden_danger_step * hidden);
    if e.major_hidden_dangers_open > 0 {
        w *= params.major_hidden_factor;
    }
    if e.blacklisted {
        w *= params.blacklist_factor;
    }
    w * (1.0 + params.employees_coefficient * (1.0 + f64::from(e.employees)).log10())
}

/// E from the sum of the weights.
pub fn saturate(sum_w: f64, params: &EnterpriseParams) -> f64 {
    (100.0 * (1.0 - (-sum_w.max(0.0) / params.saturation).exp())).clamp(0.0, 100.0)
}

/// The terms of the enterprises inside `cell` with a positive weight, by index.
pub fn terms(store: &Store, cell: UnitId, params: &EnterpriseParams) -> Vec<EnterpriseTerm> {
    let mut out: Vec<EnterpriseTerm> = store
        .enterprises_in_cell(cell)
        .iter()
        .map(|&index| EnterpriseTerm {
            index,
            w: weight(&store.dataset.enterprises[index as usize], params),
        })
        .filter(|t| t.w > 0.0)
        .collect();
    out.sort_by_key(|t| t.index);
    out
}

/// The sum of the terms' weights, in their order.
pub fn sum(terms: &[EnterpriseTerm]) -> f64 {
    terms.iter().map(|t| t.w).sum()
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
        assert!((saturate(52.0, &p) - 57.96).abs() < 0.005);
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
        assert_eq!(saturate(0.0, &p), 0.0);
        assert!(saturate(1e9, &p) <= 100.0);
    }
}
