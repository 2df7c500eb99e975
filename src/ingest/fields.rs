//! Field lookup: canonical field names → a file's columns, through the
//! config's mapping or built-in Chinese aliases, with typed getters that
//! record what is wrong.

use super::issue::{IssueLevel, IssueSink};
use super::table::Table;
use crate::model::short_names::{DBF_NAME_BYTES, short_name, truncate_bytes};
use crate::model::{LayerId, Value};
use std::collections::BTreeMap;

/// Built-in aliases per layer and canonical field (ledgers arrive with
/// Chinese headers). The config's `[layers.X.fields]` wins over these; after
/// them come the Shapefile short names (see [`crate::model::short_names`]).
fn aliases(layer: LayerId, field: &str) -> &'static [&'static str] {
    match (layer, field) {
        (LayerId::Enterprises, "id") => &["企业编号", "编号", "ID"],
        (LayerId::Enterprises, "name") => &["企业名称", "单位名称", "名称"],
        (LayerId::HiddenDangers, "id") => &["隐患编号", "编号", "ID"],
        (LayerId::HiddenDangers, "grade") => &["隐患等级", "隐患级别", "等级", "级别"],
        (LayerId::HiddenDangers, "source") => &["发现方式", "隐患来源", "来源"],
        (LayerId::HiddenDangers, "status") => &["状态", "整改状态", "隐患状态"],
        (LayerId::Alarms, "id") => &["预警编号", "编号", "ID"],
        (LayerId::Alarms, "level") => &["预警等级", "预警级别", "等级", "级别"],
        (LayerId::Sensors, "id") => &["传感器编号", "设备编号", "编号", "ID"],
        (LayerId::Sensors, "kind") => &["监测类型", "传感器类型", "类型"],
        (_, "sensor_id") => &["传感器编号", "设备编号"],
        (_, "watches") => &["监测对象", "监测对象编号"],
        (_, "value") => &["监测值", "测量值"],
        (_, "threshold") => &["阈值", "报警阈值"],
        (_, "started_at") => &["预警时间", "开始时间", "报警时间"],
        (_, "acknowledged_at") => &["确认时间"],
        (_, "cleared_at") => &["解除时间", "消警时间"],
        (_, "category") => &["隐患类别", "隐患类型", "类别"],
        (_, "description") => &["隐患描述", "隐患内容", "描述"],
        (_, "found_at") => &["发现日期", "发现时间", "排查日期"],
        (_, "deadline") => &["整改时限", "整改期限", "整改截止日期"],
        (_, "responsible") => &["整改责任人", "整改责任单位", "责任人", "责任单位"],
        (_, "closed_at") => &["销号日期", "销号时间", "验收日期"],
        (_, "name") => &["名称"],
        (_, "id") => &["编号", "ID"],
        (_, "uscc") => &["统一社会信用代码", "信用代码"],
        (_, "industry") => &["行业类别", "行业", "行业类型"],
        (_, "risk_grade") => &["风险等级", "风险级别"],
        (_, "employees") => &["从业人员数", "从业人员", "职工人数", "员工人数"],
        (_, "hidden_dangers_open") => &["未整改隐患", "未整改隐患数", "隐患数"],
        (_, "major_hidden_dangers_open") => &["未整改重大隐患", "重大隐患", "重大隐患数"],
        (_, "blacklisted") => &["黑名单", "是否黑名单"],
        (_, "cell_code") => &["网格编码", "所属网格"],
        (_, "lon") => &["经度", "longitude", "lng", "x", "X"],
        (_, "lat") => &["纬度", "latitude", "y", "Y"],
        (_, "enterprise_id") => &["企业编号", "所属企业"],
        (_, "grade") => &["等级", "级别", "危险源等级"],
        (_, "r_value") => &["R值", "r"],
        (_, "substances") => &["主要危险化学品", "危险物质", "主要物质"],
        (_, "monitored") => &["在线监测", "是否在线监测"],
        (_, "supervisor") => &["督长", "责任人", "包保责任人"],
        (_, "kind") => &["类型", "成因"],
        (_, "severity") => &["严重程度", "等级"],
        (_, "surveyed") => &["探测日期", "普查日期"],
        (_, "code") => &["编码", "代码", "区划代码"],
        (_, "level") => &["层级", "级别"],
        (_, "parent_code") => &["上级编码", "上级代码"],
        (_, "population") => &["人口", "常住人口"],
        (_, "manager") => &["网格员", "负责人"],
        _ => &[],
    }
}

/// A long canonical field cut to 10 bytes, as `ogr2ogr` and desktop GIS
/// write it into a Shapefile.
fn truncated(field: &str) -> Option<&str> {
    (field.len() > DBF_NAME_BYTES).then(|| truncate_bytes(field, DBF_NAME_BYTES))
}

/// Resolved column positions for one file.
#[derive(Debug)]
pub struct Fields {
    layer: LayerId,
    columns: BTreeMap<&'static str, usize>,
}

