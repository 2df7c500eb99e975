//! The 隐患 closure loop as data: the report and event requests, their
//! validation (each error names the field), the transitions
//! (`reported →start→ rectifying →rectify→ rectified →close→ closed`;
//! `rectified →reject→ rectifying`; `extend` while reported or rectifying)
//! and the journal payloads they become.

use super::LiveError;
use crate::index::{DangerEntry, Store};
use crate::model::{DangerCategory, DangerGrade, DangerSource, DangerStatus, Date, HiddenDanger};
use geo::Point;
use serde::{Deserialize, Serialize};

/// The journal `op` of a new record.
pub const OP_REPORT: &str = "hidden_danger.report";
/// The journal `op` of an event on a record.
pub const OP_EVENT: &str = "hidden_danger.event";

/// Longest description, note or responsible party, in characters.
const MAX_TEXT: usize = 2000;

/// Body of `POST /api/hidden-dangers`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// Longitude (with `lat`), unless `enterprise_id` gives the place.
    pub lon: Option<f64>,
    /// Latitude.
    pub lat: Option<f64>,
    /// The enterprise, if the danger is one of its own.
    pub enterprise_id: Option<String>,
    /// `general` / `major` (一般隐患 / 重大隐患).
    pub grade: Option<String>,
    /// An industry or a public-space category (Chinese labels accepted).
    pub category: Option<String>,
    /// What was found.
    pub description: Option<String>,
    /// 整改时限 `YYYY-MM-DD` (required for a major danger).
    pub deadline: Option<String>,
    /// 整改责任人/单位.
    pub responsible: Option<String>,
    /// How it was found (default `patrol`).
    pub source: Option<String>,
    /// A chosen id (default `HD-YYYYMMDD-NNNN`).
    pub id: Option<String>,
    /// When it was found (default today).
    pub found_at: Option<String>,
}

/// Body of `POST /api/hidden-dangers/{id}/events`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRequest {
    /// `start`, `rectify`, `close`, `reject` or `extend`.
    pub action: Option<String>,
    /// Free text.
    pub note: Option<String>,
    /// The new deadline (`extend`; optional with `start`).
    pub deadline: Option<String>,
}

/// A transition of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// 开始整改: reported → rectifying.
    Start,
    /// 整改完成: rectifying → rectified.
    Rectify,
    /// 验收销号: rectified → closed (planner or admin, not the rectifier).
    Close,
    /// 验收不通过: rectified → rectifying (planner or admin, not the
    /// rectifier).
    Reject,
    /// 延期: a new deadline while reported or rectifying.
    Extend,
}

impl Action {
    /// The contract word.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Rectify => "rectify",
            Action::Close => "close",
            Action::Reject => "reject",
            Action::Extend => "extend",
        }
    }

    /// Whether only a planner or an admin may do it (验收).
    pub fn needs_verifier(self) -> bool {
        matches!(self, Action::Close | Action::Reject)
    }

    /// The status after the action from `from`, if allowed.
    pub fn next(self, from: DangerStatus) -> Option<DangerStatus> {
        use DangerStatus::*;
        match (self, from) {
            (Action::Start, Reported) => Some(Rectifying),
            (Action::Rectify, Rectifying) => Some(Rectified),
            (Action::Close, Rectified) => Some(Closed),
            (Action::Reject, Rectified) => Some(Rectifying),
            (Action::Extend, Reported | Rectifying) => Some(from),
            _ => None,
        }
    }
}

impl std::str::FromStr for Action {
    type Err = LiveError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "start" => Action::Start,
            "rectify" => Action::Rectify,
            "close" => Action::Close,
            "reject" => Action::Reject,
            "extend" => Action::Extend,
            other => {
                return Err(LiveError::field(
                    "action",
                    format!(
                        "unknown action {other:?}: one of start, rectify, close, reject, extend"
                    ),
                ));
            }
        })
    }
}

/// The journal payload of an event: the action and the record after it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventData {
    /// What was done.
    pub action: Action,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The record after the event.
    pub record: HiddenDanger,
}

fn text(field: &'static str, v: Option<String>) -> Result<Option<String>, LiveError> {
    match v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > MAX_TEXT => Err(LiveError::field(
            field,
            format!("longer than {MAX_TEXT} characters"),
        )),
        other => Ok(other),
    }
}

fn date(field: &'static str, v: Option<String>) -> Result<Option<Date>, LiveError> {
    v.filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.parse::<Date>()
                .map_err(|_| LiveError::field(field, format!("{s:?} is not a date YYYY-MM-DD")))
        })
        .transpose()
}

fn word<T: std::str::FromStr>(field: &'static str, v: &str, choices: &str) -> Result<T, LiveError> {
    v.parse::<T>()
        .map_err(|_| LiveError::field(field, format!("unknown value {v:?}: one of {choices}")))
}

