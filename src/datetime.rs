//! RFC 3339 timestamps (UTC) without a calendar crate, and the OGC
//! `datetime` parameter (an instant, a date or an interval).

use std::time::{SystemTime, UNIX_EPOCH};

/// `t` as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = crate::model::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A `datetime` value: an interval of Unix milliseconds, each end open
/// (`..` or empty) or closed. An instant is an interval of one moment; a
/// date covers its whole UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    /// First millisecond included, if bounded.
    pub start: Option<i64>,
    /// Last millisecond included, if bounded.
    pub end: Option<i64>,
}

impl Interval {
    /// Whether the two intervals share a moment (open ends reach forever).
    pub fn intersects(&self, other: &Interval) -> bool {
        let starts_before_other_ends = match (self.start, other.end) {
            (Some(s), Some(e)) => s <= e,
            _ => true,
        };
        let other_starts_before_end = match (other.start, self.end) {
            (Some(s), Some(e)) => s <= e,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_end
    }
}

const DAY_MS: i64 = 86_400_000;

/// Parses `YYYY-MM-DD` or an RFC 3339 date-time into the first and last
/// millisecond it covers.
fn moment(t: &str) -> Result<(i64, i64), String> {
    let bad = || {
        format!("{t:?} is not a date (YYYY-MM-DD) or an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SSZ)")
    };
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Result<i64, String> {
        let s = t.get(r).ok_or_else(bad)?;
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<i64>().map_err(|_| bad())
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return Err(format!("{t:?}: no such day"));
    }
    let day = days_from_civil(y, m, d) * DAY_MS;
    if b.len() == 10 {
        return Ok((day, day + DAY_MS - 1));
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 20 || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let (h, mi, s) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if h > 23 || mi > 59 || s > 60 {
        return Err(format!("{t:?}: no such time of day"));
    }
    let mut i = 19;
    let mut ms = 0;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        let frac = &t[start..i.min(start + 3)];
        ms = frac.parse::<i64>().map_err(|_| bad())? * 10_i64.pow(3 - frac.len() as u32);
    }
    let offset = match &t[i..] {
        "Z" | "z" => 0,
        zone if zone.len() == 6
            && matches!(zone.as_bytes()[0], b'+' | b'-')
            && zone.as_bytes()[3] == b':' =>
        {
            let (oh, om) = (digits(i + 1..i + 3)?, digits(i + 4..i + 6)?);
            if oh > 23 || om > 59 {
                return Err(bad());
            }
            let o = (oh * 60 + om) * 60_000;
            if zone.starts_with('-') { -o } else { o }
        }
        _ => return Err(bad()),
    };
    let at = day + ((h * 60 + mi) * 60 + s) * 1000 + ms - offset;
    Ok((at, at))
}

/// Parses the OGC `datetime` parameter: `instant`, `start/end`, with `..`
/// or nothing for an open end. Errors are messages for a 400.
pub fn parse_datetime(raw: &str) -> Result<Interval, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("must not be empty".into());
    }
    let mut parts = raw.split('/');
    let (first, second) = (parts.next().unwrap_or(""), parts.next());
    if parts.next().is_some() {
        return Err(format!("{raw:?} has more than one `/`"));
    }
    let Some(second) = second else {
        let (start, end) = moment(first)?;
        return Ok(Interval {
            start: Some(start),
            end: Some(end),
        });
    };
    let end_of = |t: &str, first: bool| -> Result<Option<i64>, String> {
        match t.trim() {
            "" | ".." => Ok(None),
            t => moment(t).map(|(s, e)| Some(if first { s } else { e })),
        }
    };
    let start = end_of(first, true)?;
    let end = end_of(second, false)?;
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(format!("{raw:?}: the interval ends before it starts"));
    }
    Ok(Interval { start, end })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year, month, day) → days since 1970-01-01, proleptic Gregorian.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_251_199);
        assert_eq!(rfc3339(t), "2024-02-29T23:59:59Z");
    }

    #[test]
    fn intervals_intersect() {
        let day = |d: &str| parse_datetime(d).unwrap();
        assert!(day("2026-06-01").intersects(&day("2026-06-01/2026-06-30")));
        assert!(day("2026-06-30").intersects(&day("2026-06-01/2026-06-30")));
        assert!(!day("2026-07-01").intersects(&day("2026-06-01/2026-06-30")));
        assert!(day("2020-01-01").intersects(&day("../2026-06-30")));
        assert!(!day("2026-05-31").intersects(&day("2026-06-01/..")));
        assert!(day("2026-06-15T10:00:00+08:00").intersects(&day("2026-06-15")));
    }

    #[test]
    fn datetimes_and_intervals() {
        let leap = 1_709_251_199_000;
        let i = parse_datetime("2024-02-29T23:59:59Z").unwrap();
        assert_eq!((i.start, i.end), (Some(leap), Some(leap)));
        let i = parse_datetime("2024-03-01T07:59:59.5+08:00").unwrap();
        assert_eq!(i.start, Some(leap + 500));
        let i = parse_datetime("2024-02-29").unwrap();
        assert_eq!(i.end, Some(leap + 999));
        let i = parse_datetime("../2024-02-29").unwrap();
        assert_eq!((i.start, i.end), (None, Some(leap + 999)));
        let i = parse_datetime("2024-02-29T00:00:00Z/").unwrap();
        assert_eq!(i.end, None);
        assert!(parse_datetime("2024-01-01/2024-12-31").is_ok());
        for bad in [
            "",
            "garbage",
            "2023-02-29",
            "2024-13-01",
            "2024-01-01T25:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00+8",
            "2024-12-31/2024-01-01",
            "2024-01-01/2024-02-01/2024-03-01",
            "2024-1-1",
            "２０２４-01-01",
            "1e9",
        ] {
            assert!(parse_datetime(bad).is_err(), "{bad}");
        }
    }
}
