//! [`Prepared`]: what the tile pipeline computes once per dataset instead
//! of once per tile — polygons projected and generalised per zoom
//! ([`UnitShapes`]) and enterprises in a Z-order [`PointPyramid`].

use super::TilePolicy;
use super::points::{PointInput, PointPyramid};
use super::shapes::UnitShapes;
use crate::crs::mercator::from_lon_lat;
use crate::index::{Store, UnitId};
use crate::model::LayerId;
use rayon::prelude::*;

/// Last zoom a simplified copy is made for; beyond it tiles simplify the
/// full-resolution polygons themselves.
const LAST_COPY_ZOOM: u8 = 16;

/// Per-dataset tile preparation; see the module documentation.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    /// Enterprises in Z-order (ids are indexes into the dataset's list).
    pub enterprises: PointPyramid,
    units: Vec<UnitShapes>,
    zones: Vec<UnitShapes>,
    /// The tolerance and extent the copies were simplified with.
    tolerance: f64,
    extent: u32,
}

impl Prepared {
    /// Prepares every grid unit, collapse zone and enterprise of `store` for
    /// tiles cut with `policy` (in parallel).
    pub fn build(store: &Store, policy: &TilePolicy) -> Prepared {
        let copies = |mp, layer| {
            UnitShapes::build(
                mp,
                policy.minzoom(layer),
                LAST_COPY_ZOOM,
                policy.tolerance,
                policy.extent,
            )
        };
        let units = store
            .units()
            .par_iter()
            .map(|u| copies(&u.geometry, u.level.layer()))
            .collect();
        let zones = store
            .dataset
            .collapse_zones
            .par_iter()
            .map(|z| copies(&z.geometry, LayerId::CollapseZones))
            .collect();
        let enterprises =
            PointPyramid::build(store.dataset.enterprises.iter().enumerate().map(|(i, e)| {
                let (mx, my) = from_lon_lat(e.location.x(), e.location.y());
                PointInput {
                    mx,
                    my,
                    grade: e.risk_grade,
                    id: i as u32,
                }
            }));
        Prepared {
            enterprises,
            units,
            zones,
            tolerance: policy.tolerance,
            extent: policy.extent,
        }
    }

    /// The shapes of grid unit `id` (`None` for a unit the preparation
    /// does not know, which a consistent snapshot never asks for).
    pub fn unit(&self, id: UnitId) -> Option<&UnitShapes> {
        self.units.get(id as usize)
    }

    /// The shapes of collapse zone `i`.
    pub fn zone(&self, i: u32) -> Option<&UnitShapes> {
        self.zones.get(i as usize)
    }

    /// Whether the per-zoom copies were simplified exactly as `policy`
    /// would simplify a tile (so a tile need not simplify them again).
    pub fn matches(&self, policy: &TilePolicy) -> bool {
        self.tolerance == policy.tolerance && self.extent == policy.extent
    }

    /// Vertices held in all copies of all polygons.
    pub fn vertices(&self) -> usize {
        self.units
            .iter()
            .chain(&self.zones)
            .map(UnitShapes::vertices)
            .sum()
    }
}
