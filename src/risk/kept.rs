//! [`KeptInputs`]: the inputs of unit cells that alarms do not change,
//! kept from one live write to the next.
//!
//! A batch of alarms reaches hundreds of cells whose enterprises, hidden
//! dangers, collapse zones and hazard sources stay as they were; gathering
//! those again is most of a rescore. A cell only alarms reach is rescored
//! from its kept inputs with its alarm terms gathered again, which is the
//! same [`CellInputs`] a full gather gives, so the score is the same to the
//! bit. A cell any other write reaches (a hidden danger, a dispatch, a
//! hazard source whose monitored factor an alarm lifts or restores) is
//! gathered whole and kept anew.
//!
//! At most one entry per unit cell, shared between snapshots (a clone
//! copies one pointer); each entry records the as-of day its terms were
//! gathered for and is used only on that day.

use super::cell::CellInputs;
use crate::index::UnitId;
use crate::model::Date;
use std::sync::Arc;

/// The kept inputs of the cells rescored since the load (see the module
/// doc).
#[derive(Debug, Clone, Default)]
pub struct KeptInputs {
    cells: imbl::GenericHashMap<
        UnitId,
        Arc<Kept>,
        foldhash::fast::RandomState,
        imbl::shared_ptr::DefaultSharedPtr,
    >,
}

#[derive(Debug)]
struct Kept {
    day: Date,
    /// The inputs with no alarm term.
    inputs: CellInputs,
}

impl KeptInputs {
    /// The kept inputs of `cell` for `day` with `alarms` as its alarm
    /// terms and `v` as its exposure; `None` when none are kept for that
    /// day.
    pub fn with_alarms(
        &self,
        cell: UnitId,
        day: Date,
        v: f64,
        alarms: impl FnOnce() -> Vec<super::alarm::AlarmTerm>,
    ) -> Option<CellInputs> {
        let kept = self.cells.get(&cell).filter(|k| k.day == day)?;
        let i = &kept.inputs;
        Some(CellInputs {
            hazards: i.hazards.clone(),
            enterprises: i.enterprises.clone(),
            dangers: i.dangers.clone(),
            zones: i.zones.clone(),
            alarms: alarms(),
            v,
        })
    }

    /// Keeps the inputs of `cell` gathered for `day`, without their alarm
    /// terms.
    pub fn keep(&mut self, cell: UnitId, day: Date, inputs: CellInputs) {
        let inputs = CellInputs {
            alarms: Vec::new(),
            ..inputs
        };
        self.cells.insert(cell, Arc::new(Kept { day, inputs }));
    }
}
