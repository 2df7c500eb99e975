//! Voronoi partition of a polygon: each site's Voronoi cell (from the
//! Delaunay triangulation's neighbours, by half-plane clipping) intersected
//! exactly with the parent. The pieces tile the parent without overlaps.

use geo::{BooleanOps, BoundingRect, Coord, LineString, MultiPolygon, Polygon, Rect};
use spade::{DelaunayTriangulation, Point2, Triangulation};

/// Clips a convex polygon (open ring of coordinates) to the half-plane of
/// points closer to `site` than to `other`.
fn clip_half_plane(poly: &[Coord<f64>], site: Coord<f64>, other: Coord<f64>) -> Vec<Coord<f64>> {
    let m = Coord {
        x: (site.x + other.x) / 2.0,
        y: (site.y + other.y) / 2.0,
    };
    let d = Coord {
        x: other.x - site.x,
        y: other.y - site.y,
    };
    let side = |p: Coord<f64>| (p.x - m.x) * d.x + (p.y - m.y) * d.y;
    let mut out = Vec::with_capacity(poly.len() + 1);
    for i in 0..poly.len() {
        let a = poly[i];
        let b = poly[(i + 1) % poly.len()];
        let (sa, sb) = (side(a), side(b));
        if sa <= 0.0 {
            out.push(a);
        }
        if (sa < 0.0 && sb > 0.0) || (sa > 0.0 && sb < 0.0) {
            let t = sa / (sa - sb);
            out.push(Coord {
                x: a.x + t * (b.x - a.x),
                y: a.y + t * (b.y - a.y),
            });
        }
    }
    out
}

/// The convex Voronoi cells of `sites` within `bounds`, in site order. A
/// site equal to an earlier one gets an empty cell.
pub fn voronoi_cells(sites: &[Coord<f64>], bounds: Rect<f64>) -> Vec<Vec<Coord<f64>>> {
    let frame = vec![
        bounds.min(),
        Coord {
            x: bounds.max().x,
            y: bounds.min().y,
        },
        bounds.max(),
        Coord {
            x: bounds.min().x,
            y: bounds.max().y,
        },
    ];
    if sites.len() == 1 {
        return vec![frame];
    }
    let mut t: DelaunayTriangulation<Point2<f64>> = DelaunayTriangulation::new();
    let mut handles = Vec::with_capacity(sites.len());
    let mut seen = std::collections::BTreeSet::new();
    for s in sites {
        match t.insert(Point2::new(s.x, s.y)) {
            Ok(h) if seen.insert(h.index()) => handles.push(Some(h)),
            _ => handles.push(None),
        }
    }
    handles
        .iter()
        .zip(sites)
        .map(|(h, s)| {
            let Some(h) = h else {
                return Vec::new();
            };
            let mut cell = frame.clone();
            for e in t.vertex(*h).out_edges() {
                let p = e.to().position();
                cell = clip_half_plane(&cell, *s, Coord { x: p.x, y: p.y });
                if cell.len() < 3 {
                    return Vec::new();
                }
            }
            cell
        })
        .collect()
}

/// Splits `parent` (metres) among `sites`: piece `i` is site `i`'s Voronoi
/// cell intersected with `parent` (empty if nothing is left).
pub fn partition(parent: &MultiPolygon<f64>, sites: &[Coord<f64>]) -> Vec<MultiPolygon<f64>> {
    let Some(b) = parent.bounding_rect() else {
        return vec![MultiPolygon(vec![]); sites.len()];
    };
    if sites.len() == 1 {
        return vec![parent.clone()];
    }
    let pad = (b.width() + b.height()) * 0.1 + 10.0;
    let bounds = Rect::new(
        Coord {
            x: b.min().x - pad,
            y: b.min().y - pad,
        },
        Coord {
            x: b.max().x + pad,
            y: b.max().y + pad,
        },
    );
    voronoi_cells(sites, bounds)
        .into_iter()
        .map(|cell| {
            if cell.len() < 3 {
                return MultiPolygon(vec![]);
            }
            let mut ring = cell;
            ring.push(ring[0]);
            let poly = MultiPolygon(vec![Polygon::new(LineString(ring), vec![])]);
            parent.intersection(&poly)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, polygon};

    #[test]
    fn pieces_tile_the_parent() {
        let parent = MultiPolygon(vec![polygon![
            (x: 0.0, y: 0.0), (x: 1000.0, y: 0.0), (x: 1000.0, y: 400.0),
            (x: 500.0, y: 400.0), (x: 500.0, y: 1000.0), (x: 0.0, y: 1000.0)
        ]]);
        let sites = [
            Coord { x: 100.0, y: 100.0 },
            Coord { x: 800.0, y: 200.0 },
            Coord { x: 300.0, y: 800.0 },
            Coord { x: 400.0, y: 300.0 },
        ];
        let pieces = partition(&parent, &sites);
        assert_eq!(pieces.len(), 4);
        let total: f64 = pieces.iter().map(|p| p.unsigned_area()).sum();
        assert!((total - parent.unsigned_area()).abs() < 1e-3, "{total}");
        for i in 0..4 {
            assert!(pieces[i].unsigned_area() > 0.0);
            for j in i + 1..4 {
                assert!(pieces[i].intersection(&pieces[j]).unsigned_area() < 1e-6);
            }
        }
    }

    #[test]
    fn collinear_and_duplicate_sites() {
        let parent = MultiPolygon(vec![polygon![
            (x: 0.0, y: 0.0), (x: 300.0, y: 0.0), (x: 300.0, y: 100.0), (x: 0.0, y: 100.0)
        ]]);
        let sites = [
            Coord { x: 50.0, y: 50.0 },
            Coord { x: 150.0, y: 50.0 },
            Coord { x: 250.0, y: 50.0 },
            Coord { x: 250.0, y: 50.0 },
        ];
        let pieces = partition(&parent, &sites);
        let areas: Vec<f64> = pieces.iter().map(|p| p.unsigned_area()).collect();
        assert!((areas[0] - 10_000.0).abs() < 1e-3, "{areas:?}");
        assert!((areas[1] - 10_000.0).abs() < 1e-3, "{areas:?}");
        assert_eq!(areas[3], 0.0);
    }
}