impl ReportRequest {
    /// The record this report makes on `today`, checked against `store`;
    /// `next_id` gives a fresh id when the report names none.
    pub fn into_record(
        self,
        store: &Store,
        today: Date,
        next_id: impl FnOnce() -> String,
    ) -> Result<HiddenDanger, LiveError> {
        let grade: DangerGrade = match self.grade.as_deref() {
            Some(g) => word("grade", g, "general, major")?,
            None => return Err(LiveError::field("grade", "required: general or major")),
        };
        let category: DangerCategory = match self.category.as_deref() {
            Some(c) => word(
                "category",
                c,
                "an industry word, road, pipeline, fire, building, special_equipment, other",
            )?,
            None => return Err(LiveError::field("category", "required")),
        };
        let source: DangerSource = match self.source.as_deref() {
            Some(s) => word("source", s, "self_check, patrol, inspection, report, alarm")?,
            None => DangerSource::Patrol,
        };
        let description = text("description", self.description)?
            .ok_or_else(|| LiveError::field("description", "required"))?;
        let responsible = text("responsible", self.responsible)?;
        let deadline = date("deadline", self.deadline)?;
        let found_at = date("found_at", self.found_at)?.unwrap_or(today);
        if found_at > today {
            return Err(LiveError::field("found_at", "is in the future"));
        }
        if let Some(d) = deadline
            && d < found_at
        {
            return Err(LiveError::field(
                "deadline",
                "is before the day it was found",
            ));
        }
        if grade == DangerGrade::Major && deadline.is_none() {
            return Err(LiveError::field(
                "deadline",
                "required for a major hidden danger (重大隐患须明确整改时限)",
            ));
        }
        let enterprise_id = text("enterprise_id", self.enterprise_id)?;
        let enterprise = match &enterprise_id {
            Some(id) => Some(store.enterprise_by_id(id).ok_or_else(|| {
                LiveError::field("enterprise_id", format!("no enterprise {id:?}"))
            })?),
            None => None,
        };
        let location = match (self.lon, self.lat, enterprise) {
            (Some(lon), Some(lat), _) => {
                if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
                    return Err(LiveError::field(
                        "lon",
                        "must be a longitude in [-180, 180]",
                    ));
                }
                if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
                    return Err(LiveError::field("lat", "must be a latitude in [-90, 90]"));
                }
                Point::new(lon, lat)
            }
            (None, None, Some(e)) => store.dataset.enterprises[e as usize].location,
            (Some(_), None, _) => return Err(LiveError::field("lat", "required with lon")),
            (None, Some(_), _) => return Err(LiveError::field("lon", "required with lat")),
            (None, None, None) => {
                return Err(LiveError::field(
                    "lon",
                    "a place is required: lon and lat, or enterprise_id",
                ));
            }
        };
        let id = match text("id", self.id)? {
            Some(id) => {
                if id.len() > 64 || id.chars().any(|c| c.is_control() || c == '/') {
                    return Err(LiveError::field(
                        "id",
                        "at most 64 bytes, no control characters or '/'",
                    ));
                }
                if store.dangers().index_of(&id).is_some() {
                    return Err(LiveError::Conflict(format!("hidden danger {id} exists")));
                }
                id
            }
            None => next_id(),
        };
        Ok(HiddenDanger {
            id,
            enterprise_id,
            category,
            grade,
            description,
            source,
            found_at,
            deadline,
            responsible,
            status: DangerStatus::Reported,
            closed_at: None,
            location,
        })
    }
}

/// A checked event: the action and the record after it.
#[derive(Debug, Clone)]
pub struct CheckedEvent {
    /// The journal payload.
    pub data: EventData,
}

impl EventRequest {
    /// Checks the event against the record's current state: the action is
    /// allowed from its status (else [`LiveError::Conflict`]), a verifier
    /// (close/reject) is not the token that rectified it.
    pub fn check(
        self,
        entry: &DangerEntry,
        actor: &str,
        today: Date,
    ) -> Result<CheckedEvent, LiveError> {
        let action: Action = match self.action.as_deref() {
            Some(a) => a.parse()?,
            None => return Err(LiveError::field("action", "required")),
        };
        let note = text("note", self.note)?;
        let deadline = date("deadline", self.deadline)?;
        let mut record = entry.record.clone();
        let status = action.next(record.status).ok_or_else(|| {
            LiveError::Conflict(format!(
                "{} is not allowed while the hidden danger is {} ({})",
                action.as_str(),
                record.status.as_str(),
                record.status.label_zh()
            ))
        })?;
        if action.needs_verifier() && entry.rectified_by() == Some(actor) {
            return Err(LiveError::Conflict(
                "the token that recorded the rectification may not verify it (整改与验收须由不同人员完成)"
                    .into(),
            ));
        }
        match action {
            Action::Extend => {
                let d = deadline.ok_or_else(|| {
                    LiveError::field("deadline", "required to extend (the new deadline)")
                })?;
                if record.deadline.is_some_and(|old| d <= old) {
                    return Err(LiveError::field(
                        "deadline",
                        "must be later than the current deadline",
                    ));
                }
                record.deadline = Some(d);
            }
            Action::Start => {
                if let Some(d) = deadline {
                    record.deadline = Some(d);
                }
            }
            _ if deadline.is_some() => {
                return Err(LiveError::field(
                    "deadline",
                    "only start and extend set a deadline",
                ));
            }
            _ => {}
        }
        if let Some(d) = record.deadline
            && d < record.found_at
        {
            return Err(LiveError::field(
                "deadline",
                "is before the day it was found",
            ));
        }
        record.status = status;
        record.closed_at = (status == DangerStatus::Closed).then_some(today);
        Ok(CheckedEvent {
            data: EventData {
                action,
                note,
                record,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DangerStatus::*;

    #[test]
    fn transitions_follow_the_loop() {
        assert_eq!(Action::Start.next(Reported), Some(Rectifying));
        assert_eq!(Action::Rectify.next(Rectifying), Some(Rectified));
        assert_eq!(Action::Close.next(Rectified), Some(Closed));
        assert_eq!(Action::Reject.next(Rectified), Some(Rectifying));
        assert_eq!(Action::Extend.next(Reported), Some(Reported));
        assert_eq!(Action::Extend.next(Rectified), None);
        assert_eq!(Action::Close.next(Rectifying), None);
        assert_eq!(Action::Start.next(Closed), None);
        assert_eq!(Action::Rectify.next(Reported), None);
        assert!("delete".parse::<Action>().is_err());
    }
}
