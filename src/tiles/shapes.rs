//! [`Shape`] and [`UnitShapes`]: polygons projected to Web Mercator once,
//! and generalised once per zoom, so that cutting a tile is an affine map,
//! a clip and a rounding — no trigonometry and no Douglas–Peucker over the
//! full-resolution boundary of a county at zoom 6.
//!
//! A unit keeps one simplified copy per zoom from the zoom its layer
//! appears at, with the tile pipeline's tolerance at that zoom, until a
//! copy would keep more than [`KEEP_RAW_SHARE`] of the vertices; from that
//! zoom on tiles use the full-resolution copy as it is (what simplification
//! would remove there is under a pixel and under a fifth of the vertices,
//! not worth the time per tile or the memory per zoom).

use crate::crs::mercator::{HALF_WORLD, from_lon_lat};
use geo::{Coord, LineString, MultiPolygon, Simplify};

/// Above this share of the full-resolution vertex count a simplified copy
/// is not worth keeping.
pub const KEEP_RAW_SHARE: f64 = 0.8;

/// Polygons in Web Mercator metres in flat buffers: rings are runs of
/// `coords` (closed: first point repeated last), each marked as the
/// exterior of a new polygon or as a hole of the current one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shape {
    coords: Vec<[f64; 2]>,
    /// End offset in `coords` of each ring, and whether it is an exterior.
    rings: Vec<(u32, bool)>,
}

impl Shape {
    /// Projects a lon/lat multipolygon.
    pub fn project(mp: &MultiPolygon<f64>) -> Shape {
        let mut out = Shape::default();
        for poly in &mp.0 {
            let rings = std::iter::once(poly.exterior()).chain(poly.interiors());
            for (i, ring) in rings.enumerate() {
                out.coords.extend(ring.0.iter().map(|c| {
                    let (x, y) = from_lon_lat(c.x, c.y);
                    [x, y]
                }));
                out.rings.push((out.coords.len() as u32, i == 0));
            }
        }
        out
    }

    /// Number of vertices.
    pub fn vertices(&self) -> usize {
        self.coords.len()
    }

    /// The rings, each with whether it is an exterior (starts a polygon).
    pub fn rings(&self) -> impl Iterator<Item = (&[[f64; 2]], bool)> + '_ {
        let mut start = 0usize;
        self.rings.iter().map(move |&(end, exterior)| {
            let ring = &self.coords[start..end as usize];
            start = end as usize;
            (ring, exterior)
        })
    }

    /// Douglas–Peucker simplification of every ring with `tolerance`
    /// metres. A ring left with fewer than four points is dropped, and so
    /// are the holes of a dropped exterior.
    pub fn simplified(&self, tolerance: f64) -> Shape {
        let mut out = Shape::default();
        let mut keep_holes = false;
        for (ring, exterior) in self.rings() {
            if !exterior && !keep_holes {
                continue;
            }
            let line = LineString::new(ring.iter().map(|p| Coord { x: p[0], y: p[1] }).collect());
            let s = line.simplify(tolerance);
            let kept = s.0.len() >= 4;
            if exterior {
                keep_holes = kept;
            }
            if kept {
                out.coords.extend(s.0.iter().map(|c| [c.x, c.y]));
                out.rings.push((out.coords.len() as u32, exterior));
            }
        }
        out
    }
}

/// Web Mercator metres per tile unit at zoom `z` with `extent` units.
pub fn metres_per_unit(z: u8, extent: u32) -> f64 {
    2.0 * HALF_WORLD / f64::from(extent) / 2f64.powi(i32::from(z))
}

/// One grid unit's shapes: the full-resolution projection and simplified
/// copies for zooms `first_zoom ..`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitShapes {
    first_zoom: u8,
    by_zoom: Vec<Shape>,
    raw: Shape,
}

