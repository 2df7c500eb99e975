//! [`PointPyramid`]: points sorted in Z-order (Morton order) of their Web
//! Mercator position, with prefix sums of position and grade.
//!
//! In Z-order the points of one XYZ tile, and the points of any cell of a
//! quadtree grid aligned with the tiles, form one contiguous run, found by
//! two binary searches; the count, mean position and highest grade of a run
//! come from the prefix sums in constant time. So a dense tile is clustered
//! in O(clusters · log n), however many points it holds — a zoom-6 tile over
//! a province costs what a zoom-12 tile does.

use crate::crs::mercator::HALF_WORLD;
use crate::model::RiskLevel;

/// Bits per axis of the Morton code: 32, so levels up to 32 are exact.
const BITS: u32 = 32;

/// Spreads the bits of `v` to the even bit positions of a `u64`.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// The Morton code of quadtree cell (`x`, `y`) at `level` (x in the even
/// bits, y in the odd ones; level 0 is the whole world).
fn cell_code(x: u32, y: u32) -> u64 {
    spread(x) | (spread(y) << 1)
}

/// Position of a Web Mercator point on the 2³²-wide grid, y down.
fn quantize(mx: f64, my: f64) -> (u32, u32) {
    let scale = f64::from(u32::MAX) + 1.0;
    let q = |t: f64| (t * scale).floor().clamp(0.0, f64::from(u32::MAX)) as u32;
    let world = 2.0 * HALF_WORLD;
    (q((mx + HALF_WORLD) / world), q((HALF_WORLD - my) / world))
}

/// The cell of `code` at `level` (its top `2 · level` bits).
fn key(code: u64, level: u32) -> u64 {
    code.checked_shr(2 * (BITS - level.min(BITS))).unwrap_or(0)
}

/// A point to index: Web Mercator metres, its grade and its id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointInput {
    /// Web Mercator x, metres.
    pub mx: f64,
    /// Web Mercator y, metres.
    pub my: f64,
    /// The point's risk grade.
    pub grade: RiskLevel,
    /// The caller's id of the point (an index into its own table).
    pub id: u32,
}

/// The points of one quadtree cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellGroup {
    /// The quadtree level of the cell.
    pub level: u32,
    /// The cell's Morton code at that level (unique within the level).
    pub code: u64,
    /// Number of points.
    pub count: u32,
    /// Mean position, Web Mercator metres.
    pub mean: [f64; 2],
    /// The highest grade among the points.
    pub max_grade: RiskLevel,
    /// The id of the cell's first point (its only one when `count` is 1).
    pub first: u32,
}

/// Points in Z-order with prefix sums; see the module documentation.
#[derive(Debug, Clone, Default)]
pub struct PointPyramid {
    codes: Vec<u64>,
    ids: Vec<u32>,
    /// Prefix sums of x and y: `sum[i]` covers points `0..i`.
    sum: Vec<[f64; 2]>,
    /// Prefix counts of points graded at least medium, high, major.
    at_least: [Vec<u32>; 3],
}

impl PointPyramid {
    /// Indexes `points`.
    pub fn build(points: impl IntoIterator<Item = PointInput>) -> PointPyramid {
        let mut items: Vec<(u64, PointInput)> = points
            .into_iter()
            .map(|p| {
                let (qx, qy) = quantize(p.mx, p.my);
                (cell_code(qx, qy), p)
            })
            .collect();
        items.sort_unstable_by_key(|(code, p)| (*code, p.id));
        let n = items.len();
        let mut out = PointPyramid {
            codes: Vec::with_capacity(n),
            ids: Vec::with_capacity(n),
            sum: Vec::with_capacity(n + 1),
            at_least: [
                Vec::with_capacity(n + 1),
                Vec::with_capacity(n + 1),
                Vec::with_capacity(n + 1),
            ],
        };
        let mut s = [0.0, 0.0];
        let mut c = [0u32; 3];
        out.sum.push(s);
        for v in &mut out.at_least {
            v.push(0);
        }
        for (code, p) in items {
            out.codes.push(code);
            out.ids.push(p.id);
            s = [s[0] + p.mx, s[1] + p.my];
            out.sum.push(s);
            let rank = usize::from(p.grade.rank());
            for (g, count) in c.iter_mut().enumerate() {
                if rank > g {
                    *count += 1;
                }
            }
            for (v, count) in out.at_least.iter_mut().zip(c) {
                v.push(count);
            }
        }
        out
    }

    /// Number of points indexed.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether no point is indexed.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The index range of the points in quadtree cell (`x`, `y`) at
    /// `level`, searched within `within`.
    fn range(&self, level: u32, x: u32, y: u32, within: std::ops::Range<usize>) -> (usize, usize) {
        let target = cell_code(x, y);
        let slice = &self.codes[within.clone()];
        let lo = slice.partition_point(|&c| key(c, level) < target);
        let hi = lo + slice[lo..].partition_point(|&c| key(c, level) <= target);
        (within.start + lo, within.start + hi)
    }

    /// Number of points in tile `z/x/y`.
    pub fn count_in_tile(&self, z: u8, x: u32, y: u32) -> usize {
        let (lo, hi) = self.range(u32::from(z), x, y, 0..self.len());
        hi - lo
    }

    /// The non-empty cells of the grid `2^k × 2^k` aligned with tile
    /// `z/x/y` (quadtree level `z + k`), in Z-order; stops after `cap + 1`
    /// cells, so a caller can test "at most `cap`" without enumerating a
    /// finer grid entirely.
    pub fn cells_in_tile(&self, z: u8, x: u32, y: u32, k: u32, cap: usize) -> Vec<CellGroup> {
        let level = (u32::from(z) + k).min(BITS);
        let (lo, hi) = self.range(u32::from(z), x, y, 0..self.len());
        let mut out = Vec::new();
        let mut i = lo;
        while i < hi && out.len() <= cap {
            let cell = key(self.codes[i], level);
            let end = i + self.codes[i..hi].partition_point(|&c| key(c, level) <= cell);
            out.push(self.group(level, cell, i, end));
            i = end;
        }
        out
    }

