//! Geometry helpers: a metric frame, rounding to the written precision,
//! cleaning, and random points inside polygons.

use super::rng::Rand;
use crate::crs::metric::LocalProjection;
use geo::{
    Area, BoundingRect, Coord, Intersects, LineString, MapCoords, MultiPolygon, Orient, Point,
    Polygon, Rect, Validation, orient::Direction,
};
use rand::Rng;

/// Coordinates are rounded to this many degrees (7 decimals, about 1 cm),
/// the precision the writers keep.
const SCALE: f64 = 1e7;

/// Pieces smaller than this (m²) are dropped when a partition is finished.
const MIN_PIECE_M2: f64 = 20.0;

/// Rounds a degree value to the written precision.
pub fn round_deg(x: f64) -> f64 {
    (x * SCALE).round() / SCALE
}

/// A rounded lon/lat point.
pub fn round_point(c: Coord<f64>) -> Point<f64> {
    Point::new(round_deg(c.x), round_deg(c.y))
}

/// A metric working frame: one local projection for the whole preset. It
/// is affine in lon/lat, so containment in metres is containment in degrees.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    proj: LocalProjection,
}

impl Frame {
    /// A frame tangent at `lon`, `lat`.
    pub fn new(lon: f64, lat: f64) -> Self {
        Frame {
            proj: LocalProjection::new(Point::new(lon, lat)),
        }
    }

    /// Lon/lat → metres.
    pub fn to_m(&self, c: Coord<f64>) -> Coord<f64> {
        self.proj.project(c)
    }

    /// Metres → lon/lat (not rounded).
    pub fn to_ll(&self, c: Coord<f64>) -> Coord<f64> {
        self.proj.unproject(c)
    }

    /// A lon/lat multipolygon in metres.
    pub fn mp_to_m(&self, mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
        mp.map_coords(|c| self.to_m(c))
    }

    /// A metric multipolygon as a clean, valid lon/lat multipolygon rounded
    /// to the written precision; pieces below 20 m² or that rounding would
    /// make invalid are dropped.
    pub fn finish(&self, mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
        let mut out = Vec::new();
        for p in &mp.0 {
            if p.unsigned_area() < MIN_PIECE_M2 {
                continue;
            }
            let Some(exterior) = self.ring_ll(p.exterior()) else {
                continue;
            };
            let holes: Vec<LineString<f64>> = p
                .interiors()
                .iter()
                .filter(|h| Polygon::new((*h).clone(), vec![]).unsigned_area() >= 1.0)
                .filter_map(|h| self.ring_ll(h))
                .collect();
            let poly = Polygon::new(exterior, holes).orient(Direction::Default);
            if poly.is_valid() {
                out.push(poly);
            } else {
                let bare = Polygon::new(poly.exterior().clone(), vec![]);
                if bare.is_valid() {
                    out.push(bare);
                }
            }
        }
        MultiPolygon(out)
    }

    fn ring_ll(&self, ring: &LineString<f64>) -> Option<LineString<f64>> {
        let mut coords: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len());
        for c in &ring.0 {
            let ll = self.to_ll(*c);
            let r = Coord {
                x: round_deg(ll.x),
                y: round_deg(ll.y),
            };
            if coords.last() != Some(&r) {
                coords.push(r);
            }
        }
        if coords.len() > 1 && coords.first() == coords.last() {
            coords.pop();
        }
        if coords.len() < 3 {
            return None;
        }
        let first = coords[0];
        coords.push(first);
        Some(LineString(coords))
    }
}

/// A polygon set with its bounding box, for sampling and point tests.
#[derive(Debug, Clone)]
pub struct Shape {
    /// The polygons.
    pub mp: MultiPolygon<f64>,
    /// Their bounding box (`None` when empty).
    pub bbox: Option<Rect<f64>>,
}

impl Shape {
    /// Wraps `mp`.
    pub fn new(mp: MultiPolygon<f64>) -> Self {
        let bbox = mp.bounding_rect();
        Shape { mp, bbox }
    }

