//! 道路塌陷风险区: the `collapse_zones` layer (public). Getters take the
//! zone's index in the dataset.

use super::{Ctx, Field, Kind, PropValue, Vocabulary};
use crate::model::CollapseZone;

fn get<'a>(
    c: &Ctx<'a>,
    i: u32,
    f: impl FnOnce(&'a CollapseZone) -> PropValue<'a>,
) -> PropValue<'a> {
    c.store
        .dataset
        .collapse_zones
        .get(i as usize)
        .map_or(PropValue::Null, f)
}

fn id<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |z| PropValue::Str(&z.id))
}

fn kind<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |z| PropValue::Str(z.kind.as_str()))
}

fn severity<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |z| PropValue::Int(i64::from(z.severity.get())))
}

fn surveyed<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |z| PropValue::opt_str(&z.surveyed))
}

/// The fields of collapse zones, in output order.
pub const FIELDS: &[Field] = &[
    Field::new("id", Kind::Text, "编号", "id (also the feature id)", id),
    Field::new(
        "kind",
        Kind::Word(Vocabulary::CollapseKind),
        "成因",
        "cause of the collapse risk",
        kind,
    ),
    Field::new(
        "severity",
        Kind::Integer {
            min: 1,
            max: Some(3),
        },
        "严重程度",
        "1–3, 3 = worst",
        severity,
    ),
    Field::new(
        "surveyed",
        Kind::Text,
        "最近探测日期",
        "date of the last ground-radar survey (ISO date)",
        surveyed,
    )
    .nullable(),
];
