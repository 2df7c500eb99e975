//! The one place for coordinate reference systems.
//!
//! Storage is lon/lat degrees in WGS84/CGCS2000 (treated as identical: they
//! differ by centimetres). Input layers may declare EPSG:3857, GCJ-02 or
//! BD-09; [`Crs::to_wgs84`] brings them home. Metric work (areas, distances)
//! goes through [`metric::LocalProjection`], tile work through [`mercator`].

pub mod chinese;
pub mod mercator;
pub mod metric;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A coordinate reference system an input layer may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Crs {
    /// WGS84 lon/lat (EPSG:4326, axis order lon/lat as in GeoJSON).
    #[default]
    Wgs84,
    /// CGCS2000 lon/lat (EPSG:4490); treated as identical to WGS84.
    Cgcs2000,
    /// Web Mercator metres (EPSG:3857).
    WebMercator,
    /// GCJ-02, the obfuscated datum of Chinese consumer maps.
    Gcj02,
    /// BD-09, Baidu's datum (GCJ-02 plus a further offset).
    Bd09,
}

impl Crs {
    /// Converts one coordinate of this CRS to WGS84 lon/lat.
    pub fn to_wgs84(self, x: f64, y: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (x, y),
            Crs::WebMercator => mercator::to_lon_lat(x, y),
            Crs::Gcj02 => chinese::gcj02_to_wgs84(x, y),
            Crs::Bd09 => {
                let (gx, gy) = chinese::bd09_to_gcj02(x, y);
                chinese::gcj02_to_wgs84(gx, gy)
            }
        }
    }

    /// The name used in configs.
    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "EPSG:4326",
            Crs::Cgcs2000 => "EPSG:4490",
            Crs::WebMercator => "EPSG:3857",
            Crs::Gcj02 => "GCJ02",
            Crs::Bd09 => "BD09",
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A CRS name that is not supported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported crs {0:?} (use EPSG:4326, EPSG:4490, EPSG:3857, GCJ02 or BD09)")]
pub struct UnknownCrs(pub String);

impl FromStr for Crs {
    type Err = UnknownCrs;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_uppercase().replace(['-', '_'], "");
        match t.as_str() {
            "EPSG:4326" | "WGS84" | "CRS84" | "OGC:CRS84" => Ok(Crs::Wgs84),
            "EPSG:4490" | "CGCS2000" => Ok(Crs::Cgcs2000),
            "EPSG:3857" | "EPSG:900913" | "WEBMERCATOR" => Ok(Crs::WebMercator),
            "GCJ02" => Ok(Crs::Gcj02),
            "BD09" | "BD09LL" => Ok(Crs::Bd09),
            _ => Err(UnknownCrs(s.to_string())),
        }
    }
}

impl TryFrom<String> for Crs {
    type Error = UnknownCrs;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Crs> for String {
    fn from(c: Crs) -> String {
        c.as_str().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        assert_eq!("gcj-02".parse::<Crs>().ok(), Some(Crs::Gcj02));
        assert_eq!("EPSG:4490".parse::<Crs>().ok(), Some(Crs::Cgcs2000));
        assert_eq!("bd09".parse::<Crs>().ok(), Some(Crs::Bd09));
        assert!("EPSG:4527".parse::<Crs>().is_err());
    }
}
