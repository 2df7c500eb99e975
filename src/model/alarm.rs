//! 监测预警: the sensors of the monitoring platform and their alarms.
//!
//! A sensor is a point of a kind (可燃气体, 管网压力, …) that may watch a
//! hazard source or an enterprise. An alarm is raised at its sensor's point
//! (or at its own `lon`/`lat`) with a level 1–4 (红/橙/黄/蓝); it is active
//! until cleared, and weighs half once acknowledged (RISK_MODEL v2, M).

use super::danger::Date;
use super::layer::UnknownName;
use geo::Point;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

word_enum! {
    /// What a sensor measures.
    SensorKind, "sensor kind" {
        /// 可燃气体
        Gas => "gas", "可燃气体", "燃气";
        /// 管网压力
        Pressure => "pressure", "管网压力", "压力";
        /// 沉降
        Settlement => "settlement", "沉降", "地面沉降";
        /// 桥梁应变
        Strain => "strain", "桥梁应变", "应变";
        /// 电气火灾
        ElectricalFire => "electrical_fire", "电气火灾";
        /// 粉尘
        Dust => "dust", "粉尘", "粉尘浓度";
        /// 储罐液位
        TankLevel => "tank_level", "储罐液位", "液位";
        /// 积水
        WaterLevel => "water_level", "积水", "积水深度";
    }
}

/// A monitoring sensor (a point of the `sensors` layer).
#[derive(Debug, Clone, PartialEq)]
pub struct Sensor {
    /// Id, unique.
    pub id: String,
    /// What it measures.
    pub kind: SensorKind,
    /// The hazard source or enterprise it monitors, if any.
    pub watches: Option<String>,
    /// Location, lon/lat.
    pub location: Point<f64>,
}

/// An alarm level 1–4: 1 = 一级 (红) … 4 = 四级 (蓝).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct AlarmLevel(u8);

/// A number that is not an alarm level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an alarm level is 1, 2, 3 or 4 (红/橙/黄/蓝), not {0}")]
pub struct BadLevel(pub String);

impl AlarmLevel {
    /// The level `n`, if it is 1–4.
    pub fn new(n: u8) -> Option<AlarmLevel> {
        (1..=4).contains(&n).then_some(AlarmLevel(n))
    }

    /// The level `n` clamped to 1–4.
    pub fn clamped(n: u8) -> AlarmLevel {
        AlarmLevel(n.clamp(1, 4))
    }

    /// 1–4.
    pub fn get(self) -> u8 {
        self.0
    }

    /// 一级 … 四级.
    pub fn label_zh(self) -> &'static str {
        ["一级", "二级", "三级", "四级"][usize::from(self.0.clamp(1, 4) - 1)]
    }

    /// 红, 橙, 黄, 蓝.
    pub fn colour_zh(self) -> &'static str {
        ["红", "橙", "黄", "蓝"][usize::from(self.0.clamp(1, 4) - 1)]
    }
}

impl TryFrom<u8> for AlarmLevel {
    type Error = BadLevel;
    fn try_from(n: u8) -> Result<Self, Self::Error> {
        AlarmLevel::new(n).ok_or_else(|| BadLevel(n.to_string()))
    }
}

impl From<AlarmLevel> for u8 {
    fn from(l: AlarmLevel) -> u8 {
        l.0
    }
}

impl fmt::Display for AlarmLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for AlarmLevel {
    type Err = BadLevel;
    /// `1`–`4`, or 一级…四级, 红/橙/黄/蓝 (预警).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let n = match t {
            "1" | "一级" | "红" | "红色" | "红色预警" | "red" => 1,
            "2" | "二级" | "橙" | "橙色" | "橙色预警" | "orange" => 2,
            "3" | "三级" | "黄" | "黄色" | "黄色预警" | "yellow" => 3,
            "4" | "四级" | "蓝" | "蓝色" | "蓝色预警" | "blue" => 4,
            _ => return Err(BadLevel(format!("{t:?}"))),
        };
        Ok(AlarmLevel(n))
    }
}

/// Where an alarm is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmStatus {
    /// Raised, not acknowledged.
    Active,
    /// Acknowledged (确认), still active.
    Acknowledged,
    /// Cleared (解除): weighs nothing.
    Cleared,
}

