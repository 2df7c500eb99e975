//! Spatial indexes: the [`Store`] with one R-tree per layer and the grid
//! hierarchy (county → town → village → cell).

mod alarms;
mod chunks;
mod dangers;
mod id_table;
mod store;

pub use alarms::{AlarmBook, AlarmEntry};
pub use chunks::ChunkVec;
pub use dangers::{DangerBook, DangerEntry, DangerEvent, OpenCounts};
pub use id_table::IdTable;
pub use store::{Base, IndexedBox, IndexedPoint, Store, UnitId, aabb, envelope_of};
