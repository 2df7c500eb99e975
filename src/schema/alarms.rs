//! 监测预警: the `alarms` layer (private: a token needed; a grid manager
//! sees the alarms inside its scope). Getters take the alarm's index in
//! the store's [`AlarmBook`](crate::index::AlarmBook); every value is the
//! alarm as it is now (live writes change it at once).

use super::{Ctx, Field, Kind, Outputs, PropValue, Vocabulary};
use crate::index::AlarmEntry;

/// In tiles and OGC.
const TILES_OGC: Outputs = Outputs::TILES.and(Outputs::OGC);

fn get<'a>(c: &Ctx<'a>, i: u32, f: impl FnOnce(&'a AlarmEntry) -> PropValue<'a>) -> PropValue<'a> {
    let store: &'a crate::index::Store = c.store;
    store.alarms().get(i).map_or(PropValue::Null, f)
}

fn id<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Str(&e.record.id))
}

fn level<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Int(i64::from(e.record.level.get())))
}

fn status<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Str(e.record.status().as_str()))
}

fn kind<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| {
        e.record
            .kind
            .map_or(PropValue::Null, |k| PropValue::Str(k.as_str()))
    })
}

fn dispatched<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| {
        PropValue::Bool(e.record.hidden_danger_id.is_some())
    })
}

fn sensor_id<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::opt_str(&e.record.sensor_id))
}

fn value<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| {
        e.record.value.map_or(PropValue::Null, PropValue::Num)
    })
}

fn threshold<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| {
        e.record.threshold.map_or(PropValue::Null, PropValue::Num)
    })
}

fn started_at<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Str(&e.record.started_at))
}

fn acknowledged_at<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::opt_str(&e.record.acknowledged_at))
}

fn cleared_at<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::opt_str(&e.record.cleared_at))
}

fn hidden_danger_id<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::opt_str(&e.record.hidden_danger_id))
}

fn cell_code<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| {
        e.cell
            .map_or(PropValue::Null, |u| PropValue::Str(&c.store.unit(u).code))
    })
}

/// Any number (a measured value may be negative: a settlement).
const ANY_NUMBER: Kind = Kind::Number {
    min: f64::NEG_INFINITY,
    max: None,
};

/// The fields of alarms, in output order.
pub const FIELDS: &[Field] = &[
    Field::new("id", Kind::Text, "预警编号", "id (also the feature id)", id).only(TILES_OGC),
    Field::new(
        "level",
        Kind::Integer {
            min: 1,
            max: Some(4),
        },
        "预警等级",
        "1 一级 (红), 2 二级 (橙), 3 三级 (黄), 4 四级 (蓝)",
        level,
    )
    .only(TILES_OGC),
    Field::new(
        "status",
        Kind::Word(Vocabulary::AlarmStatus),
        "状态",
        "active (预警中), acknowledged (已确认) or cleared (已解除)",
        status,
    )
    .only(TILES_OGC),
    Field::new(
        "kind",
        Kind::Word(Vocabulary::SensorKind),
        "监测类型",
        "the kind of its sensor",
        kind,
    )
    .nullable()
    .only(TILES_OGC),
    Field::new(
        "dispatched",
        Kind::Boolean,
        "已派单",
        "dispatched (派单) as a hidden danger",
        dispatched,
    )
    .only(TILES_OGC),
    Field::new(
        "sensor_id",
        Kind::Text,
        "传感器编号",
        "the sensor that raised it",
        sensor_id,
    )
    .nullable()
    .only(Outputs::OGC),
    Field::new("value", ANY_NUMBER, "监测值", "the measured value", value)
        .nullable()
        .only(Outputs::OGC),
    Field::new(
        "threshold",
        ANY_NUMBER,
        "阈值",
        "the threshold it crossed",
        threshold,
    )
    .nullable()
    .only(Outputs::OGC),
    Field::new(
        "started_at",
        Kind::Text,
        "预警时间",
        "when it was raised (RFC 3339)",
        started_at,
    )
    .only(Outputs::OGC),
    Field::new(
        "acknowledged_at",
        Kind::Text,
        "确认时间",
        "when it was acknowledged (RFC 3339)",
        acknowledged_at,
    )
    .nullable()
    .only(Outputs::OGC),
    Field::new(
        "cleared_at",
        Kind::Text,
        "解除时间",
        "when it was cleared (RFC 3339)",
        cleared_at,
    )
    .nullable()
    .only(Outputs::OGC),
    Field::new(
        "hidden_danger_id",
        Kind::Text,
        "隐患编号",
        "the hidden danger it was dispatched as",
        hidden_danger_id,
    )
    .nullable()
    .only(Outputs::OGC),
    Field::new(
        "cell_code",
        Kind::Text,
        "所在网格",
        "the unit cell containing the location",
        cell_code,
    )
    .nullable()
    .only(Outputs::OGC),
];
