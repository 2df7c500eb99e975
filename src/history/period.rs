//! Periods and steps of the history: `2026-11` (a month), `2026-W47` (an
//! ISO week), `2026-Q4` (a quarter), `2026-11-05` (a day); steps of a day,
//! an ISO week (from Monday) or a month.

use crate::model::Date;

/// A text that is not a period or a step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadPeriod(pub String);

/// The length of one point of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// One day.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
}

impl std::str::FromStr for Step {
    type Err = BadPeriod;
    fn from_str(s: &str) -> Result<Step, BadPeriod> {
        match s {
            "day" => Ok(Step::Day),
            "week" => Ok(Step::Week),
            "month" => Ok(Step::Month),
            _ => Err(BadPeriod(format!(
                "step must be day, week or month, found {s:?}"
            ))),
        }
    }
}

/// Day of the week, 0 = Monday.
fn weekday(d: Date) -> i32 {
    // 1970-01-01 was a Thursday (3).
    (d.days() + 3).rem_euclid(7)
}

impl Step {
    /// The first day of the step holding `d`.
    pub fn start(self, d: Date) -> Date {
        match self {
            Step::Day => d,
            Step::Week => d.add_days(-weekday(d)),
            Step::Month => {
                let (y, m, _) = d.ymd();
                Date::from_ymd(y, m, 1).unwrap_or(d)
            }
        }
    }
}

/// A period: its first and last day, and its name as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// First day.
    pub from: Date,
    /// Last day.
    pub to: Date,
    /// `2026-11`, `2026-W47`, `2026-Q4` or `YYYY-MM-DD/YYYY-MM-DD`.
    pub name: String,
    /// 周, 月, 季 or 日 (for titles).
    pub kind: &'static str,
}

fn month_end(y: i32, m: u32) -> Option<Date> {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    Date::from_ymd(ny, nm, 1).map(|d| d.add_days(-1))
}

/// Monday of ISO week 1 of `y`.
fn iso_week1(y: i32) -> Option<Date> {
    let jan4 = Date::from_ymd(y, 1, 4)?;
    Some(jan4.add_days(-weekday(jan4)))
}

impl std::str::FromStr for Period {
    type Err = BadPeriod;
    fn from_str(s: &str) -> Result<Period, BadPeriod> {
        let bad = || {
            BadPeriod(format!(
                "period must be YYYY-MM, YYYY-Www, YYYY-Qn or YYYY-MM-DD, found {s:?}"
            ))
        };
        let (y, rest) = s.split_once('-').ok_or_else(bad)?;
        let y: i32 = y.parse().map_err(|_| bad())?;
        if y.to_string().len() != 4 {
            return Err(bad());
        }
        let p = |from: Date, to: Date, kind| Period {
            from,
            to,
            name: s.to_string(),
            kind,
        };
        if let Some(w) = rest.strip_prefix('W') {
            let w: i32 = w.parse().map_err(|_| bad())?;
            let from = iso_week1(y).ok_or_else(bad)?.add_days(7 * (w - 1));
            let next = iso_week1(y + 1).ok_or_else(bad)?;
            if !(1..=53).contains(&w) || from >= next {
                return Err(bad());
            }
            return Ok(p(from, from.add_days(6), "周"));
        }
        if let Some(q) = rest.strip_prefix('Q') {
            let q: u32 = q.parse().map_err(|_| bad())?;
            if !(1..=4).contains(&q) {
                return Err(bad());
            }
            let from = Date::from_ymd(y, 3 * q - 2, 1).ok_or_else(bad)?;
            let to = month_end(y, 3 * q).ok_or_else(bad)?;
            return Ok(p(from, to, "季"));
        }
        if rest.len() == 2 {
            let m: u32 = rest.parse().map_err(|_| bad())?;
            let from = Date::from_ymd(y, m, 1).ok_or_else(bad)?;
            let to = month_end(y, m).ok_or_else(bad)?;
            return Ok(p(from, to, "月"));
        }
        let d: Date = s.parse().map_err(|_| bad())?;
        Ok(p(d, d, "日"))
    }
}

/// A date parameter `name`.
pub fn date_param(name: &str, v: &str) -> Result<Date, BadPeriod> {
    v.parse()
        .map_err(|_| BadPeriod(format!("{name} must be a date YYYY-MM-DD, found {v:?}")))
}

/// The range `from`..=`to` checked against the history's days `held`.
pub fn check_range(from: Date, to: Date, held: (Date, Date)) -> Result<(), BadPeriod> {
    if from > to {
        return Err(BadPeriod(format!("from ({from}) is after to ({to})")));
    }
    if from < held.0 {
        return Err(BadPeriod(format!(
            "from ({from}) is before the history, which starts on {}",
            held.0
        )));
    }
    if to > held.1 {
        return Err(BadPeriod(format!(
            "to ({to}) is after the history, which ends on {}",
            held.1
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn periods() {
        let m: Period = "2026-11".parse().unwrap();
        assert_eq!((m.from, m.to), (d("2026-11-01"), d("2026-11-30")));
        let w: Period = "2026-W47".parse().unwrap();
        assert_eq!((w.from, w.to), (d("2026-11-16"), d("2026-11-22")));
        let q: Period = "2026-Q4".parse().unwrap();
        assert_eq!((q.from, q.to), (d("2026-10-01"), d("2026-12-31")));
        let f: Period = "2024-02".parse().unwrap();
        assert_eq!(f.to, d("2024-02-29"));
        for bad in [
            "2026",
            "2026-13",
            "2026-W54",
            "2026-Q5",
            "26-11",
            "2026-11-31",
            "x",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
        assert_eq!(Step::Week.start(d("2026-11-22")), d("2026-11-16"));
        assert_eq!(Step::Month.start(d("2026-11-22")), d("2026-11-01"));
    }
}
