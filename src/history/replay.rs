//! The day-by-day replay: the base records plus the journal's changes cut
//! at each day, scored with that day as the as-of date, rescoring only the
//! cells whose records changed, opened, closed or fell due that day.

use super::day::{Flow, State, Stock, cell_figures, record_days};
use crate::index::{Base, DangerBook, DangerEntry, Store, UnitId};
use crate::model::{Date, HiddenDanger};
use crate::risk::{RiskParams, Scores, score_all};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One journal entry as the history reads it: the record after it and the
/// day it counts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Journal sequence number.
    pub seq: u64,
    /// The day (Asia/Shanghai) it was written, at most the as-of day.
    pub day: Date,
    /// The record after the entry.
    pub record: HiddenDanger,
}

/// The day of a journal time `at` (RFC 3339 UTC) in Asia/Shanghai, capped
/// at `as_of` (a server pinned to a past as-of date counts every write on
/// that day).
pub fn change_day(at: &str, as_of: Date) -> Date {
    let date: Option<Date> = at.get(..10).and_then(|d| d.parse().ok());
    let hour: Option<u32> = at.get(11..13).and_then(|h| h.parse().ok());
    let day = match (date, hour) {
        (Some(d), Some(h)) if h >= 16 => d.add_days(1),
        (Some(d), _) => d,
        _ => as_of,
    };
    day.min(as_of)
}

/// A unit's rows written by one step: `Some` to store, `None` to remove
/// (the unit's state equals the day before).
#[derive(Debug, Default)]
pub struct StepRows {
    /// The day.
    pub day: Date,
    /// State rows.
    pub states: Vec<(UnitId, Option<State>)>,
    /// Flow rows (`None`: no flow that day).
    pub flows: Vec<(UnitId, Option<Flow>)>,
}

/// The replay's state at the end of its current day.
#[derive(Debug)]
pub struct Tracker {
    store: Store,
    scores: Scores,
    day: Date,
    seq: u64,
    stock: Vec<Stock>,
    flow: HashMap<UnitId, Flow>,
    cur: Vec<State>,
    prev: Vec<State>,
    moved: Vec<UnitId>,
    days: BTreeMap<Date, BTreeSet<String>>,
}

/// Puts a change's record into `book`: in place of the record with its id,
/// or added.
fn apply_change(book: &mut DangerBook, base: &Base, c: &Change) {
    match book.index_of(&c.record.id) {
        Some(i) => {
            if let Some(old) = book.get(i).cloned() {
                book.replace(i, old.changed(c.record.clone(), c.seq, Vec::new()));
            }
        }
        None => {
            book.insert(
                base,
                DangerEntry::locate(base, c.record.clone(), c.seq, Vec::new()),
            );
        }
    }
}

fn id_days(days: &mut BTreeMap<Date, BTreeSet<String>>, r: &HiddenDanger) {
    for d in record_days(r) {
        days.entry(d).or_default().insert(r.id.clone());
    }
}

impl Tracker {
    /// The state at the end of `day`: the base records of `live` with the
    /// `changes` of that day and before, scored as of `day`.
    pub fn start(live: &Store, params: &RiskParams, changes: &[Change], day: Date) -> Tracker {
        // The base book shares its records with the served one: only the
        // records the changes touch are copied.
        let mut book = live.base_dangers().clone();
        let base = live.base();
        let mut days = BTreeMap::new();
        let mut seq = 0;
        for (_, e) in book.iter() {
            id_days(&mut days, &e.record);
        }
        for c in changes {
            id_days(&mut days, &c.record);
            if c.day > day {
                continue;
            }
            seq = seq.max(c.seq);
            apply_change(&mut book, base, c);
        }
        let store = live.with_dangers(book);
        let mut p = params.clone();
        p.as_of = Some(day.to_string());
        let scores = score_all(&store, &p);
        let n = store.units().len();
        let mut stock = vec![Stock::default(); n];
        let mut flow: HashMap<UnitId, Flow> = HashMap::new();
        for &c in store.units_at(crate::model::Level::Cell) {
            let (s, f) = cell_figures(store.dangers(), c, day);
            if s == Stock::default() && f.is_zero() {
                continue;
            }
            for u in std::iter::once(c).chain(store.ancestors(c)) {
                let t = &mut stock[u as usize];
                t.overdue_open += s.overdue_open;
                t.major_open += s.major_open;
                if !f.is_zero() {
                    flow.entry(u).or_default().add(&f, 1);
                }
            }
        }
        let cur: Vec<State> = (0..n as UnitId)
            .map(|u| State::of(scores.unit(u), stock[u as usize]))
            .collect();
        Tracker {
            prev: cur.clone(),
            cur,
            store,
            scores,
            day,
            seq,
            stock,
            flow,
            moved: Vec::new(),
            days,
        }
    }

