//! 隐患 records: the hidden dangers of the closure loop (found → deadline →
//! rectified → verified → 销号), with their categories, grades, sources and
//! statuses, and the calendar date they are kept in.

use super::calendar::{civil_from_days, days_in_month};
use super::enums::Industry;
use super::layer::UnknownName;
use geo::Point;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

word_enum! {
    /// Grade of a hidden danger.
    DangerGrade, "hidden danger grade" {
        /// 一般隐患
        General => "general", "一般隐患", "一般";
        /// 重大隐患
        Major => "major", "重大隐患", "重大";
    }
}

word_enum! {
    /// How a hidden danger was found.
    DangerSource, "hidden danger source" {
        /// 企业自查
        SelfCheck => "self_check", "企业自查", "自查";
        /// 网格巡查
        Patrol => "patrol", "网格巡查", "巡查";
        /// 部门检查
        Inspection => "inspection", "部门检查", "检查", "执法检查";
        /// 群众举报
        Report => "report", "群众举报", "举报";
        /// 监测预警 (a dispatched alarm)
        Alarm => "alarm", "监测预警", "预警";
    }
}

word_enum! {
    /// Where a hidden danger is in the closure loop.
    DangerStatus, "hidden danger status" {
        /// 已上报
        Reported => "reported", "已上报", "上报";
        /// 整改中
        Rectifying => "rectifying", "整改中";
        /// 已整改待验收
        Rectified => "rectified", "已整改待验收", "已整改", "待验收";
        /// 已销号
        Closed => "closed", "已销号", "销号", "已关闭";
    }
}

impl DangerStatus {
    /// Whether the danger still counts as open (anything but closed).
    pub fn is_open(self) -> bool {
        self != DangerStatus::Closed
    }
}

word_enum! {
    /// The categories that are not enterprise industries.
    OtherCategory, "hidden danger category" {
        /// 道路
        Road => "road", "道路";
        /// 管线
        Pipeline => "pipeline", "管线", "管网";
        /// 消防
        Fire => "fire", "消防";
        /// 房屋建筑
        Building => "building", "房屋建筑", "房屋";
        /// 特种设备
        SpecialEquipment => "special_equipment", "特种设备";
        /// 其他
        Other => "other", "其他";
    }
}

/// Category of a hidden danger: an enterprise industry or one of the
/// public-space categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DangerCategory {
    /// An enterprise industry (危险化学品, 燃气, …).
    Industry(Industry),
    /// 道路, 管线, 消防, 房屋建筑, 特种设备, 其他.
    Other(OtherCategory),
}

impl DangerCategory {
    /// Every category: the industries, then the others.
    pub fn all() -> impl Iterator<Item = DangerCategory> {
        Industry::ALL
            .iter()
            .map(|&i| DangerCategory::Industry(i))
            .chain(OtherCategory::ALL.iter().map(|&o| DangerCategory::Other(o)))
    }

    /// The contract word.
    pub fn as_str(self) -> &'static str {
        match self {
            DangerCategory::Industry(i) => i.as_str(),
            DangerCategory::Other(o) => o.as_str(),
        }
    }

    /// The Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            DangerCategory::Industry(i) => i.label_zh(),
            DangerCategory::Other(o) => o.label_zh(),
        }
    }
}

impl fmt::Display for DangerCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DangerCategory {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(i) = s.parse::<Industry>() {
            return Ok(DangerCategory::Industry(i));
        }
        s.parse::<OtherCategory>()
            .map(DangerCategory::Other)
            .map_err(|_| UnknownName::new("hidden danger category", s))
    }
}

