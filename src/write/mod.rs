//! Feature writers: GeoJSON, FlatGeobuf and CSV, chosen by file extension,
//! and with the `gdal` cargo feature GeoPackage and Shapefile; [`postgis`]
//! writes a table into a PostGIS database.
//!
//! A [`FeatureTable`] is a small generic table of typed columns and
//! geometries. [`write_table`] writes one table atomically (a temporary file
//! in the same directory, then a rename); [`dataset_tables`] turns a
//! [`Dataset`] into the five canonical layer tables and [`write_dataset`]
//! writes them into a directory.

mod alarms;
mod csv;
mod dangers;
mod fgb;
pub mod formula;
#[cfg(feature = "gdal")]
mod gdal;
mod geojson;
mod number;
pub mod postgis;
mod tables;

use crate::model::{Dataset, Value};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use crate::model::ColumnKind;
pub use alarms::{alarms_table, sensors_table, write_alarms};
pub use dangers::{folder_extension, hidden_dangers_table, write_hidden_dangers};
pub use tables::dataset_tables;

/// Geometry type of every feature of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GeometryKind {
    /// Points.
    Point,
    /// Polygons.
    Polygon,
    /// Multipolygons (polygons are promoted).
    MultiPolygon,
}

/// A named, typed column of a [`FeatureTable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column (property) name.
    pub name: String,
    /// Value type.
    pub kind: ColumnKind,
}

impl Column {
    /// A column named `name` of type `kind`.
    pub fn new(name: &str, kind: ColumnKind) -> Self {
        Column {
            name: name.to_string(),
            kind,
        }
    }
}

/// One feature of a [`FeatureTable`]: a geometry and one value per column
/// (`Value::Null` for none).
#[derive(Debug, Clone, PartialEq)]
pub struct TableFeature {
    /// Geometry, lon/lat degrees.
    pub geometry: geo::Geometry<f64>,
    /// Values, in column order.
    pub values: Vec<Value>,
}

/// A generic table of features with typed columns.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    /// Layer name (FlatGeobuf header name, GeoJSON `name`).
    pub name: String,
    /// Geometry type of every feature.
    pub geometry_type: GeometryKind,
    /// Columns.
    pub columns: Vec<Column>,
    /// Features.
    pub features: Vec<TableFeature>,
}

/// Output format of a whole dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// FlatGeobuf with a spatial index (`.fgb`).
    #[default]
    Fgb,
    /// GeoJSON (`.geojson`).
    GeoJson,
}

impl Format {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Fgb => "fgb",
            Format::GeoJson => "geojson",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// A format name that is not `fgb` or `geojson`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?} (use fgb or geojson)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fgb" | "flatgeobuf" => Ok(Format::Fgb),
            "geojson" | "json" => Ok(Format::GeoJson),
            _ => Err(UnknownFormat(s.to_string())),
        }
    }
}

/// What can go wrong while writing.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The extension is not `.geojson`, `.fgb` or `.csv`.
    #[error("{path}: unsupported output extension (use .geojson, .fgb or .csv)")]
    UnsupportedExtension {
        /// The path asked for.
        path: PathBuf,
    },
    /// The extension needs the `gdal` cargo feature (`.gpkg`, `.shp`).
    #[error("{path}: writing .{ext} needs GDAL: build riskmap with `--features gdal`")]
    NeedsGdal {
        /// The path asked for.
        path: PathBuf,
        /// The extension.
        ext: String,
    },
    /// A file system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The FlatGeobuf encoder failed.
    #[error("{path}: FlatGeobuf: {message}")]
    Fgb {
        /// The file.
        path: PathBuf,
        /// The encoder's message.
        message: String,
    },
    /// GDAL failed (GeoPackage, Shapefile).
    #[error("{path}: GDAL: {message}")]
    Gdal {
        /// The file.
        path: PathBuf,
        /// GDAL's message.
        message: String,
    },
    /// The CSV encoder failed.
    #[error("{path}: CSV: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The encoder's message.
        message: String,
    },
    /// A feature does not fit the table (geometry type or number of values).
    #[error("{path}: feature {index}: {message}")]
    BadFeature {
        /// The file.
        path: PathBuf,
        /// Index of the feature in the table.
        index: usize,
        /// What is wrong.
        message: String,
    },
}

