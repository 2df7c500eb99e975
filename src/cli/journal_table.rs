//! `riskmap journal verify|compact` against a database source, whose
//! journal is the table `riskmap_journal` ([`crate::journal::table`]).
//!
//! `compact` folds every row into the base tables in one transaction that
//! holds the journal's lock (no write gets in between): the
//! `hidden_dangers` (and `alarms`) tables are emptied and refilled with the
//! records as the journal left them, the rows are deleted, and the last
//! one's `seq` and hash are kept in `riskmap_journal_compacted`, so `seq`s
//! and the hash chain continue. Replicas pick the new base up at their next
//! check (the tables' fingerprints change) and reload. It refuses, changing
//! nothing, when a base table cannot hold what the journal says.

use crate::config::Config;
use crate::journal::table::{self, Head, LOCK_KEY};
use crate::model::{LayerId, columns};
use crate::pg::{connect, message, quote};
use crate::snapshot::Snapshot;
use crate::source::{DataSource, PgUrl};
use crate::write::FeatureTable;
use tokio_postgres::Transaction;

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the database client: {e}"))
}

fn db(e: tokio_postgres::Error) -> String {
    message(&e)
}

/// `journal verify` of the table: every row against the chain.
pub fn verify(config: &Config, url: &PgUrl) -> Result<String, String> {
    runtime()?.block_on(async {
        let client = connect(url.expose(), config.source.tls_ca.as_deref())
            .await
            .map_err(|e| e.to_string())?;
        if !table::exists(&client).await.map_err(|e| e.to_string())? {
            return Ok(format!("{url}: no table {}: no writes yet", table::TABLE));
        }
        let start = table::start(&client).await.map_err(|e| e.to_string())?;
        let (entries, head) = table::read(&client, &start)
            .await
            .map_err(|e| e.to_string())?;
        Ok(format!(
            "{url} {}: ok — {} entries after seq {} (compacted), last seq {}, last hash {}",
            table::TABLE,
            entries.len(),
            start.seq,
            head.seq,
            head.hash
        ))
    })
}

/// `journal compact` of the table into the base tables.
pub fn compact(config: &Config, url: &PgUrl) -> Result<(), String> {
    let message = runtime()?.block_on(compact_async(config, url))?;
    println!("{message}");
    Ok(())
}

async fn compact_async(config: &Config, url: &PgUrl) -> Result<String, String> {
    let mut client = connect(url.expose(), config.source.tls_ca.as_deref())
        .await
        .map_err(|e| e.to_string())?;
    if !table::exists(&client).await.map_err(|e| e.to_string())? {
        return Ok(format!(
            "{url}: no table {}: nothing to compact",
            table::TABLE
        ));
    }
    let tx = client.transaction().await.map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(db)?;
    let start = table::start(&tx).await.map_err(|e| e.to_string())?;
    let (entries, head) = table::read(&tx, &start).await.map_err(|e| e.to_string())?;
    if entries.is_empty() {
        return Ok(format!(
            "{url}: {} holds no rows after seq {}: nothing to compact",
            table::TABLE,
            start.seq
        ));
    }
    // The state as every replica serves it: the base and the rows (no
    // write can come in while the lock is held). The load runs its own
    // client, on a thread of its own.
    let (source, cfg) = (DataSource::Postgres(url.clone()), config.clone());
    let snap = std::thread::scope(|s| s.spawn(|| Snapshot::load(source, &cfg)).join())
        .map_err(|_| "loading the data failed".to_string())?
        .map_err(|e| format!("{url} does not load with its journal: {e}"))?;
    if snap.seq != head.seq {
        return Err(format!(
            "the journal moved while compacting (seq {} loaded, {} locked): try again",
            snap.seq, head.seq
        ));
    }
    let book = snap.store.dangers();
    let dangers: Vec<_> = book.iter().map(|(_, e)| e.record.clone()).collect();
    let alarms: Vec<_> = snap
        .store
        .alarms()
        .iter()
        .map(|(_, e)| e.record.clone())
        .collect();
    let mut done = Vec::new();
    if !dangers.is_empty() {
        if !book.is_loaded() {
            return Err(format!(
                "{url} has no hidden_dangers table, so its enterprises' open-danger counts come \
                 from their own columns and the journal's records add to them; a compacted table \
                 would replace those counts. Create the table first (it may be empty): columns {}, \
                 and a Point geometry in EPSG:4326",
                columns::names(LayerId::HiddenDangers).join(", ")
            ));
        }
        let t = crate::write::hidden_dangers_table(&dangers);
        done.push(fill(&tx, config, LayerId::HiddenDangers, &t).await?);
    }
    if !alarms.is_empty() {
        let t = crate::write::alarms_table(&alarms);
        done.push(fill(&tx, config, LayerId::Alarms, &t).await?);
    }
    let last_seq = i64::try_from(head.seq).map_err(|e| e.to_string())?;
    let at = entries.last().map(|e| e.at.clone()).unwrap_or_default();
    tx.execute(
        &format!("DELETE FROM {} WHERE seq <= $1", table::TABLE),
        &[&last_seq],
    )
    .await
    .map_err(db)?;
    tx.batch_execute(&format!("DELETE FROM {}", table::COMPACTED))
        .await
        .map_err(db)?;
    let Head { hash, .. } = &head;
    tx.execute(
        &format!(
            "INSERT INTO {} (seq, hash, at) VALUES ($1, $2, $3)",
            table::COMPACTED
        ),
        &[&last_seq, hash, &at],
    )
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(format!(
        "{url}: {} journal rows (seq {}–{}) folded into {}; the chain continues after seq {} (hash {hash})",
        entries.len(),
        start.seq + 1,
        head.seq,
        if done.is_empty() {
            "no table (nothing to keep)".to_string()
        } else {
            done.join(" and ")
        },
        head.seq,
    ))
}

