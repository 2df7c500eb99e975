//! The journal as a PostgreSQL table, for a `postgresql://` source: the
//! same entries as the file's lines, one row each, hash-chained the same
//! way, so that every replica on the database applies the same writes in
//! the same order.
//!
//! ```sql
//! CREATE TABLE riskmap_journal (
//!   seq bigserial PRIMARY KEY, at text, actor text, role text, op text,
//!   id text, data jsonb, prev text, hash text);
//! CREATE TABLE riskmap_journal_compacted (seq bigint, hash text, at text);
//! ```
//!
//! - `hash` is the SHA-256 of the entry's line (exactly the line the file
//!   journal would hold, [`Entry::to_line`]), `prev` that of the row
//!   before; the first row's `prev` is [`GENESIS`], or after a compaction
//!   the `hash` kept in `riskmap_journal_compacted` (the one row there
//!   names the last entry folded into the base tables).
//! - Rows are appended by [`append`] in a transaction that holds the
//!   journal's advisory lock ([`LOCK_KEY`]) from before it reads the last
//!   row until its `COMMIT`: `seq`s are consecutive and committed in
//!   order, so a reader that has applied `seq` n needs exactly the rows
//!   after n, and never sees n + 2 before n + 1.
//! - [`read`] returns the rows after a `seq`, each checked against the
//!   chain.

use super::entry::{Entry, GENESIS, NewEntry, line_hash};
use tokio_postgres::GenericClient;

/// The journal table.
pub const TABLE: &str = "riskmap_journal";

/// The one-row table naming the last entry compacted into the base tables.
pub const COMPACTED: &str = "riskmap_journal_compacted";

/// The `NOTIFY` channel a write announces its `seq` on.
pub const CHANNEL: &str = "riskmap_journal";

/// The advisory lock every write (and a compaction) holds until it
/// commits: `pg_advisory_xact_lock(LOCK_KEY)` ("riskmap" in ASCII).
pub const LOCK_KEY: i64 = 0x0072_6973_6b6d_6170;

/// Problems with the journal table.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The database said no (or is unreachable).
    #[error("{TABLE}: {0}")]
    Database(String),
    /// A row is broken, edited, re-chained or out of order.
    #[error("{TABLE}: row seq {seq}: {problem}")]
    Corrupt {
        /// The row.
        seq: u64,
        /// What is wrong.
        problem: String,
    },
    /// An entry cannot be stored (its payload does not survive `jsonb`).
    #[error("{TABLE}: {0}")]
    Invalid(String),
}

impl From<tokio_postgres::Error> for TableError {
    fn from(e: tokio_postgres::Error) -> TableError {
        TableError::Database(crate::pg::message(&e))
    }
}

/// The chain's head: the last `seq` and the hash of its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The last entry's `seq` (0: none).
    pub seq: u64,
    /// Its line's SHA-256 ([`GENESIS`] when none).
    pub hash: String,
}

impl Head {
    /// The head of an empty journal.
    pub fn genesis() -> Head {
        Head {
            seq: 0,
            hash: GENESIS.to_string(),
        }
    }
}

/// Creates the tables if absent. Safe to run from several replicas at
/// once (it takes the journal's lock).
pub async fn ensure(client: &mut tokio_postgres::Client) -> Result<(), TableError> {
    let exists = client
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL",
            &[&TABLE, &COMPACTED],
        )
        .await?
        .get::<_, bool>(0);
    if exists {
        return Ok(());
    }
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await?;
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} (\
           seq bigserial PRIMARY KEY, at text NOT NULL, actor text NOT NULL, \
           role text NOT NULL, op text NOT NULL, id text NOT NULL, data jsonb NOT NULL, \
           prev text NOT NULL, hash text NOT NULL); \
         COMMENT ON TABLE {TABLE} IS 'riskmap: the write journal (hash-chained; docs/journal.md)'; \
         CREATE TABLE IF NOT EXISTS {COMPACTED} (seq bigint NOT NULL, hash text NOT NULL, at text NOT NULL); \
         COMMENT ON TABLE {COMPACTED} IS 'riskmap: the last journal entry compacted into the base tables';"
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the journal table exists.
pub async fn exists(client: &impl GenericClient) -> Result<bool, TableError> {
    Ok(client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&TABLE])
        .await?
        .get(0))
}

/// Where the chain starts: the compacted head, or genesis.
pub async fn start(client: &impl GenericClient) -> Result<Head, TableError> {
    let has = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&COMPACTED])
        .await?
        .get::<_, bool>(0);
    if !has {
        return Ok(Head::genesis());
    }
    let row = client
        .query_opt(
            &format!("SELECT seq, hash FROM {COMPACTED} ORDER BY seq DESC LIMIT 1"),
            &[],
        )
        .await?;
    Ok(match row {
        Some(r) => Head {
            seq: u64::try_from(r.get::<_, i64>(0)).unwrap_or(0),
            hash: r.get(1),
        },
        None => Head::genesis(),
    })
}

/// The highest `seq` in the table (the compacted head's when empty).
pub async fn last_seq(client: &impl GenericClient) -> Result<u64, TableError> {
    let row = client
        .query_one(&format!("SELECT coalesce(max(seq), 0) FROM {TABLE}"), &[])
        .await?;
    let max = u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
    if max > 0 {
        return Ok(max);
    }
    Ok(start(client).await?.seq)
}

