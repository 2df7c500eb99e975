//! Lock-free latency histograms for the write path's counters in
//! `/metrics` (the derivation of a write, the journal's group commits).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram buckets, seconds (also those of
/// the HTTP request histogram).
pub const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// A histogram that threads record into without a lock. Each observation
/// adds to one slot (a bucket, or the one past the last bound), so a read
/// during a record never sees a bucket above a wider one or the count.
#[derive(Debug, Default)]
pub struct Latency {
    /// Per bucket, the observations above the previous bound and at most
    /// its own; the last slot, those above every bound.
    slots: [AtomicU64; BUCKETS.len() + 1],
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
        let slot = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        self.slots[slot].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// The counts so far.
    /// The counts so far: cumulative buckets, the count their total.
    pub fn read(&self) -> LatencyCounts {
        let mut buckets = [0; BUCKETS.len()];
        let mut total = 0;
        for (i, slot) in self.slots.iter().enumerate() {
            total += slot.load(Ordering::Relaxed);
            if let Some(b) = buckets.get_mut(i) {
                *b = total;
            }
        }
        LatencyCounts {
            buckets,
            count: total,
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