    /// The points of quadtree cell (`x`, `y`) at `level`, if any.
    pub fn cell(&self, level: u32, x: u32, y: u32) -> Option<CellGroup> {
        let level = level.min(BITS);
        let (lo, hi) = self.range(level, x, y, 0..self.len());
        (hi > lo).then(|| self.group(level, cell_code(x, y), lo, hi))
    }

    fn group(&self, level: u32, code: u64, lo: usize, hi: usize) -> CellGroup {
        let n = (hi - lo) as f64;
        let (a, b) = (self.sum[lo], self.sum[hi]);
        let graded = |g: usize| self.at_least[g][hi] > self.at_least[g][lo];
        let max_grade = if graded(2) {
            RiskLevel::Major
        } else if graded(1) {
            RiskLevel::High
        } else if graded(0) {
            RiskLevel::Medium
        } else {
            RiskLevel::Low
        };
        CellGroup {
            level,
            code,
            count: (hi - lo) as u32,
            mean: [(b[0] - a[0]) / n, (b[1] - a[1]) / n],
            max_grade,
            first: self.ids[lo],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::mercator::{from_lon_lat, tile_for};
    use rand::{Rng, SeedableRng};

    fn points(n: usize, seed: u64) -> Vec<PointInput> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let grades = [
            RiskLevel::Low,
            RiskLevel::Medium,
            RiskLevel::High,
            RiskLevel::Major,
        ];
        (0..n)
            .map(|i| {
                let (mx, my) = from_lon_lat(
                    118.0 + rng.random_range(0.0..1.5),
                    24.5 + rng.random_range(0.0..1.0),
                );
                PointInput {
                    mx,
                    my,
                    grade: grades[rng.random_range(0..4usize)],
                    id: i as u32,
                }
            })
            .collect()
    }

    /// The quadtree cell of a point at `level`, by floating-point division.
    fn cell_of(p: &PointInput, level: u32) -> (u32, u32) {
        let n = 2f64.powi(level as i32);
        let world = 2.0 * HALF_WORLD;
        (
            ((p.mx + HALF_WORLD) / world * n).floor() as u32,
            ((HALF_WORLD - p.my) / world * n).floor() as u32,
        )
    }

    #[test]
    fn spread_interleaves() {
        assert_eq!(spread(0b1011), 0b1_00_01_01);
        assert_eq!(cell_code(1, 0), 1);
        assert_eq!(cell_code(0, 1), 2);
        assert_eq!(cell_code(u32::MAX, u32::MAX), u64::MAX);
    }

    #[test]
    fn tile_counts_match_brute_force() {
        let pts = points(5000, 1);
        let pyr = PointPyramid::build(pts.clone());
        for z in [0u8, 4, 8, 10, 12, 14] {
            let (x, y) = tile_for(118.7, 25.0, z);
            let brute = pts
                .iter()
                .filter(|p| cell_of(p, u32::from(z)) == (x, y))
                .count();
            assert_eq!(pyr.count_in_tile(z, x, y), brute, "z{z}");
        }
        assert_eq!(pyr.count_in_tile(0, 0, 0), 5000);
    }

    #[test]
    fn cells_match_brute_force() {
        let pts = points(3000, 2);
        let pyr = PointPyramid::build(pts.clone());
        let (z, k) = (9u8, 4u32);
        let (x, y) = tile_for(118.7, 25.0, z);
        let groups = pyr.cells_in_tile(z, x, y, k, usize::MAX);
        let level = u32::from(z) + k;
        let mut total = 0;
        for g in &groups {
            let members: Vec<&PointInput> = pts
                .iter()
                .filter(|p| cell_code_of(p, level) == g.code)
                .collect();
            assert_eq!(g.count as usize, members.len());
            let mx = members.iter().map(|p| p.mx).sum::<f64>() / members.len() as f64;
            let my = members.iter().map(|p| p.my).sum::<f64>() / members.len() as f64;
            assert!((g.mean[0] - mx).abs() < 1e-3 && (g.mean[1] - my).abs() < 1e-3);
            let top = members.iter().map(|p| p.grade.rank()).max();
            assert_eq!(Some(g.max_grade.rank()), top);
            assert!(members.iter().any(|p| p.id == g.first));
            total += g.count as usize;
        }
        assert_eq!(total, pyr.count_in_tile(z, x, y));
        assert!(groups.len() > 1 && groups.len() <= 256);
        // The cap stops the enumeration one past it.
        assert_eq!(pyr.cells_in_tile(z, x, y, k, 3).len(), 4);
        // A single cell looked up directly is the same group.
        let (cx, cy) = cell_of(
            pts.iter()
                .find(|p| cell_code_of(p, level) == groups[0].code)
                .unwrap_or(&pts[0]),
            level,
        );
        assert_eq!(pyr.cell(level, cx, cy), Some(groups[0]));
    }

    fn cell_code_of(p: &PointInput, level: u32) -> u64 {
        let (x, y) = cell_of(p, level);
        cell_code(x, y)
    }

    #[test]
    fn empty_cells_and_pyramids() {
        let pyr = PointPyramid::build(Vec::new());
        assert!(pyr.is_empty());
        assert_eq!(pyr.count_in_tile(0, 0, 0), 0);
        assert!(pyr.cells_in_tile(3, 1, 1, 2, 10).is_empty());
        assert_eq!(pyr.cell(5, 1, 1), None);
    }
}