impl UnitShapes {
    /// Projects `mp` and simplifies it for every zoom from `first_zoom` with
    /// `tolerance` tile units (of `extent`), until a copy keeps more than
    /// [`KEEP_RAW_SHARE`] of the vertices or `last_zoom` is passed.
    pub fn build(
        mp: &MultiPolygon<f64>,
        first_zoom: u8,
        last_zoom: u8,
        tolerance: f64,
        extent: u32,
    ) -> UnitShapes {
        let raw = Shape::project(mp);
        let mut by_zoom = Vec::new();
        if tolerance > 0.0 {
            for z in first_zoom..=last_zoom {
                let s = raw.simplified(tolerance * metres_per_unit(z, extent));
                if s.vertices() as f64 > KEEP_RAW_SHARE * raw.vertices() as f64 {
                    break;
                }
                by_zoom.push(s);
            }
        }
        UnitShapes {
            first_zoom,
            by_zoom,
            raw,
        }
    }

    /// The shape to cut a tile of zoom `z` from, and whether it is ready
    /// for that zoom as it is (simplified for it, or past the zooms where
    /// simplifying is worth it); below the first zoom the coarsest copy,
    /// which a tile must simplify further.
    pub fn for_zoom(&self, z: u8) -> (&Shape, bool) {
        match z
            .checked_sub(self.first_zoom)
            .map(|i| self.by_zoom.get(usize::from(i)))
        {
            Some(Some(s)) => (s, true),
            Some(None) => (&self.raw, true),
            None => (self.by_zoom.first().unwrap_or(&self.raw), false),
        }
    }

    /// Vertices kept in all copies together.
    pub fn vertices(&self) -> usize {
        self.raw.vertices() + self.by_zoom.iter().map(Shape::vertices).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Polygon, polygon};

    /// A circle of `n` vertices around (lon, lat) with radius `r` degrees.
    fn circle(lon: f64, lat: f64, r: f64, n: usize) -> Polygon<f64> {
        let mut pts: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                (lon + r * a.cos(), lat + r * a.sin())
            })
            .collect();
        pts.push(pts[0]);
        Polygon::new(LineString::from(pts), vec![])
    }

    #[test]
    fn copies_shrink_at_low_zoom_and_stop_when_useless() {
        // 200 vertices 2.4 km apart: at zoom 4 (2.4 km a unit) a handful
        // stay; by zoom 16 (0.6 m a unit) simplifying removes nothing.
        let mp = MultiPolygon(vec![circle(118.6, 24.9, 0.2, 200)]);
        let u = UnitShapes::build(&mp, 4, 16, 1.0, 4096);
        let (z4, exact) = u.for_zoom(4);
        assert!(exact);
        assert!(z4.vertices() < 40, "{}", z4.vertices());
        // Copies grow with zoom, then the raw shape takes over.
        let mut last = 0;
        for z in 4..=16 {
            let (s, exact) = u.for_zoom(z);
            assert!(exact);
            assert!(s.vertices() >= last);
            last = s.vertices();
        }
        assert_eq!(u.for_zoom(16).0.vertices(), 201);
        assert!(u.for_zoom(8).0.vertices() < 201);
        assert!(u.vertices() < 201 * 4);
        // Below the first zoom: the coarsest copy, to be simplified more.
        let (s, exact) = u.for_zoom(2);
        assert!(!exact);
        assert_eq!(s.vertices(), z4.vertices());
    }

    #[test]
    fn holes_follow_their_exterior() {
        let outer = circle(118.6, 24.9, 0.2, 100);
        let hole = circle(118.6, 24.9, 0.05, 100);
        let p = Polygon::new(outer.exterior().clone(), vec![hole.exterior().clone()]);
        let tiny =
            polygon![(x: 119.0, y: 25.0), (x: 119.000001, y: 25.0), (x: 119.0, y: 25.000001)];
        let mp = MultiPolygon(vec![p, tiny]);
        let shape = Shape::project(&mp);
        let kinds: Vec<bool> = shape.rings().map(|(_, e)| e).collect();
        assert_eq!(kinds, vec![true, false, true]);
        // At zoom 8 the tiny triangle vanishes, the hole stays.
        let s = shape.simplified(metres_per_unit(8, 4096));
        let kinds: Vec<bool> = s.rings().map(|(_, e)| e).collect();
        assert_eq!(kinds, vec![true, false]);
        for (ring, _) in s.rings() {
            assert_eq!(ring.first(), ring.last());
        }
    }
}
