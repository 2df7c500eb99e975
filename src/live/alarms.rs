//! 监测预警 as data: the alarm requests of `POST /api/alarms` (a JSON array
//! or NDJSON, each error naming its line and field), the repeat rule (the
//! same content changes nothing, other content is a conflict), the
//! acknowledge / clear / dispatch transitions and the journal payloads
//! they become.

use super::LiveError;
use crate::index::{AlarmBook, AlarmEntry, Base};
use crate::model::{
    Alarm, AlarmLevel, AlarmStatus, DangerCategory, DangerGrade, DangerSource, DangerStatus, Date,
    HiddenDanger, Industry, OtherCategory, SensorKind, is_rfc3339,
};
use geo::Point;
use serde::{Deserialize, Serialize};

/// The journal `op`s of alarms start with this.
pub const PREFIX: &str = "alarm.";
/// A new alarm (payload: the alarm).
pub const OP_RAISE: &str = "alarm.raise";
/// Acknowledged (payload: the alarm after).
pub const OP_ACK: &str = "alarm.ack";
/// Cleared (payload: the alarm after).
pub const OP_CLEAR: &str = "alarm.clear";
/// Dispatched as a hidden danger (payload: [`DispatchData`]).
pub const OP_DISPATCH: &str = "alarm.dispatch";

/// Most alarms in one request.
pub const MAX_BATCH: usize = 10_000;
/// Longest id, in characters.
const MAX_ID: usize = 100;

/// One alarm of `POST /api/alarms` (DATA.md: `id`, `sensor_id` or
/// `lon`/`lat`, `level` 1–4, `value`, `threshold`, `started_at`,
/// `acknowledged_at`, `cleared_at`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmRequest {
    /// Id, unique.
    pub id: Option<String>,
    /// The sensor (must be in the `sensors` layer).
    pub sensor_id: Option<String>,
    /// Longitude (without a sensor, or to place the alarm elsewhere).
    pub lon: Option<serde_json::Value>,
    /// Latitude.
    pub lat: Option<serde_json::Value>,
    /// 1–4 (or 红/橙/黄/蓝).
    pub level: Option<serde_json::Value>,
    /// Measured value.
    pub value: Option<f64>,
    /// Threshold crossed.
    pub threshold: Option<f64>,
    /// RFC 3339.
    pub started_at: Option<String>,
    /// RFC 3339.
    pub acknowledged_at: Option<String>,
    /// RFC 3339.
    pub cleared_at: Option<String>,
}

/// The journal payload of a dispatch: the alarm after it and the hidden
/// danger it created (one entry: both or neither).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DispatchData {
    /// The alarm, with `hidden_danger_id` set.
    pub alarm: Alarm,
    /// The new record (`source = alarm`).
    pub hidden_danger: HiddenDanger,
}

fn coordinate(field: &'static str, v: Option<serde_json::Value>) -> Result<Option<f64>, LiveError> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => match n.as_f64() {
            Some(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(LiveError::field(field, "not a finite number")),
        },
        Some(other) => Err(LiveError::field(
            field,
            format!("expected a number, found {other}"),
        )),
    }
}

fn time(field: &'static str, v: Option<String>) -> Result<Option<String>, LiveError> {
    match v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        Some(t) if !is_rfc3339(&t) => Err(LiveError::field(
            field,
            format!("{t:?} is not an RFC 3339 time (2026-12-06T08:00:00+08:00)"),
        )),
        other => Ok(other),
    }
}

