//! JSON values written straight into a `String` (feature pages are written
//! by hand, not through a serializer): numbers with the shortest digits
//! that read back to the same `f64`, strings quoted and escaped.

use std::fmt::Write as _;

/// Writes `x` as Rust's `Display` writes it (shortest digits that read
/// back to the same `f64`, no exponent, no `.0` on integral values),
/// through the faster `ryu` (which may end a 17-digit number on the other
/// of two equally short neighbours: it still reads back to `x`).
pub fn write_f64(out: &mut String, x: f64) {
    if !x.is_finite() {
        let _ = write!(out, "{x}");
        return;
    }
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(x);
    if s.contains('e') {
        // ryu switches to an exponent outside 1e-5 ..= 1e16.
        let _ = write!(out, "{x}");
    } else {
        out.push_str(s.strip_suffix(".0").unwrap_or(s));
    }
}

/// Writes `s` as a JSON string (quoted, with `"`, `\` and control
/// characters escaped as `serde_json` escapes them).
pub fn write_str(out: &mut String, s: &str) {
    if s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(&serde_json::Value::from(s).to_string());
    } else {
        out.push('"');
        out.push_str(s);
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_back_exactly_as_short_as_display_writes_them() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut fixed = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            118.5,
            24.9,
            1e-5,
            9.99e-6,
            1e16,
            1.5e16,
            1e17,
            123456789.0,
            0.1 + 0.2,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::NAN,
            f64::INFINITY,
        ];
        for _ in 0..200_000 {
            let bits = next();
            // Coordinates, scores and arbitrary doubles.
            fixed.push(117.0 + (bits % 1_000_000_000) as f64 * 1e-8);
            fixed.push((bits % 100_000) as f64 / 10.0);
            fixed.push(f64::from_bits(bits));
        }
        for x in fixed {
            let mut out = String::new();
            write_f64(&mut out, x);
            let display = format!("{x}");
            if x.is_nan() {
                assert_eq!(out, display);
                continue;
            }
            assert_eq!(out.len(), display.len(), "{out} vs {display}");
            assert!(!out.contains(['e', 'E']), "{out}");
            let back: f64 = out.parse().expect("a number");
            assert_eq!(back.to_bits(), x.to_bits(), "{out} vs {display}");
            // Apart from the last digit, the same text.
            assert_eq!(out[..out.len() - 1], display[..display.len() - 1]);
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for s in [
            "",
            "金山社区",
            "a\"b",
            "back\\slash",
            "tab\there",
            "\u{1}",
            "plain ascii",
        ] {
            let mut out = String::new();
            write_str(&mut out, s);
            assert_eq!(out, serde_json::Value::from(s).to_string());
        }
    }
}