    /// Whether `c` lies inside or on the boundary.
    pub fn contains(&self, c: Coord<f64>) -> bool {
        match self.bbox {
            Some(b) => {
                c.x >= b.min().x
                    && c.x <= b.max().x
                    && c.y >= b.min().y
                    && c.y <= b.max().y
                    && self.mp.intersects(&Point::from(c))
            }
            None => false,
        }
    }

    /// A uniformly random point inside, or `None` after `tries` misses.
    pub fn sample(&self, rng: &mut Rand, tries: usize) -> Option<Coord<f64>> {
        let b = self.bbox?;
        for _ in 0..tries {
            let c = Coord {
                x: b.min().x + rng.random::<f64>() * b.width(),
                y: b.min().y + rng.random::<f64>() * b.height(),
            };
            if self.contains(c) {
                return Some(c);
            }
        }
        None
    }

    /// Area in the shape's own units squared.
    pub fn area(&self) -> f64 {
        self.mp.unsigned_area()
    }
}

/// Squared distance between two coordinates.
pub fn dist2(a: Coord<f64>, b: Coord<f64>) -> f64 {
    (a.x - b.x).powi(2) + (a.y - b.y).powi(2)
}

/// `n` well-spread random points inside `shape` (Mitchell's best
/// candidate), avoiding `existing` too. Each new point is the best of
/// `candidates` draws, drawn with a bias to `weight` (higher is likelier)
/// when given. Fewer than `n` points only if the shape is degenerate.
pub fn spread_points(
    rng: &mut Rand,
    shape: &Shape,
    n: usize,
    existing: &[Coord<f64>],
    candidates: usize,
    weight: Option<&dyn Fn(Coord<f64>) -> f64>,
) -> Vec<Coord<f64>> {
    let mut all: Vec<Coord<f64>> = existing.to_vec();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let mut best: Option<(f64, Coord<f64>)> = None;
        for _ in 0..candidates.max(1) {
            let c = match weight {
                Some(w) => {
                    let draws: Vec<Coord<f64>> =
                        (0..4).filter_map(|_| shape.sample(rng, 200)).collect();
                    let ws: Vec<f64> = draws.iter().map(|d| w(*d).max(0.0)).collect();
                    match draws.get(super::rng::weighted_index(rng, &ws)) {
                        Some(c) => *c,
                        None => continue,
                    }
                }
                None => match shape.sample(rng, 500) {
                    Some(c) => c,
                    None => continue,
                },
            };
            let d = all
                .iter()
                .map(|e| dist2(*e, c))
                .fold(f64::INFINITY, f64::min);
            if best.is_none_or(|(bd, _)| d > bd) {
                best = Some((d, c));
            }
        }
        match best {
            Some((d, c)) if d > 1e-6 => {
                all.push(c);
                out.push(c);
            }
            _ => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::rng::{Stream, item_rng};
    use geo::polygon;

    #[test]
    fn finish_rounds_and_orients() {
        let f = Frame::new(118.6, 24.9);
        let sq = MultiPolygon(vec![polygon![
            (x: 0.0, y: 0.0), (x: 0.0, y: 100.0), (x: 100.0, y: 100.0), (x: 100.0, y: 0.0)
        ]]);
        let ll = f.finish(&sq);
        assert_eq!(ll.0.len(), 1);
        for c in ll.0[0].exterior().0.iter() {
            assert_eq!(round_deg(c.x), c.x);
        }
        use geo::Winding;
        assert!(ll.0[0].exterior().is_ccw());
        let tiny = MultiPolygon(vec![polygon![
            (x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0)
        ]]);
        assert!(f.finish(&tiny).0.is_empty());
    }

    #[test]
    fn spread_points_stay_inside() {
        let shape = Shape::new(MultiPolygon(vec![polygon![
            (x: 0.0, y: 0.0), (x: 1000.0, y: 0.0), (x: 0.0, y: 1000.0)
        ]]));
        let mut rng = item_rng(3, Stream::Cells, 0);
        let pts = spread_points(&mut rng, &shape, 30, &[], 8, None);
        assert_eq!(pts.len(), 30);
        assert!(pts.iter().all(|p| shape.contains(*p)));
    }
}
