//! What reading a dataset needs to know: the settings of each input layer
//! (`[layers.NAME]`: file, CRS, field names, …), what to do with invalid
//! features, and, in [`Options`], the few other settings the readers use.
//! `riskmap.toml` holds these, and the config hands them over with
//! `Config::ingest`; ingest itself reads no config.

use crate::crs::Crs;
use crate::model::LayerId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What to do with features that fail validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnInvalid {
    /// Refuse the whole dataset and list every problem (the default).
    #[default]
    Reject,
    /// Drop bad features with a warning per feature, and go on.
    Skip,
}

/// Settings for one input layer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LayerConfig {
    /// The layer's file, relative to the data directory; by default the
    /// first of `NAME.fgb`, `NAME.geojson`, `NAME.csv` (and, with the `gdal`
    /// feature, `NAME.gpkg`, `NAME.shp`, `NAME.xlsx`, …) that exists. With
    /// the `gdal` feature it may also be a PostGIS connection string
    /// (`PG:dbname=… host=…`).
    pub file: Option<PathBuf>,
    /// The CRS of the file's coordinates. A file read through GDAL that
    /// declares a projected CRS (a Shapefile's `.prj`, a GeoPackage's SRS)
    /// is converted from that CRS instead.
    pub crs: Crs,
    /// The layer (table, sheet) to read from a source that holds several
    /// (GeoPackage, PostGIS, Excel; `gdal` feature). By default the only
    /// layer, or the one named like riskmap's layer (`enterprises`, …).
    pub layer: Option<String>,
    /// The text encoding of a Shapefile's DBF (`gdal` feature), e.g. `GBK`
    /// or `UTF-8`. By default its `.cpg` file or language byte, else
    /// detected (UTF-8 if the text is valid UTF-8, GBK otherwise).
    pub encoding: Option<String>,
    /// Field-name mapping: canonical field → the file's column name
    /// (e.g. `name = "企业名称"`, `lon = "经度"`).
    pub fields: BTreeMap<String, String>,
    /// The layer may disappear: a reload whose source lacks this layer,
    /// or holds no feature of it, while the serving data has some, is
    /// accepted (by default it is refused, so that a deleted or truncated
    /// file never lowers every score unnoticed). Never for `grid_cells`,
    /// which must always hold cells.
    pub optional: bool,
}

/// Settings per input layer (`[layers.enterprises]`, …).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LayersConfig {
    /// `[layers.enterprises]`.
    pub enterprises: LayerConfig,
    /// `[layers.hazard_sources]`.
    pub hazard_sources: LayerConfig,
    /// `[layers.collapse_zones]`.
    pub collapse_zones: LayerConfig,
    /// `[layers.grid_cells]`.
    pub grid_cells: LayerConfig,
    /// `[layers.counties]`.
    pub counties: LayerConfig,
    /// `[layers.hidden_dangers]`.
    pub hidden_dangers: LayerConfig,
    /// `[layers.sensors]`.
    pub sensors: LayerConfig,
    /// `[layers.alarms]`.
    pub alarms: LayerConfig,
}

impl LayersConfig {
    /// The settings of an input layer (served-only layers get the defaults).
    pub fn get(&self, layer: LayerId) -> &LayerConfig {
        static DEFAULT: std::sync::OnceLock<LayerConfig> = std::sync::OnceLock::new();
        match layer {
            LayerId::Enterprises => &self.enterprises,
            LayerId::HazardSources => &self.hazard_sources,
            LayerId::CollapseZones => &self.collapse_zones,
            LayerId::GridCells => &self.grid_cells,
            LayerId::Counties => &self.counties,
            LayerId::HiddenDangers => &self.hidden_dangers,
            LayerId::Sensors => &self.sensors,
            LayerId::Alarms => &self.alarms,
            _ => DEFAULT.get_or_init(LayerConfig::default),
        }
    }
}

/// Everything the readers and the validator take from the configuration.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// Per-layer files, CRS and field names.
    pub layers: &'a LayersConfig,
    /// What to do with invalid features.
    pub on_invalid: OnInvalid,
    /// Bytes that enter the data version besides the files (the scoring
    /// constants with the as-of day fixed: scores measure "overdue"
    /// against it, so a new day is a new version).
    pub version_salt: Vec<u8>,
    /// Extra CA certificates for a database source's TLS.
    pub tls_ca: Option<&'a Path>,
    /// A database source's version table (`""`: none).
    pub version_table: &'a str,
    /// Keep validated features of a data folder in its snapshot cache.
    pub snapshot_cache: bool,
    /// Only folders whose inputs total this many MiB are cached.
    pub snapshot_cache_min_mb: u64,
}
