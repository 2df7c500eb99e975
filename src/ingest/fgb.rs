//! FlatGeobuf reader (`flatgeobuf` crate; properties through `geozero`).
//!
//! The whole layer is loaded, so features are read in file order with
//! `select_all_seq`; the file's packed R-tree is skipped, since the store
//! builds its own over all features.

use super::issue::{Issue, IssueLevel, IssueSink, feature_label};
use super::table::{Record, Table};
use crate::model::Value;
use flatgeobuf::{FallibleStreamingIterator, FgbReader};
use geozero::{ColumnValue, FeatureProperties, PropertyProcessor, ToGeo};

struct Props<'a> {
    values: &'a mut Vec<Value>,
}

impl PropertyProcessor for Props<'_> {
    fn property(&mut self, i: usize, _name: &str, v: &ColumnValue) -> geozero::error::Result<bool> {
        let value = match v {
            ColumnValue::Byte(x) => Value::Int(i64::from(*x)),
            ColumnValue::UByte(x) => Value::Int(i64::from(*x)),
            ColumnValue::Bool(x) => Value::Bool(*x),
            ColumnValue::Short(x) => Value::Int(i64::from(*x)),
            ColumnValue::UShort(x) => Value::Int(i64::from(*x)),
            ColumnValue::Int(x) => Value::Int(i64::from(*x)),
            ColumnValue::UInt(x) => Value::Int(i64::from(*x)),
            ColumnValue::Long(x) => Value::Int(*x),
            ColumnValue::ULong(x) => i64::try_from(*x)
                .map(Value::Int)
                .unwrap_or(Value::Float(*x as f64)),
            ColumnValue::Float(x) => Value::Float(f64::from(*x)),
            ColumnValue::Double(x) => Value::Float(*x),
            ColumnValue::String(s) | ColumnValue::Json(s) | ColumnValue::DateTime(s) => {
                Value::Text((*s).to_string())
            }
            ColumnValue::Binary(_) => Value::Null,
        };
        if let Some(slot) = self.values.get_mut(i) {
            *slot = value;
        }
        Ok(false)
    }
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
        if let Err(e) = feature.process_properties(&mut Props {
            values: &mut values,
        }) {
            sink.push(
                IssueLevel::Error,
                Some(feature_label(index, None)),
                None,
                format!("unreadable properties: {e}"),
            );
        }
        let geometry = match feature.to_geo() {
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
