//! Clipping in tile space: polygon rings against the buffered tile square
//! (Sutherland–Hodgman, exact for a convex clip window) and points against
//! the same square.

/// An axis-aligned square window `[min, max]²` in tile units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipBox {
    /// Lower bound of x and y.
    pub min: f64,
    /// Upper bound of x and y.
    pub max: f64,
}

impl ClipBox {
    /// The tile `[0, extent]²` grown by `buffer` on every side.
    pub fn buffered(extent: u32, buffer: u32) -> Self {
        ClipBox {
            min: -f64::from(buffer),
            max: f64::from(extent) + f64::from(buffer),
        }
    }

    /// Whether a point lies inside the window (edges included).
    pub fn contains(&self, p: [f64; 2]) -> bool {
        (self.min..=self.max).contains(&p[0]) && (self.min..=self.max).contains(&p[1])
    }

    /// Whether the bounding box of `ring` lies wholly inside the window.
    fn contains_all(&self, ring: &[[f64; 2]]) -> bool {
        ring.iter().all(|p| self.contains(*p))
    }

    /// Whether the bounding box of `ring` misses the window entirely.
    fn misses(&self, ring: &[[f64; 2]]) -> bool {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in ring {
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        }
        x1 < self.min || y1 < self.min || x0 > self.max || y0 > self.max
    }
}

#[derive(Clone, Copy)]
enum Edge {
    Left(f64),
    Right(f64),
    Top(f64),
    Bottom(f64),
}

impl Edge {
    fn inside(self, p: [f64; 2]) -> bool {
        match self {
            Edge::Left(v) => p[0] >= v,
            Edge::Right(v) => p[0] <= v,
            Edge::Top(v) => p[1] >= v,
            Edge::Bottom(v) => p[1] <= v,
        }
    }

    fn cut(self, a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
        match self {
            Edge::Left(v) | Edge::Right(v) => {
                let t = (v - a[0]) / (b[0] - a[0]);
                [v, a[1] + t * (b[1] - a[1])]
            }
            Edge::Top(v) | Edge::Bottom(v) => {
                let t = (v - a[1]) / (b[1] - a[1]);
                [a[0] + t * (b[0] - a[0]), v]
            }
        }
    }
}

/// Clips one ring (open or closed: a repeated closing point is ignored) to
/// the window. Returns the clipped ring, open (no closing point), or an
/// empty vector when nothing is left. The ring's orientation is kept.
pub fn clip_ring(ring: &[[f64; 2]], window: ClipBox) -> Vec<[f64; 2]> {
    let ring = match ring {
        [first, .., last] if first == last => &ring[..ring.len() - 1],
        _ => ring,
    };
    if ring.len() < 3 || window.misses(ring) {
        return Vec::new();
    }
    if window.contains_all(ring) {
        return ring.to_vec();
    }
    let mut current: Vec<[f64; 2]> = ring.to_vec();
    for edge in [
        Edge::Left(window.min),
        Edge::Right(window.max),
        Edge::Top(window.min),
        Edge::Bottom(window.max),
    ] {
        if current.is_empty() {
            break;
        }
        let input = std::mem::replace(&mut current, Vec::with_capacity(ring.len() + 8));
        let mut prev = input[input.len() - 1];
        for &p in &input {
            match (edge.inside(p), edge.inside(prev)) {
                (true, true) => current.push(p),
                (true, false) => {
                    current.push(edge.cut(prev, p));
                    current.push(p);
                }
                (false, true) => current.push(edge.cut(prev, p)),
                (false, false) => {}
            }
            prev = p;
        }
    }
    if current.len() < 3 {
        Vec::new()
    } else {
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(r: &[[f64; 2]]) -> f64 {
        let n = r.len();
        (0..n)
            .map(|i| {
                let (a, b) = (r[i], r[(i + 1) % n]);
                a[0] * b[1] - b[0] * a[1]
            })
            .sum::<f64>()
            / 2.0
    }

    const W: ClipBox = ClipBox {
        min: 0.0,
        max: 10.0,
    };

    #[test]
    fn inside_ring_is_kept_and_closing_point_dropped() {
        let r = [[1.0, 1.0], [5.0, 1.0], [5.0, 5.0], [1.0, 1.0]];
        assert_eq!(clip_ring(&r, W), vec![[1.0, 1.0], [5.0, 1.0], [5.0, 5.0]]);
    }

    #[test]
    fn outside_ring_vanishes() {
        let r = [[11.0, 11.0], [15.0, 11.0], [15.0, 15.0]];
        assert!(clip_ring(&r, W).is_empty());
    }

    #[test]
    fn overlapping_square_is_cut_to_the_window() {
        // A 20×20 square centred on the window corner (5, 5) … (25, 25).
        let r = [[5.0, 5.0], [25.0, 5.0], [25.0, 25.0], [5.0, 25.0]];
        let c = clip_ring(&r, W);
        assert!((area(&c) - 25.0).abs() < 1e-9, "{c:?}");
        assert!(c.iter().all(|p| W.contains(*p)));
        // Orientation is preserved.
        assert!(area(&r) > 0.0 && area(&c) > 0.0);
        let rev: Vec<_> = r.iter().rev().copied().collect();
        assert!(area(&clip_ring(&rev, W)) < 0.0);
    }

    #[test]
    fn window_inside_polygon_gives_the_window() {
        let r = [[-5.0, -5.0], [15.0, -5.0], [15.0, 15.0], [-5.0, 15.0]];
        let c = clip_ring(&r, W);
        assert!((area(&c) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn buffered_window() {
        let b = ClipBox::buffered(4096, 64);
        assert!(b.contains([-64.0, 4160.0]));
        assert!(!b.contains([-64.5, 0.0]));
    }
}
