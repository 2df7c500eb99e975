//! The entries' timestamps: RFC 3339 in UTC with milliseconds, without a
//! calendar crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now as `YYYY-MM-DDTHH:MM:SS.mmmZ` (on [`crate::clock`]).
pub fn now() -> String {
    format_utc(crate::clock::now())
}

/// `t` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (times before 1970 as 1970-01-01).
pub fn format_utc(t: SystemTime) -> String {
    let ms = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let (secs, milli) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = crate::model::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Whether `s` is an RFC 3339 date-time in UTC:
/// `YYYY-MM-DDTHH:MM:SS`, optional fraction, then `Z`.
pub fn is_utc_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0, |n, c| n * 10 + u32::from(c - b'0')))
    };
    let fields = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    );
    let (Some(_), Some(mo), Some(d), Some(h), Some(mi), Some(s)) = fields else {
        return false;
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return false;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return false;
    }
    let rest = &b[19..];
    let rest = match rest.strip_prefix(b".") {
        Some(frac) => {
            let digits = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return false;
            }
            &frac[digits..]
        }
        None => rest,
    };
    matches!(rest, b"Z" | b"z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_and_accepts_its_own_output() {
        let t = UNIX_EPOCH + Duration::from_millis(1_765_000_000_123);
        let s = format_utc(t);
        assert_eq!(s, "2025-12-06T05:46:40.123Z");
        assert!(is_utc_rfc3339(&s));
        assert!(is_utc_rfc3339(&now()));
    }

    #[test]
    fn rejects_what_is_not_utc_rfc3339() {
        for ok in ["2026-01-02T03:04:05Z", "2026-01-02t03:04:05.5z"] {
            assert!(is_utc_rfc3339(ok), "{ok}");
        }
        for bad in [
            "",
            "2026-01-02",
            "2026-01-02 03:04:05Z",
            "2026-13-02T03:04:05Z",
            "2026-01-02T24:04:05Z",
            "2026-01-02T03:04:05",
            "2026-01-02T03:04:05+08:00",
            "2026-01-02T03:04:05.Z",
            "2026-01-02T03:04:05Zx",
            "２026-01-02T03:04:05Z",
        ] {
            assert!(!is_utc_rfc3339(bad), "{bad}");
        }
    }
}
