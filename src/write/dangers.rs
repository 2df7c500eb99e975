//! The `hidden_dangers` layer: its canonical table and writing it into a
//! dataset folder in the folder's own format (the generator, and base files
//! with a journal applied).

use super::{
    Column, ColumnKind, FeatureTable, GeometryKind, TableFeature, WriteError, write_table,
};
use crate::model::{HiddenDanger, LayerId, Value};
use geo::Geometry;
use std::path::{Path, PathBuf};

/// The canonical fields of the `hidden_dangers` layer, in file order
/// (every one text; dates are `YYYY-MM-DD`).
pub const HIDDEN_DANGER_FIELDS: [&str; 11] = [
    "id",
    "enterprise_id",
    "category",
    "grade",
    "description",
    "source",
    "found_at",
    "deadline",
    "responsible",
    "status",
    "closed_at",
];

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn opt<T: ToString>(v: Option<T>) -> Value {
    v.map(|v| Value::Text(v.to_string())).unwrap_or(Value::Null)
}

/// The `hidden_dangers` table of `dangers`: points (every record has one:
/// its own or its enterprise's) with the canonical fields and words.
pub fn hidden_dangers_table(dangers: &[HiddenDanger]) -> FeatureTable {
    FeatureTable {
        name: LayerId::HiddenDangers.as_str().to_string(),
        geometry_type: GeometryKind::Point,
        columns: HIDDEN_DANGER_FIELDS
            .iter()
            .map(|n| Column::new(n, ColumnKind::Text))
            .collect(),
        features: dangers
            .iter()
            .map(|d| TableFeature {
                geometry: Geometry::Point(d.location),
                values: vec![
                    text(&d.id),
                    opt(d.enterprise_id.as_deref()),
                    text(d.category.as_str()),
                    text(d.grade.as_str()),
                    text(&d.description),
                    text(d.source.as_str()),
                    text(&d.found_at.to_string()),
                    opt(d.deadline),
                    opt(d.responsible.as_deref()),
                    text(d.status.as_str()),
                    opt(d.closed_at),
                ],
            })
            .collect(),
    }
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
