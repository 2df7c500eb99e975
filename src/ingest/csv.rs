//! CSV reader for point ledgers (UTF-8 or GBK, detected).
//!
//! A file cut short must not load as a shorter ledger: a quoted cell that
//! never closes, or a last row without its line break, is an error naming
//! the file; a row with fewer cells than the header is an error naming it.
//!
//! Geometry is not made here: the builder makes points from the `lon`/`lat`
//! fields (or their mapped names such as 经度/纬度), so spreadsheets from
//! any source share one path.

use super::issue::{Issue, IssueLevel, IssueSink, feature_label};
use super::table::{Record, Table};
use crate::model::Value;
use std::borrow::Cow;

/// The text encoding a CSV file was found to be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 (with or without BOM).
    Utf8,
    /// UTF-16 with a BOM.
    Utf16,
    /// GBK / GB18030 (Chinese Windows' default for Excel exports).
    Gbk,
}

/// Decodes bytes: BOM first, then valid UTF-8, else GB18030 (a superset of
/// GBK). Returns the text, the encoding, and whether undecodable bytes were
/// replaced.
pub fn decode(bytes: &[u8]) -> (Cow<'_, str>, TextEncoding, bool) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        let (text, had_errors) = encoding_rs::UTF_8.decode_without_bom_handling(rest);
        return (text, TextEncoding::Utf8, had_errors);
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let (text, _, had_errors) = encoding_rs::UTF_16LE.decode(bytes);
        return (text, TextEncoding::Utf16, had_errors);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (Cow::Borrowed(text), TextEncoding::Utf8, false),
        Err(_) => {
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            (text, TextEncoding::Gbk, had_errors)
        }
    }
}

/// Reads CSV bytes into a [`Table`] of text values (blank cells are null).
pub fn read(file: &str, bytes: &[u8], issues: &mut Vec<Issue>) -> Result<Table, Issue> {
    let (text, encoding, had_errors) = decode(bytes);
    if text.trim().is_empty() {
        return Err(Issue::file_error(file, "the file is empty"));
    }
    if let Some(line) = unterminated_quote(&text) {
        return Err(Issue::file_error(
            file,
            format!(
                "a quoted cell opened on line {line} is never closed: the file is truncated or a quote is missing"
            ),
        ));
    }
    if !text.ends_with(['\n', '\r']) {
        return Err(Issue::file_error(
            file,
            "the last row does not end with a line break: the file looks truncated \
             (spreadsheets end every row with one; add it if the file is complete)",
        ));
    }
    let mut sink = IssueSink::new(file, issues);
    if had_errors {
        sink.push(
            IssueLevel::Warning,
            None,
            None,
            format!("some bytes are not valid {encoding:?} and were replaced"),
        );
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Issue::file_error(file, format!("cannot read the header row: {e}")))?
        .clone();
    let mut table = Table {
        columns: headers.iter().map(str::to_string).collect(),
        records: Vec::new(),
    };
    if table.columns.iter().all(String::is_empty) {
        return Err(Issue::file_error(file, "the header row is empty"));
    }
    for (index, row) in reader.records().enumerate() {
        let values = match row {
            Ok(row) => {
                if row.len() != table.columns.len() {
                    sink.push(
                        IssueLevel::Error,
                        Some(feature_label(index, row.get(0))),
                        None,
                        format!(
                            "row has {} cells but the header has {}",
                            row.len(),
                            table.columns.len()
                        ),
                    );
                }
                let mut v: Vec<Value> = row
                    .iter()
                    .map(|c| {
                        if c.is_empty() {
                            Value::Null
                        } else {
                            Value::Text(c.to_string())
                        }
                    })
                    .collect();
                v.resize(table.columns.len(), Value::Null);
                v
            }
            Err(e) => {
                sink.push(
                    IssueLevel::Error,
                    Some(feature_label(index, None)),
                    None,
                    format!("unreadable row: {e}"),
                );
                vec![Value::Null; table.columns.len()]
            }
        };
        table.records.push(Record {
            geometry: None,
            values,
        });
    }
    Ok(table)
}

/// The line (1-based) of a quoted cell that runs to the end of the text,
/// if there is one. The `csv` crate ends such a cell silently at the end
/// of the input, so a file cut inside a quoted cell would load its last
/// row with a shortened value. As for the `csv` crate, a quote opens a
/// quoted cell only as the cell's first character; `""` inside is an
/// escaped quote.
fn unterminated_quote(text: &str) -> Option<usize> {
    let mut line = 1usize;
    let mut opened_on = 0usize;
    let (mut quoted, mut at_cell_start) = (false, true);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
        }
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                } else {
                    quoted = false;
                }
            }
            continue;
        }
        match c {
            '"' if at_cell_start => {
                quoted = true;
                opened_on = line;
                at_cell_start = false;
            }
            ',' | '\n' | '\r' => at_cell_start = true,
            _ => at_cell_start = false,
        }
    }
    quoted.then_some(opened_on)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_round_trips_chinese() {
        let utf8 = "id,企业名称,经度,纬度\nE1,泉州石化有限公司,118.9,25.1\n";
        let (gbk, _, bad) = encoding_rs::GBK.encode(utf8);
        assert!(!bad);
        assert!(std::str::from_utf8(&gbk).is_err());
        let mut issues = Vec::new();
        let t = read("e.csv", &gbk, &mut issues).ok();
        assert!(issues.is_empty());
        let t = t.as_ref();
        assert_eq!(t.map(|t| t.columns[1].as_str()), Some("企业名称"));
        assert_eq!(
            t.map(|t| t.records[0].values[1].clone()),
            Some(Value::Text("泉州石化有限公司".into()))
        );
    }

    #[test]
    fn utf8_bom_and_ragged_rows() {
        let text = "\u{feff}id,name\nA,甲\nB\n";
        let mut issues = Vec::new();
        let t = read("e.csv", text.as_bytes(), &mut issues).ok();
        assert_eq!(
            t.map(|t| t.columns),
            Some(vec!["id".to_string(), "name".to_string()])
        );
        assert_eq!(issues.len(), 1);
        assert!(
            issues[0].to_string().starts_with("e.csv:#2 B: "),
            "{}",
            issues[0]
        );
    }

    #[test]
    fn unterminated_quotes_are_file_errors() {
        assert_eq!(unterminated_quote("id,name\nA,\"x, \"\"y\"\"\"\n"), None);
        assert_eq!(unterminated_quote("id,name\nA,5\" pipe\n"), None);
        assert_eq!(unterminated_quote("id,name\nA,\"ok\"\nB,\"cut"), Some(3));
        let mut issues = Vec::new();
        let err = read("e.csv", b"id,name\nA,\"line one\nline", &mut issues).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.starts_with("e.csv:-: ") && msg.contains("line 2"),
            "{msg}"
        );
        // Cut inside the last number: no line break at the end.
        let err = read("e.csv", b"id,lon\nA,118.5", &mut issues).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("looks truncated"), "{msg}");
    }

    #[test]
    fn empty_file() {
        let mut issues = Vec::new();
        assert!(read("e.csv", b"", &mut issues).is_err());
    }
}