impl Serialize for DangerCategory {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DangerCategory {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A calendar date (proleptic Gregorian), kept as days since 1970-01-01 so
/// that comparisons ("past its deadline") are integer comparisons. Written
/// and read as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Date(i32);

/// A text that is not a date `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a date YYYY-MM-DD: {0:?}")]
pub struct BadDate(pub String);

impl Date {
    /// The date `days` days after 1970-01-01.
    pub fn from_days(days: i32) -> Date {
        Date(days)
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i32 {
        self.0
    }

    /// A date from its year, month and day, if it exists.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Date> {
        if d == 0 || days_in_month(y, m).is_none_or(|n| d > n) {
            return None;
        }
        // Days from civil (Howard Hinnant's algorithm).
        let y = i64::from(y) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let mp = (i64::from(m) + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        i32::try_from(era * 146_097 + doe - 719_468).ok().map(Date)
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i32, u32, u32) {
        let (y, m, d) = civil_from_days(i64::from(self.0));
        (y as i32, m, d)
    }

    /// The date `n` days later (earlier for negative `n`).
    pub fn add_days(self, n: i32) -> Date {
        Date(self.0.saturating_add(n))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl FromStr for Date {
    type Err = BadDate;
    /// `YYYY-MM-DD`; a timestamp `YYYY-MM-DDThh:mm…` or `YYYY/MM/DD` is read
    /// by its date part.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let head = t.get(..10).unwrap_or(t);
        let rest = t.get(10..).unwrap_or("");
        let bad = || BadDate(s.to_string());
        if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ')) {
            return Err(bad());
        }
        let parts: Vec<&str> = head.split(['-', '/']).collect();
        let [y, m, d] = parts.as_slice() else {
            return Err(bad());
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let (Ok(y), Ok(m), Ok(d)) = (y.parse(), m.parse(), d.parse()) else {
            return Err(bad());
        };
        Date::from_ymd(y, m, d).ok_or_else(bad)
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// 隐患: one hidden-danger record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HiddenDanger {
    /// 隐患编号, unique (`HD-YYYYMMDD-NNNN` when the server assigns it).
    pub id: String,
    /// The enterprise it belongs to, if any (must exist).
    pub enterprise_id: Option<String>,
    /// Category (an industry or a public-space category).
    pub category: DangerCategory,
    /// 一般 / 重大.
    pub grade: DangerGrade,
    /// What was found.
    pub description: String,
    /// How it was found.
    pub source: DangerSource,
    /// When it was found.
    pub found_at: Date,
    /// 整改时限 (required for a major danger).
    pub deadline: Option<Date>,
    /// 整改责任人/单位.
    pub responsible: Option<String>,
    /// Where it is in the loop.
    pub status: DangerStatus,
    /// When it was closed (销号).
    pub closed_at: Option<Date>,
    /// Location, lon/lat (the enterprise's when the record gives none).
    #[serde(with = "point_lon_lat")]
    pub location: Point<f64>,
}

impl HiddenDanger {
    /// Whether it is open on `day`: found by then (`found_at` on or before
    /// it) and not closed by then (closed with a `closed_at` on or before
    /// it, or with none). A record's weight and counts on an as-of date
    /// follow this, so scoring a past day counts what was open that day.
    pub fn is_open_on(&self, day: Date) -> bool {
        self.found_at <= day && (self.status.is_open() || self.closed_at.is_some_and(|c| c > day))
    }

    /// Whether it is open on `as_of` and past its deadline then.
    pub fn is_overdue(&self, as_of: Date) -> bool {
        self.is_open_on(as_of) && self.deadline.is_some_and(|d| d < as_of)
    }
}

/// A point as `[lon, lat]`.
pub(crate) mod point_lon_lat {
    use geo::Point;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &Point<f64>, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&p.x())?;
        t.serialize_element(&p.y())?;
        t.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Point<f64>, D::Error> {
        let [x, y] = <[f64; 2]>::deserialize(d)?;
        Ok(Point::new(x, y))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_order() {
        for s in ["1970-01-01", "2000-02-29", "2026-12-06", "1969-12-31"] {
            let d: Date = s.parse().unwrap();
            assert_eq!(d.to_string(), s);
        }
        assert_eq!("1970-01-02".parse::<Date>().unwrap().days(), 1);
        assert_eq!(
            "2026-12-06T08:00:00+08:00".parse::<Date>().unwrap(),
            "2026-12-06".parse().unwrap()
        );
        assert!("2026-02-29".parse::<Date>().is_err());
        assert!("2026-1-5".parse::<Date>().is_err());
        assert!("2026-12-06x".parse::<Date>().is_err());
        let a: Date = "2026-11-30".parse().unwrap();
        assert_eq!(a.add_days(1).to_string(), "2026-12-01");
        assert!(a < a.add_days(1));
    }

    #[test]
    fn categories_accept_industries_and_others() {
        assert_eq!(
            "危化品".parse::<DangerCategory>().ok(),
            Some(DangerCategory::Industry(Industry::HazardousChemicals))
        );
        assert_eq!(
            "管线".parse::<DangerCategory>().ok(),
            Some(DangerCategory::Other(OtherCategory::Pipeline))
        );
        assert!("bakery".parse::<DangerCategory>().is_err());
        assert_eq!(DangerCategory::all().count(), 19);
        assert_eq!(
            "已销号".parse::<DangerStatus>().ok(),
            Some(DangerStatus::Closed)
        );
        assert_eq!(
            "重大隐患".parse::<DangerGrade>().ok(),
            Some(DangerGrade::Major)
        );
    }
}
