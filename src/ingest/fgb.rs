//! FlatGeobuf reader (`flatgeobuf` crate for the header and geometries;
//! properties decoded here with every length checked, since the crate's own
//! property reader trusts the lengths written in the file).
//!
//! The whole layer is loaded, so features are read in file order with
//! `select_all_seq`; the file's packed R-tree is skipped, since the store
//! builds its own over all features.

use super::issue::{Issue, IssueLevel, IssueSink, feature_label};
use super::table::{Record, Table};
use crate::model::Value;
use flatgeobuf::{ColumnType, FallibleStreamingIterator, FgbReader};
use geozero::ToGeo;

/// Takes the next `N` bytes of a property buffer.
fn take<const N: usize>(bytes: &[u8], at: &mut usize) -> Result<[u8; N], String> {
    let slice = take_n(bytes, at, N)?;
    <[u8; N]>::try_from(slice).map_err(|_| "short property value".to_string())
}

/// Takes the next `n` bytes of a property buffer, checking the length
/// against the buffer (the file's own lengths are not trusted).
fn take_n<'b>(bytes: &'b [u8], at: &mut usize, n: usize) -> Result<&'b [u8], String> {
    let slice = at
        .checked_add(n)
        .and_then(|end| bytes.get(*at..end))
        .ok_or_else(|| {
            format!(
                "a property value of {n} bytes at offset {at} runs past the end of the feature's {} bytes",
                bytes.len()
            )
        })?;
    *at += n;
    Ok(slice)
}

fn text(bytes: &[u8], at: &mut usize) -> Result<String, String> {
    let len = u32::from_le_bytes(take::<4>(bytes, at)?) as usize;
    let raw = take_n(bytes, at, len)?;
    std::str::from_utf8(raw)
        .map(str::to_string)
        .map_err(|_| format!("a text property at offset {at} is not UTF-8"))
}

/// Decodes a feature's property buffer — repeated (column index: u16,
/// value) — into `values`, with every offset and length checked.
fn decode_properties(
    bytes: &[u8],
    types: &[ColumnType],
    values: &mut [Value],
) -> Result<(), String> {
    let mut at = 0usize;
    // Some writers leave one trailing byte after the last value.
    while at + 1 < bytes.len() {
        let column = usize::from(u16::from_le_bytes(take::<2>(bytes, &mut at)?));
        let ty = *types.get(column).ok_or_else(|| {
            format!(
                "property column {column} does not exist (the header has {})",
                types.len()
            )
        })?;
        let value = match ty {
            ColumnType::Byte => Value::Int(i64::from(i8::from_le_bytes(take(bytes, &mut at)?))),
            ColumnType::UByte => Value::Int(i64::from(u8::from_le_bytes(take(bytes, &mut at)?))),
            ColumnType::Bool => Value::Bool(take::<1>(bytes, &mut at)?[0] != 0),
            ColumnType::Short => Value::Int(i64::from(i16::from_le_bytes(take(bytes, &mut at)?))),
            ColumnType::UShort => Value::Int(i64::from(u16::from_le_bytes(take(bytes, &mut at)?))),
            ColumnType::Int => Value::Int(i64::from(i32::from_le_bytes(take(bytes, &mut at)?))),
            ColumnType::UInt => Value::Int(i64::from(u32::from_le_bytes(take(bytes, &mut at)?))),
            ColumnType::Long => Value::Int(i64::from_le_bytes(take(bytes, &mut at)?)),
            ColumnType::ULong => {
                let x = u64::from_le_bytes(take(bytes, &mut at)?);
                i64::try_from(x)
                    .map(Value::Int)
                    .unwrap_or(Value::Float(x as f64))
            }
            ColumnType::Float => Value::Float(f64::from(f32::from_le_bytes(take(bytes, &mut at)?))),
            ColumnType::Double => Value::Float(f64::from_le_bytes(take(bytes, &mut at)?)),
            ColumnType::String | ColumnType::Json | ColumnType::DateTime => {
                Value::Text(text(bytes, &mut at)?)
            }
            ColumnType::Binary => {
                let len = u32::from_le_bytes(take::<4>(bytes, &mut at)?) as usize;
                take_n(bytes, &mut at, len)?;
                Value::Null
            }
            other => return Err(format!("unknown property type {}", other.0)),
        };
        if let Some(slot) = values.get_mut(column) {
            *slot = value;
        }
    }
    Ok(())
}

