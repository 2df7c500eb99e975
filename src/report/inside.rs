//! The features inside a grid unit: enterprises and hazard sources by
//! point-in-polygon (through their cell), collapse zones by intersection.

use crate::index::{Store, UnitId};
use crate::model::Level;
use geo::Intersects;

/// Indices of the features inside one grid unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inside {
    /// Unit cells at or below the unit.
    pub cells: Vec<UnitId>,
    /// Enterprises (indices) located in those cells.
    pub enterprises: Vec<u32>,
    /// Hazard sources (indices) located in those cells.
    pub hazard_sources: Vec<u32>,
    /// Collapse zones (indices) intersecting the unit.
    pub collapse_zones: Vec<u32>,
}

/// The unit cells at or below `unit`, in code order.
pub fn cells_below(store: &Store, unit: UnitId) -> Vec<UnitId> {
    let mut out = Vec::new();
    let mut stack = vec![unit];
    while let Some(u) = stack.pop() {
        if store.unit(u).level == Level::Cell {
            out.push(u);
        } else {
            stack.extend(store.children(u).iter().rev());
        }
    }
    out.sort_unstable();
    out
}

impl Inside {
    /// Gathers what lies inside `unit`.
    pub fn gather(store: &Store, unit: UnitId) -> Inside {
        let cells = cells_below(store, unit);
        let mut enterprises: Vec<u32> = cells
            .iter()
            .flat_map(|&c| store.enterprises_in_cell(c).iter().copied())
            .collect();
        enterprises.sort_unstable();
        let geom = &store.unit(unit).geometry;
        let env = crate::index::envelope_of(geom);
        let env = rstar::RTreeObject::envelope(&env);
        let hazard_sources: Vec<u32> = store
            .hazards_in_envelope(&env)
            .filter(|&h| {
                store
                    .hazard_cell(h)
                    .is_some_and(|c| store.is_within(c, unit))
            })
            .collect::<std::collections::BTreeSet<u32>>()
            .into_iter()
            .collect();
        let collapse_zones: Vec<u32> = store
            .zones_in_envelope(&env)
            .filter(|&z| {
                store.dataset.collapse_zones[z as usize]
                    .geometry
                    .intersects(geom)
            })
            .collect::<std::collections::BTreeSet<u32>>()
            .into_iter()
            .collect();
        Inside {
            cells,
            enterprises,
            hazard_sources,
            collapse_zones,
        }
    }

    /// Open hidden dangers and open major hidden dangers of the enterprises
    /// inside.
    pub fn hidden_dangers(&self, store: &Store) -> (u64, u64) {
        self.enterprises.iter().fold((0, 0), |(open, major), &e| {
            let e = &store.dataset.enterprises[e as usize];
            (
                open + u64::from(e.hidden_dangers_open),
                major + u64::from(e.major_hidden_dangers_open),
            )
        })
    }
}
