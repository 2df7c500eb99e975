//! Grid units of every level (区县, 乡镇/街道, 村/社区, 单元网格): the
//! layers `counties`, `towns`, `villages`, `cells`, and the rows of
//! `riskmap score`. Getters take the unit id.
//!
//! Tiles carry the unit's identity, its risk and `population`; the
//! per-domain contributions and the cell components are for OGC and the
//! score table (the `/api` feature collections show the unit's own fields).

use super::{Ctx, Field, Kind, Outputs, PropValue, Vocabulary};
use crate::model::{GridUnit, Industry, unsigned_zero};
use crate::risk::{Components, Domain};

/// `f` of unit `id`; null for an id outside the store.
fn unit<'a>(c: &Ctx<'a>, id: u32, f: impl FnOnce(&'a GridUnit) -> PropValue<'a>) -> PropValue<'a> {
    c.store.units().get(id as usize).map_or(PropValue::Null, f)
}

fn code<'a>(c: &Ctx<'a>, id: u32) -> PropValue<'a> {
    unit(c, id, |u| PropValue::Str(&u.code))
}

fn name<'a>(c: &Ctx<'a>, id: u32) -> PropValue<'a> {
    unit(c, id, |u| PropValue::Str(&u.name))
}

fn level<'a>(c: &Ctx<'a>, id: u32) -> PropValue<'a> {
    unit(c, id, |u| PropValue::Str(u.level.as_str()))
}

fn risk_score<'a>(c: &Ctx<'a>, id: u32) -> PropValue<'a> {
    c.risk
        .risk(id)
        .map_or(PropValue::Null, |(s, _)| PropValue::Num(s))
}

fn risk_level<'a>(c: &Ctx<'a>, id: u32) -> PropValue<'a> {
    c.risk
        .risk(id)
        .map_or(PropValue::Null, |(_, l)| PropValue::Str(l.as_str()))
}

fn risk_color<'a>(c: &Ctx<'a>, id: u32) -> PropValue<'a> {
    c.risk
        .risk(id)
        .map_or(PropValue::Null, |(_, l)| PropValue::Str(l.color()))
}

fn parent_code<'a>(c: &Ctx<'a>, id: u32) -> PropValue<'a> {
    unit(c, id, |u| PropValue::opt_str(&u.parent_code))
}

fn population<'a>(c: &Ctx<'a>, id: u32) -> PropValue<'a> {
    unit(c, id, |u| PropValue::count(u.population))
}

fn area_km2<'a>(c: &Ctx<'a>, id: u32) -> PropValue<'a> {
    unit(c, id, |_| {
        PropValue::Num((c.store.area_m2(id) / 1_000.0).round() / 1_000.0)
    })
}

/// One of a cell's components, rounded as the score table shows it.
fn component<'a>(
    c: &Ctx<'a>,
    id: u32,
    pick: fn(&Components) -> f64,
    decimals: i32,
) -> PropValue<'a> {
    let scale = 10f64.powi(decimals);
    c.risk.components(id).map_or(PropValue::Null, |k| {
        PropValue::Num(unsigned_zero((pick(&k) * scale).round() / scale))
    })
}

fn comp_h<'a>(c: &Ctx<'a>, id: u32) -> PropValue<'a> {
    component(c, id, |k| k.h, 1)
}

fn comp_e<'a>(c: &Ctx<'a>, id: u32) -> PropValue<'a> {
    component(c, id, |k| k.e, 1)
}

fn comp_c<'a>(c: &Ctx<'a>, id: u32) -> PropValue<'a> {
    component(c, id, |k| k.c, 1)
}

fn comp_m<'a>(c: &Ctx<'a>, id: u32) -> PropValue<'a> {
    component(c, id, |k| k.m, 1)
}

fn comp_v<'a>(c: &Ctx<'a>, id: u32) -> PropValue<'a> {
    component(c, id, |k| k.v, 3)
}

const SCORE: Kind = Kind::Number {
    min: 0.0,
    max: Some(100.0),
};

const COMPONENT: Kind = Kind::Number {
    min: 0.0,
    max: None,
};

/// A `domain_<word>` field (分系统贡献分): OGC and the score table
/// (unrounded), tiles by the [`Outputs::TILE_DOMAINS`] rule.
const fn domain(name: &'static str, d: Domain) -> Field {
    Field {
        name,
        kind: SCORE,
        title: "分系统贡献分",
        description: "this domain's contributions to risk_score summed (RISK_MODEL v2); unrounded in OGC and the score table; in tiles one decimal, absent when 0, only at the zooms where the level is the choropleth (counties z0-8, towns z9-10, villages z10-12, cells from z12), and on unit cells only for a token whose scope opens the cell",
        nullable: true,
        get: super::Getter::Domain(d),
        outputs: Outputs::OGC.and(Outputs::SCORE).and(Outputs::TILE_DOMAINS),
    }
}