/// Byte size of a packed R-tree over `count` items (as the format defines
/// it), or `None` if the header's numbers cannot describe a real index.
fn index_size(count: u64, node_size: u16) -> Option<u64> {
    if node_size == 0 || count == 0 {
        return Some(0);
    }
    if node_size < 2 {
        return None;
    }
    let node_size = u64::from(node_size);
    let (mut n, mut nodes) = (count, count);
    loop {
        n = n.div_ceil(node_size);
        nodes = nodes.checked_add(n)?;
        if n == 1 {
            break;
        }
    }
    // Each node: a box of four f64 and a u64 offset.
    nodes.checked_mul(40)
}

/// Checks the sizes the file claims — index, then each feature's length
/// prefix — against the bytes there are, before the decoder allocates
/// buffers of those sizes (a flipped bit must not cost gigabytes), and
/// that the file ends where its last feature ends and holds as many
/// features as its header promises (a truncated copy or trailing bytes
/// must never load as a smaller layer).
fn check_sizes(bytes: &[u8], features: u64, node_size: u16) -> Result<(), String> {
    let word = |at: usize| -> Option<usize> {
        let b = bytes.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let header = word(8).ok_or("no header")?;
    let index = index_size(features, node_size)
        .and_then(|i| usize::try_from(i).ok())
        .ok_or_else(|| format!("an index over {features} features cannot exist"))?;
    let mut at = 12usize
        .checked_add(header)
        .and_then(|a| a.checked_add(index))
        .filter(|&a| a <= bytes.len())
        .ok_or_else(|| {
            format!(
                "the header and index claim more bytes than the file's {}",
                bytes.len()
            )
        })?;
    let mut n = 0usize;
    while let Some(size) = word(at) {
        at += 4;
        if size > bytes.len() - at {
            return Err(format!(
                "feature {n} claims {size} bytes but only {} remain",
                bytes.len() - at
            ));
        }
        at += size;
        n += 1;
    }
    if at != bytes.len() {
        return Err(format!(
            "{} stray byte(s) after feature {n}: the file is truncated or has trailing garbage",
            bytes.len() - at
        ));
    }
    // A count of 0 means "unknown" in the format (streamed writers).
    if features != 0 && n as u64 != features {
        return Err(format!(
            "the header promises {features} features but the file holds {n} (truncated or corrupt)"
        ));
    }
    Ok(())
}

/// Checks a geometry's ring ends against its coordinates (and its parts',
/// recursively): the decoder trusts them and sizes buffers by them.
fn check_geometry(g: &flatgeobuf::Geometry<'_>, depth: usize) -> Result<(), String> {
    if depth > 16 {
        return Err("geometry parts nested too deeply".into());
    }
    let coords = g.xy().map_or(0, |xy| xy.len() / 2);
    if let Some(ends) = g.ends() {
        let mut previous = 0u32;
        for end in ends.iter() {
            if end < previous || end as usize > coords {
                return Err(format!(
                    "ring end {end} is outside the geometry's {coords} coordinates"
                ));
            }
            previous = end;
        }
    }
    if let Some(parts) = g.parts() {
        for part in parts.iter() {
            check_geometry(&part, depth + 1)?;
        }
    }
    Ok(())
}

/// Reads FlatGeobuf bytes into a [`Table`].
pub fn read(file: &str, bytes: &[u8], issues: &mut Vec<Issue>) -> Result<Table, Issue> {
    if bytes.is_empty() {
        return Err(Issue::file_error(file, "the file is empty"));
    }
    // The FlatGeobuf decoder trusts offsets inside the file; a corrupt file
    // must be an error, never a crash of the server.
    let outcome = std::panic::catch_unwind(|| {
        let mut local = Vec::new();
        let result = read_unguarded(file, bytes, &mut local);
        (result, local)
    });
    match outcome {
        Ok((result, local)) => {
            issues.extend(local);
            result
        }
        Err(_) => Err(Issue::file_error(file, "corrupt FlatGeobuf file")),
    }
}

fn read_unguarded(file: &str, bytes: &[u8], issues: &mut Vec<Issue>) -> Result<Table, Issue> {
    let bad =
        |e: flatgeobuf::Error| Issue::file_error(file, format!("not a valid FlatGeobuf file: {e}"));
    let mut cursor = std::io::Cursor::new(bytes);
    let reader = FgbReader::open(&mut cursor).map_err(bad)?;
    let columns: Vec<String> = reader
        .header()
        .columns()
        .map(|cols| cols.iter().map(|c| c.name().to_string()).collect())
        .unwrap_or_default();
    let types: Vec<ColumnType> = reader
        .header()
        .columns()
        .map(|cols| cols.iter().map(|c| c.type_()).collect())
        .unwrap_or_default();
    check_sizes(
        bytes,
        reader.header().features_count(),
        reader.header().index_node_size(),
    )
    .map_err(|m| Issue::file_error(file, format!("not a valid FlatGeobuf file: {m}")))?;
    let mut iter = reader.select_all_seq().map_err(bad)?;
    let mut sink = IssueSink::new(file, issues);
    let mut table = Table {
        columns,
        records: Vec::new(),
    };
    let mut index = 0usize;
    loop {
        let next = iter.next();
        let feature = match next {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                sink.push(
                    IssueLevel::Error,
                    Some(feature_label(index, None)),
                    None,
                    format!("truncated or corrupt feature: {e}"),
                );
                break;
            }
        };
        let mut values = vec![Value::Null; table.columns.len()];
        let props = feature.fbs_feature().properties();
        if let Err(e) = decode_properties(
            props.map(|p| p.bytes()).unwrap_or_default(),
            &types,
            &mut values,
        ) {
            sink.push(
                IssueLevel::Error,
                Some(feature_label(index, None)),
                None,
                format!("unreadable properties: {e}"),
            );
        }
        let checked = match feature.geometry() {
            Some(g) => check_geometry(&g, 0),
            None => Ok(()),
        };
        let geometry = match checked.and_then(|()| feature.to_geo().map_err(|e| e.to_string())) {
            Ok(g) => Some(g),
            Err(e) => {
                sink.push(
                    IssueLevel::Error,
                    Some(feature_label(index, None)),
                    Some("geometry"),
                    format!("unreadable geometry: {e}"),
                );
                None
            }
        };
        table.records.push(Record { geometry, values });
        index += 1;
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_sizes() {
        // One leaf and its root; 10 items under nodes of 4: 10 + 3 + 1.
        assert_eq!(index_size(1, 16), Some(80));
        assert_eq!(index_size(10, 4), Some(14 * 40));
        assert_eq!(index_size(5, 0), Some(0));
        assert_eq!(index_size(5, 1), None);
        assert_eq!(index_size(u64::MAX, 2), None);
    }

    #[test]
    fn property_lengths_are_checked() {
        let types = [ColumnType::Int, ColumnType::String];
        let mut values = vec![Value::Null; 2];
        // column 0: Int 7; column 1: String "ab".
        let good = [0, 0, 7, 0, 0, 0, 1, 0, 2, 0, 0, 0, b'a', b'b'];
        assert!(decode_properties(&good, &types, &mut values).is_ok());
        assert_eq!(values, vec![Value::Int(7), Value::Text("ab".into())]);
        // A string claiming 16 MiB in a 14-byte buffer.
        let long = [0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 1, b'a', b'b'];
        let err = decode_properties(&long, &types, &mut values).err();
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("runs past the end")),
            "{err:?}"
        );
        // A truncated Int and an unknown column.
        assert!(decode_properties(&[0, 0, 7], &types, &mut values).is_err());
        assert!(decode_properties(&[9, 0, 7, 0, 0, 0], &types, &mut values).is_err());
    }
}
