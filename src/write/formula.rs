//! Spreadsheet formula neutralising (OWASP "CSV injection"): a text cell
//! that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run
//! as a formula by Excel, LibreOffice and WPS when the file is opened
//! (`=HYPERLINK(…)` exfiltrating the sheet, `=cmd|…` DDE). Such text gets
//! a leading `'`, which the spreadsheet shows as plain text. Numbers are
//! written as numbers and never pass through here.

use std::borrow::Cow;

/// The first characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `text` safe to put in a spreadsheet cell: prefixed with `'` when it
/// starts like a formula, else unchanged.
pub fn neutralise_formula(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_get_a_quote() {
        for bad in [
            "=HYPERLINK(\"http://x\",\"a\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(neutralise_formula(bad), format!("'{bad}"));
        }
        for good in ["泉州石化", "E1", "", " =x", "a=b"] {
            assert_eq!(neutralise_formula(good), good);
        }
    }
}
