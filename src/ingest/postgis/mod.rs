//! The PostGIS source: `--data postgresql://user@host:port/db` reads the
//! input layers from tables or views of one database, so that several
//! riskmap instances on that database serve the same snapshot.
//!
//! **Driver.** `tokio-postgres`, pure Rust with no system library, so the
//! source is always built in (no cargo feature): the binary that reads
//! files reads a database too. With `sslmode=require` in the URL the
//! connection is TLS (rustls), the server's certificate verified against
//! the system's roots and `[source] tls_ca` ([`connect`]); otherwise it is
//! plain, for loopback, a Unix socket
//! (`postgresql://user@%2Frun%2Fpostgresql/db`) or a private network.
//!
//! **Tables.** Each layer is read from the table or view named like the
//! layer (`enterprises`, `hazard_sources`, `collapse_zones`, `grid_cells`,
//! `counties`; found on the `search_path`), or from `[layers.NAME] layer =
//! "schema.table"`. Every column becomes a field under its own name, so the
//! layer's `fields` mapping, validation and messages are those of the file
//! readers; a message names the table (`public.enterprises`), the row
//! (`#3 E3`: position in primary-key order, and the id) and the field.
//! Integer columns read as integers, `real`/`double`/`numeric` as numbers,
//! `boolean` as booleans, anything else as its text. The first `geometry`
//! column is the geometry, converted to EPSG:4326 with `ST_Transform` when
//! it has another SRID; a column of SRID 0 is taken to be in the layer's
//! configured `crs`. A table without a geometry column (an enterprise
//! ledger) is read like a CSV: the builder uses its lon/lat fields.
//!
//! **Version.** Everything is read in one `REPEATABLE READ` transaction, so
//! the layers and their fingerprints are one consistent state. A layer's
//! fingerprint is, in order of preference:
//! 1. the rows of the version table (`[source] version_table`, default
//!    `riskmap_version`) if it exists: the ETL bumps it in the transaction
//!    that changes the data (one cheap query per poll);
//! 2. for tables and materialized views, the row count with the sum and
//!    maximum of the rows' `xmin` (every committed insert, update or delete
//!    changes one of them; a full scan, no data transferred);
//! 3. for views, an md5 of the rows' text (reads everything: use a version
//!    table for large views).
//!
//! The `data_version` hashes the fingerprints with the `[risk]` constants
//! exactly as for files, so instances reading one database report the same
//! `data_version` (and ETags). [`data_version`] computes it without loading:
//! the server polls it every `[source] poll_secs` and reloads when it
//! changes.

use super::Options;
use super::issue::{Issue, IssueLevel, IssueSink, feature_label};
use super::table::{Record, Table};
use super::{LoadError, Loaded, ReadLayer, SourceFile, assemble};
use crate::crs::Crs;
use crate::model::{LayerId, Value};
use futures_util::TryStreamExt;
use geozero::ToGeo;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio_postgres::{Client, IsolationLevel, Transaction};

use crate::pg::{PgError, connect, query_error, quote, redact};

/// The load problem a database error is (the connection's or a table's).
fn issue_of(e: &PgError) -> Issue {
    match e {
        PgError::Connect { database, message } => {
            Issue::file_error(database, format!("cannot connect: {message}"))
        }
        PgError::Query { table, message } => Issue::file_error(table, message.clone()),
        PgError::Runtime(_) => Issue::file_error("postgis", e.to_string()),
    }
}

/// Loads the layers from the database at `url` (blocking: runs its own
/// small runtime, so call it off the async threads).
pub fn load(url: &str, config: &Options<'_>) -> Result<Loaded, LoadError> {
    let fail = |e: PgError| LoadError {
        dir: PathBuf::from(redact(url)),
        issues: vec![issue_of(&e)],
        unreachable: true,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(e.into()))?;
    let read = runtime.block_on(read_all(url, config)).map_err(fail)?;
    assemble(Path::new(&redact(url)), read.0, config)
}

/// [`load`], with the rows of the journal table ([`crate::journal::table`])
/// read in the same transaction as the layers (none when the table does
/// not exist): the base and the journal are one consistent state, even
/// while a compaction moves rows from one to the other.
pub fn load_with_journal(
    url: &str,
    config: &Options<'_>,
) -> Result<(Loaded, Vec<crate::journal::Entry>), LoadError> {
    let fail = |e: PgError| LoadError {
        dir: PathBuf::from(redact(url)),
        issues: vec![issue_of(&e)],
        unreachable: true,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(e.into()))?;
    let (read, journal) = runtime.block_on(read_all(url, config)).map_err(fail)?;
    let journal = journal.map_err(|e| LoadError {
        dir: PathBuf::from(redact(url)),
        issues: vec![Issue::file_error(
            crate::journal::table::TABLE,
            e.to_string(),
        )],
        unreachable: matches!(e, crate::journal::table::TableError::Database(_)),
    })?;
    Ok((assemble(Path::new(&redact(url)), read, config)?, journal))
}

