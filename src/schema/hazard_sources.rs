//! 重大危险源: the `hazard_sources` layer (private: a token needed).
//! Getters take the hazard source's index in the dataset.

use super::{Ctx, Field, Kind, Outputs, PropValue};
use crate::model::{HazardSource, LayerId};

fn get<'a>(
    c: &Ctx<'a>,
    i: u32,
    f: impl FnOnce(&'a HazardSource) -> PropValue<'a>,
) -> PropValue<'a> {
    c.store
        .dataset
        .hazard_sources
        .get(i as usize)
        .map_or(PropValue::Null, f)
}

fn id<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |h| PropValue::Str(&h.id))
}

fn name<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |h| PropValue::Str(&h.name))
}

fn enterprise_id<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |h| PropValue::opt_str(&h.enterprise_id))
}

fn grade<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |h| PropValue::Int(i64::from(h.grade.get())))
}

fn r_value<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |h| h.r_value.map_or(PropValue::Null, PropValue::Num))
}

fn monitored<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |h| PropValue::Bool(h.monitored))
}

fn substances<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |h| PropValue::Str(&h.substances))
}

fn supervisor<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |h| PropValue::opt_str(&h.supervisor))
}

fn cell_code<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    c.cell_of(LayerId::HazardSources, i)
        .map_or(PropValue::Null, |u| PropValue::Str(&c.store.unit(u).code))
}

/// Not in tiles: every output but the tiles.
const NOT_TILES: Outputs = Outputs::ALL.without(Outputs::TILES);

/// The fields of hazard sources, in output order.
pub const FIELDS: &[Field] = &[
    Field::new("id", Kind::Text, "编号", "id (also the feature id)", id),
    Field::new(
        "name",
        Kind::Text,
        "名称",
        "name of the hazard source",
        name,
    ),
    Field::new(
        "enterprise_id",
        Kind::Text,
        "企业编号",
        "the enterprise that runs it",
        enterprise_id,
    )
    .nullable()
    .only(NOT_TILES),
    Field::new(
        "grade",
        Kind::Integer {
            min: 1,
            max: Some(4),
        },
        "级别",
        "grade 1 (一级) to 4 (四级), GB 18218-2018",
        grade,
    ),
    Field::new(
        "r_value",
        Kind::Number {
            min: 0.0,
            max: None,
        },
        "R值",
        "R = α Σ βᵢ qᵢ/Qᵢ",
        r_value,
    )
    .nullable()
    .only(NOT_TILES),
    Field::new(
        "monitored",
        Kind::Boolean,
        "在线监测预警",
        "connected to online monitoring",
        monitored,
    ),
    Field::new(
        "substances",
        Kind::Text,
        "主要危险化学品",
        "main hazardous chemicals",
        substances,
    ),
    Field::new(
        "supervisor",
        Kind::Text,
        "督长",
        "responsible official",
        supervisor,
    )
    .nullable()
    .only(NOT_TILES),
    Field::new(
        "cell_code",
        Kind::Text,
        "所在网格",
        "the unit cell containing the location",
        cell_code,
    )
    .nullable()
    .only(NOT_TILES),
];
