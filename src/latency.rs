//! Lock-free latency histograms for the write path's counters in
//! `/metrics` (the derivation of a write, the journal's group commits).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram buckets, seconds (also those of
/// the HTTP request histogram).
pub const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// A histogram that threads record into without a lock.
#[derive(Debug, Default)]
pub struct Latency {
    /// Per bucket, the observations at most its bound (cumulative).
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    nanos: AtomicU64,
}

/// What a [`Latency`] holds at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LatencyCounts {
    /// Per bound of [`BUCKETS`], the observations at most that long.
    pub buckets: [u64; BUCKETS.len()],
    /// Observations.
    pub count: u64,
    /// Their total, seconds.
    pub seconds: f64,
}

impl Latency {
    /// Counts one observation.
    pub fn record(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn read(&self) -> LatencyCounts {
        LatencyCounts {
            buckets: std::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed)),
            count: self.count.load(Ordering::Relaxed),
            seconds: self.nanos.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_the_sum_is_kept() {
        let h = Latency::default();
        h.record(Duration::from_micros(500));
        h.record(Duration::from_millis(7));
        h.record(Duration::from_secs(9));
        let c = h.read();
        assert_eq!(c.count, 3);
        assert_eq!(c.buckets[0], 1); // ≤ 1 ms
        assert_eq!(c.buckets[2], 1); // ≤ 5 ms
        assert_eq!(c.buckets[3], 2); // ≤ 10 ms
        assert_eq!(c.buckets[9], 2); // ≤ 5 s: not the 9 s one
        assert!((c.seconds - 9.0075).abs() < 1e-9);
    }
}
