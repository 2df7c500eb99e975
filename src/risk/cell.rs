//! Scoring one unit cell: gather the features that affect it, combine.

use super::collapse::{self, ZoneTerm};
use super::enterprise::{self, EnterpriseTerm};
use super::explain;
use super::hazard::{self, HazardTerm};
use super::params::RiskParams;
use super::score::{Components, LevelCounts, UnitScore};
use crate::index::{Store, UnitId};

/// Every feature term of one cell, each list by feature index.
#[derive(Debug, Clone, PartialEq)]
pub struct CellInputs {
    /// Hazard sources within reach.
    pub hazards: Vec<HazardTerm>,
    /// Enterprises inside the cell.
    pub enterprises: Vec<EnterpriseTerm>,
    /// Collapse zones overlapping the cell.
    pub zones: Vec<ZoneTerm>,
    /// The cell's exposure multiplier V.
    pub v: f64,
}

impl CellInputs {
    /// The terms of `cell` in `store`, with its V.
    pub fn gather(store: &Store, cell: UnitId, v: f64, params: &RiskParams) -> CellInputs {
        CellInputs {
            hazards: hazard::terms(store, cell, &params.hazard),
            enterprises: enterprise::terms(store, cell, &params.enterprise),
            zones: collapse::terms(store, cell, &params.collapse),
            v,
        }
    }

    /// H, E, C and V.
    pub fn components(&self, params: &RiskParams) -> Components {
        Components {
            h: hazard::combine(self.hazards.iter().map(|t| t.h)),
            e: enterprise::saturate(enterprise::sum(&self.enterprises), &params.enterprise),
            c: collapse::combine(collapse::sum(&self.zones)),
            v: self.v,
        }
    }
}

/// The full score of one cell with exposure `v`.
pub fn score_cell(store: &Store, cell: UnitId, v: f64, params: &RiskParams) -> UnitScore {
    let inputs = CellInputs::gather(store, cell, v, params);
    let components = inputs.components(params);
    let contributors =
        explain::contributors(store, cell, &inputs, params, Some(params.top_contributors));
    UnitScore::new(
        components.score(),
        params,
        Some(components),
        LevelCounts::default(),
        None,
        contributors,
    )
}
