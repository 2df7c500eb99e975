//! OGC API – Features Part 2: the coordinate reference systems offered for
//! output (`crs`) and for `bbox` (`bbox-crs`), with their axis orders.
//!
//! Storage is CRS84 (lon/lat). EPSG:4326 and EPSG:4490 named by URI are
//! latitude first; EPSG:3857 is easting/northing in metres.

use super::OgcError;
use crate::crs::mercator;

/// A CRS the API can answer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OgcCrs {
    /// OGC CRS84: WGS84 lon/lat (the default and the storage CRS).
    Crs84,
    /// EPSG:4326, WGS84 lat/lon.
    Epsg4326,
    /// EPSG:4490, CGCS2000 lat/lon (treated as identical to WGS84).
    Epsg4490,
    /// EPSG:3857, Web Mercator metres, x/y.
    Epsg3857,
}

impl OgcCrs {
    /// Every CRS offered, the default first.
    pub const ALL: [OgcCrs; 4] = [
        OgcCrs::Crs84,
        OgcCrs::Epsg4326,
        OgcCrs::Epsg4490,
        OgcCrs::Epsg3857,
    ];

    /// The CRS URI (as in `crs`, `bbox-crs`, `Content-Crs`).
    pub fn uri(self) -> &'static str {
        match self {
            OgcCrs::Crs84 => "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            OgcCrs::Epsg4326 => "http://www.opengis.net/def/crs/EPSG/0/4326",
            OgcCrs::Epsg4490 => "http://www.opengis.net/def/crs/EPSG/0/4490",
            OgcCrs::Epsg3857 => "http://www.opengis.net/def/crs/EPSG/0/3857",
        }
    }

    /// The `Content-Crs` header value: the URI in angle brackets.
    pub fn content_crs(self) -> &'static str {
        match self {
            OgcCrs::Crs84 => "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>",
            OgcCrs::Epsg4326 => "<http://www.opengis.net/def/crs/EPSG/0/4326>",
            OgcCrs::Epsg4490 => "<http://www.opengis.net/def/crs/EPSG/0/4490>",
            OgcCrs::Epsg3857 => "<http://www.opengis.net/def/crs/EPSG/0/3857>",
        }
    }

    /// Parses a CRS URI; also accepts `https`, the safe CURIE `[EPSG:4326]`,
    /// the URN `urn:ogc:def:crs:EPSG::4326` (and `urn:ogc:def:crs:OGC:1.3:CRS84`)
    /// and the short `EPSG:4326` / `CRS84` forms.
    pub fn parse(name: &str, raw: &str) -> Result<OgcCrs, OgcError> {
        let t = raw.trim();
        let t = t
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap_or(t);
        let lower = t.to_ascii_lowercase();
        let t = if let Some(rest) = lower
            .strip_prefix("http://www.opengis.net/def/crs/")
            .or_else(|| lower.strip_prefix("https://www.opengis.net/def/crs/"))
        {
            // AUTHORITY/VERSION/CODE
            let parts: Vec<&str> = rest.split('/').collect();
            match parts.as_slice() {
                [auth, _version, code] => format!("{auth}:{code}"),
                _ => lower.clone(),
            }
        } else if let Some(rest) = lower.strip_prefix("urn:ogc:def:crs:") {
            // AUTHORITY:[VERSION]:CODE
            let parts: Vec<&str> = rest.split(':').collect();
            match parts.as_slice() {
                [auth, _version, code] => format!("{auth}:{code}"),
                _ => lower.clone(),
            }
        } else {
            lower.clone()
        };
        match t.to_ascii_uppercase().as_str() {
            "OGC:CRS84" | "CRS84" => Ok(OgcCrs::Crs84),
            "EPSG:4326" => Ok(OgcCrs::Epsg4326),
            "EPSG:4490" => Ok(OgcCrs::Epsg4490),
            "EPSG:3857" => Ok(OgcCrs::Epsg3857),
            _ => Err(OgcError::param(
                name,
                format!(
                    "unsupported CRS {raw:?}; use one of {}",
                    OgcCrs::ALL.map(OgcCrs::uri).join(", ")
                ),
            )),
        }
    }

    /// Whether coordinates in this CRS are latitude first.
    pub fn lat_first(self) -> bool {
        matches!(self, OgcCrs::Epsg4326 | OgcCrs::Epsg4490)
    }

    /// A stored lon/lat position in this CRS's axis order.
    pub fn from_lon_lat(self, lon: f64, lat: f64) -> [f64; 2] {
        match self {
            OgcCrs::Crs84 => [lon, lat],
            OgcCrs::Epsg4326 | OgcCrs::Epsg4490 => [lat, lon],
            OgcCrs::Epsg3857 => {
                let (x, y) = mercator::from_lon_lat(lon, lat);
                [x, y]
            }
        }
    }

    /// A position given in this CRS's axis order, as lon/lat.
    pub fn to_lon_lat(self, a: f64, b: f64) -> [f64; 2] {
        match self {
            OgcCrs::Crs84 => [a, b],
            OgcCrs::Epsg4326 | OgcCrs::Epsg4490 => [b, a],
            OgcCrs::Epsg3857 => {
                let (lon, lat) = mercator::to_lon_lat(a, b);
                [lon, lat]
            }
        }
    }

    /// The valid range of each axis, in axis order.
    fn axis_ranges(self) -> [(f64, f64); 2] {
        let lon = (-180.0, 180.0);
        let lat = (-90.0, 90.0);
        let m = mercator::HALF_WORLD;
        match self {
            OgcCrs::Crs84 => [lon, lat],
            OgcCrs::Epsg4326 | OgcCrs::Epsg4490 => [lat, lon],
            OgcCrs::Epsg3857 => [(-m, m), (-m, m)],
        }
    }
}

