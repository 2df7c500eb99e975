//! The data model: layer and level names, attribute enums, typed features.

mod calendar;
pub mod columns;
#[macro_use]
mod enums;
mod alarm;
mod danger;
mod feature;
mod layer;
pub mod short_names;
pub mod uscc;
mod value;

pub use alarm::{Alarm, AlarmLevel, AlarmStatus, BadLevel, Sensor, SensorKind, is_rfc3339};
pub use calendar::{civil_from_days, days_in_month};
pub use columns::ColumnKind;
pub use danger::{
    BadDate, DangerCategory, DangerGrade, DangerSource, DangerStatus, Date, HiddenDanger,
    OtherCategory,
};
pub use enums::{CollapseKind, HazardGrade, Industry, RiskLevel, Severity};
pub use feature::{CollapseZone, Dataset, Enterprise, GridUnit, HazardSource};
pub use layer::{LayerId, Level, UnknownName};
pub use value::{Value, unsigned_zero};
