//! The 通报 (weekly, monthly, quarterly bulletin) of one unit: its score
//! and change over the period, its children's levels, the hidden-danger
//! indicators, a ranking of its children and the daily score, from the
//! history.

use super::HistoryError;
use super::day::{Flow, State};
use super::db::Db;
use super::period::Period;
use crate::index::{Store, UnitId};
use crate::model::{Date, RiskLevel};
use serde::Serialize;

/// Hidden-danger indicators over a period (definitions in
/// `docs/risk-model.md`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Indicators {
    /// Found in the period.
    pub found: u32,
    /// Closed in the period.
    pub closed: u32,
    /// Of those, closed by their deadline.
    pub closed_on_time: u32,
    /// Records whose deadline fell in the period.
    pub due: u32,
    /// Of those, closed by their deadline.
    pub due_on_time: u32,
    /// 整改率 = closed ÷ found, in % (two decimals); none without records found.
    pub rectification_rate: Option<f64>,
    /// 按期整改率 = closed by the deadline ÷ due, in %; none without records due.
    pub on_time_rate: Option<f64>,
    /// Open and past the deadline at the period's end.
    pub overdue_open: u32,
    /// Open and major at the period's end.
    pub major_open: u32,
}

fn rate(a: u32, b: u32) -> Option<f64> {
    (b > 0).then(|| (f64::from(a) * 10_000.0 / f64::from(b)).round() / 100.0)
}

impl Indicators {
    /// The indicators of flows `f` and the end state `end`.
    pub fn of(f: Flow, end: Option<State>) -> Indicators {
        Indicators {
            found: f.found,
            closed: f.closed,
            closed_on_time: f.closed_on_time,
            due: f.due,
            due_on_time: f.due_on_time,
            rectification_rate: rate(f.closed, f.found),
            on_time_rate: rate(f.due_on_time, f.due),
            overdue_open: end.map_or(0, |s| s.overdue_open),
            major_open: end.map_or(0, |s| s.major_open),
        }
    }

    /// The indicators of `unit` from `from` to `to`.
    pub fn read(db: &Db, unit: UnitId, from: Date, to: Date) -> Result<Indicators, HistoryError> {
        Ok(Indicators::of(
            db.flow_sum(unit, from, to)?,
            db.state_on(unit, to)?,
        ))
    }
}

/// One unit's line of a bulletin.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// Rank by score (1 = highest), among the bulletin's children.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<usize>,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level of the unit (`county`…`cell`).
    pub level: &'static str,
    /// Score at the period's end.
    pub risk_score: Option<f64>,
    /// Its level.
    pub risk_level: Option<&'static str>,
    /// Score at the period's end minus the score the day before it began.
    pub change: Option<f64>,
    /// The indicators.
    pub indicators: Indicators,
}

/// A bulletin (see the module doc).
#[derive(Debug, Clone, Serialize)]
pub struct Bulletin {
    /// e.g. `鲤城区安全风险月通报（2026-11）`.
    pub title: String,
    /// The period.
    pub period: PeriodJson,
    /// The unit.
    pub unit: Line,
    /// Its children by level at the period's end.
    pub levels: LevelsJson,
    /// Its children, by score.
    pub children: Vec<Line>,
    /// The unit's daily score over the period.
    pub series: Vec<SeriesPoint>,
}

/// The period as written out.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodJson {
    /// As asked.
    pub name: String,
    /// 周, 月, 季 or 日.
    pub kind: &'static str,
    /// First day.
    pub from: String,
    /// Last day held (the period's last, or today for a period in course).
    pub to: String,
}

/// Children per level.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct LevelsJson {
    /// 重大.
    pub major: u32,
    /// 较大.
    pub high: u32,
    /// 一般.
    pub medium: u32,
    /// 低.
    pub low: u32,
}

/// One day of the unit's score.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesPoint {
    /// The day.
    pub date: String,
    /// Its score.
    pub risk_score: f64,
}

/// The line of `unit` from `from` to `to` (`before`: the day whose score
/// the change is measured from).
pub fn line(
    db: &Db,
    store: &Store,
    unit: UnitId,
    before: Date,
    from: Date,
    to: Date,
) -> Result<(Line, Option<State>), HistoryError> {
    let u = store.unit(unit);
    let end = db.state_on(unit, to)?;
    let start = db.state_on(unit, before)?;
    let change = match (start, end) {
        (Some(a), Some(b)) => Some(((b.risk_score - a.risk_score) * 10.0).round() / 10.0),
        _ => None,
    };
    Ok((
        Line {
            rank: None,
            code: u.code.clone(),
            name: u.name.clone(),
            level: u.level.as_str(),
            risk_score: end.map(|s| s.risk_score),
            risk_level: end.map(|s| s.level.as_str()),
            change,
            indicators: Indicators::of(db.flow_sum(unit, from, to)?, end),
        },
        end,
    ))
}

/// The bulletin of `unit` over `period`, cut to the days `held`.
pub fn bulletin(
    db: &Db,
    store: &Store,
    unit: UnitId,
    period: &Period,
    held: (Date, Date),
) -> Result<Bulletin, HistoryError> {
    let from = period.from.max(held.0);
    let to = period.to.min(held.1);
    let before = from.add_days(-1).max(held.0);
    let (unit_line, _) = line(db, store, unit, before, from, to)?;
    let mut levels = LevelsJson::default();
    let mut children = Vec::new();
    for &c in store.children(unit) {
        let (l, end) = line(db, store, c, before, from, to)?;
        match end.map(|s| s.level) {
            Some(RiskLevel::Major) => levels.major += 1,
            Some(RiskLevel::High) => levels.high += 1,
            Some(RiskLevel::Medium) => levels.medium += 1,
            Some(RiskLevel::Low) => levels.low += 1,
            None => {}
        }
        children.push(l);
    }
    children.sort_by(|a, b| {
        b.risk_score
            .unwrap_or(0.0)
            .total_cmp(&a.risk_score.unwrap_or(0.0))
            .then_with(|| a.code.cmp(&b.code))
    });
    for (i, c) in children.iter_mut().enumerate() {
        c.rank = Some(i + 1);
    }
    let series = db
        .states(unit, from, to)?
        .into_iter()
        .map(|(d, s)| SeriesPoint {
            date: d.to_string(),
            risk_score: s.risk_score,
        })
        .collect();
    let u = store.unit(unit);
    Ok(Bulletin {
        title: format!("{}安全风险{}通报（{}）", u.name, period.kind, period.name),
        period: PeriodJson {
            name: period.name.clone(),
            kind: period.kind,
            from: from.to_string(),
            to: to.to_string(),
        },
        unit: unit_line,
        levels,
        children,
        series,
    })
}
