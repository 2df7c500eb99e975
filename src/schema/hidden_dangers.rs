//! 隐患: the `hidden_dangers` layer (private: a token needed; a grid
//! manager sees the records inside its scope). Getters take the record's
//! index in the store's [`DangerBook`](crate::index::DangerBook).

use super::{Ctx, Field, Kind, Outputs, PropValue, Vocabulary};

/// In tiles and OGC.
const TILES_OGC: Outputs = Outputs::TILES.and(Outputs::OGC);
use crate::index::DangerEntry;

fn get<'a>(c: &Ctx<'a>, i: u32, f: impl FnOnce(&'a DangerEntry) -> PropValue<'a>) -> PropValue<'a> {
    c.store.dangers().get(i).map_or(PropValue::Null, f)
}

fn id<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Str(&e.record.id))
}

fn enterprise_id<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::opt_str(&e.record.enterprise_id))
}

fn category<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Str(e.record.category.as_str()))
}

fn grade<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Str(e.record.grade.as_str()))
}

fn description<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Str(&e.record.description))
}

fn source<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Str(e.record.source.as_str()))
}

fn status<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Str(e.record.status.as_str()))
}

fn responsible<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::opt_str(&e.record.responsible))
}

fn found_at<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Str(&e.dates.found_at))
}

fn deadline<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::opt_str(&e.dates.deadline))
}

fn closed_at<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::opt_str(&e.dates.closed_at))
}

fn overdue<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| {
        c.risk
            .as_of()
            .map_or(PropValue::Null, |d| PropValue::Bool(e.record.is_overdue(d)))
    })
}

fn cell_code<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| {
        e.cell
            .map_or(PropValue::Null, |u| PropValue::Str(&c.store.unit(u).code))
    })
}

/// Not in tiles: OGC only (`/api/hidden-dangers` has its own records with
/// labels and history; the score table is for grid units).
const NOT_TILES: Outputs = Outputs::OGC;

/// The fields of hidden-danger records, in output order.
pub const FIELDS: &[Field] = &[
    Field::new("id", Kind::Text, "隐患编号", "id (also the feature id)", id).only(TILES_OGC),
    Field::new(
        "category",
        Kind::Word(Vocabulary::DangerCategory),
        "隐患类别",
        "an enterprise industry, or road, pipeline, fire, building, special_equipment, other",
        category,
    )
    .only(TILES_OGC),
    Field::new(
        "grade",
        Kind::Word(Vocabulary::DangerGrade),
        "隐患等级",
        "general (一般隐患) or major (重大隐患)",
        grade,
    )
    .only(TILES_OGC),
    Field::new(
        "status",
        Kind::Word(Vocabulary::DangerStatus),
        "状态",
        "reported (已上报), rectifying (整改中), rectified (已整改待验收) or closed (已销号)",
        status,
    )
    .only(TILES_OGC),
    Field::new(
        "overdue",
        Kind::Boolean,
        "逾期",
        "open and past its deadline on the as-of date",
        overdue,
    )
    .only(TILES_OGC),
    Field::new(
        "enterprise_id",
        Kind::Text,
        "企业编号",
        "the enterprise it belongs to",
        enterprise_id,
    )
    .nullable()
    .only(NOT_TILES),
    Field::new(
        "description",
        Kind::Text,
        "隐患描述",
        "what was found",
        description,
    )
    .only(NOT_TILES),
    Field::new(
        "source",
        Kind::Word(Vocabulary::DangerSource),
        "发现方式",
        "self_check, patrol, inspection, report or alarm",
        source,
    )
    .only(NOT_TILES),
    Field::new("found_at", Kind::Text, "发现日期", "YYYY-MM-DD", found_at).only(NOT_TILES),
    Field::new("deadline", Kind::Text, "整改时限", "YYYY-MM-DD", deadline)
        .nullable()
        .only(NOT_TILES),
    Field::new(
        "responsible",
        Kind::Text,
        "整改责任人",
        "the person or unit responsible for rectifying it",
        responsible,
    )
    .nullable()
    .only(NOT_TILES),
    Field::new("closed_at", Kind::Text, "销号日期", "YYYY-MM-DD", closed_at)
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
