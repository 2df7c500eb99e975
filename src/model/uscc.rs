//! 统一社会信用代码 (unified social credit code, GB 32100-2015) check digit.

/// The 31 characters a code may use, in value order.
const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17.
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

fn value_of(c: char) -> Option<u32> {
    CHARSET.find(c).map(|i| i as u32)
}

/// The check character for the first 17 characters of a code, or `None` if
/// they are not 17 characters of the code's alphabet.
pub fn check_char(first17: &str) -> Option<char> {
    if first17.chars().count() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += value_of(c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    CHARSET.chars().nth(check as usize)
}

/// Whether an 18-character code's check character is right.
pub fn is_valid(code: &str) -> bool {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return false;
    }
    let first: String = chars[..17].iter().collect();
    check_char(&first) == Some(chars[17])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes() {
        // A published example code (GB 32100-2015 annex style).
        assert!(is_valid("91350100M000100Y43"));
        assert!(!is_valid("91350100M000100Y44"));
        assert!(!is_valid("short"));
        // 'I' is not in the alphabet.
        assert_eq!(check_char("91350100I000100Y4"), None);
    }
}
