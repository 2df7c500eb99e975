//! Query-parameter parsing shared by the `/api` handlers: every malformed
//! value is a 400 that says what was wrong.

use crate::server::ApiError;

/// Default `limit` on `/api/*`.
pub const DEFAULT_LIMIT: usize = 20;
/// Maximum `limit` on `/api/*` (larger values are clamped).
pub const MAX_LIMIT: usize = 100;

/// Checks a grid unit code: 6 to 15 digits.
pub fn code(raw: &str) -> Result<&str, ApiError> {
    if (6..=15).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(raw)
    } else {
        Err(ApiError::BadRequest(format!(
            "malformed code {raw:?}: a grid unit code is 6 to 15 digits"
        )))
    }
}

/// `limit`: default 20, < 1 or not a number → 400, above 100 clamped.
pub fn limit(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(t) => Ok(whole_number("limit", t)?.min(MAX_LIMIT)),
    }
}

/// A count parameter `name`: a whole number ≥ 1, else 400.
pub fn whole_number(name: &str, raw: &str) -> Result<usize, ApiError> {
    match raw.trim().parse::<u64>() {
        Ok(0) | Err(_) => Err(ApiError::BadRequest(format!(
            "{name} must be a whole number ≥ 1, found {raw:?}"
        ))),
        Ok(n) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
    }
}

/// A longitude or latitude: finite and within range.
pub fn coordinate(name: &str, raw: Option<&str>, max: f64) -> Result<f64, ApiError> {
    let t = raw.ok_or_else(|| ApiError::BadRequest(format!("{name} is required")))?;
    match t.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (-max..=max).contains(&v) => Ok(v),
        _ => Err(ApiError::BadRequest(format!(
            "{name} must be a finite number in [-{max}, {max}], found {t:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(limit(None).ok(), Some(20));
        assert_eq!(limit(Some("5")).ok(), Some(5));
        assert_eq!(limit(Some("100000")).ok(), Some(100));
        assert!(limit(Some("0")).is_err());
        assert!(limit(Some("-3")).is_err());
        assert!(limit(Some("ten")).is_err());
    }

    #[test]
    fn codes_and_coordinates() {
        assert!(code("350502001001").is_ok());
        assert!(code("35050").is_err());
        assert!(code("3505020010010011").is_err());
        assert!(code("35050200100a").is_err());
        assert!(coordinate("lon", Some("118.6"), 180.0).is_ok());
        assert!(coordinate("lon", Some("NaN"), 180.0).is_err());
        assert!(coordinate("lat", Some("91"), 90.0).is_err());
        assert!(coordinate("lat", None, 90.0).is_err());
    }
}
