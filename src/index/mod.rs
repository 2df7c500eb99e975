//! Spatial indexes: the [`Store`] with one R-tree per layer and the grid
//! hierarchy (county → town → village → cell).

mod store;

pub use store::{IndexedBox, IndexedPoint, Store, UnitId, aabb, envelope_of};