/// A component of a unit cell's score: the score table only.
const fn component_field(
    name: &'static str,
    title: &'static str,
    description: &'static str,
    get: for<'a> fn(&Ctx<'a>, u32) -> PropValue<'a>,
) -> Field {
    Field::new(name, COMPONENT, title, description, get)
        .nullable()
        .only(Outputs::SCORE)
}

/// The fields of grid units, in output order.
pub const FIELDS: &[Field] = &[
    Field::new(
        "code",
        Kind::Text,
        "代码",
        "statistical code of the grid unit (also the feature id)",
        code,
    ),
    Field::new("name", Kind::Text, "名称", "name of the grid unit", name),
    Field::new(
        "level",
        Kind::Word(Vocabulary::Level),
        "层级",
        "county, town, village or cell",
        level,
    ),
    Field::new(
        "risk_score",
        SCORE,
        "风险分值",
        "risk score 0–100, one decimal",
        risk_score,
    )
    .nullable(),
    Field::new(
        "risk_level",
        Kind::Word(Vocabulary::RiskLevel),
        "风险等级",
        "major 重大, high 较大, medium 一般, low 低",
        risk_level,
    )
    .nullable(),
    Field::new(
        "risk_color",
        Kind::Text,
        "风险颜色",
        "map colour of the risk level (#rrggbb)",
        risk_color,
    )
    .nullable(),
    Field::new(
        "parent_code",
        Kind::Text,
        "上级代码",
        "code of the unit one level up (none for counties)",
        parent_code,
    )
    .nullable(),
    Field::new(
        "population",
        Kind::Integer { min: 0, max: None },
        "常住人口",
        "resident population",
        population,
    ),
    Field::new(
        "area_km2",
        Kind::Number {
            min: 0.0,
            max: None,
        },
        "面积",
        "area in square kilometres (geodesic, three decimals)",
        area_km2,
    ),
    component_field(
        "h",
        "危险源分量",
        "H — major hazard sources, one decimal (unit cells)",
        comp_h,
    ),
    component_field(
        "e",
        "企业分量",
        "E — enterprises and hidden dangers, one decimal (unit cells)",
        comp_e,
    ),
    component_field(
        "c",
        "塌陷分量",
        "C — road-collapse zones, one decimal (unit cells)",
        comp_c,
    ),
    component_field(
        "m",
        "监测分量",
        "M — monitoring alarms, one decimal (unit cells)",
        comp_m,
    ),
    component_field(
        "v",
        "脆弱性系数",
        "V — vulnerability multiplier, three decimals (unit cells)",
        comp_v,
    ),
    domain(
        "domain_hazardous_chemicals",
        Domain::Industry(Industry::HazardousChemicals),
    ),
    domain("domain_fireworks", Domain::Industry(Industry::Fireworks)),
    domain("domain_mining", Domain::Industry(Industry::Mining)),
    domain("domain_metallurgy", Domain::Industry(Industry::Metallurgy)),
    domain("domain_nonferrous", Domain::Industry(Industry::Nonferrous)),
    domain(
        "domain_dust_explosion",
        Domain::Industry(Industry::DustExplosion),
    ),
    domain(
        "domain_ammonia_refrigeration",
        Domain::Industry(Industry::AmmoniaRefrigeration),
    ),
    domain(
        "domain_confined_space",
        Domain::Industry(Industry::ConfinedSpace),
    ),
    domain("domain_gas", Domain::Industry(Industry::Gas)),
    domain(
        "domain_construction",
        Domain::Industry(Industry::Construction),
    ),
    domain(
        "domain_crowded_place",
        Domain::Industry(Industry::CrowdedPlace),
    ),
    domain(
        "domain_warehousing",
        Domain::Industry(Industry::Warehousing),
    ),
    domain(
        "domain_general_manufacturing",
        Domain::Industry(Industry::GeneralManufacturing),
    ),
    domain("domain_hazard_sources", Domain::HazardSources),
    domain("domain_collapse_zones", Domain::CollapseZones),
    domain("domain_hidden_dangers", Domain::HiddenDangers),
    domain("domain_alarms", Domain::Alarms),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_domain_field_per_domain_in_order() {
        let names: Vec<&str> = FIELDS
            .iter()
            .filter(|f| matches!(f.get, super::super::Getter::Domain(_)))
            .map(|f| f.name)
            .collect();
        let want: Vec<String> = Domain::all().map(|d| d.property()).collect();
        assert_eq!(names, want);
    }
}