/// The `data_version` a load of `url` would report now, at the price of
/// the fingerprints only (see the module documentation).
pub async fn data_version(url: &str, config: &Options<'_>) -> Result<String, PgError> {
    let mut client = connect(url, config.tls_ca).await?;
    let tx = begin(&mut client, url).await?;
    let mut files = Vec::new();
    let version = version_rows(&tx, config).await?;
    for layer in LayerId::INPUTS {
        if let Some(rel) = find(&tx, layer, config).await? {
            files.push(source_file(&tx, layer, &rel, version.as_deref()).await?);
        }
    }
    Ok(super::data_version(&files, config))
}

async fn begin<'c>(client: &'c mut Client, url: &str) -> Result<Transaction<'c>, PgError> {
    client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(query_error(&redact(url)))
}

/// A table or view found in the database.
struct Relation {
    oid: i64,
    /// `schema.name`, as messages show it.
    qualified: String,
    /// `"schema"."name"`, for queries.
    quoted: String,
    /// `pg_class.relkind`: `r` table, `v` view, `m` materialized view, …
    kind: String,
}

/// Finds `schema.name` (or `name` on the search path).
async fn relation(tx: &Transaction<'_>, name: &str) -> Result<Option<Relation>, PgError> {
    let (schema, table) = name.split_once('.').unwrap_or(("", name));
    let row = tx
        .query_opt(
            "SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relkind::text \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relname = $2 AND c.relkind IN ('r', 'v', 'm', 'p', 'f') \
             AND CASE WHEN $1 = '' THEN pg_table_is_visible(c.oid) ELSE n.nspname = $1 END",
            &[&schema, &table],
        )
        .await
        .map_err(query_error(name))?;
    Ok(row.map(|r| {
        let (schema, name): (String, String) = (r.get(1), r.get(2));
        Relation {
            oid: r.get(0),
            qualified: format!("{schema}.{name}"),
            quoted: format!("{}.{}", quote(&schema), quote(&name)),
            kind: r.get(3),
        }
    }))
}

/// The table or view a layer is read from: `[layers.NAME] layer`, else
/// the layer's name.
fn table_name(layer: LayerId, config: &Options<'_>) -> String {
    config
        .layers
        .get(layer)
        .layer
        .clone()
        .unwrap_or_else(|| layer.as_str().to_string())
}

/// The relation holding `layer`, if there is one.
async fn find(
    tx: &Transaction<'_>,
    layer: LayerId,
    config: &Options<'_>,
) -> Result<Option<Relation>, PgError> {
    relation(tx, &table_name(layer, config)).await
}

/// The version table's rows as text, if the table exists.
async fn version_rows(
    tx: &Transaction<'_>,
    config: &Options<'_>,
) -> Result<Option<String>, PgError> {
    let name = config.version_table;
    if name.is_empty() {
        return Ok(None);
    }
    let Some(rel) = relation(tx, name).await? else {
        return Ok(None);
    };
    let row = tx
        .query_one(
            &format!(
                "SELECT coalesce(string_agg(t::text, ',' ORDER BY t::text), '') FROM {} t",
                rel.quoted
            ),
            &[],
        )
        .await
        .map_err(query_error(&rel.qualified))?;
    Ok(Some(row.get(0)))
}

/// What identifies the layer's content now (see the module documentation).
async fn fingerprint(
    tx: &Transaction<'_>,
    rel: &Relation,
    version: Option<&str>,
) -> Result<String, PgError> {
    if let Some(v) = version {
        return Ok(format!("version {v}"));
    }
    let sql = if matches!(rel.kind.as_str(), "r" | "p" | "m") {
        format!(
            "SELECT count(*)::text || ' rows, xmin sum ' || coalesce(sum(xmin::text::int8), 0)::text \
             || ' max ' || coalesce(max(xmin::text::int8), 0)::text FROM {}",
            rel.quoted
        )
    } else {
        format!(
            "SELECT count(*)::text || ' rows, md5 ' \
             || coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') FROM {} t",
            rel.quoted
        )
    };
    let row = tx
        .query_one(&sql, &[])
        .await
        .map_err(query_error(&rel.qualified))?;
    Ok(row.get(0))
}

