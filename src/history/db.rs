//! The history's SQLite file: one row per unit and day on which its state
//! changed (`state`), one per unit and day with a record flow (`flow`),
//! the units' codes (`units`) and what the history was built from
//! (`meta`). Days are integers (days since 1970-01-01); the view
//! `daily_state` shows them as dates with the units' codes, for DuckDB,
//! pandas or the `sqlite3` shell.

use super::HistoryError;
use super::day::{Flow, State};
use super::replay::StepRows;
use crate::index::UnitId;
use crate::model::{Date, RiskLevel};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (unit INTEGER PRIMARY KEY, code TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (
    unit INTEGER NOT NULL, day INTEGER NOT NULL,
    risk_score REAL NOT NULL, risk_level TEXT NOT NULL,
    h REAL, e REAL, c REAL, m REAL,
    overdue_open INTEGER NOT NULL, major_open INTEGER NOT NULL,
    PRIMARY KEY (unit, day)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS flow (
    unit INTEGER NOT NULL, day INTEGER NOT NULL,
    found INTEGER NOT NULL, closed INTEGER NOT NULL, closed_on_time INTEGER NOT NULL,
    due INTEGER NOT NULL, due_on_time INTEGER NOT NULL,
    PRIMARY KEY (unit, day)) WITHOUT ROWID;
CREATE VIEW IF NOT EXISTS daily_state AS
    SELECT u.code, date(s.day * 86400, 'unixepoch') AS date, s.risk_score, s.risk_level,
           s.h, s.e, s.c, s.m, s.overdue_open, s.major_open
    FROM state s JOIN units u USING (unit);
";

/// The open history file.
#[derive(Debug)]
pub struct Db {
    conn: Connection,
}

fn level_of(s: &str) -> RiskLevel {
    s.parse().unwrap_or(RiskLevel::Low)
}

impl Db {
    /// Opens (creating) the file at `path`.
    pub fn open(path: &Path) -> Result<Db, HistoryError> {
        let conn = Connection::open(path)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Db { conn })
    }

    /// A meta value.
    pub fn meta(&self, key: &str) -> Result<Option<String>, HistoryError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Empties the file and writes the units' codes and `meta`.
    pub fn reset(&mut self, codes: &[&str], meta: &[(&str, String)]) -> Result<(), HistoryError> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM meta; DELETE FROM units; DELETE FROM state; DELETE FROM flow;",
        )?;
        {
            let mut ins = tx.prepare("INSERT INTO units (unit, code) VALUES (?1, ?2)")?;
            for (i, c) in codes.iter().enumerate() {
                ins.execute(params![i as i64, c])?;
            }
        }
        for (k, v) in meta {
            tx.execute("INSERT OR REPLACE INTO meta VALUES (?1, ?2)", params![k, v])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes every row from `day` on.
    pub fn cut(&mut self, day: Date) -> Result<(), HistoryError> {
        let d = day.days();
        self.conn
            .execute("DELETE FROM state WHERE day >= ?1", [d])?;
        self.conn.execute("DELETE FROM flow WHERE day >= ?1", [d])?;
        Ok(())
    }

    /// Drops the days before `first`, carrying each unit's state on to
    /// `first` (so the file equals one written from `first`).
    pub fn prune(&mut self, first: Date) -> Result<(), HistoryError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT OR IGNORE INTO state SELECT unit, ?1, risk_score, risk_level, h, e, c, m,
                 overdue_open, major_open FROM state s
             WHERE day = (SELECT max(day) FROM state WHERE unit = s.unit AND day < ?1)",
            [first.days()],
        )?;
        tx.execute("DELETE FROM state WHERE day < ?1", [first.days()])?;
        tx.execute("DELETE FROM flow WHERE day < ?1", [first.days()])?;
        tx.execute(
            "INSERT OR REPLACE INTO meta VALUES ('first_day', ?1)",
            [first.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Writes the rows of several steps and `meta` in one transaction.
    pub fn write(
        &mut self,
        steps: &[StepRows],
        meta: &[(&str, String)],
    ) -> Result<(), HistoryError> {
        let tx = self.conn.transaction()?;
        {
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO state VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            let mut del = tx.prepare_cached("DELETE FROM state WHERE unit = ?1 AND day = ?2")?;
            let mut fput = tx.prepare_cached(
                "INSERT OR REPLACE INTO flow VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            let mut fdel = tx.prepare_cached("DELETE FROM flow WHERE unit = ?1 AND day = ?2")?;
            for step in steps {
                let d = step.day.days();
                for (u, s) in &step.states {
                    match s {
                        Some(s) => {
                            let [h, e, c, m] = match s.hecm {
                                Some(x) => x.map(Some),
                                None => [None; 4],
                            };
                            put.execute(params![
                                u,
                                d,
                                s.risk_score,
                                s.level.as_str(),
                                h,
                                e,
                                c,
                                m,
                                s.overdue_open,
                                s.major_open
                            ])?;
                        }
                        None => {
                            del.execute(params![u, d])?;
                        }
                    }
                }
                for (u, f) in &step.flows {
                    match f {
                        Some(f) => {
                            fput.execute(params![
                                u,
                                d,
                                f.found,
                                f.closed,
                                f.closed_on_time,
                                f.due,
                                f.due_on_time
                            ])?;
                        }
                        None => {
                            fdel.execute(params![u, d])?;
                        }
                    }
                }
            }
            for (k, v) in meta {
                tx.execute("INSERT OR REPLACE INTO meta VALUES (?1, ?2)", params![k, v])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The unit's state on every day from `from` to `to` (the last stored
    /// row on or before each day; none before the unit's first row).
    pub fn states(
        &self,
        unit: UnitId,
        from: Date,
        to: Date,
    ) -> Result<Vec<(Date, State)>, HistoryError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT day, risk_score, risk_level, h, e, c, m, overdue_open, major_open FROM state
             WHERE unit = ?1 AND day <= ?3 AND day >= coalesce(
               (SELECT max(day) FROM state WHERE unit = ?1 AND day <= ?2), ?2)
             ORDER BY day",
        )?;
        let rows = stmt.query_map(params![unit, from.days(), to.days()], |r| {
            let h: Option<f64> = r.get(3)?;
            let hecm = match (
                h,
                r.get::<_, Option<f64>>(4)?,
                r.get::<_, Option<f64>>(5)?,
                r.get::<_, Option<f64>>(6)?,
            ) {
                (Some(h), Some(e), Some(c), Some(m)) => Some([h, e, c, m]),
                _ => None,
            };
            let level: String = r.get(2)?;
            Ok((
                Date::from_days(r.get(0)?),
                State {
                    risk_score: r.get(1)?,
                    level: level_of(&level),
                    hecm,
                    overdue_open: r.get(7)?,
                    major_open: r.get(8)?,
                },
            ))
        })?;
        let stored: Vec<(Date, State)> = rows.collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        let mut it = stored.iter().peekable();
        let mut last: Option<State> = None;
        let mut day = from;
        while day <= to {
            while let Some((d, s)) = it.peek() {
                if *d <= day {
                    last = Some(*s);
                    it.next();
                } else {
                    break;
                }
            }
            if let Some(s) = last {
                out.push((day, s));
            }
            day = day.add_days(1);
        }
        Ok(out)
    }

    /// The unit's state at the end of `day`.
    pub fn state_on(&self, unit: UnitId, day: Date) -> Result<Option<State>, HistoryError> {
        Ok(self.states(unit, day, day)?.pop().map(|(_, s)| s))
    }

    /// The unit's flows on the days from `from` to `to` that have any.
    pub fn flows(
        &self,
        unit: UnitId,
        from: Date,
        to: Date,
    ) -> Result<Vec<(Date, Flow)>, HistoryError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT day, found, closed, closed_on_time, due, due_on_time FROM flow
             WHERE unit = ?1 AND day BETWEEN ?2 AND ?3 ORDER BY day",
        )?;
        let rows = stmt.query_map(params![unit, from.days(), to.days()], |r| {
            Ok((
                Date::from_days(r.get(0)?),
                Flow {
                    found: r.get(1)?,
                    closed: r.get(2)?,
                    closed_on_time: r.get(3)?,
                    due: r.get(4)?,
                    due_on_time: r.get(5)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The sum of the unit's flows from `from` to `to`.
    pub fn flow_sum(&self, unit: UnitId, from: Date, to: Date) -> Result<Flow, HistoryError> {
        let mut f = Flow::default();
        for (_, x) in self.flows(unit, from, to)? {
            f.add(&x, 1);
        }
        Ok(f)
    }

    /// Rows stored (state, flow) and the file's size in bytes.
    pub fn size(&self) -> Result<(u64, u64, u64), HistoryError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM state", [], |r| r.get(0))?;
        let f: i64 = self
            .conn
            .query_row("SELECT count(*) FROM flow", [], |r| r.get(0))?;
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok((n as u64, f as u64, (pages * size) as u64))
    }
}
