//! Simplification, rounding and orientation of rings in tile space.
//!
//! A ring leaves here as integer tile coordinates, open (no closing point),
//! with no repeated consecutive points, no back-tracking spikes, at least
//! three vertices and an area of at least the policy's minimum; exterior
//! rings have positive area in tile space (y down, MVT 2.1 §4.3.4.4),
//! interior rings negative.

use geo::{Coord, LineString, Simplify};

/// Douglas–Peucker simplification of an open ring (the ring is closed for
/// the algorithm and opened again), `tolerance` in tile units.
pub fn simplify_ring(ring: &[[f64; 2]], tolerance: f64) -> Vec<[f64; 2]> {
    if ring.len() < 4 || tolerance <= 0.0 {
        return ring.to_vec();
    }
    let mut coords: Vec<Coord<f64>> = ring.iter().map(|p| Coord { x: p[0], y: p[1] }).collect();
    coords.push(coords[0]);
    let simplified = LineString::new(coords).simplify(tolerance);
    let mut out: Vec<[f64; 2]> = simplified.0.iter().map(|c| [c.x, c.y]).collect();
    if out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    out
}

/// Rounds to integer tile coordinates and removes repeated consecutive
/// points (including the wrap from last to first) and zero-width spikes
/// (a vertex whose neighbours coincide).
pub fn quantize_ring(ring: &[[f64; 2]]) -> Vec<[i32; 2]> {
    let mut out: Vec<[i32; 2]> = Vec::with_capacity(ring.len());
    for p in ring {
        let q = [p[0].round() as i32, p[1].round() as i32];
        if out.last() != Some(&q) {
            out.push(q);
        }
    }
    loop {
        while out.len() > 1 && out.first() == out.last() {
            out.pop();
        }
        let n = out.len();
        if n < 3 {
            return out;
        }
        // Drop spikes A→B→A: remove B and the second A.
        let spike = (0..n).find(|&i| out[(i + n - 1) % n] == out[(i + 1) % n]);
        match spike {
            Some(i) => {
                let next = (i + 1) % n;
                let (a, b) = if i < next { (next, i) } else { (i, next) };
                out.remove(a);
                out.remove(b);
            }
            None => return out,
        }
    }
}

/// Twice the signed area of an open ring in tile space (y down): positive
/// for a ring that runs clockwise on screen, the MVT exterior orientation.
pub fn area2(ring: &[[i32; 2]]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1])
        })
        .sum()
}

/// Simplifies, rounds and orients one clipped ring: exterior rings get
/// positive area, interior rings negative. `None` when fewer than three
/// vertices or less than `min_area` tile units² are left.
pub fn prepare_ring(
    ring: &[[f64; 2]],
    tolerance: f64,
    min_area: f64,
    exterior: bool,
) -> Option<Vec<[i32; 2]>> {
    let mut q = quantize_ring(&simplify_ring(ring, tolerance));
    if q.len() < 3 {
        return None;
    }
    let a = area2(&q);
    if (a.unsigned_abs() as f64) < 2.0 * min_area || a == 0 {
        return None;
    }
    if (a > 0) != exterior {
        q.reverse();
    }
    Some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_removes_repeats_and_spikes() {
        let r = [
            [0.1, 0.1],
            [0.2, -0.2],
            [10.0, 0.0],
            [10.0, 10.0],
            [20.0, 10.0],
            [10.0, 10.0],
            [0.0, 10.0],
            [0.4, 0.4],
        ];
        let q = quantize_ring(&r);
        assert_eq!(q, vec![[0, 0], [10, 0], [10, 10], [0, 10]]);
        for i in 0..q.len() {
            assert_ne!(q[i], q[(i + 1) % q.len()]);
        }
    }

    #[test]
    fn orientation_follows_the_mvt_rule() {
        // Counter-clockwise in lon/lat (y up) becomes negative in y-down
        // space; as an exterior it must come out positive.
        let ccw_screen = [[0.0, 0.0], [0.0, 10.0], [10.0, 10.0], [10.0, 0.0]];
        assert!(area2(&quantize_ring(&ccw_screen)) < 0);
        let ext = prepare_ring(&ccw_screen, 1.0, 1.0, true).unwrap_or_default();
        assert_eq!(area2(&ext), 200);
        let hole = prepare_ring(&ccw_screen, 1.0, 1.0, false).unwrap_or_default();
        assert_eq!(area2(&hole), -200);
    }

    #[test]
    fn slivers_and_degenerate_rings_are_dropped() {
        // 0.4 × 2 units: rounds to a line.
        assert!(
            prepare_ring(
                &[[0.0, 0.0], [2.0, 0.0], [2.0, 0.4], [0.0, 0.4]],
                0.0,
                1.0,
                true
            )
            .is_none()
        );
        // Collinear points.
        assert!(prepare_ring(&[[0.0, 0.0], [5.0, 0.0], [9.0, 0.0]], 1.0, 1.0, true).is_none());
        // Area 0.5 < 1.
        assert!(prepare_ring(&[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], 0.0, 1.0, true).is_none());
        assert!(prepare_ring(&[[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]], 0.0, 1.0, true).is_some());
    }

    #[test]
    fn douglas_peucker_drops_sub_tolerance_wiggles() {
        let mut ring = Vec::new();
        for i in 0..=100 {
            ring.push([f64::from(i), if i % 2 == 0 { 0.0 } else { 0.3 }]);
        }
        ring.push([100.0, 100.0]);
        ring.push([0.0, 100.0]);
        let s = simplify_ring(&ring, 1.0);
        assert!(s.len() <= 5, "{s:?}");
        let fine = simplify_ring(&ring, 0.1);
        assert!(fine.len() > 50);
    }
}
