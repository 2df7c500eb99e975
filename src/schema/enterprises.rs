//! 生产经营单位: the `enterprises` layer (private: a token needed). Getters
//! take the enterprise's index in the dataset.
//!
//! Tiles carry what a map symbol and its popup need; a cluster of
//! enterprises carries only its own two fields.

use super::{Ctx, Field, Getter, Kind, Outputs, PropValue, Vocabulary};
use crate::model::{Enterprise, LayerId};

fn get<'a>(c: &Ctx<'a>, i: u32, f: impl FnOnce(&'a Enterprise) -> PropValue<'a>) -> PropValue<'a> {
    c.store
        .dataset
        .enterprises
        .get(i as usize)
        .map_or(PropValue::Null, f)
}

fn id<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Str(&e.id))
}

fn name<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Str(&e.name))
}

fn uscc<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::opt_str(&e.uscc))
}

fn industry<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Str(e.industry.as_str()))
}

fn risk_grade<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Str(e.risk_grade.as_str()))
}

fn employees<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::count(e.employees))
}

fn hidden_dangers_open<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::count(e.hidden_dangers_open))
}

fn major_hidden_dangers_open<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::count(e.major_hidden_dangers_open))
}

fn blacklisted<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    get(c, i, |e| PropValue::Bool(e.blacklisted))
}

fn cell_code<'a>(c: &Ctx<'a>, i: u32) -> PropValue<'a> {
    c.cell_of(LayerId::Enterprises, i)
        .map_or(PropValue::Null, |u| PropValue::Str(&c.store.unit(u).code))
}

const COUNT: Kind = Kind::Integer { min: 0, max: None };

/// Not in tiles: every output but the tiles.
const NOT_TILES: Outputs = Outputs::ALL.without(Outputs::TILES);

/// A field of a cluster of enterprises (tiles only; the tile builder
/// computes the value).
const fn cluster(
    name: &'static str,
    kind: Kind,
    title: &'static str,
    description: &'static str,
) -> Field {
    Field {
        name,
        kind,
        title,
        description,
        nullable: false,
        get: Getter::Computed,
        outputs: Outputs::CLUSTERS,
    }
}

/// The fields of enterprises, in output order.
pub const FIELDS: &[Field] = &[
    Field::new(
        "id",
        Kind::Text,
        "企业编号",
        "ledger id (also the feature id)",
        id,
    ),
    Field::new(
        "name",
        Kind::Text,
        "企业名称",
        "name of the enterprise",
        name,
    ),
    Field::new(
        "uscc",
        Kind::Text,
        "统一社会信用代码",
        "unified social credit code",
        uscc,
    )
    .nullable()
    .only(NOT_TILES),
    Field::new(
        "industry",
        Kind::Word(Vocabulary::Industry),
        "行业类别",
        "industry",
        industry,
    ),
    Field::new(
        "risk_grade",
        Kind::Word(Vocabulary::RiskLevel),
        "风险等级",
        "the enterprise's own graded risk (双重预防机制)",
        risk_grade,
    ),
    Field::new(
        "employees",
        COUNT,
        "从业人员",
        "number of employees",
        employees,
    )
    .only(NOT_TILES),
    Field::new(
        "hidden_dangers_open",
        COUNT,
        "未整改隐患",
        "open hidden dangers",
        hidden_dangers_open,
    ),
    Field::new(
        "major_hidden_dangers_open",
        COUNT,
        "重大隐患",
        "open major hidden dangers",
        major_hidden_dangers_open,
    ),
    Field::new(
        "blacklisted",
        Kind::Boolean,
        "黑名单",
        "on the joint-punishment list",
        blacklisted,
    )
    .only(NOT_TILES),
    Field::new(
        "cell_code",
        Kind::Text,
        "所在网格",
        "the unit cell containing the location (geometry wins over the ledger)",
        cell_code,
    )
    .nullable()
    .only(NOT_TILES),
    cluster(
        "point_count",
        Kind::Integer { min: 2, max: None },
        "企业数",
        "enterprises in a cluster",
    ),
    cluster(
        "max_risk_grade",
        Kind::Word(Vocabulary::RiskLevel),
        "最高风险等级",
        "highest risk_grade in a cluster",
    ),
];
