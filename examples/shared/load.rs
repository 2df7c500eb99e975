//! What the load generators in `examples/` share: latency quantiles and a
//! small deterministic random generator.

use std::time::Duration;

/// Milliseconds at quantile `p` (0–1) of `sorted`; NaN when it is empty.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// A small deterministic generator (xorshift).
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`. The seed is mixed first (SplitMix64), so
    /// that generators seeded 1, 2, 3, … start far apart: xorshift's first
    /// numbers from nearby seeds are nearly equal, which made every client
    /// of a load test start at the same moment and place.
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        // Xorshift never leaves 0.
        Rng((z ^ (z >> 31)) | 1)
    }

    /// The next number in [0, 1).
    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}
