//! Makes a tiling of rounded polygons conform: neighbours share exactly the
//! same vertices along their common boundary, so rounding to the written
//! precision cannot leave slivers of overlap between them.
//!
//! Two steps: vertices closer than a snapping tolerance become one
//! (the first met, in polygon order), then every vertex lying on another
//! polygon's edge (a T-junction) is inserted into that edge.

use geo::{Coord, LineString, MultiPolygon, Polygon, Validation};
use rayon::prelude::*;
use rstar::RTree;
use rstar::primitives::GeomWithData;
use std::collections::HashMap;

/// Snapping tolerance, degrees (about 2.5 cm): wider than the difference
/// rounding can make between two computations of one point.
const TOL: f64 = 2.5e-7;

type Key = (i64, i64);

fn key(c: Coord<f64>) -> Key {
    ((c.x / TOL).floor() as i64, (c.y / TOL).floor() as i64)
}

/// Snaps every vertex to the first vertex met within [`TOL`].
fn snap(polys: &mut [MultiPolygon<f64>]) {
    let mut seen: HashMap<Key, Vec<Coord<f64>>> = HashMap::new();
    for mp in polys.iter_mut() {
        for p in mp.0.iter_mut() {
            p.exterior_mut(|r| snap_ring(r, &mut seen));
            p.interiors_mut(|rs| rs.iter_mut().for_each(|r| snap_ring(r, &mut seen)));
        }
    }
}

fn snap_ring(ring: &mut LineString<f64>, seen: &mut HashMap<Key, Vec<Coord<f64>>>) {
    for c in ring.0.iter_mut() {
        let (kx, ky) = key(*c);
        let mut found = None;
        'search: for dx in -1..=1 {
            for dy in -1..=1 {
                if let Some(list) = seen.get(&(kx + dx, ky + dy)) {
                    for s in list {
                        if (s.x - c.x).abs() <= TOL && (s.y - c.y).abs() <= TOL {
                            found = Some(*s);
                            break 'search;
                        }
                    }
                }
            }
        }
        match found {
            Some(s) => *c = s,
            None => seen.entry((kx, ky)).or_default().push(*c),
        }
    }
    ring.0.dedup();
}

type Vertex = GeomWithData<[f64; 2], ()>;

/// Inserts into each edge of `ring` the vertices of `tree` lying on it.
fn split_edges(ring: &LineString<f64>, tree: &RTree<Vertex>) -> LineString<f64> {
    let mut out: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len());
    for w in ring.0.windows(2) {
        let (a, b) = (w[0], w[1]);
        out.push(a);
        let d = Coord {
            x: b.x - a.x,
            y: b.y - a.y,
        };
        let len2 = d.x * d.x + d.y * d.y;
        if len2 == 0.0 {
            continue;
        }
        let lo = [a.x.min(b.x) - TOL, a.y.min(b.y) - TOL];
        let hi = [a.x.max(b.x) + TOL, a.y.max(b.y) + TOL];
        let envelope = rstar::AABB::from_corners(lo, hi);
        let mut on: Vec<(f64, Coord<f64>)> = tree
            .locate_in_envelope(&envelope)
            .filter_map(|v| {
                let p = Coord {
                    x: v.geom()[0],
                    y: v.geom()[1],
                };
                if p == a || p == b {
                    return None;
                }
                let t = ((p.x - a.x) * d.x + (p.y - a.y) * d.y) / len2;
                if t <= 0.0 || t >= 1.0 {
                    return None;
                }
                let q = Coord {
                    x: a.x + t * d.x,
                    y: a.y + t * d.y,
                };
                ((q.x - p.x).abs() <= TOL && (q.y - p.y).abs() <= TOL).then_some((t, p))
            })
            .collect();
        on.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.x.total_cmp(&y.1.x)));
        out.extend(on.into_iter().map(|(_, p)| p));
    }
    if let Some(last) = ring.0.last() {
        out.push(*last);
    }
    out.dedup();
    LineString(out)
}

/// Makes the polygons conform (see the module doc). A polygon that would
/// become invalid keeps its snapped form.
pub fn conform(polys: &mut [MultiPolygon<f64>]) {
    snap(polys);
    let mut points: Vec<[f64; 2]> = polys
        .iter()
        .flat_map(|mp| mp.0.iter())
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.0.iter().map(|c| [c.x, c.y]))
        .collect();
    points.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    points.dedup();
    let tree = RTree::bulk_load(
        points
            .into_iter()
            .map(|p| GeomWithData::new(p, ()))
            .collect(),
    );
    polys.par_iter_mut().for_each(|mp| {
        let fixed = MultiPolygon(
            mp.0.iter()
                .map(|p| {
                    Polygon::new(
                        split_edges(p.exterior(), &tree),
                        p.interiors()
                            .iter()
                            .map(|r| split_edges(r, &tree))
                            .collect(),
                    )
                })
                .collect(),
        );
        if fixed.is_valid() {
            *mp = fixed;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, BooleanOps, polygon};

    #[test]
    fn t_junctions_and_near_vertices_are_shared() {
        // b's left edge has a vertex (1, 0.5) that a's right edge lacks,
        // and a corner off by less than the tolerance.
        let a = MultiPolygon(vec![polygon![
            (x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)
        ]]);
        let b = MultiPolygon(vec![polygon![
            (x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0),
            (x: 1.0 + 1e-7, y: 1.0), (x: 1.0 - 1e-7, y: 0.5)
        ]]);
        assert!(a.intersection(&b).unsigned_area() > 0.0);
        let mut v = vec![a, b];
        conform(&mut v);
        assert_eq!(v[0].intersection(&v[1]).unsigned_area(), 0.0);
        assert_eq!(v[0].0[0].exterior().0.len(), 6);
    }
}