impl AlarmStatus {
    /// Every status, in order of an alarm's life.
    pub const ALL: [AlarmStatus; 3] = [
        AlarmStatus::Active,
        AlarmStatus::Acknowledged,
        AlarmStatus::Cleared,
    ];

    /// The status named by its contract word or its Chinese label.
    pub fn from_word(s: &str) -> Option<AlarmStatus> {
        let t = s.trim();
        AlarmStatus::ALL
            .into_iter()
            .find(|a| a.as_str() == t || a.label_zh() == t)
    }

    /// The contract word.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmStatus::Active => "active",
            AlarmStatus::Acknowledged => "acknowledged",
            AlarmStatus::Cleared => "cleared",
        }
    }

    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            AlarmStatus::Active => "预警中",
            AlarmStatus::Acknowledged => "已确认",
            AlarmStatus::Cleared => "已解除",
        }
    }
}

/// One alarm (a record of the `alarms` layer or of `POST /api/alarms`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alarm {
    /// Id, unique.
    pub id: String,
    /// The sensor that raised it, if it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensor_id: Option<String>,
    /// The sensor's kind, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SensorKind>,
    /// 1–4.
    pub level: AlarmLevel,
    /// The measured value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The threshold it crossed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it was acknowledged (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<String>,
    /// When it was cleared (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared_at: Option<String>,
    /// The hidden danger it was dispatched as (派单), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden_danger_id: Option<String>,
    /// Location, lon/lat (the sensor's unless the alarm gives its own).
    #[serde(with = "super::danger::point_lon_lat")]
    pub location: Point<f64>,
}

impl Alarm {
    /// Active, acknowledged or cleared.
    pub fn status(&self) -> AlarmStatus {
        if self.cleared_at.is_some() {
            AlarmStatus::Cleared
        } else if self.acknowledged_at.is_some() {
            AlarmStatus::Acknowledged
        } else {
            AlarmStatus::Active
        }
    }

    /// The day it started on (the date part of `started_at`).
    pub fn started_on(&self) -> Option<Date> {
        self.started_at.parse().ok()
    }
}

/// Whether `s` is an RFC 3339 timestamp: `YYYY-MM-DDThh:mm:ss[.f](Z|±hh:mm)`.
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || s.get(..10).and_then(|d| d.parse::<Date>().ok()).is_none() {
        return false;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return false;
    }
    let two = |i: usize, max: u8| -> bool {
        b.get(i..i + 2).is_some_and(|d| {
            d[0].is_ascii_digit()
                && d[1].is_ascii_digit()
                && (d[0] - b'0') * 10 + (d[1] - b'0') <= max
        })
    };
    if !(two(11, 23) && b[13] == b':' && two(14, 59) && b[16] == b':' && two(17, 60)) {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len() && two(i + 1, 23) && b[i + 3] == b':' && two(i + 4, 59)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_kinds_read_their_words() {
        assert_eq!("红".parse::<AlarmLevel>().ok(), AlarmLevel::new(1));
        assert_eq!("4".parse::<AlarmLevel>().ok(), AlarmLevel::new(4));
        assert!("7".parse::<AlarmLevel>().is_err());
        assert!(AlarmLevel::new(0).is_none());
        assert_eq!(AlarmLevel::new(2).map(AlarmLevel::label_zh), Some("二级"));
        assert_eq!("可燃气体".parse::<SensorKind>().ok(), Some(SensorKind::Gas));
        assert!("radar".parse::<SensorKind>().is_err());
        assert!(serde_json::from_str::<AlarmLevel>("7").is_err());
    }

    #[test]
    fn timestamps() {
        for ok in [
            "2026-12-06T08:00:00Z",
            "2026-12-06T08:00:00.123+08:00",
            "2026-12-06T23:59:60-05:30",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "2026-12-06",
            "2026-12-06T08:00Z",
            "2026-13-06T08:00:00Z",
            "2026-12-06T24:00:00Z",
            "2026-12-06T08:00:00",
            "2026-12-06T08:00:00+0800",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }
}
