//! Incremental updates: one feature added, changed or removed.
//!
//! [`Store`] is immutable, so the caller builds the store *after* the change
//! (e.g. `Store::build` of the edited dataset) and passes it with the
//! [`Change`], which carries the feature before and after. [`Scores::apply`]
//! rescores only the cells the old or the new feature can reach (a hazard
//! source's reach, an enterprise's cell, a zone's envelope), then their
//! ancestors deepest first. The result equals [`score_all`] on the new store.
//!
//! A different grid (units, hierarchy, populations or areas) or different
//! parameters move V's percentiles or every score: `apply` then rescores
//! everything and says so.

use super::cell;
use super::collapse;
use super::engine::{Scores, grid_key, roll_up, score_all};
use super::hazard;
use super::params::RiskParams;
use crate::index::{Store, UnitId};
use crate::model::{CollapseZone, Enterprise, HazardSource};
use rayon::prelude::*;
use std::collections::BTreeSet;

/// One edit of a feature layer: `before` is `None` for an addition, `after`
/// is `None` for a removal.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// An enterprise.
    Enterprise {
        /// The enterprise as it was.
        before: Option<Enterprise>,
        /// The enterprise as it is.
        after: Option<Enterprise>,
    },
    /// A major hazard source.
    HazardSource {
        /// The source as it was.
        before: Option<HazardSource>,
        /// The source as it is.
        after: Option<HazardSource>,
    },
    /// A collapse zone.
    CollapseZone {
        /// The zone as it was.
        before: Option<CollapseZone>,
        /// The zone as it is.
        after: Option<CollapseZone>,
    },
}

/// What [`Scores::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// Only these many cells and ancestors were rescored.
    Incremental {
        /// Unit cells rescored.
        cells: usize,
        /// Villages, towns and counties rolled up again.
        ancestors: usize,
    },
    /// The grid or the parameters differ: everything was rescored.
    Full,
}

impl Change {
    /// The cells whose score the change can alter (in `store`'s grid).
    pub fn affected_cells(&self, store: &Store, params: &RiskParams) -> BTreeSet<UnitId> {
        let mut out = BTreeSet::new();
        match self {
            Change::Enterprise { before, after } => {
                for e in before.iter().chain(after) {
                    out.extend(store.cell_at(e.location));
                }
            }
            Change::HazardSource { before, after } => {
                for s in before.iter().chain(after) {
                    out.extend(hazard::cells_in_reach(store, s, &params.hazard));
                }
            }
            Change::CollapseZone { before, after } => {
                for z in before.iter().chain(after) {
                    out.extend(collapse::cells_touched(store, &z.geometry));
                }
            }
        }
        out
    }
}

impl Scores {
    /// Brings the scores up to date with `store_after`, the store with
    /// `change` applied, rescoring only what the change can reach (or
    /// everything if the grid or `params` differ from the scored ones).
    pub fn apply(&mut self, store_after: &Store, change: &Change, params: &RiskParams) -> Update {
        if *params != self.params || self.grid != grid_key(store_after) {
            *self = score_all(store_after, params);
            return Update::Full;
        }
        let cells = change.affected_cells(store_after, params);
        let rescored: Vec<(UnitId, _)> = cells
            .par_iter()
            .map(|&c| {
                let v = self
                    .unit(c)
                    .components()
                    .map(|k| k.v)
                    .unwrap_or(params.exposure.base);
                (c, cell::score_cell(store_after, c, v, params))
            })
            .collect();
        for (c, s) in rescored {
            self.units[c as usize] = s;
        }
        let ancestors: BTreeSet<UnitId> = cells
            .iter()
            .flat_map(|&c| store_after.ancestors(c))
            .collect();
        // Units are sorted coarsest level first: descending ids roll children
        // up before their parents.
        for &id in ancestors.iter().rev() {
            self.units[id as usize] = roll_up(store_after, &self.units, id, params);
        }
        Update::Incremental {
            cells: cells.len(),
            ancestors: ancestors.len(),
        }
    }
}