impl AlarmRequest {
    /// The alarm it describes, its sensor looked up in `book` (kind and,
    /// without `lon`/`lat`, the point).
    pub fn into_record(self, book: &AlarmBook) -> Result<Alarm, LiveError> {
        let id = self
            .id
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| LiveError::field("id", "required"))?;
        if id.chars().count() > MAX_ID || id.chars().any(char::is_control) {
            return Err(LiveError::field(
                "id",
                format!("at most {MAX_ID} characters, no control characters"),
            ));
        }
        let level = match self.level {
            None | Some(serde_json::Value::Null) => {
                return Err(LiveError::field("level", "required (1–4)"));
            }
            Some(serde_json::Value::String(s)) => s.parse::<AlarmLevel>(),
            Some(other) => other.to_string().parse::<AlarmLevel>(),
        }
        .map_err(|e| LiveError::field("level", e.to_string()))?;
        let lon = coordinate("lon", self.lon)?;
        let lat = coordinate("lat", self.lat)?;
        for (field, v) in [("value", self.value), ("threshold", self.threshold)] {
            if v.is_some_and(|x| !x.is_finite()) {
                return Err(LiveError::field(field, "not a finite number"));
            }
        }
        let started_at = time("started_at", self.started_at)?
            .ok_or_else(|| LiveError::field("started_at", "required (RFC 3339)"))?;
        let acknowledged_at = time("acknowledged_at", self.acknowledged_at)?;
        let cleared_at = time("cleared_at", self.cleared_at)?;
        let sensor_id = self
            .sensor_id
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let sensor = match &sensor_id {
            Some(s) => Some(
                book.sensor_by_id(s)
                    .and_then(|i| book.sensors().get(i as usize))
                    .ok_or_else(|| {
                        LiveError::field("sensor_id", format!("unknown sensor {s:?}"))
                    })?,
            ),
            None => None,
        };
        let location = match (lon, lat, sensor) {
            (Some(x), Some(y), _) => {
                if !(-180.0..=180.0).contains(&x) {
                    return Err(LiveError::field("lon", format!("{x} is not a longitude")));
                }
                if !(-90.0..=90.0).contains(&y) {
                    return Err(LiveError::field("lat", format!("{y} is not a latitude")));
                }
                Point::new(x, y)
            }
            (Some(_), None, _) => return Err(LiveError::field("lat", "required with lon")),
            (None, Some(_), _) => return Err(LiveError::field("lon", "required with lat")),
            (None, None, Some(s)) => s.location,
            (None, None, None) => {
                return Err(LiveError::field(
                    "sensor_id",
                    "give a sensor_id or lon and lat",
                ));
            }
        };
        Ok(Alarm {
            id,
            sensor_id,
            kind: sensor.map(|s| s.kind),
            level,
            value: self.value,
            threshold: self.threshold,
            started_at,
            acknowledged_at,
            cleared_at,
            hidden_danger_id: None,
            location,
        })
    }
}

/// Whether `posted` repeats `existing`: the same sensor, place, level,
/// value, threshold and start, and no acknowledgement or clearance that
/// differs from what `existing` has (a repeat of the first posting after
/// an acknowledgement is still a repeat).
pub fn is_repeat(existing: &Alarm, posted: &Alarm) -> bool {
    let same_opt = |p: &Option<String>, e: &Option<String>| p.is_none() || p == e;
    // Numbers read back from the journal's text may differ in the last
    // bit from the ones posted.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    let close_opt = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => close(a, b),
        (a, b) => a.is_none() && b.is_none(),
    };
    existing.sensor_id == posted.sensor_id
        && close(existing.location.x(), posted.location.x())
        && close(existing.location.y(), posted.location.y())
        && existing.level == posted.level
        && close_opt(existing.value, posted.value)
        && close_opt(existing.threshold, posted.threshold)
        && existing.started_at == posted.started_at
        && same_opt(&posted.acknowledged_at, &existing.acknowledged_at)
        && same_opt(&posted.cleared_at, &existing.cleared_at)
}

/// The items of a request body: a JSON array, or NDJSON (one object per
/// line, blank lines skipped), each with its 1-based line (NDJSON) or
/// item (array) number. Errors name the line or item.
pub fn parse_batch(body: &[u8]) -> Result<Vec<(usize, AlarmRequest)>, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("body: not UTF-8 ({e})"))?;
    let trimmed = text.trim_start();
    let mut out = Vec::new();
    if trimmed.starts_with('[') {
        let items: Vec<serde_json::Value> =
            serde_json::from_str(trimmed).map_err(|e| format!("body: {e}"))?;
        if items.len() > MAX_BATCH {
            return Err(format!(
                "body: {} alarms, at most {MAX_BATCH} in one request",
                items.len()
            ));
        }
        for (i, v) in items.into_iter().enumerate() {
            let req = serde_json::from_value(v).map_err(|e| format!("item {}: {e}", i + 1))?;
            out.push((i + 1, req));
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            if out.len() == MAX_BATCH {
                return Err(format!(
                    "body: more than {MAX_BATCH} alarms: at most {MAX_BATCH} in one request"
                ));
            }
            let req = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
            out.push((i + 1, req));
        }
    }
    if out.is_empty() {
        return Err("body: no alarm (a JSON array or one JSON object per line)".into());
    }
    Ok(out)
}

