//! The `hidden_dangers` layer: its canonical table and writing it into a
//! dataset folder in the folder's own format (the generator, and base files
//! with a journal applied).

use super::tables::layer_table;
use super::{FeatureTable, GeometryKind, WriteError, write_table};
use crate::model::{HiddenDanger, LayerId, columns};
use geo::Geometry;
use std::path::{Path, PathBuf};

/// The `hidden_dangers` table of `dangers`: points (every record has one:
/// its own or its enterprise's) with the canonical fields and words of
/// [`columns::HIDDEN_DANGERS`].
pub fn hidden_dangers_table(dangers: &[HiddenDanger]) -> FeatureTable {
    layer_table(
        LayerId::HiddenDangers,
        GeometryKind::Point,
        columns::HIDDEN_DANGERS,
        dangers,
        |d| Geometry::Point(d.location),
    )
}

/// Extensions a dataset folder's layers may be written in, in the order
/// [`folder_extension`] looks for them.
const FOLDER_EXTENSIONS: [&str; 5] = ["fgb", "geojson", "csv", "gpkg", "shp"];

/// The extension a dataset folder's files are in: that of an existing
/// `hidden_dangers` file, else that of its `enterprises` or `grid_cells`
/// file, else `fgb`.
pub fn folder_extension(dir: &Path) -> &'static str {
    for stem in [
        LayerId::HiddenDangers.as_str(),
        LayerId::Enterprises.as_str(),
        LayerId::GridCells.as_str(),
    ] {
        if let Some(ext) = FOLDER_EXTENSIONS
            .iter()
            .find(|ext| dir.join(format!("{stem}.{ext}")).exists())
        {
            return ext;
        }
    }
    "fgb"
}

/// Writes `dangers` as the `hidden_dangers` layer of the dataset folder
/// `dir`, in the folder's format ([`folder_extension`]), replacing the
/// layer's file atomically. Returns the path written.
pub fn write_hidden_dangers(dir: &Path, dangers: &[HiddenDanger]) -> Result<PathBuf, WriteError> {
    let ext = folder_extension(dir);
    let path = dir.join(format!("{}.{ext}", LayerId::HiddenDangers.as_str()));
    write_table(&path, &hidden_dangers_table(dangers))?;
    Ok(path)
}