/// Parses `bbox` (4 or 6 numbers, in `crs`'s axis order) into lon/lat
/// boxes `[west, south, east, north]`: two when it crosses the antimeridian.
pub fn parse_bbox(raw: &str, crs: OgcCrs) -> Result<Vec<[f64; 4]>, OgcError> {
    if raw.split(',').nth(6).is_some() {
        return Err(OgcError::param(
            "bbox",
            "expected 4 or 6 numbers, found more than 6",
        ));
    }
    let nums: Vec<f64> = raw
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| OgcError::param("bbox", format!("{raw:?} is not a list of numbers")))?;
    let (lo, hi) = match nums.as_slice() {
        [a, b, c, d] => ([*a, *b], [*c, *d]),
        [a, b, _, d, e, _] => ([*a, *b], [*d, *e]),
        _ => {
            return Err(OgcError::param(
                "bbox",
                format!("expected 4 or 6 numbers, found {}", nums.len()),
            ));
        }
    };
    if nums.iter().any(|v| !v.is_finite()) {
        return Err(OgcError::param("bbox", "numbers must be finite"));
    }
    let ranges = crs.axis_ranges();
    for (axis, (min, max)) in ranges.iter().enumerate() {
        for v in [lo[axis], hi[axis]] {
            if v < *min || v > *max {
                return Err(OgcError::param(
                    "bbox",
                    format!("{v} is outside [{min}, {max}] for {}", crs.uri()),
                ));
            }
        }
    }
    let [w, s] = crs.to_lon_lat(lo[0], lo[1]);
    let [e, n] = crs.to_lon_lat(hi[0], hi[1]);
    if s > n {
        return Err(OgcError::param(
            "bbox",
            "the lower corner is north of the upper corner",
        ));
    }
    if w > e {
        Ok(vec![[w, s, 180.0, n], [-180.0, s, e, n]])
    } else {
        Ok(vec![[w, s, e, n]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uris_and_short_forms() {
        for c in OgcCrs::ALL {
            assert_eq!(OgcCrs::parse("crs", c.uri()), Ok(c));
            assert_eq!(c.content_crs(), format!("<{}>", c.uri()));
        }
        assert_eq!(OgcCrs::parse("crs", "EPSG:4490"), Ok(OgcCrs::Epsg4490));
        assert_eq!(OgcCrs::parse("crs", "[EPSG:3857]"), Ok(OgcCrs::Epsg3857));
        assert_eq!(
            OgcCrs::parse("crs", "https://www.opengis.net/def/crs/OGC/1.3/CRS84"),
            Ok(OgcCrs::Crs84)
        );
        assert!(OgcCrs::parse("crs", "http://www.opengis.net/def/crs/EPSG/0/4548").is_err());
        for (spelling, crs) in [
            ("urn:ogc:def:crs:EPSG::4490", OgcCrs::Epsg4490),
            ("urn:ogc:def:crs:EPSG:9.8.15:4326", OgcCrs::Epsg4326),
            ("URN:OGC:DEF:CRS:EPSG::3857", OgcCrs::Epsg3857),
            ("urn:ogc:def:crs:OGC:1.3:CRS84", OgcCrs::Crs84),
            ("urn:ogc:def:crs:OGC::CRS84", OgcCrs::Crs84),
            ("epsg:4490", OgcCrs::Epsg4490),
            (
                "http://www.opengis.net/def/crs/EPSG/0/4490",
                OgcCrs::Epsg4490,
            ),
        ] {
            assert_eq!(OgcCrs::parse("crs", spelling), Ok(crs), "{spelling}");
        }
        for bad in [
            "urn:ogc:def:crs:EPSG::4548",
            "urn:ogc:def:crs:EPSG:4326",
            "http://www.opengis.net/def/crs/EPSG/4326",
            "EPSG:",
            "",
        ] {
            assert!(OgcCrs::parse("crs", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn axis_order() {
        assert_eq!(OgcCrs::Epsg4326.from_lon_lat(118.6, 24.9), [24.9, 118.6]);
        assert_eq!(OgcCrs::Crs84.from_lon_lat(118.6, 24.9), [118.6, 24.9]);
        let [x, y] = OgcCrs::Epsg3857.from_lon_lat(118.6, 24.9);
        let [lon, lat] = OgcCrs::Epsg3857.to_lon_lat(x, y);
        assert!((lon - 118.6).abs() < 1e-9 && (lat - 24.9).abs() < 1e-9);
    }

    #[test]
    fn bboxes() {
        assert_eq!(
            parse_bbox("118,24,119,25", OgcCrs::Crs84),
            Ok(vec![[118.0, 24.0, 119.0, 25.0]])
        );
        assert_eq!(
            parse_bbox("24,118,25,119", OgcCrs::Epsg4490),
            Ok(vec![[118.0, 24.0, 119.0, 25.0]])
        );
        assert_eq!(
            parse_bbox("118,24,0,119,25,10", OgcCrs::Crs84),
            Ok(vec![[118.0, 24.0, 119.0, 25.0]])
        );
        assert_eq!(
            parse_bbox("170,0,-170,1", OgcCrs::Crs84).map(|v| v.len()),
            Ok(2)
        );
        for bad in [
            "1,2,3",
            "1,2,3,4,5,6,7",
            "a,b,c,d",
            "118,25,119,24",
            "0,0,200,1",
            "NaN,0,1,1",
            "",
        ] {
            assert!(parse_bbox(bad, OgcCrs::Crs84).is_err(), "{bad}");
        }
        assert!(parse_bbox("118,24,119,25", OgcCrs::Epsg4326).is_err());
    }
}
