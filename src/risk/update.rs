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

use super::alarm;
use super::cell::{self, CellInputs};
use super::collapse;
use super::engine::{Scores, roll_up, score_all};
use super::hazard;
use super::kept::KeptInputs;
use super::params::RiskParams;
use super::score::UnitScore;
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
        if *params != self.params || self.grid != *store_after.grid_digest() {
            *self = score_all(store_after, params);
            return Update::Full;
        }
        let cells = change.affected_cells(store_after, params);
        let ancestors = self.rescore(store_after, &cells, params);
        Update::Incremental {
            cells: cells.len(),
            ancestors: ancestors.len(),
        }
    }

    /// Moves the scores to another as-of day: rescores `cells` (every cell
    /// whose records open, close or pass their deadline between the scored
    /// day and `as_of`, or changed) and their ancestors with the parameters
    /// pinned to `as_of`; returns the ancestors. Used by the daily history,
    /// which steps one day at a time.
    pub fn rescore_cells_on(
        &mut self,
        store_after: &Store,
        cells: &BTreeSet<UnitId>,
        as_of: crate::model::Date,
    ) -> BTreeSet<UnitId> {
        let mut params = self.params.clone();
        params.as_of = Some(as_of.to_string());
        self.params = params.clone();
        self.rescore(store_after, cells, &params)
    }

    fn rescore(
        &mut self,
        store_after: &Store,
        cells: &BTreeSet<UnitId>,
        params: &RiskParams,
    ) -> BTreeSet<UnitId> {
        let rescored: Vec<(UnitId, _)> = cells
            .par_iter()
            .map(|&c| {
                (
                    c,
                    cell::score_cell(store_after, c, self.exposure(c, params), params),
                )
            })
            .collect();
        for (c, s) in rescored {
            self.units.set(c as usize, s);
        }
        self.roll_up_ancestors(store_after, cells, params)
    }

    /// Rescores `cells` of `store_after` (the same grid as the scored one:
    /// only features changed) for a live write and rolls their ancestors
    /// up again, with the scored parameters; returns the ancestors. A cell
    /// of `alarms_only` (only alarms changed its inputs) with inputs in
    /// `kept` for the scored day is rescored from them with its alarm
    /// terms gathered again; any other cell is gathered whole. The inputs
    /// of every cell rescored are kept for the next write. The result
    /// equals [`score_all`] on `store_after` when `cells` holds every cell
    /// the change can reach and `kept` holds, for each cell of
    /// `alarms_only` it lists, inputs gathered from a store that differs
    /// from `store_after` in alarms only (see [`KeptInputs`]).
    pub fn rescore_cells_kept(
        &mut self,
        store_after: &Store,
        cells: &BTreeSet<UnitId>,
        alarms_only: &BTreeSet<UnitId>,
        kept: &mut KeptInputs,
    ) -> BTreeSet<UnitId> {
        let params = self.params.clone();
        let day = params.as_of_day();
        let rescored: Vec<(UnitId, UnitScore, CellInputs)> = cells
            .par_iter()
            .map(|&c| {
                let v = self.exposure(c, &params);
                let inputs = alarms_only
                    .contains(&c)
                    .then(|| kept.with_alarms(c, day, v, || alarm::terms(store_after, c, &params)))
                    .flatten()
                    .unwrap_or_else(|| cell::CellInputs::gather(store_after, c, v, &params));
                (c, cell::score_inputs(store_after, &inputs, &params), inputs)
            })
            .collect();
        for (c, s, inputs) in rescored {
            self.units.set(c as usize, s);
            kept.keep(c, day, inputs);
        }
        self.roll_up_ancestors(store_after, cells, &params)
    }

    /// The exposure V a cell was scored with.
    fn exposure(&self, cell: UnitId, params: &RiskParams) -> f64 {
        self.unit(cell)
            .components()
            .map(|k| k.v)
            .unwrap_or(params.exposure.base)
    }

    /// Rolls the ancestors of `cells` up again, deepest first; returns
    /// them.
    fn roll_up_ancestors(
        &mut self,
        store_after: &Store,
        cells: &BTreeSet<UnitId>,
        params: &RiskParams,
    ) -> BTreeSet<UnitId> {
        let ancestors: BTreeSet<UnitId> = cells
            .iter()
            .flat_map(|&c| store_after.ancestors(c))
            .collect();
        // Units are sorted coarsest level first: descending ids roll children
        // up before their parents.
        for &id in ancestors.iter().rev() {
            let s = roll_up(store_after, &self.units, id, params);
            self.units.set(id as usize, s);
        }
        ancestors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dataset, Level};
    use crate::risk::fixtures::{self, arb};
    use proptest::prelude::*;

    /// A cell of `alarms_only` with inputs kept for the scored day is
    /// rescored from them (here inputs that leave its enterprise out, to
    /// tell them apart); a cell not in it, or kept for another day, is
    /// gathered whole, and what is gathered is kept.
    #[test]
    fn kept_inputs_serve_only_alarm_only_cells_of_their_day() {
        let store = Store::build(Dataset {
            units: fixtures::grid4x4(),
            enterprises: vec![fixtures::enterprise(
                "E-1",
                fixtures::X0 + 0.5 * fixtures::SIDE,
                fixtures::Y0 + 0.5 * fixtures::SIDE,
                crate::model::Industry::HazardousChemicals,
                crate::model::RiskLevel::Major,
            )],
            ..Dataset::default()
        });
        let params = RiskParams::default().pinned();
        let day = params.as_of_day();
        let full = score_all(&store, &params);
        let c = store
            .cell_at(geo::Point::new(
                fixtures::X0 + 0.5 * fixtures::SIDE,
                fixtures::Y0 + 0.5 * fixtures::SIDE,
            ))
            .unwrap();
        let whole = cell::CellInputs::gather(&store, c, 1.0, &params);
        assert_eq!(whole.enterprises.len(), 1);
        let without = CellInputs {
            enterprises: Vec::new(),
            ..whole.clone()
        };
        let cells = BTreeSet::from([c]);
        let score = |kept: &mut KeptInputs, alarms_only: &BTreeSet<UnitId>| {
            let mut s = full.clone();
            s.rescore_cells_kept(&store, &cells, alarms_only, kept);
            s.unit(c).score()
        };
        let mut kept = KeptInputs::default();
        kept.keep(c, day, without.clone());
        assert_eq!(score(&mut kept.clone(), &cells), 0.0);
        assert!(full.unit(c).score() > 0.0);
        // Not alarm-only: gathered whole, and kept so.
        assert_eq!(score(&mut kept, &BTreeSet::new()), full.unit(c).score());
        assert_eq!(score(&mut kept, &cells), full.unit(c).score());
        // Kept for another day: gathered whole.
        let mut other = KeptInputs::default();
        other.keep(c, day.add_days(1), without);
        assert_eq!(score(&mut other, &cells), full.unit(c).score());
    }

    /// One random edit: layer 0–2 (enterprises, sources, zones), operation
    /// 0–2 (add, change, remove), a position, and the new features.
    type Edit = (u8, u8, usize, Enterprise, HazardSource, CollapseZone);

    fn edit() -> impl Strategy<Value = Edit> {
        (
            0u8..3,
            0u8..3,
            0usize..64,
            arb::enterprise(),
            arb::hazard(),
            arb::zone(),
        )
    }

    /// Applies an edit to a layer, returning (before, after) of the feature.
    fn edit_layer<T: Clone>(
        list: &mut Vec<T>,
        op: u8,
        pos: usize,
        mut new: T,
        id: impl Fn(&mut T) -> &mut String,
        fresh: String,
    ) -> Option<(Option<T>, Option<T>)> {
        match op {
            0 => {
                *id(&mut new) = fresh;
                list.push(new.clone());
                Some((None, Some(new)))
            }
            _ if list.is_empty() => None,
            1 => {
                let i = pos % list.len();
                *id(&mut new) = id(&mut list[i]).clone();
                let old = std::mem::replace(&mut list[i], new.clone());
                Some((Some(old), Some(new)))
            }
            _ => {
                let i = pos % list.len();
                Some((Some(list.remove(i)), None))
            }
        }
    }

    fn apply_edit(
        ds: &mut Dataset,
        step: usize,
        (layer, op, pos, e, h, z): Edit,
    ) -> Option<Change> {
        match layer {
            0 => edit_layer(
                &mut ds.enterprises,
                op,
                pos,
                e,
                |x| &mut x.id,
                format!("E-new-{step}"),
            )
            .map(|(before, after)| Change::Enterprise { before, after }),
            1 => edit_layer(
                &mut ds.hazard_sources,
                op,
                pos,
                h,
                |x| &mut x.id,
                format!("HS-new-{step}"),
            )
            .map(|(before, after)| Change::HazardSource { before, after }),
            _ => edit_layer(
                &mut ds.collapse_zones,
                op,
                pos,
                z,
                |x| &mut x.id,
                format!("CZ-new-{step}"),
            )
            .map(|(before, after)| Change::CollapseZone { before, after }),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn incremental_equals_full_rescore(
            ds in arb::dataset(),
            edits in prop::collection::vec(edit(), 1..8),
        ) {
            let p = RiskParams::default();
            let mut ds = ds;
            let mut scores = score_all(&Store::build(ds.clone()), &p);
            for (step, e) in edits.into_iter().enumerate() {
                let Some(change) = apply_edit(&mut ds, step, e) else { continue };
                let store = Store::build(ds.clone());
                let update = scores.apply(&store, &change, &p);
                let incremental = matches!(update, Update::Incremental { .. });
                prop_assert!(incremental);
                let full = score_all(&store, &p);
                prop_assert_eq!(&scores, &full);
            }
        }
    }

    #[test]
    fn population_change_rescores_everything() {
        let p = RiskParams::default();
        let mut ds = Dataset {
            units: fixtures::grid4x4(),
            hazard_sources: vec![fixtures::hazard(
                "HS-1",
                2,
                false,
                fixtures::X0,
                fixtures::Y0,
            )],
            ..Dataset::default()
        };
        let mut scores = score_all(&Store::build(ds.clone()), &p);
        if let Some(u) = ds.units.iter_mut().find(|u| u.level == Level::Cell) {
            u.population += 1234;
        }
        let store = Store::build(ds.clone());
        let change = Change::HazardSource {
            before: None,
            after: None,
        };
        assert_eq!(scores.apply(&store, &change, &p), Update::Full);
        assert_eq!(scores, score_all(&store, &p));
        let mut q = p.clone();
        q.rollup.max_weight = 0.5;
        assert_eq!(scores.apply(&store, &change, &q), Update::Full);
        assert_eq!(scores.params(), &q);
    }

    #[test]
    fn a_small_source_touches_few_cells() {
        let p = RiskParams::default();
        let mut ds = Dataset {
            units: fixtures::grid4x4(),
            ..Dataset::default()
        };
        let mut scores = score_all(&Store::build(ds.clone()), &p);
        let s = fixtures::hazard(
            "HS-1",
            4,
            false,
            fixtures::X0 + 0.0025,
            fixtures::Y0 + 0.0025,
        );
        ds.hazard_sources.push(s.clone());
        let store = Store::build(ds);
        let update = scores.apply(
            &store,
            &Change::HazardSource {
                before: None,
                after: Some(s),
            },
            &p,
        );
        // 500 m from the middle of a corner cell of ~500 m: itself and its 3 neighbours.
        assert_eq!(
            update,
            Update::Incremental {
                cells: 4,
                ancestors: 3
            }
        );
        assert_eq!(scores, score_all(&store, &p));
    }
}
