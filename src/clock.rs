//! The clock the server reads for "now" (journal times) and "today" (the
//! default as-of date): the system clock, or one that starts at the time
//! in the environment variable `RISKMAP_NOW` (RFC 3339, or a date for its
//! midnight UTC) when the process first reads it and runs on from there.
//! It lets a demonstration or a test script days (a week of writes, one
//! server run a day) through the real binary.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The environment variable that sets the clock's start.
pub const ENV: &str = "RISKMAP_NOW";

/// Milliseconds added to the system clock (0 without `RISKMAP_NOW`).
static OFFSET_MS: OnceLock<i64> = OnceLock::new();

fn system_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The offset that `value` (the variable's text) asks for: `None` when it
/// is not a date or an RFC 3339 date-time.
fn offset_for(value: &str, system: i64) -> Option<i64> {
    let start = crate::datetime::parse_datetime(value).ok()?.start?;
    (!value.contains('/')).then_some(start - system)
}

/// Now, on this process's clock.
pub fn now() -> SystemTime {
    let offset = *OFFSET_MS.get_or_init(|| match std::env::var(ENV) {
        Ok(v) => offset_for(&v, system_ms()).unwrap_or_else(|| {
            tracing::warn!(
                "{ENV}={v:?} is not a date or an RFC 3339 date-time; using the system clock"
            );
            0
        }),
        Err(_) => 0,
    });
    let ms = system_ms().saturating_add(offset).max(0);
    UNIX_EPOCH + Duration::from_millis(ms as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_sets_the_start_and_bad_values_are_refused() {
        let system = 1_800_000_000_000;
        let at = offset_for("2026-11-02T02:00:00Z", system).unwrap() + system;
        assert_eq!(at, 1_793_584_800_000);
        let midnight = offset_for("2026-11-02", system).unwrap() + system;
        assert_eq!(midnight, at - 2 * 3_600_000);
        assert_eq!(offset_for("tomorrow", system), None);
        assert_eq!(offset_for("2026-11-02/..", system), None);
    }
}