/// Writes `table` to `path`; the format follows the extension (`.geojson`,
/// `.fgb`, `.csv`; with the `gdal` feature `.gpkg` and `.shp`). The file
/// appears whole or not at all. A Shapefile gets 10-byte field names (see
/// [`crate::model::short_names`]), a `.cpg` of UTF-8 and a legend beside it
/// ([`shapefile_legend`]).
pub fn write_table(path: &Path, table: &FeatureTable) -> Result<(), WriteError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let writer: fn(&Path, &FeatureTable, &mut BufWriter<File>) -> Result<(), WriteError> =
        match ext.as_deref() {
            Some("geojson") => geojson::write,
            Some("fgb") => fgb::write,
            Some("csv") => csv::write,
            #[cfg(feature = "gdal")]
            Some("gpkg") => {
                check_table(path, table)?;
                return gdal::write_gpkg(path, table);
            }
            #[cfg(feature = "gdal")]
            Some("shp") => {
                check_table(path, table)?;
                return gdal::write_shp(path, table).map(|_| ());
            }
            #[cfg(not(feature = "gdal"))]
            Some(e @ ("gpkg" | "shp")) => {
                return Err(WriteError::NeedsGdal {
                    path: path.to_path_buf(),
                    ext: e.to_string(),
                });
            }
            _ => {
                return Err(WriteError::UnsupportedExtension {
                    path: path.to_path_buf(),
                });
            }
        };
    check_table(path, table)?;
    atomic_write(path, |out| writer(path, table, out))
}

/// The legend written beside a Shapefile: `NAME.fields.csv` with
/// `short_name,field,type` per column.
pub fn shapefile_legend(shp: &Path) -> PathBuf {
    let stem = shp
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    shp.with_file_name(format!("{stem}.fields.csv"))
}

