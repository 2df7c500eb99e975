//! The `sensors` and `alarms` layers: their canonical tables (the
//! generator writes them into the demo folder).

use super::tables::layer_table;
use super::{FeatureTable, GeometryKind, WriteError, folder_extension, write_table};
use crate::model::{Alarm, LayerId, Sensor, columns};
use geo::Geometry;
use std::path::{Path, PathBuf};

/// The `sensors` table: points with the fields of [`columns::SENSORS`].
pub fn sensors_table(sensors: &[Sensor]) -> FeatureTable {
    layer_table(
        LayerId::Sensors,
        GeometryKind::Point,
        columns::SENSORS,
        sensors,
        |s| Geometry::Point(s.location),
    )
}

/// The `alarms` table: points with the fields of [`columns::ALARMS`].
pub fn alarms_table(alarms: &[Alarm]) -> FeatureTable {
    layer_table(
        LayerId::Alarms,
        GeometryKind::Point,
        columns::ALARMS,
        alarms,
        |a| Geometry::Point(a.location),
    )
}

/// Writes `alarms` as the `alarms` layer of the dataset folder `dir`
/// (replacing an existing `alarms` file in its format, else in the
/// folder's format). Returns the path written.
pub fn write_alarms(dir: &Path, alarms: &[Alarm]) -> Result<PathBuf, WriteError> {
    let stem = LayerId::Alarms.as_str();
    let ext = ["fgb", "geojson", "csv", "gpkg", "shp"]
        .into_iter()
        .find(|ext| dir.join(format!("{stem}.{ext}")).exists())
        .unwrap_or_else(|| folder_extension(dir));
    let path = dir.join(format!("{stem}.{ext}"));
    write_table(&path, &alarms_table(alarms))?;
    Ok(path)
}
