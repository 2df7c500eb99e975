//! Civil dates from day counts (proleptic Gregorian), without a time-zone
//! database: the OGC timestamps and the risk model's as-of date share it.

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
///
/// ```
/// use riskmap::model::civil_from_days;
/// assert_eq!(civil_from_days(0), (1970, 1, 1));
/// assert_eq!(civil_from_days(20_428), (2025, 12, 6));
/// assert_eq!(civil_from_days(-1), (1969, 12, 31));
/// ```
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The number of days of month `m` (1–12) of year `y`, proleptic
/// Gregorian; `None` for a month that does not exist.
///
/// ```
/// use riskmap::model::days_in_month;
/// assert_eq!(days_in_month(2024, 2), Some(29));
/// assert_eq!(days_in_month(1900, 2), Some(28));
/// assert_eq!(days_in_month(2026, 13), None);
/// ```
pub fn days_in_month(y: i32, m: u32) -> Option<u32> {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => Some(31),
        4 | 6 | 9 | 11 => Some(30),
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => Some(29),
        2 => Some(28),
        _ => None,
    }
}
