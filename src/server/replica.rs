//! Replicas on one database: the write path and the apply loop of the
//! journal table ([`crate::journal::table`]), for a `postgresql://` source.
//!
//! **A write** is one transaction on the replica's write connection:
//! `pg_advisory_xact_lock` on the journal's key (every write of every
//! replica, and a compaction, take it: one at a time), catch up on the rows
//! other replicas committed (applied as the apply loop would), run the
//! request's checks (`If-Match`, transitions, ids) against that state —
//! the database's latest — insert the row(s), `NOTIFY riskmap_journal`,
//! `COMMIT`. Only then does the replica serve the new snapshot and answer;
//! any database error (down, timeout, no privilege) is a 503 and nothing
//! is applied. A commit whose outcome is unknown (the connection died in
//! it) is a 503 too; if it did commit, the apply loop shows it.
//!
//! **The apply loop** keeps a connection that `LISTEN`s on the channel and
//! reads the rows after the last one applied on every notification and
//! every second (so a missed notification, a lost connection or a restart
//! costs at most a second), checks their chain and applies them through
//! [`Snapshot::derive`], exactly as a replay at start does. Every replica
//! applies the same rows in the same order from the same base, so the same
//! `seq` gives the same `data_version`, scores and tiles everywhere.
//!
//! A gap or a broken chain (rows compacted into the base tables while this
//! replica was behind, or an edited row) stops applying and asks for a
//! reload, which reads the base tables and the rows in one transaction.
//! `/health` shows the applied `seq` and the lag, and answers 503 once the
//! lag exceeds `[source] max_lag_secs`.

use super::live::{Live, Written};
use super::{ApiError, AppState};
use crate::journal::table::{self, Head, TableError};
use crate::journal::{Entry, NewEntry};
use crate::live::Op;
use crate::pg;
use crate::snapshot::Snapshot;
use crate::tiles::TilePolicy;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tokio_postgres::Client;

/// How long a write may wait for the database before it is answered 503.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the apply loop reads the table without a notification.
const POLL: Duration = Duration::from_secs(1);

/// The replica's side of the journal table.
pub struct Replica {
    url: String,
    ca: Option<PathBuf>,
    /// The write connection (reconnected after an error).
    writer: tokio::sync::Mutex<Option<Client>>,
    /// The state every applied row is in.
    head: tokio::sync::Mutex<Applied>,
    status: std::sync::Mutex<Status>,
    max_lag: Duration,
    /// Where applied snapshots are served.
    served: Arc<arc_swap::ArcSwap<Snapshot>>,
}

/// The applied state: the snapshot and the chain's head after it (`None`:
/// to be read from the database, after a load).
pub(super) struct Applied {
    snap: Arc<Snapshot>,
    chain: Option<Head>,
}

/// What the apply loop knows, for `/health` and `/metrics`.
#[derive(Debug, Clone, Default)]
struct Status {
    applied_seq: u64,
    database_seq: u64,
    behind_since: Option<Instant>,
    reachable: bool,
    listening: bool,
    error: Option<String>,
    checked_at: Option<u64>,
}