/// Writes the five layer files of `ds` (`enterprises`, `hazard_sources`,
/// `collapse_zones`, `grid_cells`, `counties`) and, when the dataset has
/// that layer, `hidden_dangers` into `dir` in `format`, creating `dir` if
/// needed. Returns the paths written, in that order.
pub fn write_dataset(dir: &Path, ds: &Dataset, format: Format) -> Result<Vec<PathBuf>, WriteError> {
    fs::create_dir_all(dir).map_err(|source| WriteError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths = Vec::new();
    for table in dataset_tables(ds) {
        let path = dir.join(format!("{}.{}", table.name, format.extension()));
        write_table(&path, &table)?;
        paths.push(path);
    }
    if ds.has_hidden_dangers {
        let path = dir.join(format!(
            "{}.{}",
            crate::model::LayerId::HiddenDangers,
            format.extension()
        ));
        write_table(&path, &hidden_dangers_table(&ds.hidden_dangers))?;
        paths.push(path);
    }
    for table in [sensors_table(&ds.sensors), alarms_table(&ds.alarms)] {
        if table.features.is_empty() {
            continue;
        }
        let path = dir.join(format!("{}.{}", table.name, format.extension()));
        write_table(&path, &table)?;
        paths.push(path);
    }
    Ok(paths)
}

fn check_table(path: &Path, table: &FeatureTable) -> Result<(), WriteError> {
    for (index, f) in table.features.iter().enumerate() {
        if f.values.len() != table.columns.len() {
            return Err(WriteError::BadFeature {
                path: path.to_path_buf(),
                index,
                message: format!(
                    "{} values for {} columns",
                    f.values.len(),
                    table.columns.len()
                ),
            });
        }
        let ok = matches!(
            (table.geometry_type, &f.geometry),
            (GeometryKind::Point, geo::Geometry::Point(_))
                | (GeometryKind::Polygon, geo::Geometry::Polygon(_))
                | (
                    GeometryKind::MultiPolygon,
                    geo::Geometry::Polygon(_) | geo::Geometry::MultiPolygon(_)
                )
        );
        if !ok {
            return Err(WriteError::BadFeature {
                path: path.to_path_buf(),
                index,
                message: format!("geometry is not a {:?}", table.geometry_type),
            });
        }
    }
    Ok(())
}

/// The polygons of a polygonal table geometry (empty for points).
fn polygons_of(g: &geo::Geometry<f64>) -> Vec<&geo::Polygon<f64>> {
    match g {
        geo::Geometry::Polygon(p) => vec![p],
        geo::Geometry::MultiPolygon(mp) => mp.0.iter().collect(),
        _ => Vec::new(),
    }
}

/// Runs `body` on a buffered temporary file next to `path`, then renames it
/// over `path`; the temporary file is removed on failure.
fn atomic_write(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> Result<(), WriteError>,
) -> Result<(), WriteError> {
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| WriteError::Io { path: p, source }
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let file = File::create(&tmp).map_err(io_err(&tmp))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        body(&mut out)?;
        let file = out.into_inner().map_err(|e| io_err(&tmp)(e.into_error()))?;
        file.sync_all().map_err(io_err(&tmp))?;
        drop(file);
        fs::rename(&tmp, path).map_err(io_err(path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Maps an I/O error while writing `path`.
fn io_error(path: &Path) -> impl Fn(io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Geometry, Point, polygon};

    fn points() -> FeatureTable {
        FeatureTable {
            name: "pts".into(),
            geometry_type: GeometryKind::Point,
            columns: vec![
                Column::new("id", ColumnKind::Text),
                Column::new("n", ColumnKind::Int),
                Column::new("x", ColumnKind::Float),
                Column::new("ok", ColumnKind::Bool),
            ],
            features: vec![
                TableFeature {
                    geometry: Geometry::Point(Point::new(118.123_456_789, 24.9)),
                    values: vec![
                        Value::Text("甲\"1".into()),
                        Value::Int(3),
                        Value::Float(2.5),
                        Value::Bool(true),
                    ],
                },
                TableFeature {
                    geometry: Geometry::Point(Point::new(-0.000_000_01, 0.0)),
                    values: vec![
                        Value::Text("b".into()),
                        Value::Null,
                        Value::Null,
                        Value::Bool(false),
                    ],
                },
            ],
        }
    }

    fn polygons() -> FeatureTable {
        // Clockwise on purpose: writers must orient it.
        let p = polygon![(x: 0.0, y: 0.0), (x: 0.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0, y: 0.0)];
        FeatureTable {
            name: "polys".into(),
            geometry_type: GeometryKind::MultiPolygon,
            columns: vec![Column::new("code", ColumnKind::Text)],
            features: vec![TableFeature {
                geometry: Geometry::Polygon(p),
                values: vec![Value::Text("350502".into())],
            }],
        }
    }

    #[test]
    fn geojson_is_typed_and_rounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.geojson");
        write_table(&path, &points()).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let f = &v["features"][0];
        assert_eq!(
            f["geometry"]["coordinates"][0],
            serde_json::json!(118.1234568)
        );
        assert_eq!(f["properties"]["id"], "甲\"1");
        assert_eq!(f["properties"]["n"], 3);
        assert_eq!(f["properties"]["x"], 2.5);
        assert_eq!(f["properties"]["ok"], true);
        assert!(v["features"][1]["properties"]["n"].is_null());
        assert_eq!(
            v["features"][1]["geometry"]["coordinates"][0],
            serde_json::json!(0)
        );
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn geojson_rings_are_counter_clockwise() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.geojson");
        write_table(&path, &polygons()).unwrap();
        let gj: ::geojson::GeoJson = fs::read_to_string(&path).unwrap().parse().unwrap();
        let fc = ::geojson::FeatureCollection::try_from(gj).unwrap();
        let g: Geometry<f64> = fc.features[0].geometry.clone().unwrap().try_into().unwrap();
        let Geometry::MultiPolygon(mp) = g else {
            panic!("not a multipolygon")
        };
        use geo::Winding;
        assert!(mp.0[0].exterior().is_ccw());
    }

    #[test]
    fn csv_has_bom_and_coordinates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.csv");
        write_table(&path, &points()).unwrap();
        let bytes = fs::read(&path).unwrap();
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("id,n,x,ok,lon,lat"));
        assert_eq!(
            lines.next(),
            Some("\"甲\"\"1\",3,2.5,true,118.1234568,24.9")
        );
        let path = dir.path().join("q.csv");
        write_table(&path, &polygons()).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("code,wkt"), "{text}");
        assert!(
            text.contains("MULTIPOLYGON (((0 0,1 0,1 1,0 1,0 0)))"),
            "{text}"
        );
    }

    #[test]
    fn fgb_round_trips() {
        use flatgeobuf::{FallibleStreamingIterator, FgbReader};
        use geozero::{FeatureProperties, ToGeo};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.fgb");
        write_table(&path, &points()).unwrap();
        let mut file = std::io::BufReader::new(File::open(&path).unwrap());
        let reader = FgbReader::open(&mut file).unwrap();
        assert_eq!(reader.header().features_count(), 2);
        assert_eq!(reader.header().crs().map(|c| c.code()), Some(4326));
        let cols: Vec<String> = reader
            .header()
            .columns()
            .unwrap()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        assert_eq!(cols, ["id", "n", "x", "ok"]);
        let mut it = reader.select_all_seq().unwrap();
        let mut ids = Vec::new();
        while let Some(f) = it.next().unwrap() {
            let props = f.properties().unwrap();
            ids.push(props["id"].clone());
            assert!(matches!(f.to_geo().unwrap(), Geometry::Point(_)));
        }
        ids.sort();
        assert_eq!(ids, ["b", "甲\"1"]);
    }

    #[test]
    fn unsupported_extension_names_the_path() {
        let err = write_table(Path::new("/tmp/x.xyz"), &points()).unwrap_err();
        assert!(err.to_string().contains("/tmp/x.xyz"), "{err}");
    }

    #[cfg(not(feature = "gdal"))]
    #[test]
    fn gdal_formats_say_how_to_build() {
        for ext in ["shp", "gpkg"] {
            let path = PathBuf::from(format!("/tmp/x.{ext}"));
            let err = write_table(&path, &points()).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("/tmp/x.{ext}")) && msg.contains("--features gdal"),
                "{msg}"
            );
        }
    }

    #[test]
    fn mismatched_geometry_is_refused() {
        let mut t = points();
        t.geometry_type = GeometryKind::Polygon;
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            write_table(&dir.path().join("a.geojson"), &t),
            Err(WriteError::BadFeature { index: 0, .. })
        ));
    }

    #[test]
    fn formats_parse() {
        assert_eq!("fgb".parse::<Format>().ok(), Some(Format::Fgb));
        assert_eq!("GeoJSON".parse::<Format>().ok(), Some(Format::GeoJson));
        assert!("shp".parse::<Format>().is_err());
    }
}