impl Fields {
    /// Resolves `wanted` canonical fields against the table's columns. A
    /// mapping that names a missing column is an error.
    pub fn resolve(
        layer: LayerId,
        table: &Table,
        wanted: &[&'static str],
        mapping: &BTreeMap<String, String>,
        sink: &mut IssueSink<'_>,
    ) -> Fields {
        let find = |name: &str| table.columns.iter().position(|c| c.trim() == name);
        let find_ci = |name: &str| {
            table
                .columns
                .iter()
                .position(|c| c.trim().eq_ignore_ascii_case(name))
        };
        let mut columns = BTreeMap::new();
        for &field in wanted {
            let found = match mapping.get(field) {
                Some(source) => {
                    let f = find(source);
                    if f.is_none() {
                        sink.push(
                            IssueLevel::Error,
                            None,
                            Some(field),
                            format!("the config maps it to column {source:?}, which the file does not have"),
                        );
                    }
                    f
                }
                None => find(field)
                    .or_else(|| find_ci(field))
                    .or_else(|| aliases(layer, field).iter().find_map(|a| find(a)))
                    .or_else(|| short_name(field).and_then(find_ci))
                    .or_else(|| truncated(field).and_then(find_ci)),
            };
            if let Some(i) = found {
                columns.insert(field, i);
            }
        }
        Fields { layer, columns }
    }

    /// The layer these fields belong to.
    pub fn layer(&self) -> LayerId {
        self.layer
    }

    /// Whether the file has the field.
    pub fn has(&self, field: &str) -> bool {
        self.columns.contains_key(field)
    }

    /// The raw value of a field in a record (null if the file lacks it).
    pub fn value<'v>(&self, values: &'v [Value], field: &str) -> &'v Value {
        static NULL: Value = Value::Null;
        self.columns
            .get(field)
            .and_then(|&i| values.get(i))
            .unwrap_or(&NULL)
    }
}

/// Typed access to one record's fields, recording problems for one feature.
pub struct RecordReader<'a, 'b, 's> {
    /// Resolved columns.
    pub fields: &'a Fields,
    /// The record's values.
    pub values: &'a [Value],
    /// Where problems go.
    pub sink: &'b mut IssueSink<'s>,
    /// The feature label for problems.
    pub label: String,
    /// Whether an error was recorded for this record.
    pub failed: bool,
}

impl RecordReader<'_, '_, '_> {
    /// Records an error on `field`.
    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.failed = true;
        self.sink.push(
            IssueLevel::Error,
            Some(self.label.clone()),
            Some(field),
            message,
        );
    }

    /// Records a warning on `field`.
    pub fn warn(&mut self, field: &str, message: impl Into<String>) {
        self.sink.push(
            IssueLevel::Warning,
            Some(self.label.clone()),
            Some(field),
            message,
        );
    }

    /// Optional text (numbers are turned into text).
    pub fn text(&self, field: &str) -> Option<String> {
        let v = self.fields.value(self.values, field);
        if v.is_blank() {
            return None;
        }
        Some(match v {
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            other => other.to_string().trim().to_string(),
        })
    }

    /// Required text; an error if missing or blank.
    pub fn required_text(&mut self, field: &str) -> Option<String> {
        let t = self.text(field);
        if t.is_none() {
            let why = if self.fields.has(field) {
                "is empty"
            } else {
                "is missing (no such column)"
            };
            self.error(field, format!("required field {why}"));
        }
        t
    }

    /// Optional number.
    pub fn number(&mut self, field: &str) -> Option<f64> {
        match self.fields.value(self.values, field) {
            Value::Null => None,
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => {
                if f.is_finite() {
                    Some(*f)
                } else {
                    self.error(field, format!("{f} is not a finite number"));
                    None
                }
            }
            Value::Bool(b) => {
                self.error(field, format!("expected a number, found {b}"));
                None
            }
            Value::Text(t) if t.trim().is_empty() => None,
            Value::Text(t) => match t.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => Some(f),
                _ => {
                    self.error(field, format!("expected a number, found {t:?}"));
                    None
                }
            },
        }
    }

    /// Optional whole number ≥ 0.
    pub fn count(&mut self, field: &str) -> Option<u64> {
        let n = self.number(field)?;
        if n < 0.0 || n.fract() != 0.0 || n > 9.0e15 {
            self.error(field, format!("expected a whole number ≥ 0, found {n}"));
            return None;
        }
        Some(n as u64)
    }

    /// A whole number ≥ 0 that fits in u32; blank is 0.
    pub fn count_u32(&mut self, field: &str) -> u32 {
        match self.count(field) {
            None => 0,
            Some(n) => u32::try_from(n).unwrap_or_else(|_| {
                self.error(field, format!("{n} is too large"));
                0
            }),
        }
    }

    /// Optional boolean (true/false, 1/0, 是/否, yes/no, Y/N); blank is false.
    pub fn flag(&mut self, field: &str) -> bool {
        match self.fields.value(self.values, field) {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(0) => false,
            Value::Int(1) => true,
            Value::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
                "" | "false" | "0" | "否" | "no" | "n" | "f" => false,
                "true" | "1" | "是" | "yes" | "y" | "t" => true,
                other => {
                    let msg = format!("expected true/false (是/否), found {other:?}");
                    self.error(field, msg);
                    false
                }
            },
            other => {
                let msg = format!("expected true/false, found {other}");
                self.error(field, msg);
                false
            }
        }
    }

    /// An optional date `YYYY-MM-DD` (a timestamp or `YYYY/MM/DD` is read
    /// by its date part); blank is none.
    pub fn date(&mut self, field: &str) -> Option<crate::model::Date> {
        let t = self.text(field)?;
        match t.parse::<crate::model::Date>() {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(field, e.to_string());
                None
            }
        }
    }

    /// A required word parsed with `FromStr` (enums with Chinese aliases).
    pub fn word<T: std::str::FromStr>(&mut self, field: &str) -> Option<T>
    where
        T::Err: std::fmt::Display,
    {
        let t = self.required_text(field)?;
        match t.parse::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(field, e.to_string());
                None
            }
        }
    }
}
