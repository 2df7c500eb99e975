//! Composite vector tiles: one Mapbox Vector Tile (2.1) per `z/x/y` with
//! every served layer, plus the TileJSON document that describes them.
//!
//! Once per dataset, [`Prepared`] projects every polygon to Web Mercator and
//! simplifies it for each zoom ([`shapes`]), and sorts enterprises in
//! Z-order with prefix sums ([`points`]). The pipeline for one tile
//! ([`build_tile`]): R-tree envelope query with a buffer → the prepared copy
//! for the tile's zoom, mapped to tile space
//! ([`crate::crs::mercator::TileFrame`]) → clip ([`clip`]) → round and
//! orient ([`simplify`]) → cluster dense enterprise points (from the
//! pyramid, or [`cluster`] for a grid manager's own points) → encode
//! ([`encode`]). A [`TileFilter`] (`?industry=`, `?risk_level=`,
//! `?hazard_grade=`) narrows the enterprises and hazard sources; a filtered
//! tile clusters the enterprises it keeps itself, never from the pyramid,
//! which counts them all. [`cache`] keeps encoded tiles, one state per
//! tile; [`layer_cache`] is what rebuilds after live writes reuse (the
//! layers of the body replaced, the grid units' geometries);
//! [`gzip_layers`] makes gzip bodies one layer at a time; [`tilejson`]
//! describes the source; [`export`] pre-renders them into a PMTiles
//! archive.
//!
//! Risk fields come through the [`RiskLookup`] trait, so the builder does
//! not care where scores are kept. Grid units carry their 分系统 values as
//! `domain_<word>` properties ([`tile_domain_value`], [`domains_at_zoom`]); unit cells only for
//! a caller whose scope opens the cell.
//!
//! The tile path end to end, with the server around it: `docs/architecture.md`.

pub mod cache;
mod changes;
pub mod clip;
pub mod cluster;
mod compose;
pub mod encode;
mod filter;
mod geometry;
pub mod gzip_layers;
pub mod layer_cache;
pub mod points;
mod policy;
mod prepared;
mod risk;
pub mod shapes;
pub mod simplify;
pub mod tilejson;

pub use changes::{TRACKED_MAX_ZOOM, TileChanges, TileMarks};
pub use compose::{BuiltTile, GzippedTile, build_tile, build_tile_filtered, build_tile_gzip};
pub use filter::{
    HAZARD_GRADE_PARAM, INDUSTRY_PARAM, MAX_FILTER_VALUES, RISK_LEVEL_PARAM, TileFilter,
};
pub use geometry::{TileGeometry, TilePolygon, polygons_to_tile, shape_to_tile};
pub use layer_cache::{KeptLayers, LayerCache, Previous, Reuse};
pub use policy::TilePolicy;
pub use prepared::Prepared;
pub use risk::{RiskLookup, domain_zooms, domains_at_zoom, tile_domain_value};

/// The largest zoom a tile may be requested at.
pub const MAX_ZOOM: u8 = 22;

/// Errors of the tile pipeline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// The zoom is above [`MAX_ZOOM`].
    #[error("zoom {0} is above the maximum {MAX_ZOOM}")]
    ZoomTooHigh(u32),
    /// x or y is outside the zoom's grid.
    #[error("tile {z}/{x}/{y} is outside the grid of zoom {z}")]
    OutsideGrid {
        /// Zoom.
        z: u8,
        /// Column.
        x: u32,
        /// Row.
        y: u32,
    },
    /// A filter parameter names a value it does not know.
    #[error("{param}: unknown value {value:?}; accepted: {accepted}")]
    UnknownFilterValue {
        /// The query parameter (`industry`, `risk_level`, `hazard_grade`).
        param: &'static str,
        /// The item given (at most 64 characters of it).
        value: String,
        /// The words the parameter accepts.
        accepted: String,
    },
    /// A filter parameter lists more values than a filter may hold.
    #[error("{param}: at most {max} values")]
    TooManyFilterValues {
        /// The query parameter.
        param: &'static str,
        /// The most values one list may hold.
        max: usize,
    },
}

/// The address of one XYZ tile, checked against its zoom's grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    z: u8,
    x: u32,
    y: u32,
}

impl TileId {
    /// A tile address, if `z ≤ 22` and `x`, `y` lie in the zoom's grid.
    pub fn new(z: u32, x: u32, y: u32) -> Result<TileId, TileError> {
        let z = u8::try_from(z)
            .ok()
            .filter(|z| *z <= MAX_ZOOM)
            .ok_or(TileError::ZoomTooHigh(z))?;
        let n = 1u32 << z;
        if x >= n || y >= n {
            return Err(TileError::OutsideGrid { z, x, y });
        }
        Ok(TileId { z, x, y })
    }

    /// Zoom.
    pub fn z(self) -> u8 {
        self.z
    }

    /// Column (0 at the antimeridian, growing east).
    pub fn x(self) -> u32 {
        self.x
    }

    /// Row (0 at the north edge, growing south).
    pub fn y(self) -> u32 {
        self.y
    }
}

impl std::fmt::Display for TileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_ids_check_the_grid() {
        assert!(TileId::new(0, 0, 0).is_ok());
        assert_eq!(TileId::new(23, 0, 0), Err(TileError::ZoomTooHigh(23)));
        assert_eq!(TileId::new(300, 0, 0), Err(TileError::ZoomTooHigh(300)));
        assert!(matches!(
            TileId::new(1, 2, 0),
            Err(TileError::OutsideGrid { .. })
        ));
        assert!(TileId::new(22, (1 << 22) - 1, (1 << 22) - 1).is_ok());
        assert_eq!(
            TileId::new(3, 4, 5).map(|t| t.to_string()).ok().as_deref(),
            Some("3/4/5")
        );
    }
}
