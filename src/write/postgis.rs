//! Writes a [`FeatureTable`] into a PostGIS table (`riskmap score --out
//! postgresql://…`), so that a province's dashboards, QGIS projects and
//! reports can join the scores in the database the ledgers live in.
//!
//! The table is replaced in one transaction, so readers see the old rows or
//! the new ones, never half (they wait for the commit), and a failure
//! leaves the old table in place:
//! - a table riskmap made before with the same columns is emptied
//!   (`TRUNCATE`) and refilled, so its grants, dependent views and indexes
//!   stay;
//! - otherwise it is created: typed columns and `geom geometry(TYPE,
//!   4326)`, then `COPY … FROM STDIN`, a primary key and a GiST index.
//!
//! The table's comment starts with [`COMMENT_PREFIX`]; an existing table
//! without it was not made by riskmap and is never replaced.

use super::{ColumnKind, FeatureTable, GeometryKind, TableFeature};
use crate::model::Value;
use crate::pg::{PgError, connect, query_error, quote, redact};
use bytes::Bytes;
use futures_util::SinkExt;
use geozero::{CoordDimensions, ToWkb};
use std::fmt::Write as _;

/// Where and how to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgTarget<'a> {
    /// The database URL (`postgresql://…`).
    pub url: &'a str,
    /// `table` or `schema.table`: letters, digits and `_`, not starting
    /// with a digit.
    pub table: &'a str,
    /// A column whose values are unique, made the primary key.
    pub key: Option<&'a str>,
    /// The table's comment (what it is, which data it came from).
    pub comment: &'a str,
    /// CA certificates trusted besides the system's (`sslmode=require`).
    pub tls_ca: Option<&'a std::path::Path>,
}

/// How the comment of every table riskmap writes starts.
pub const COMMENT_PREFIX: &str = "riskmap:";

/// Rows per `COPY` chunk sent to the server.
const CHUNK_ROWS: usize = 512;

/// Replaces `target.table` with `table`'s features; returns the number of
/// rows written. Blocking: runs its own small runtime.
pub fn write(target: &PgTarget<'_>, table: &FeatureTable) -> Result<u64, PgError> {
    let quoted = quoted_name(target.table)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(write_async(target, &quoted, table))
}