/// The hash of row `seq`'s line, as stored (or the compacted head's).
pub async fn hash_of(client: &impl GenericClient, seq: u64) -> Result<String, TableError> {
    if seq == 0 {
        return Ok(GENESIS.to_string());
    }
    let s = to_i64(seq)?;
    if let Some(r) = client
        .query_opt(&format!("SELECT hash FROM {TABLE} WHERE seq = $1"), &[&s])
        .await?
    {
        return Ok(r.get(0));
    }
    let head = start(client).await?;
    if head.seq == seq {
        return Ok(head.hash);
    }
    Err(TableError::Corrupt {
        seq,
        problem: "no such row (compacted away?)".into(),
    })
}

fn to_i64(seq: u64) -> Result<i64, TableError> {
    i64::try_from(seq).map_err(|_| TableError::Invalid(format!("seq {seq} is too large")))
}

/// The rows after `after` in `seq` order, checked: consecutive `seq`s
/// from `after.seq + 1`, each `prev` the hash of the one before (starting
/// at `after.hash`), each `hash` that of its own line. A row that breaks
/// this is [`TableError::Corrupt`] (a compaction that folded rows this
/// reader had not applied also shows as a gap: reload).
/// Returns the entries and the head after them (`after` when none).
pub async fn read(
    client: &impl GenericClient,
    after: &Head,
) -> Result<(Vec<Entry>, Head), TableError> {
    let rows = client
        .query(
            &format!(
                "SELECT seq, at, actor, role, op, id, data::text, prev, hash FROM {TABLE} \
                 WHERE seq > $1 ORDER BY seq"
            ),
            &[&to_i64(after.seq)?],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    let mut head = after.clone();
    for r in rows {
        let seq = u64::try_from(r.get::<_, i64>(0)).unwrap_or(0);
        let corrupt = |problem: String| TableError::Corrupt { seq, problem };
        if seq != head.seq + 1 {
            return Err(corrupt(format!(
                "expected seq {} (rows missing, or compacted since seq {} was applied)",
                head.seq + 1,
                head.seq
            )));
        }
        let data: String = r.get(6);
        let data: serde_json::Value =
            serde_json::from_str(&data).map_err(|e| corrupt(format!("data: {e}")))?;
        let entry = Entry {
            seq,
            at: r.get(1),
            actor: r.get(2),
            role: r.get(3),
            op: r.get(4),
            id: r.get(5),
            data,
            prev: r.get(7),
        };
        let stored: String = r.get(8);
        if entry.prev != head.hash {
            return Err(corrupt(format!(
                "`prev` is not the hash of row {} (a row was changed, removed or re-chained)",
                head.seq
            )));
        }
        if !super::is_utc_rfc3339(&entry.at) {
            return Err(corrupt(format!(
                "`at` {:?} is not an RFC 3339 UTC date-time",
                entry.at
            )));
        }
        let line = entry
            .to_line()
            .map_err(|e| corrupt(format!("cannot serialize: {e}")))?;
        let hash = line_hash(&line);
        if hash != stored {
            return Err(corrupt(
                "changed after it was written: its line does not hash to its `hash`".into(),
            ));
        }
        head = Head { seq, hash };
        out.push(entry);
    }
    Ok((out, head))
}

/// Appends `entries` after `head` (in the caller's transaction, which must
/// hold [`LOCK_KEY`] and have read `head` under it), announces the last
/// `seq` on [`CHANNEL`], and returns the entries as stored and the new
/// head. The caller commits.
pub async fn append(
    tx: &impl GenericClient,
    head: &Head,
    entries: Vec<NewEntry>,
) -> Result<(Vec<Entry>, Head), TableError> {
    let now = super::now();
    let mut head = head.clone();
    let mut out = Vec::with_capacity(entries.len());
    let insert = tx
        .prepare(&format!(
            "INSERT INTO {TABLE} (seq, at, actor, role, op, id, data, prev, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8, $9) RETURNING data::text"
        ))
        .await?;
    for new in entries {
        let entry = new.seal(head.seq + 1, head.hash.clone(), &now);
        let line = entry
            .to_line()
            .map_err(|e| TableError::Invalid(e.to_string()))?;
        let hash = line_hash(&line);
        let data = entry.data.to_string();
        let row = tx
            .query_one(
                &insert,
                &[
                    &to_i64(entry.seq)?,
                    &entry.at,
                    &entry.actor,
                    &entry.role,
                    &entry.op,
                    &entry.id,
                    &data,
                    &entry.prev,
                    &hash,
                ],
            )
            .await?;
        // What a reader will get back must be what was hashed and applied.
        let back: String = row.get(0);
        let same = serde_json::from_str::<serde_json::Value>(&back).is_ok_and(|v| v == entry.data);
        if !same {
            return Err(TableError::Invalid(format!(
                "entry {}: its data do not survive jsonb unchanged",
                entry.seq
            )));
        }
        head = Head {
            seq: entry.seq,
            hash,
        };
        out.push(entry);
    }
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&CHANNEL, &head.seq.to_string()],
    )
    .await?;
    Ok((out, head))
}
