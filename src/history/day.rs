//! One grid unit's figures on one day: the score row and the day's flows
//! of hidden-danger records, and how a cell's are counted from its records.

use crate::index::{DangerBook, UnitId};
use crate::model::{DangerGrade, DangerStatus, Date, HiddenDanger, RiskLevel};
use crate::risk::UnitScore;

/// A unit's state at the end of a day: its score and the open records'
/// stock. The history stores a row only on the days it differs from the
/// day before.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct State {
    /// Shown score (one decimal).
    pub risk_score: f64,
    /// Its level.
    pub level: RiskLevel,
    /// H, E, C, M (unit cells only).
    pub hecm: Option<[f64; 4]>,
    /// Open records past their deadline.
    pub overdue_open: u32,
    /// Open major records.
    pub major_open: u32,
}

impl State {
    /// The state of a unit scored `score` with `stock`.
    pub fn of(score: &UnitScore, stock: Stock) -> State {
        State {
            risk_score: score.risk_score(),
            level: score.level(),
            hecm: score
                .components()
                .map(|c| [round2(c.h), round2(c.e), round2(c.c), round2(c.m)]),
            overdue_open: stock.overdue_open,
            major_open: stock.major_open,
        }
    }
}

/// H, E, C and M are kept to two decimals.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Open-record counts of a unit at the end of a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stock {
    /// Open and past the deadline.
    pub overdue_open: u32,
    /// Open and major.
    pub major_open: u32,
}

/// What happened to a unit's records on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flow {
    /// Records found (reported) that day.
    pub found: u32,
    /// Records closed (销号) that day.
    pub closed: u32,
    /// Of those, closed on or before their deadline (or with none).
    pub closed_on_time: u32,
    /// Records whose deadline is that day (due).
    pub due: u32,
    /// Of those, closed by the end of their deadline.
    pub due_on_time: u32,
}

impl Flow {
    /// Whether every figure is zero.
    pub fn is_zero(&self) -> bool {
        *self == Flow::default()
    }

    /// Adds `o` (or subtracts it with `sign` −1).
    pub fn add(&mut self, o: &Flow, sign: i64) {
        let f = |a: &mut u32, b: u32| {
            *a = (i64::from(*a) + sign * i64::from(b)).clamp(0, i64::from(u32::MAX)) as u32;
        };
        f(&mut self.found, o.found);
        f(&mut self.closed, o.closed);
        f(&mut self.closed_on_time, o.closed_on_time);
        f(&mut self.due, o.due);
        f(&mut self.due_on_time, o.due_on_time);
    }
}

/// Whether `r` was closed on `day` exactly.
fn closed_on(r: &HiddenDanger, day: Date) -> bool {
    r.status == DangerStatus::Closed && r.closed_at == Some(day)
}

/// Whether `r` was closed by the end of `day`.
fn closed_by(r: &HiddenDanger, day: Date) -> bool {
    r.status == DangerStatus::Closed && r.closed_at.is_some_and(|c| c <= day)
}

/// The stock and the flow of one record on `day` (the definitions of
/// `docs/risk-model.md`, written once).
pub fn record_figures(r: &HiddenDanger, day: Date) -> (Stock, Flow) {
    let open = r.is_open_on(day);
    let stock = Stock {
        overdue_open: u32::from(r.is_overdue(day)),
        major_open: u32::from(open && r.grade == DangerGrade::Major),
    };
    let closed = closed_on(r, day);
    let due = r.found_at <= day && r.deadline == Some(day);
    let flow = Flow {
        found: u32::from(r.found_at == day),
        closed: u32::from(closed),
        closed_on_time: u32::from(closed && r.deadline.is_none_or(|d| day <= d)),
        due: u32::from(due),
        due_on_time: u32::from(due && closed_by(r, day)),
    };
    (stock, flow)
}

/// The stock and flow of `cell` on `day`: the sums over its records.
pub fn cell_figures(book: &DangerBook, cell: UnitId, day: Date) -> (Stock, Flow) {
    let mut stock = Stock::default();
    let mut flow = Flow::default();
    for &i in book.in_cell(cell) {
        let Some(e) = book.get(i) else { continue };
        let (s, f) = record_figures(&e.record, day);
        stock.overdue_open += s.overdue_open;
        stock.major_open += s.major_open;
        flow.add(&f, 1);
    }
    (stock, flow)
}

/// The days on which `r` can change its cell's score or figures: found,
/// closed, due, and the day after its deadline (overdue from then).
pub fn record_days(r: &HiddenDanger) -> impl Iterator<Item = Date> {
    [
        Some(r.found_at),
        r.closed_at,
        r.deadline,
        r.deadline.map(|d| d.add_days(1)),
    ]
    .into_iter()
    .flatten()
}
