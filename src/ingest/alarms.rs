//! Linking the `alarms` layer to the `sensors` layer: a duplicate sensor
//! or alarm id, or an alarm whose `sensor_id` names no sensor, is an error
//! (the feature is left out); an alarm without a point of its own takes
//! its sensor's, and every alarm takes its sensor's kind.

use super::build::AlarmRow;
use super::issue::{Issue, IssueLevel};
use crate::model::{Alarm, Sensor};
use std::collections::HashMap;

/// The alarms of `rows` linked to `sensors` (whose duplicate ids are left
/// out); `files`: the sensors' and the alarms' file names for messages.
pub fn link(
    sensors: &mut Vec<Sensor>,
    rows: Vec<AlarmRow>,
    files: (&str, &str),
    issues: &mut Vec<Issue>,
) -> Vec<Alarm> {
    let (sensor_file, alarm_file) = files;
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(sensors.len());
    let mut keep = Vec::with_capacity(sensors.len());
    for (i, s) in sensors.iter().enumerate() {
        if let Some(first) = seen.get(&s.id) {
            issues.push(Issue {
                level: IssueLevel::Error,
                file: sensor_file.to_string(),
                feature: Some(s.id.clone()),
                field: Some("id".into()),
                message: format!("duplicate id {:?} (also feature {})", s.id, first + 1),
            });
            keep.push(false);
        } else {
            seen.insert(s.id.clone(), i);
            keep.push(true);
        }
    }
    let mut k = keep.into_iter();
    sensors.retain(|_| k.next().unwrap_or(true));
    let by_id: HashMap<&str, &Sensor> = sensors.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut ids: HashMap<String, String> = HashMap::with_capacity(rows.len());
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let error = |field: &str, message: String| Issue {
            level: IssueLevel::Error,
            file: alarm_file.to_string(),
            feature: Some(row.label.clone()),
            field: Some(field.to_string()),
            message,
        };
        if let Some(first) = ids.get(&row.alarm.id) {
            issues.push(error(
                "id",
                format!("duplicate id {:?} (also feature {first})", row.alarm.id),
            ));
            continue;
        }
        let mut alarm = row.alarm;
        if let Some(sid) = &alarm.sensor_id {
            match by_id.get(sid.as_str()) {
                Some(s) => {
                    alarm.kind = Some(s.kind);
                    if !row.located {
                        alarm.location = s.location;
                    }
                }
                None => {
                    issues.push(error(
                        "sensor_id",
                        format!("sensor {sid:?} is not in the sensors layer"),
                    ));
                    continue;
                }
            }
        }
        ids.insert(alarm.id.clone(), row.label);
        out.push(alarm);
    }
    out
}