async fn source_file(
    tx: &Transaction<'_>,
    layer: LayerId,
    rel: &Relation,
    version: Option<&str>,
) -> Result<SourceFile, PgError> {
    let print = fingerprint(tx, rel, version).await?;
    let mut h = Sha256::new();
    h.update(rel.qualified.as_bytes());
    h.update(b"\n");
    h.update(print.as_bytes());
    Ok(SourceFile {
        layer,
        path: PathBuf::from(&rel.qualified),
        sha256: hex::encode(h.finalize()),
    })
}

/// The journal's rows as read with the layers (or why they are not good).
type JournalRows = Result<Vec<crate::journal::Entry>, crate::journal::table::TableError>;

/// Reads every input layer, and the journal table's rows, in one
/// consistent transaction.
async fn read_all(
    url: &str,
    config: &Options<'_>,
) -> Result<(Vec<ReadLayer>, JournalRows), PgError> {
    let mut client = connect(url, config.tls_ca).await?;
    let tx = begin(&mut client, url).await?;
    let version = version_rows(&tx, config).await?;
    let database = redact(url);
    let mut out = Vec::new();
    for layer in LayerId::INPUTS {
        let mut read = ReadLayer::new(layer);
        let Some(rel) = find(&tx, layer, config).await? else {
            let named = config.layers.get(layer).layer.is_some();
            let message = format!(
                "no table or view {} in {database}",
                table_name(layer, config)
            );
            match layer {
                LayerId::Counties | LayerId::HiddenDangers | LayerId::Sensors | LayerId::Alarms
                    if !named => {}
                LayerId::GridCells => read.issues.push(Issue::file_error(&read.name, message)),
                _ if named => read.issues.push(Issue::file_error(&read.name, message)),
                _ => read.issues.push(Issue {
                    level: IssueLevel::Warning,
                    ..Issue::file_error(&read.name, format!("{message}: the layer is empty"))
                }),
            }
            out.push(read);
            continue;
        };
        read.name = rel.qualified.clone();
        read.file = Some(source_file(&tx, layer, &rel, version.as_deref()).await?);
        let (table, crs) = read_table(&tx, &rel, &mut read.issues).await?;
        read.table = Some(table);
        read.crs = crs;
        out.push(read);
    }
    let journal = journal_rows(&tx).await;
    Ok((out, journal))
}

async fn journal_rows(tx: &Transaction<'_>) -> JournalRows {
    use crate::journal::table;
    if !table::exists(tx).await? {
        return Ok(Vec::new());
    }
    let start = table::start(tx).await?;
    Ok(table::read(tx, &start).await?.0)
}

/// How a column is selected and decoded.
#[derive(Clone, Copy)]
enum Kind {
    Int,
    Float,
    Bool,
    Text,
}