/// An acknowledge or clear of `entry` at `at`: the alarm after it, or a
/// conflict (already cleared, already acknowledged).
pub fn transition(entry: &AlarmEntry, op: &str, at: &str) -> Result<Alarm, LiveError> {
    let mut a = entry.record.clone();
    let status = a.status();
    if status == AlarmStatus::Cleared {
        return Err(LiveError::Conflict(format!("alarm {} is cleared", a.id)));
    }
    match op {
        OP_ACK if status == AlarmStatus::Acknowledged => {
            return Err(LiveError::Conflict(format!(
                "alarm {} is already acknowledged",
                a.id
            )));
        }
        OP_ACK => a.acknowledged_at = Some(at.to_string()),
        OP_CLEAR => a.cleared_at = Some(at.to_string()),
        _ => return Err(LiveError::field("action", format!("unknown {op}"))),
    }
    Ok(a)
}

/// The category a dispatched alarm of `kind` is filed under.
fn category(kind: Option<SensorKind>) -> DangerCategory {
    use DangerCategory::{Industry as I, Other as O};
    match kind {
        Some(SensorKind::Gas) => I(Industry::Gas),
        Some(SensorKind::Pressure) => O(OtherCategory::Pipeline),
        Some(SensorKind::Settlement | SensorKind::WaterLevel) => O(OtherCategory::Road),
        Some(SensorKind::Strain) => O(OtherCategory::Building),
        Some(SensorKind::ElectricalFire) => O(OtherCategory::Fire),
        Some(SensorKind::Dust) => I(Industry::DustExplosion),
        Some(SensorKind::TankLevel) => I(Industry::HazardousChemicals),
        None => O(OtherCategory::Other),
    }
}

/// 派单: the alarm after dispatch and the hidden danger `id` it becomes,
/// found `today` at the alarm's point (grade major for a level-1 alarm,
/// deadline 7 days; otherwise general, 30 days).
pub fn dispatch(entry: &AlarmEntry, id: String, today: Date) -> Result<DispatchData, LiveError> {
    let a = &entry.record;
    if a.status() == AlarmStatus::Cleared {
        return Err(LiveError::Conflict(format!("alarm {} is cleared", a.id)));
    }
    if let Some(d) = &a.hidden_danger_id {
        return Err(LiveError::Conflict(format!(
            "alarm {} is already dispatched as {d}",
            a.id
        )));
    }
    let major = a.level.get() == 1;
    let kind = a.kind.map_or("监测预警", |k| k.label_zh());
    let mut description = format!("监测预警 {} {}{kind}", a.id, a.level.label_zh());
    if let Some(v) = a.value {
        description.push_str(&format!(" 监测值 {v}"));
    }
    if let Some(t) = a.threshold {
        description.push_str(&format!(" 阈值 {t}"));
    }
    let danger = HiddenDanger {
        id: id.clone(),
        enterprise_id: None,
        category: category(a.kind),
        grade: if major {
            DangerGrade::Major
        } else {
            DangerGrade::General
        },
        description,
        source: DangerSource::Alarm,
        found_at: today,
        deadline: Some(today.add_days(if major { 7 } else { 30 })),
        responsible: None,
        status: DangerStatus::Reported,
        closed_at: None,
        location: a.location,
    };
    let mut alarm = a.clone();
    alarm.hidden_danger_id = Some(id);
    Ok(DispatchData {
        alarm,
        hidden_danger: danger,
    })
}