/// The journal's state as `/health` shows it under `journal`.
#[derive(Debug, Clone, Serialize)]
pub struct JournalStatus {
    /// `table`: the journal is `riskmap_journal` in the database.
    pub kind: &'static str,
    /// The last `seq` this replica applied (and serves).
    pub applied_seq: u64,
    /// The highest `seq` it has seen in the database.
    pub database_seq: u64,
    /// Seconds since the replica first saw rows it has not applied yet (0
    /// when it has applied all it saw).
    pub lag_seconds: f64,
    /// The lag beyond which `/health` answers 503.
    pub max_lag_seconds: u64,
    /// Whether the last read of the table reached the database.
    pub reachable: bool,
    /// Whether the `LISTEN` connection is up.
    pub listening: bool,
    /// When the table was last read (seconds since the Unix epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<u64>,
    /// Why the last read or apply failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl JournalStatus {
    /// Whether the replica is further behind than allowed.
    pub fn lagging(&self) -> bool {
        self.lag_seconds > self.max_lag_seconds as f64
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn unavailable(e: impl std::fmt::Display) -> ApiError {
    ApiError::Busy(format!(
        "the database is unavailable, the write was not recorded: {e}"
    ))
}

/// Why a transaction failed: the request's own refusal, or the database.
enum Failure {
    Refused(ApiError),
    Database(String),
}

impl From<TableError> for Failure {
    fn from(e: TableError) -> Failure {
        match e {
            TableError::Invalid(m) => Failure::Refused(ApiError::Internal(m)),
            other => Failure::Database(other.to_string()),
        }
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Failure {
        Failure::Database(pg::message(&e))
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Failure {
        Failure::Refused(e)
    }
}

impl Replica {
    /// The journal table of `url` (created if absent) for writes over
    /// `serving`, which holds every row committed when it was loaded.
    pub async fn open(
        url: &str,
        config: &crate::config::Config,
        serving: Arc<Snapshot>,
        served: Arc<arc_swap::ArcSwap<Snapshot>>,
    ) -> Result<Replica, String> {
        let ca = config.source.tls_ca.clone();
        let mut client = pg::connect(url, ca.as_deref())
            .await
            .map_err(|e| e.to_string())?;
        table::ensure(&mut client)
            .await
            .map_err(|e| format!("cannot create the journal table: {e}"))?;
        let seq = serving.seq;
        Ok(Replica {
            url: url.to_string(),
            ca,
            writer: tokio::sync::Mutex::new(Some(client)),
            head: tokio::sync::Mutex::new(Applied {
                snap: serving,
                chain: None,
            }),
            status: std::sync::Mutex::new(Status {
                applied_seq: seq,
                database_seq: seq,
                reachable: true,
                checked_at: Some(unix_now()),
                ..Status::default()
            }),
            max_lag: Duration::from_secs(config.source.max_lag_secs),
            served,
        })
    }

    fn status_mut(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The journal's state for `/health` and `/metrics`.
    pub fn status(&self) -> JournalStatus {
        let s = self.status_mut().clone();
        JournalStatus {
            kind: "table",
            applied_seq: s.applied_seq,
            database_seq: s.database_seq.max(s.applied_seq),
            lag_seconds: s
                .behind_since
                .map_or(0.0, |t| t.elapsed().as_millis() as f64 / 1000.0),
            max_lag_seconds: self.max_lag.as_secs(),
            reachable: s.reachable,
            listening: s.listening,
            checked_at: s.checked_at,
            error: s.error,
        }
    }

    /// After a reload: `snap` (base and rows read together) is the head.
    pub(super) fn reset(&self, snap: Arc<Snapshot>) {
        match self.head.try_lock() {
            Ok(mut head) => {
                self.status_mut().applied_seq = snap.seq;
                *head = Applied { snap, chain: None };
            }
            Err(_) => tracing::error!("reload while the journal head is in use: not reset"),
        }
    }

    /// Checks, journals and applies one write: `make` gets the state after
    /// every committed row and the first new `seq`, and returns the
    /// entries (none: nothing is written, `Ok(None)`).
    pub(super) async fn write<F>(
        &self,
        live: &Live,
        actor: &str,
        role: &str,
        make: F,
    ) -> Result<Option<Written>, ApiError>
    where
        F: FnOnce(&Snapshot, u64) -> Result<Vec<(String, String, serde_json::Value)>, ApiError>,
    {
        let mut conn = self.writer.lock().await;
        let attempt = async {
            if conn.as_ref().is_none_or(Client::is_closed) {
                *conn = None;
                let client = pg::connect(&self.url, self.ca.as_deref())
                    .await
                    .map_err(|e| Failure::Database(e.detail()))?;
                *conn = Some(client);
            }
            let Some(client) = conn.as_mut() else {
                return Err(Failure::Database("no connection".into()));
            };
            self.transact(client, live, actor, role, make).await
        };
        let outcome = tokio::time::timeout(WRITE_TIMEOUT, attempt).await;
        match outcome {
            Ok(Ok(written)) => Ok(written),
            Ok(Err(Failure::Refused(e))) => Err(e),
            Ok(Err(Failure::Database(e))) => {
                tracing::warn!("journal write failed: {e}");
                if conn.as_ref().is_some_and(Client::is_closed) {
                    *conn = None;
                }
                Err(unavailable(e))
            }
            Err(_) => {
                // The transaction's state is unknown: start afresh.
                *conn = None;
                Err(unavailable(format!(
                    "no answer within {} s",
                    WRITE_TIMEOUT.as_secs()
                )))
            }
        }
    }

    async fn transact<F>(
        &self,
        client: &mut Client,
        live: &Live,
        actor: &str,
        role: &str,
        make: F,
    ) -> Result<Option<Written>, Failure>
    where
        F: FnOnce(&Snapshot, u64) -> Result<Vec<(String, String, serde_json::Value)>, ApiError>,
    {
        let tx = client.transaction().await?;
        tx.batch_execute("SET LOCAL lock_timeout = '8s'; SET LOCAL statement_timeout = '8s'")
            .await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&table::LOCK_KEY])
            .await?;
        let mut head = self.head.lock().await;
        // Every row committed before the lock was taken, applied.
        let chain = resolve(&tx, &mut head).await?;
        let (entries, after) = table::read(&tx, &chain).await?;
        if let Some(w) = self
            .apply(&mut head, &entries, after)
            .map_err(Failure::Database)?
        {
            live.publish_applied(&self.served, &w);
        }
        let chain = head.chain.clone().unwrap_or_else(Head::genesis);
        let first = chain.seq + 1;
        let items = make(&head.snap, first)?;
        if items.is_empty() {
            return Ok(None);
        }
        let at = crate::journal::now();
        let ops = crate::live::new_ops(&items, first, &at, actor, role);
        let (next, applied) = live
            .derive(&head.snap, &ops, &TilePolicy::default())
            .map_err(ApiError::from)?;
        drop(ops);
        let new: Vec<NewEntry> = items
            .into_iter()
            .map(|(op, id, data)| NewEntry::new(actor, role, op, id, data).at(at.clone()))
            .collect();
        let (_, after) = table::append(&tx, &chain, new).await?;
        tx.commit().await?;
        let next = Arc::new(next);
        head.snap = Arc::clone(&next);
        head.chain = Some(after);
        let written = Written {
            seq: next.seq,
            snapshot: next,
            applied: Arc::new(applied),
        };
        self.caught_up(written.seq, written.seq);
        live.publish_applied(&self.served, &written);
        Ok(Some(written))
    }

    /// Applies `entries` (read after the head, ending at `after`) to the
    /// head; what to publish, if anything changed.
    fn apply(
        &self,
        head: &mut Applied,
        entries: &[Entry],
        after: Head,
    ) -> Result<Option<Written>, String> {
        if entries.is_empty() {
            return Ok(None);
        }
        let ops: Vec<Op<'_>> = entries.iter().map(Op::from).collect();
        let (next, applied) = head
            .snap
            .derive(&ops, &TilePolicy::default())
            .map_err(|e| format!("{}: {e}", table::TABLE))?;
        let next = Arc::new(next);
        head.snap = Arc::clone(&next);
        head.chain = Some(after);
        Ok(Some(Written {
            seq: next.seq,
            snapshot: next,
            applied: Arc::new(applied),
        }))
    }

    fn caught_up(&self, applied: u64, database: u64) {
        let mut s = self.status_mut();
        s.applied_seq = applied;
        s.database_seq = s.database_seq.max(database);
        s.reachable = true;
        s.error = None;
        s.checked_at = Some(unix_now());
        if s.applied_seq >= s.database_seq {
            s.behind_since = None;
        }
    }

    fn failed(&self, error: String, reachable: bool, database: Option<u64>) {
        let mut s = self.status_mut();
        s.reachable = reachable;
        s.error = Some(error);
        s.checked_at = Some(unix_now());
        if let Some(d) = database {
            s.database_seq = s.database_seq.max(d);
        }
        if s.database_seq > s.applied_seq {
            s.behind_since.get_or_insert_with(Instant::now);
        }
    }

    /// Reads and applies the rows after the head. `Err(true)` asks for a
    /// reload (a gap or a broken chain).
    async fn catch_up(&self, live: &Live, client: &Client) -> Result<(), bool> {
        let _gate = live.writing().await;
        let mut head = self.head.lock().await;
        let database = match table::last_seq(client).await {
            Ok(s) => s,
            Err(e) => {
                self.failed(e.to_string(), false, None);
                return Err(false);
            }
        };
        let read = match resolve(client, &mut head).await {
            Ok(chain) => table::read(client, &chain).await,
            Err(e) => Err(e),
        };
        let (entries, after) = match read {
            Ok(r) => r,
            Err(e @ TableError::Corrupt { .. }) => {
                tracing::warn!("{e}: reloading from the database");
                self.failed(e.to_string(), true, Some(database));
                return Err(true);
            }
            Err(e) => {
                self.failed(e.to_string(), false, Some(database));
                return Err(false);
            }
        };
        let last = entries.last().map(|e| e.seq);
        match self.apply(&mut head, &entries, after) {
            Ok(Some(w)) => {
                live.publish_applied(&self.served, &w);
                self.caught_up(w.seq, database.max(w.seq));
            }
            Ok(None) => {
                let seq = head.chain.as_ref().map_or(head.snap.seq, |c| c.seq);
                self.caught_up(seq, database);
            }
            Err(e) => {
                tracing::error!("cannot apply the journal's rows: {e}");
                self.failed(e, true, last);
                return Err(false);
            }
        }
        Ok(())
    }
}

/// The head's chain, read from the database after a load.
async fn resolve(
    client: &impl tokio_postgres::GenericClient,
    head: &mut Applied,
) -> Result<Head, TableError> {
    if let Some(c) = &head.chain {
        return Ok(c.clone());
    }
    let chain = if head.snap.seq == 0 {
        table::start(client).await?
    } else {
        Head {
            seq: head.snap.seq,
            hash: table::hash_of(client, head.snap.seq).await?,
        }
    };
    head.chain = Some(chain.clone());
    Ok(chain)
}

/// The apply loop: runs until the process ends.
pub async fn follow(state: AppState, live: Arc<Live>) {
    let Some(replica) = live.replica() else {
        return;
    };
    let mut reload_asked = false;
    loop {
        let (notes_tx, mut notes) = mpsc::unbounded_channel();
        match pg::connect_with(&replica.url, replica.ca.as_deref(), Some(notes_tx)).await {
            Ok((client, driver)) => {
                let listen = client
                    .batch_execute(&format!("LISTEN {}", table::CHANNEL))
                    .await;
                replica.status_mut().listening = listen.is_ok();
                let mut ticker = tokio::time::interval(POLL);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    match replica.catch_up(&live, &client).await {
                        Ok(()) => reload_asked = false,
                        Err(true) if !reload_asked => {
                            reload_asked = true;
                            let s = state.clone();
                            tokio::spawn(async move {
                                if let Err(e) = super::reload(&s).await {
                                    tracing::error!("reload failed: {e}");
                                }
                            });
                        }
                        Err(_) => {}
                    }
                    if client.is_closed() {
                        break;
                    }
                    tokio::select! {
                        note = notes.recv() => if note.is_none() { break },
                        _ = ticker.tick() => {}
                    }
                    while notes.try_recv().is_ok() {}
                }
                driver.abort();
            }
            Err(e) => replica.failed(e.detail(), false, None),
        }
        replica.status_mut().listening = false;
        tokio::time::sleep(POLL).await;
    }
}