/// Reads one relation into a table; the CRS is WGS84 when the geometry
/// column declares an SRID (it is then converted by the server).
async fn read_table(
    tx: &Transaction<'_>,
    rel: &Relation,
    issues: &mut Vec<Issue>,
) -> Result<(Table, Option<Crs>), PgError> {
    let err = query_error(&rel.qualified);
    let columns = tx
        .query(
            "SELECT a.attname::text, t.typname::text FROM pg_attribute a \
             JOIN pg_type t ON t.oid = a.atttypid \
             WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
            &[&rel.oid],
        )
        .await
        .map_err(&err)?;
    let mut geometry: Option<String> = None;
    let mut fields: Vec<(String, Kind)> = Vec::new();
    for row in &columns {
        let (name, typ): (String, String) = (row.get(0), row.get(1));
        let kind = match typ.as_str() {
            "geometry" | "geography" => {
                if geometry.is_none() && typ == "geometry" {
                    geometry = Some(name);
                }
                continue;
            }
            "int2" | "int4" | "int8" => Kind::Int,
            "float4" | "float8" | "numeric" => Kind::Float,
            "bool" => Kind::Bool,
            _ => Kind::Text,
        };
        fields.push((name, kind));
    }
    let mut select: Vec<String> = Vec::new();
    let mut crs = None;
    if let Some(g) = &geometry {
        let (schema, name) = rel
            .qualified
            .split_once('.')
            .unwrap_or(("", &rel.qualified));
        let srid: i32 = tx
            .query_one(
                "SELECT coalesce(max(srid), 0)::int4 FROM geometry_columns \
                 WHERE f_table_schema = $1 AND f_table_name = $2 AND f_geometry_column = $3",
                &[&schema, &name, g],
            )
            .await
            .map_err(&err)?
            .get(0);
        if srid != 0 {
            crs = Some(Crs::Wgs84);
        }
        let g = quote(g);
        select.push(format!(
            "ST_AsBinary(ST_Force2D(CASE WHEN ST_SRID({g}) IN (0, 4326) THEN {g} \
             ELSE ST_Transform({g}, 4326) END))"
        ));
    }
    for (name, kind) in &fields {
        let q = quote(name);
        select.push(match kind {
            Kind::Int => format!("{q}::int8"),
            Kind::Float => format!("{q}::float8"),
            Kind::Bool => q,
            Kind::Text => format!("{q}::text"),
        });
    }
    let order = primary_key(tx, rel).await?;
    let sql = format!(
        "SELECT {} FROM {}{}",
        if select.is_empty() {
            "1".to_string()
        } else {
            select.join(", ")
        },
        rel.quoted,
        if order.is_empty() {
            String::new()
        } else {
            format!(" ORDER BY {}", order.join(", "))
        }
    );
    let mut table = Table {
        columns: fields.iter().map(|(n, _)| n.clone()).collect(),
        records: Vec::new(),
    };
    let id_col = table.columns.iter().position(|c| c == "id" || c == "code");
    let first = usize::from(geometry.is_some());
    let mut sink = IssueSink::new(&rel.qualified, issues);
    let rows = tx
        .query_raw(sql.as_str(), std::iter::empty::<i32>())
        .await
        .map_err(&err)?;
    futures_util::pin_mut!(rows);
    while let Some(row) = rows.try_next().await.map_err(&err)? {
        let index = table.records.len();
        let mut values = Vec::with_capacity(fields.len());
        for (i, (name, kind)) in fields.iter().enumerate() {
            let at = first + i;
            let value = match kind {
                Kind::Int => row.try_get::<_, Option<i64>>(at).map(|v| v.map(Value::Int)),
                Kind::Float => row
                    .try_get::<_, Option<f64>>(at)
                    .map(|v| v.map(Value::Float)),
                Kind::Bool => row
                    .try_get::<_, Option<bool>>(at)
                    .map(|v| v.map(Value::Bool)),
                Kind::Text => row
                    .try_get::<_, Option<String>>(at)
                    .map(|v| v.map(Value::Text)),
            };
            match value {
                Ok(v) => values.push(v.unwrap_or(Value::Null)),
                Err(e) => {
                    values.push(Value::Null);
                    sink.push(
                        IssueLevel::Error,
                        Some(feature_label(index, None)),
                        Some(name),
                        format!("cannot read the value: {e}"),
                    );
                }
            }
        }
        let geometry = if first == 1 {
            match row.try_get::<_, Option<&[u8]>>(0) {
                Ok(None) => None,
                Ok(Some(wkb)) => match geozero::wkb::Wkb(wkb).to_geo() {
                    Ok(g) => Some(g),
                    Err(e) => {
                        let id = id_col.and_then(|i| values.get(i)).map(|v| v.to_string());
                        sink.push(
                            IssueLevel::Error,
                            Some(feature_label(index, id.as_deref())),
                            Some("geometry"),
                            format!("unreadable geometry: {e}"),
                        );
                        None
                    }
                },
                Err(e) => {
                    sink.push(
                        IssueLevel::Error,
                        Some(feature_label(index, None)),
                        Some("geometry"),
                        format!("cannot read the geometry: {e}"),
                    );
                    None
                }
            }
        } else {
            None
        };
        table.records.push(Record { geometry, values });
    }
    Ok((table, crs))
}

/// The primary key's columns, quoted, in key order (empty for views).
async fn primary_key(tx: &Transaction<'_>, rel: &Relation) -> Result<Vec<String>, PgError> {
    let rows = tx
        .query(
            "SELECT a.attname::text FROM pg_index i \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
             WHERE i.indrelid = $1::int8::oid AND i.indisprimary \
             ORDER BY array_position(i.indkey::int2[], a.attnum)",
            &[&rel.oid],
        )
        .await
        .map_err(query_error(&rel.qualified))?;
    Ok(rows.iter().map(|r| quote(&r.get::<_, String>(0))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact("postgresql://u:s3cret@h:5432/db?password=x&sslmode=disable"),
            "postgresql://u:***@h:5432/db?password=***&sslmode=disable"
        );
        assert_eq!(redact("postgresql://u@h/db"), "postgresql://u@h/db");
        assert_eq!(redact("postgresql://h"), "postgresql://h");
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote("企业"), "\"企业\"");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}