/// Refills the base table of `layer` with `features`, after checking it
/// can hold them; returns `schema.table (N rows)`.
async fn fill(
    tx: &Transaction<'_>,
    config: &Config,
    layer: LayerId,
    features: &FeatureTable,
) -> Result<String, String> {
    let settings = config.layers.get(layer);
    if !settings.fields.is_empty() {
        return Err(format!(
            "[layers.{layer}] fields maps the table's columns to other names: compact writes the \
             canonical names ({}); remove the mapping (rename the columns) first",
            features
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let name = settings
        .layer
        .clone()
        .unwrap_or_else(|| layer.as_str().to_string());
    let row = tx
        .query_opt(
            "SELECT c.oid::int8, n.nspname::text || '.' || c.relname::text, c.relkind::text \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.oid = to_regclass($1)",
            &[&name],
        )
        .await
        .map_err(db)?;
    let Some(row) = row else {
        return Err(format!(
            "no table {name} to fold the journal's {layer} into: create it (it may be empty) \
             with columns {} and a Point geometry in EPSG:4326",
            features
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    let (oid, qualified, kind): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
    if kind != "r" && kind != "p" {
        return Err(format!(
            "{qualified} is not a table (a view?): compact cannot write the journal's {layer} into it"
        ));
    }
    let cols = tx
        .query(
            "SELECT a.attname::text, t.typname::text, a.attnotnull, \
             (a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> ''), \
             coalesce((SELECT srid FROM geometry_columns g WHERE g.f_table_schema = n.nspname \
                AND g.f_table_name = c.relname AND g.f_geometry_column = a.attname), 0)::int4 \
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
             JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
            &[&oid],
        )
        .await
        .map_err(db)?;
    let wanted: Vec<&str> = features.columns.iter().map(|c| c.name.as_str()).collect();
    let mut geometry = None;
    for c in &cols {
        let (col, typ, not_null, default, srid): (String, String, bool, bool, i32) =
            (c.get(0), c.get(1), c.get(2), c.get(3), c.get(4));
        if typ == "geometry" && geometry.is_none() {
            if srid != 0 && srid != 4326 {
                return Err(format!(
                    "{qualified}.{col} is in EPSG:{srid}: compact writes EPSG:4326 points"
                ));
            }
            geometry = Some(col);
            continue;
        }
        if !wanted.contains(&col.as_str()) && not_null && !default {
            return Err(format!(
                "{qualified}.{col} is NOT NULL without a default and is not a field riskmap \
                 writes: compact cannot fill it"
            ));
        }
    }
    let names: Vec<String> = cols.iter().map(|c| c.get::<_, String>(0)).collect();
    if let Some(missing) = wanted.iter().find(|w| !names.iter().any(|n| n == *w)) {
        return Err(format!(
            "{qualified} has no column {missing}: compact cannot keep the journal's {layer} field {missing} there"
        ));
    }
    let Some(geometry) = geometry else {
        return Err(format!(
            "{qualified} has no geometry column: compact writes the records' points"
        ));
    };
    let quoted = qualified
        .split('.')
        .map(quote)
        .collect::<Vec<_>>()
        .join(".");
    let rows = crate::write::postgis::refill(tx, &quoted, &geometry, features)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!("{qualified} ({rows} rows)"))
}
