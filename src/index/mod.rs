//! Spatial indexes: the [`Store`] with one R-tree per layer and the grid
//! hierarchy (county → town → village → cell).

mod alarms;
mod chunks;
mod dangers;
mod store;

pub use alarms::{AlarmBook, AlarmEntry};
pub use chunks::ChunkVec;
pub use dangers::{DangerBook, DangerEntry, DangerEvent, OpenCounts};
pub use store::{Base, IndexedBox, IndexedPoint, Store, UnitId, aabb, envelope_of};
