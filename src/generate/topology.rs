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

/// Distance (degrees, about 2.5 cm) within which a vertex counts as lying
/// on an edge: wider than the difference rounding can make between two
/// computations of one point.
const TOL: f64 = 2.5e-7;
/// Vertices closer than this (degrees, about 10 cm) become one, so a vertex
/// near a corner is never taken for a T-junction on both of its edges.
const SNAP: f64 = 1e-6;

type Key = (i64, i64);

fn key(c: Coord<f64>) -> Key {
    ((c.x / SNAP).floor() as i64, (c.y / SNAP).floor() as i64)
}

/// Snaps every vertex to the first vertex met within [`SNAP`].
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
                        if (s.x - c.x).abs() <= SNAP && (s.y - c.y).abs() <= SNAP {
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

/// Inserts into the edges of `ring` the vertices of `tree` lying on them;
/// a vertex near two edges goes into the nearer one only.
fn split_edges(ring: &LineString<f64>, tree: &RTree<Vertex>) -> LineString<f64> {
    // (point, edge, position along the edge, distance to it)
    let mut found: Vec<(Coord<f64>, usize, f64, f64)> = Vec::new();
    for (i, w) in ring.0.windows(2).enumerate() {
        let (a, b) = (w[0], w[1]);
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
        for v in tree.locate_in_envelope(&envelope) {
            let p = Coord {
                x: v.geom()[0],
                y: v.geom()[1],
            };
            if ring
                .0
                .iter()
                .any(|c| (c.x - p.x).abs() <= SNAP && (c.y - p.y).abs() <= SNAP)
            {
                continue;
            }
            let t = ((p.x - a.x) * d.x + (p.y - a.y) * d.y) / len2;
            if t <= 0.0 || t >= 1.0 {
                continue;
            }
            let q = Coord {
                x: a.x + t * d.x,
                y: a.y + t * d.y,
            };
            let (ex, ey) = ((q.x - p.x).abs(), (q.y - p.y).abs());
            if ex <= TOL && ey <= TOL {
                found.push((p, i, t, ex.max(ey)));
            }
        }
    }
    if found.is_empty() {
        return ring.clone();
    }
    // Keep each point on its nearest edge.
    found.sort_by(|x, y| {
        (x.0.x, x.0.y, x.3, x.1)
            .partial_cmp(&(y.0.x, y.0.y, y.3, y.1))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    found.dedup_by(|later, first| later.0 == first.0);
    found.sort_by(|x, y| {
        (x.1, x.2)
            .partial_cmp(&(y.1, y.2))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut out: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len() + found.len());
    let mut next = found.iter().peekable();
    for (i, c) in ring.0.iter().enumerate() {
        out.push(*c);
        while let Some(f) = next.next_if(|f| f.1 == i) {
            out.push(f.0);
        }
    }
    out.dedup();
    LineString(out)
}

/// Drops rings that snapping left with fewer than four positions.
fn tidy(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    MultiPolygon(
        mp.0.iter()
            .filter(|p| p.exterior().0.len() >= 4)
            .map(|p| {
                Polygon::new(
                    p.exterior().clone(),
                    p.interiors()
                        .iter()
                        .filter(|r| r.0.len() >= 4)
                        .cloned()
                        .collect(),
                )
            })
            .collect(),
    )
}

/// Makes the polygons conform (see the module doc). Returns how many could
/// not be made to conform and were left as they were (one that would become
/// invalid keeps its snapped form, or its original form).
pub fn conform(polys: &mut [MultiPolygon<f64>]) -> usize {
    let originals: Vec<MultiPolygon<f64>> = polys.to_vec();
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
    polys
        .par_iter_mut()
        .zip(originals.into_par_iter())
        .map(|(mp, original)| {
            let snapped = tidy(mp);
            let fixed = MultiPolygon(
                snapped
                    .0
                    .iter()
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
            if !fixed.0.is_empty() && fixed.is_valid() {
                *mp = fixed;
                0
            } else if !snapped.0.is_empty() && snapped.is_valid() {
                *mp = snapped;
                1
            } else {
                *mp = original;
                1
            }
        })
        .sum()
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
        assert_eq!(conform(&mut v), 0);
        assert_eq!(v[0].intersection(&v[1]).unsigned_area(), 0.0);
        assert_eq!(v[0].0[0].exterior().0.len(), 6);
    }
}