/// Applies one alarm journal entry to `book`: the entry after it and, for
/// a dispatch, the hidden danger it creates. Refuses what does not apply
/// (an id raised twice, an unknown alarm, a change of place or level).
pub fn apply(
    book: &mut AlarmBook,
    base: &Base,
    seq: u64,
    op: &str,
    id: &str,
    data: &serde_json::Value,
) -> Result<(AlarmEntry, Option<HiddenDanger>), String> {
    let (alarm, danger) = match op {
        OP_RAISE | OP_ACK | OP_CLEAR => (
            serde_json::from_value::<Alarm>(data.clone()).map_err(|e| format!("{op}: {e}"))?,
            None,
        ),
        OP_DISPATCH => {
            let d: DispatchData =
                serde_json::from_value(data.clone()).map_err(|e| format!("{op}: {e}"))?;
            (d.alarm, Some(d.hidden_danger))
        }
        other => return Err(format!("unknown op {other:?}")),
    };
    if alarm.id != id {
        return Err(format!("id {id:?} differs from the alarm's {:?}", alarm.id));
    }
    let entry = match (op, book.index_of(id)) {
        (OP_RAISE, Some(_)) => return Err(format!("alarm {id} is raised twice")),
        (OP_RAISE, None) => {
            let i = book.insert(base, alarm, seq);
            book.get(i).cloned().ok_or("lost alarm")?
        }
        (_, None) => return Err(format!("no alarm {id}")),
        (_, Some(i)) => {
            let old = book.get(i).ok_or("lost alarm")?;
            if old.record.location != alarm.location
                || old.record.level != alarm.level
                || old.record.sensor_id != alarm.sensor_id
            {
                return Err(format!("{op} moves, regrades or re-sensors alarm {id}"));
            }
            book.replace(i, alarm, seq).ok_or("lost alarm")?
        }
    };
    Ok((entry, danger))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A measured value posted as JSON is read to the same f64 that Rust's
    /// own decimal parser gives (serde_json's `float_roundtrip`), and a
    /// journal line written from it reads back to the same bits: a value
    /// posted comes back identical.
    #[test]
    fn values_parse_exactly_and_round_trip_through_json() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // 17 significant digits at scales from 1e-6 to 1e6.
            let mantissa = 10_000_000_000_000_000 + x % 90_000_000_000_000_000;
            let exp = i64::from(i % 13) - 22;
            let text = format!("{mantissa}e{exp}");
            let want: f64 = text.parse().unwrap();
            let line = format!(
                r#"{{"id":"V","lon":118.5,"lat":24.9,"level":1,"value":{text},"started_at":"2026-06-15T08:00:00Z"}}"#
            );
            let items = parse_batch(line.as_bytes()).unwrap();
            let got = items[0].1.value.unwrap();
            assert_eq!(got.to_bits(), want.to_bits(), "{text}");
            let back: f64 = serde_json::from_str(&serde_json::to_string(&got).unwrap()).unwrap();
            assert_eq!(back.to_bits(), want.to_bits(), "{text}");
        }
    }

    #[test]
    fn batches_are_arrays_or_ndjson_and_errors_name_the_line() {
        let one =
            r#"{"id":"A","lon":118.5,"lat":24.9,"level":1,"started_at":"2026-06-15T08:00:00Z"}"#;
        assert_eq!(
            parse_batch(format!("[{one},{one}]").as_bytes()).map(|v| v.len()),
            Ok(2)
        );
        let nd = format!("{one}\n\n{one}\n");
        let items = parse_batch(nd.as_bytes()).unwrap();
        assert_eq!(items.iter().map(|(l, _)| *l).collect::<Vec<_>>(), [1, 3]);
        let bad = format!("{one}\n{{\"id\":\"B\",\"colour\":1}}");
        assert!(
            parse_batch(bad.as_bytes())
                .unwrap_err()
                .starts_with("line 2:")
        );
        assert!(parse_batch(b"  ").is_err());
        let many = vec![one; MAX_BATCH + 1].join("\n");
        assert!(
            parse_batch(many.as_bytes())
                .unwrap_err()
                .contains("at most")
        );
    }

    #[test]
    fn requests_become_alarms_or_name_the_field() {
        let book = AlarmBook::default();
        let (_, req) = parse_batch(
            br#"{"id":"A","lon":118.5,"lat":24.9,"level":"red","started_at":"2026-06-15T08:00:00+08:00"}"#,
        )
        .unwrap()
        .remove(0);
        let a = req.into_record(&book).unwrap();
        assert_eq!(a.level.get(), 1);
        assert_eq!(a.status(), AlarmStatus::Active);
        let field = |json: &str| {
            let (_, req) = parse_batch(json.as_bytes()).unwrap().remove(0);
            match req.into_record(&book) {
                Err(LiveError::Field { field, .. }) => field,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            field(r#"{"id":"A","lon":1,"lat":2,"level":7,"started_at":"2026-06-15T08:00:00Z"}"#),
            "level"
        );
        assert_eq!(
            field(r#"{"id":"A","sensor_id":"S-9","level":1,"started_at":"2026-06-15T08:00:00Z"}"#),
            "sensor_id"
        );
        assert_eq!(
            field(
                r#"{"id":"A","lon":"NaN","lat":2,"level":1,"started_at":"2026-06-15T08:00:00Z"}"#
            ),
            "lon"
        );
        assert_eq!(
            field(r#"{"id":"A","lon":1,"lat":2,"level":1,"started_at":"yesterday"}"#),
            "started_at"
        );
        assert_eq!(
            field(r#"{"lon":1,"lat":2,"level":1,"started_at":"2026-06-15T08:00:00Z"}"#),
            "id"
        );
        let mut acked = a.clone();
        acked.acknowledged_at = Some("2026-06-15T09:00:00Z".into());
        assert!(is_repeat(&acked, &a), "the first posting again");
        let mut other = a.clone();
        other.level = AlarmLevel::clamped(2);
        assert!(!is_repeat(&a, &other));
    }
}
