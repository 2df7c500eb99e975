//! 监测传感器: the `sensors` layer (private: a token needed; a grid
//! manager sees the sensors inside its scope). Getters take the sensor's
//! index in the store's [`AlarmBook`](crate::index::AlarmBook).

use super::{Ctx, Field, Kind, Outputs, PropValue, Vocabulary};
use crate::model::Sensor;

/// In tiles and OGC.
const TILES_OGC: Outputs = Outputs::TILES.and(Outputs::OGC);

fn get<'a>(c: &Ctx<'a>, i: u32, f: impl FnOnce(&'a Sensor) -> PropValue<'a>) -> PropValue<'a> {
    let store: &'a crate::index::Store = c.store;
    store
        .alarms()
        .sensors()
        .get(i as usize)
        .map_or(PropValue::Null, f)
}

fn id<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |s| PropValue::Str(&s.id))
}

fn kind<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |s| PropValue::Str(s.kind.as_str()))
}

fn watches<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |s| PropValue::opt_str(&s.watches))
}

fn cell_code<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    c.store
        .alarms()
        .sensor_cell(i)
        .map_or(PropValue::Null, |u| PropValue::Str(&c.store.unit(u).code))
}

/// The fields of sensors, in output order.
pub const FIELDS: &[Field] = &[
    Field::new(
        "id",
        Kind::Text,
        "传感器编号",
        "id (also the feature id)",
        id,
    )
    .only(TILES_OGC),
    Field::new(
        "kind",
        Kind::Word(Vocabulary::SensorKind),
        "监测类型",
        "gas, pressure, settlement, strain, electrical_fire, dust, tank_level or water_level",
        kind,
    )
    .only(TILES_OGC),
    Field::new(
        "watches",
        Kind::Text,
        "监测对象",
        "the hazard source or enterprise it monitors",
        watches,
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
