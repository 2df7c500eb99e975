//! Geometry literals of spatial predicates: positions in `filter-crs` axis
//! order turned into lon/lat `geo` geometries, from WKT pieces (text
//! encoding) or GeoJSON (JSON encoding). Every shape has a fixed nesting,
//! so nothing here recurses on the input.

use crate::ogc::crs::OgcCrs;
use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use serde_json::Value;

/// A position of 2 (or 3, the height ignored) numbers in `crs` axis order,
/// as lon/lat.
pub fn position(nums: &[f64], crs: OgcCrs) -> Result<Coord<f64>, String> {
    let (a, b) = match nums {
        [a, b] | [a, b, _] => (*a, *b),
        _ => {
            return Err(format!(
                "a position has 2 (or 3) numbers, found {}",
                nums.len()
            ));
        }
    };
    let [lon, lat] = crs.to_lon_lat(a, b);
    if !(lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= 90.0) {
        return Err(format!(
            "the position {a} {b} is outside the valid range of {}",
            crs.uri()
        ));
    }
    Ok(Coord { x: lon, y: lat })
}

/// A line of at least two positions.
pub fn line(coords: Vec<Coord<f64>>) -> Result<LineString<f64>, String> {
    if coords.len() < 2 {
        return Err("a line needs at least 2 positions".into());
    }
    Ok(LineString(coords))
}

/// A polygon: the exterior ring first; rings are closed if they are not.
pub fn polygon(rings: Vec<Vec<Coord<f64>>>) -> Result<Polygon<f64>, String> {
    let mut closed = Vec::with_capacity(rings.len());
    for mut ring in rings {
        if ring.first() != ring.last()
            && let Some(&first) = ring.first()
        {
            ring.push(first);
        }
        if ring.len() < 4 {
            return Err("a polygon ring needs at least 3 distinct positions".into());
        }
        closed.push(LineString(ring));
    }
    let mut it = closed.into_iter();
    let exterior = it
        .next()
        .ok_or_else(|| "a polygon needs a ring".to_string())?;
    Ok(Polygon::new(exterior, it.collect()))
}

/// `BBOX(minx, miny, maxx, maxy)` (or 6 numbers with heights) in `crs`
/// axis order; a box across the antimeridian becomes two.
pub fn bbox(nums: &[f64], crs: OgcCrs) -> Result<Geometry<f64>, String> {
    let (lo, hi) = match nums {
        [a, b, c, d] => ([*a, *b], [*c, *d]),
        [a, b, _, d, e, _] => ([*a, *b], [*d, *e]),
        _ => return Err(format!("BBOX needs 4 or 6 numbers, found {}", nums.len())),
    };
    let lo = position(&lo, crs)?;
    let hi = position(&hi, crs)?;
    if lo.y > hi.y {
        return Err("BBOX: the lower corner is north of the upper corner".into());
    }
    let rect = |w: f64, e: f64| geo::Rect::new((w, lo.y), (e, hi.y)).to_polygon();
    Ok(if lo.x > hi.x {
        Geometry::MultiPolygon(MultiPolygon(vec![rect(lo.x, 180.0), rect(-180.0, hi.x)]))
    } else {
        Geometry::Polygon(rect(lo.x, hi.x))
    })
}

fn numbers(v: &Value) -> Result<Vec<f64>, String> {
    v.as_array()
        .ok_or_else(|| "a position must be an array of numbers".to_string())?
        .iter()
        .map(|n| {
            n.as_f64()
                .ok_or_else(|| "a position must be an array of numbers".to_string())
        })
        .collect()
}

fn array(v: &Value) -> Result<&Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| "GeoJSON coordinates must be nested arrays".to_string())
}

fn positions(v: &Value, crs: OgcCrs) -> Result<Vec<Coord<f64>>, String> {
    array(v)?
        .iter()
        .map(|p| position(&numbers(p)?, crs))
        .collect()
}

fn rings(v: &Value, crs: OgcCrs) -> Result<Vec<Vec<Coord<f64>>>, String> {
    array(v)?.iter().map(|r| positions(r, crs)).collect()
}

/// A GeoJSON geometry object (coordinates in `crs` axis order) or a
/// `{"bbox": […]}` object.
pub fn from_json(v: &Value, crs: OgcCrs) -> Result<Geometry<f64>, String> {
    if let Some(b) = v.get("bbox") {
        return bbox(&numbers(b)?, crs);
    }
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
    let c = || {
        v.get("coordinates")
            .ok_or_else(|| format!("the {kind} has no coordinates"))
    };
    Ok(match kind {
        "Point" => Geometry::Point(Point(position(&numbers(c()?)?, crs)?)),
        "LineString" => Geometry::LineString(line(positions(c()?, crs)?)?),
        "Polygon" => Geometry::Polygon(polygon(rings(c()?, crs)?)?),
        "MultiPoint" => Geometry::MultiPoint(MultiPoint(
            positions(c()?, crs)?.into_iter().map(Point).collect(),
        )),
        "MultiLineString" => Geometry::MultiLineString(MultiLineString(
            array(c()?)?
                .iter()
                .map(|l| line(positions(l, crs)?))
                .collect::<Result<_, _>>()?,
        )),
        "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(
            array(c()?)?
                .iter()
                .map(|p| polygon(rings(p, crs)?))
                .collect::<Result<_, _>>()?,
        )),
        "GeometryCollection" => return Err(super::unsupported_function("GEOMETRYCOLLECTION")),
        other => {
            return Err(format!(
                "expected a GeoJSON geometry or a bbox object, found type {other:?}"
            ));
        }
    })
}