/// `"schema"."table"` for a plain `[schema.]table` name.
fn quoted_name(name: &str) -> Result<String, PgError> {
    let plain = |part: &str| {
        part.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() > 2 || !parts.iter().all(|p| plain(p)) {
        return Err(PgError::Query {
            table: name.to_string(),
            message: "not a table name: use letters, digits and _ (optionally schema.table)".into(),
        });
    }
    Ok(parts.iter().map(|p| quote(p)).collect::<Vec<_>>().join("."))
}

async fn write_async(
    target: &PgTarget<'_>,
    quoted: &str,
    table: &FeatureTable,
) -> Result<u64, PgError> {
    let mut client = connect(target.url, target.tls_ca).await?;
    let database = redact(target.url);
    let has_postgis = client
        .query_opt("SELECT 1 FROM pg_type WHERE typname = 'geometry'", &[])
        .await
        .map_err(query_error(&database))?
        .is_some();
    if !has_postgis {
        return Err(PgError::Query {
            table: database,
            message: "the database has no PostGIS: run `CREATE EXTENSION postgis` first".into(),
        });
    }
    let fail = query_error(target.table);
    let tx = client.transaction().await.map_err(&fail)?;
    let existing = tx
        .query_opt(
            "SELECT coalesce(obj_description(c.oid, 'pg_class'), ''), \
             array_agg(a.attname::text || ' ' || format_type(a.atttypid, a.atttypmod) \
             ORDER BY a.attnum) \
             FROM pg_class c JOIN pg_attribute a \
             ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
             WHERE c.oid = to_regclass($1) GROUP BY c.oid",
            &[&quoted],
        )
        .await
        .map_err(&fail)?
        .map(|row| (row.get::<_, String>(0), row.get::<_, Vec<String>>(1)));
    let refill = match &existing {
        Some((comment, _)) if !comment.starts_with(COMMENT_PREFIX) => {
            return Err(PgError::Query {
                table: target.table.to_string(),
                message: format!(
                    "the table exists and was not written by riskmap (its comment does not \
                     start with {COMMENT_PREFIX:?}): choose another --table, or drop it first"
                ),
            });
        }
        Some((_, existing)) => {
            let wanted = columns(table).into_iter().map(|(n, k)| format!("{n} {k}"));
            existing.iter().cloned().eq(wanted)
        }
        None => false,
    };
    let setup = if refill {
        format!("TRUNCATE {quoted};")
    } else {
        create_sql(quoted, table)
    };
    tx.batch_execute(&setup).await.map_err(&fail)?;
    let names: Vec<String> = columns(table).iter().map(|(n, _)| quote(n)).collect();
    let copy = format!("COPY {quoted} ({}) FROM STDIN", names.join(", "));
    let sink = tx.copy_in::<_, Bytes>(&copy).await.map_err(&fail)?;
    let mut sink = std::pin::pin!(sink);
    for (chunk, rows) in table.features.chunks(CHUNK_ROWS).enumerate() {
        let mut text = String::new();
        for (i, f) in rows.iter().enumerate() {
            copy_row(&mut text, f, table.geometry_type).map_err(|message| PgError::Query {
                table: target.table.to_string(),
                message: format!("feature {}: {message}", chunk * CHUNK_ROWS + i),
            })?;
        }
        sink.send(Bytes::from(text)).await.map_err(&fail)?;
    }
    let written = sink.as_mut().finish().await.map_err(&fail)?;
    let mut finish = String::new();
    if !refill {
        if let Some(key) = target.key {
            let _ = write!(
                finish,
                "ALTER TABLE {quoted} ADD PRIMARY KEY ({});",
                quote(key)
            );
        }
        let _ = write!(finish, "CREATE INDEX ON {quoted} USING gist (geom);");
    }
    let _ = write!(
        finish,
        "COMMENT ON TABLE {quoted} IS {};",
        literal(&format!("{COMMENT_PREFIX} {}", target.comment))
    );
    tx.batch_execute(&finish).await.map_err(&fail)?;
    tx.commit().await.map_err(&fail)?;
    Ok(written)
}

/// Empties the existing table `quoted` and fills it with `table`'s
/// features (its columns by name, the geometry into `geometry`), in the
/// caller's transaction: the base tables of a journal compaction.
pub(crate) async fn refill(
    tx: &tokio_postgres::Transaction<'_>,
    quoted: &str,
    geometry: &str,
    table: &FeatureTable,
) -> Result<u64, PgError> {
    let fail = query_error(quoted);
    tx.batch_execute(&format!("DELETE FROM {quoted}"))
        .await
        .map_err(&fail)?;
    let mut names: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
    names.push(quote(geometry));
    let copy = format!("COPY {quoted} ({}) FROM STDIN", names.join(", "));
    let sink = tx.copy_in::<_, Bytes>(&copy).await.map_err(&fail)?;
    let mut sink = std::pin::pin!(sink);
    for rows in table.features.chunks(CHUNK_ROWS) {
        let mut text = String::new();
        for f in rows {
            copy_row(&mut text, f, table.geometry_type).map_err(|message| PgError::Query {
                table: quoted.to_string(),
                message,
            })?;
        }
        sink.send(Bytes::from(text)).await.map_err(&fail)?;
    }
    sink.as_mut().finish().await.map_err(&fail)
}

/// Each column's name and SQL type (as PostgreSQL's `format_type` names
/// it), `geom` last.
fn columns(table: &FeatureTable) -> Vec<(&str, String)> {
    let mut columns: Vec<(&str, String)> = table
        .columns
        .iter()
        .map(|c| {
            let kind = match c.kind {
                ColumnKind::Text => "text",
                ColumnKind::Int => "bigint",
                ColumnKind::Float => "double precision",
                ColumnKind::Bool => "boolean",
            };
            (c.name.as_str(), kind.to_string())
        })
        .collect();
    let geometry = match table.geometry_type {
        GeometryKind::Point => "Point",
        GeometryKind::Polygon => "Polygon",
        GeometryKind::MultiPolygon => "MultiPolygon",
    };
    columns.push(("geom", format!("geometry({geometry},4326)")));
    columns
}

/// `DROP` and `CREATE` of the table.
fn create_sql(quoted: &str, table: &FeatureTable) -> String {
    let columns: Vec<String> = columns(table)
        .into_iter()
        .map(|(name, kind)| format!("{} {kind}", quote(name)))
        .collect();
    format!(
        "DROP TABLE IF EXISTS {quoted}; CREATE TABLE {quoted} ({});",
        columns.join(", ")
    )
}

/// A SQL string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// One row in `COPY`'s text format: tab-separated, `\N` for null, the
/// geometry as hex EWKB; an error says why a feature cannot be written.
fn copy_row(out: &mut String, f: &TableFeature, kind: GeometryKind) -> Result<(), String> {
    for v in &f.values {
        match v {
            Value::Null => out.push_str("\\N"),
            Value::Bool(b) => out.push(if *b { 't' } else { 'f' }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(x) if x.is_finite() => {
                let _ = write!(out, "{}", crate::model::unsigned_zero(*x));
            }
            Value::Float(_) => out.push_str("\\N"),
            Value::Text(s) => escape(out, s),
        }
        out.push('\t');
    }
    let geometry = match (&f.geometry, kind) {
        (geo::Geometry::Polygon(p), GeometryKind::MultiPolygon) => {
            geo::Geometry::MultiPolygon(geo::MultiPolygon(vec![p.clone()]))
        }
        (g, _) => g.clone(),
    };
    let wkb = geometry
        .to_ewkb(CoordDimensions::xy(), Some(4326))
        .map_err(|e| format!("geometry: {e}"))?;
    for b in wkb {
        let _ = write!(out, "{b:02X}");
    }
    out.push('\n');
    Ok(())
}

/// `s` escaped for `COPY`'s text format.
fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            // PostgreSQL text cannot hold NUL.
            '\0' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::Column;

    #[test]
    fn names_are_quoted_and_checked() {
        assert_eq!(quoted_name("scores").ok().as_deref(), Some("\"scores\""));
        assert_eq!(
            quoted_name("风险.评分_2026").ok().as_deref(),
            Some("\"风险\".\"评分_2026\"")
        );
        for bad in ["", "a.b.c", "1abc", "a;drop", "a b", "a\"b"] {
            let err = quoted_name(bad).err().map(|e| e.to_string());
            assert!(err.is_some_and(|e| e.contains("not a table name")), "{bad}");
        }
    }

    #[test]
    fn rows_are_escaped_for_copy() {
        let table = FeatureTable {
            name: "t".into(),
            geometry_type: GeometryKind::Point,
            columns: vec![
                Column::new("a", ColumnKind::Text),
                Column::new("n", ColumnKind::Int),
                Column::new("x", ColumnKind::Float),
                Column::new("b", ColumnKind::Bool),
            ],
            features: vec![TableFeature {
                geometry: geo::Geometry::Point(geo::Point::new(1.0, 2.0)),
                values: vec![
                    Value::Text("甲\t乙\\丙\n\0".into()),
                    Value::Null,
                    Value::Float(f64::NAN),
                    Value::Bool(true),
                ],
            }],
        };
        let mut row = String::new();
        copy_row(&mut row, &table.features[0], table.geometry_type).unwrap();
        let fields: Vec<&str> = row.trim_end_matches('\n').split('\t').collect();
        assert_eq!(fields[..4], ["甲\\t乙\\\\丙\\n", "\\N", "\\N", "t"]);
        // EWKB, little endian, point with SRID 4326.
        assert!(fields[4].starts_with("0101000020E6100000"), "{}", fields[4]);
        assert!(create_sql("\"t\"", &table).contains("\"geom\" geometry(Point,4326)"));
    }
}
