//! Text forms of coordinates and geometries shared by the text writers.

use geo::{LineString, Orient, Polygon, orient::Direction};
use std::fmt::Write;

/// Decimals kept for coordinates (about 1 cm).
pub const COORD_DECIMALS: usize = 7;

/// Appends `x` with at most [`COORD_DECIMALS`] decimals, trailing zeros
/// trimmed and no negative zero.
pub fn push_coord(out: &mut String, x: f64) {
    let start = out.len();
    let _ = write!(out, "{:.*}", COORD_DECIMALS, x);
    if out[start..].contains('.') {
        let trimmed = out.trim_end_matches('0').trim_end_matches('.').len();
        out.truncate(trimmed);
    }
    if &out[start..] == "-0" {
        out.truncate(start);
        out.push('0');
    }
}

/// A polygon with its exterior ring counter-clockwise and its holes
/// clockwise (RFC 7946).
pub fn oriented(p: &Polygon<f64>) -> Polygon<f64> {
    p.orient(Direction::Default)
}

fn push_ring_wkt(out: &mut String, ring: &LineString<f64>) {
    out.push('(');
    for (i, c) in ring.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_coord(out, c.x);
        out.push(' ');
        push_coord(out, c.y);
    }
    out.push(')');
}

/// WKT `MULTIPOLYGON` of `polygons`, oriented as in GeoJSON.
pub fn multipolygon_wkt(polygons: &[&Polygon<f64>]) -> String {
    let mut out = String::from("MULTIPOLYGON (");
    if polygons.is_empty() {
        return "MULTIPOLYGON EMPTY".to_string();
    }
    for (i, p) in polygons.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let p = oriented(p);
        out.push('(');
        push_ring_wkt(&mut out, p.exterior());
        for hole in p.interiors() {
            out.push(',');
            push_ring_wkt(&mut out, hole);
        }
        out.push(')');
    }
    out.push(')');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_are_short() {
        let mut s = String::new();
        for x in [1.0, 118.123_456_789, -0.000_000_01, 24.5, -3.25] {
            push_coord(&mut s, x);
            s.push(' ');
        }
        assert_eq!(s, "1 118.1234568 0 24.5 -3.25 ");
    }
}
