//! Checks of a Shapefile before GDAL opens it, and its DBF text encoding.
//!
//! GDAL opens a Shapefile whose `.dbf` is unreadable as one without
//! attributes, and reads a DBF that has neither a `.cpg` nor a language
//! byte as Latin-1. Both would be wrong quietly here, so the companions are
//! checked first and the encoding is chosen when the file does not say.

use crate::ingest::issue::Issue;
use std::path::{Path, PathBuf};

/// A sibling of `path` with extension `ext` in either case, if it exists.
pub(super) fn sibling(path: &Path, ext: &str) -> Option<PathBuf> {
    [ext.to_ascii_lowercase(), ext.to_ascii_uppercase()]
        .into_iter()
        .map(|e| path.with_extension(e))
        .find(|p| p.exists())
}

/// What a DBF header says.
#[derive(Debug, PartialEq, Eq)]
struct DbfHeader {
    records: u64,
    header_len: usize,
    record_len: usize,
    language: u8,
}

/// Reads and checks a DBF header against the file's length.
fn dbf_header(bytes: &[u8]) -> Result<DbfHeader, String> {
    if bytes.len() < 32 {
        return Err(format!(
            "is not a dBASE table ({} bytes, shorter than its header)",
            bytes.len()
        ));
    }
    let records = u64::from(u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]));
    let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let record_len = usize::from(u16::from_le_bytes([bytes[10], bytes[11]]));
    if header_len < 33 || header_len > bytes.len() {
        return Err(format!(
            "is not a dBASE table (header length {header_len} in a file of {} bytes)",
            bytes.len()
        ));
    }
    // Field descriptors of 32 bytes each, ended by 0x0D; their widths plus
    // the deletion flag make up a record.
    let mut width = 1usize;
    let mut at = 32;
    loop {
        match bytes.get(at) {
            Some(0x0D) => break,
            Some(_) if at + 32 <= header_len => {
                width += usize::from(bytes[at + 16]);
                at += 32;
            }
            _ => return Err("is not a dBASE table (its field list has no end)".to_string()),
        }
    }
    if width != record_len {
        return Err(format!(
            "is corrupt: its fields are {width} bytes wide but its records {record_len}"
        ));
    }
    let needed = header_len as u64 + records * record_len as u64;
    if (bytes.len() as u64) < needed {
        return Err(format!(
            "is truncated: {records} records of {record_len} bytes need {needed} bytes, the file has {}",
            bytes.len()
        ));
    }
    Ok(DbfHeader {
        records,
        header_len,
        record_len,
        language: bytes[29],
    })
}

/// Number of shapes an `.shx` index lists (100-byte header, 8 bytes each).
fn shx_count(path: &Path) -> Option<u64> {
    let len = std::fs::metadata(path).ok()?.len();
    len.checked_sub(100).map(|n| n / 8)
}

/// Checks the companions of the Shapefile `path` and returns the DBF
/// encoding to open it with: `encoding` if given, none when the `.cpg` or
/// language byte tells GDAL, else the one detected.
pub(super) fn check(
    path: &Path,
    file: &str,
    encoding: Option<&str>,
) -> Result<Option<String>, Issue> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let missing = |ext: &str| {
        Issue::file_error(
            file,
            format!(
                "{stem}.{ext} is missing: a Shapefile needs its .shp, .shx and .dbf side by side"
            ),
        )
    };
    let shx = sibling(path, "shx").ok_or_else(|| missing("shx"))?;
    let dbf = sibling(path, "dbf").ok_or_else(|| missing("dbf"))?;
    let bytes = std::fs::read(&dbf)
        .map_err(|e| Issue::file_error(file, format!("cannot read {stem}.dbf: {e}")))?;
    let header =
        dbf_header(&bytes).map_err(|why| Issue::file_error(file, format!("{stem}.dbf {why}")))?;
    if let Some(shapes) = shx_count(&shx)
        && shapes != header.records
    {
        return Err(Issue::file_error(
            file,
            format!(
                "{stem}.dbf has {} records but {stem}.shx lists {shapes} shapes",
                header.records
            ),
        ));
    }
    if let Some(e) = encoding {
        return Ok(Some(e.to_string()));
    }
    if sibling(path, "cpg").is_some() || header.language != 0 {
        return Ok(None);
    }
    let end = header.header_len + (header.records as usize).saturating_mul(header.record_len);
    let records = bytes.get(header.header_len..end).unwrap_or_default();
    Ok(Some(detect_encoding(records).to_string()))
}

/// `UTF-8` when text that is not ASCII is (nearly all) valid UTF-8, else
/// `CP936` (GBK). DBF fields are cut at a byte width, so a few broken
/// UTF-8 sequences at field ends are allowed.
pub(super) fn detect_encoding(bytes: &[u8]) -> &'static str {
    if bytes.is_ascii() {
        return "UTF-8";
    }
    let (text, had_errors) = encoding_rs::UTF_8.decode_without_bom_handling(bytes);
    if !had_errors {
        return "UTF-8";
    }
    let bad = text.chars().filter(|&c| c == '\u{FFFD}').count();
    let wide = text.chars().filter(|c| !c.is_ascii()).count();
    if bad * 10 <= wide { "UTF-8" } else { "CP936" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbf_text_encodings_are_told_apart() {
        let utf8 = "泉州燃气有限公司      海滨鞋业";
        assert_eq!(detect_encoding(utf8.as_bytes()), "UTF-8");
        let (gbk, _, _) = encoding_rs::GBK.encode(utf8);
        assert_eq!(detect_encoding(&gbk), "CP936");
        assert_eq!(detect_encoding(b"plain ascii"), "UTF-8");
        // A UTF-8 field cut inside its last character is still UTF-8.
        let mut cut = utf8.as_bytes()[..utf8.len() - 1].to_vec();
        cut.extend_from_slice("  金山社区第一网格".as_bytes());
        assert_eq!(detect_encoding(&cut), "UTF-8");
    }

    /// A DBF with one 4-byte text field and `records` records.
    fn dbf(records: u32, body: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 32];
        b[0] = 3;
        b[4..8].copy_from_slice(&records.to_le_bytes());
        b[8..10].copy_from_slice(&65u16.to_le_bytes());
        b[10..12].copy_from_slice(&5u16.to_le_bytes());
        let mut field = [0u8; 32];
        field[..4].copy_from_slice(b"name");
        field[11] = b'C';
        field[16] = 4;
        b.extend_from_slice(&field);
        b.push(0x0D);
        b.extend_from_slice(body);
        b
    }

    #[test]
    fn dbf_headers_are_checked() {
        let ok = dbf(2, b" abcd efgh");
        assert_eq!(
            dbf_header(&ok),
            Ok(DbfHeader {
                records: 2,
                header_len: 65,
                record_len: 5,
                language: 0
            })
        );
        let short = dbf(3, b" abcd efgh");
        assert!(dbf_header(&short).is_err_and(|e| e.contains("truncated")));
        assert!(dbf_header(b"garbage").is_err());
        let mut no_end = ok.clone();
        no_end[64] = b'x';
        assert!(dbf_header(&no_end).is_err());
        let mut wide = ok;
        wide[48] = 9;
        assert!(dbf_header(&wide).is_err_and(|e| e.contains("wide")));
    }
}