    /// The rows of every unit on the current day (the first day of a
    /// history written from scratch).
    pub fn all_rows(&self) -> StepRows {
        StepRows {
            day: self.day,
            states: self
                .cur
                .iter()
                .enumerate()
                .map(|(u, s)| (u as UnitId, Some(*s)))
                .collect(),
            flows: self.flow.iter().map(|(&u, f)| (u, Some(*f))).collect(),
        }
    }

    /// The current day.
    pub fn day(&self) -> Date {
        self.day
    }

    /// The last journal sequence number applied.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The store as of the current day.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The scores as of the current day.
    pub fn scores(&self) -> &Scores {
        &self.scores
    }

    /// Moves to `day` (the current day or a later one; the days between
    /// must have been stepped) with `changes` (of `day`, in seq order),
    /// and returns the rows that differ.
    pub fn advance(&mut self, day: Date, changes: &[Change]) -> StepRows {
        let new_day = day > self.day;
        if new_day {
            for u in self.moved.drain(..) {
                self.prev[u as usize] = self.cur[u as usize];
            }
        }
        let mut ids: BTreeSet<String> = BTreeSet::new();
        if new_day {
            ids.extend(self.days.get(&day).into_iter().flatten().cloned());
        }
        let mut book = self.store.dangers().clone();
        let base = self.store.base();
        for c in changes {
            self.seq = self.seq.max(c.seq);
            id_days(&mut self.days, &c.record);
            ids.insert(c.record.id.clone());
            apply_change(&mut book, base, c);
        }
        let mut cells: BTreeSet<UnitId> = BTreeSet::new();
        for id in &ids {
            let Some(e) = book.by_id(id) else { continue };
            cells.extend(e.cell);
            if let Some(i) = e.enterprise {
                cells.extend(base.enterprise_cell(i));
            }
        }
        if !changes.is_empty() {
            self.store = self.store.with_dangers(book);
        }
        let ancestors = self.scores.rescore_cells_on(&self.store, &cells, day);
        let old_flows = if new_day {
            std::mem::take(&mut self.flow)
        } else {
            HashMap::new()
        };
        let mut flow_units: BTreeSet<UnitId> = old_flows.keys().copied().collect();
        for &c in &cells {
            let (s, f) = cell_figures(self.store.dangers(), c, day);
            let old_s = self.stock[c as usize];
            let old_f = self.flow.get(&c).copied().unwrap_or_default();
            for u in std::iter::once(c).chain(self.store.ancestors(c)) {
                let t = &mut self.stock[u as usize];
                t.overdue_open =
                    (t.overdue_open + s.overdue_open).saturating_sub(old_s.overdue_open);
                t.major_open = (t.major_open + s.major_open).saturating_sub(old_s.major_open);
                if f != old_f {
                    let x = self.flow.entry(u).or_default();
                    x.add(&old_f, -1);
                    x.add(&f, 1);
                    flow_units.insert(u);
                }
            }
        }
        self.flow.retain(|_, f| !f.is_zero());
        self.day = day;
        let mut rows = StepRows {
            day,
            ..StepRows::default()
        };
        for u in cells.iter().chain(&ancestors) {
            let i = *u as usize;
            let s = State::of(self.scores.unit(*u), self.stock[i]);
            if s != self.cur[i] {
                self.cur[i] = s;
                self.moved.push(*u);
            }
            rows.states.push((*u, (s != self.prev[i]).then_some(s)));
        }
        for u in flow_units {
            rows.flows.push((u, self.flow.get(&u).copied()));
        }
        if new_day {
            // A new day has no row for an unchanged unit: keep only rows
            // to store (nothing was stored for this day yet).
            rows.states.retain(|(_, s)| s.is_some());
            rows.flows.retain(|(_, f)| f.is_some());
        }
        rows
    }
}
