//! The properties of each collection: what features carry, what may be
//! filtered and sorted on (every property is a queryable), and the JSON
//! Schema of `/collections/{id}/queryables`. Unit cells' `domain_<word>`
//! properties exist only for a caller with a token ([`properties_for`]).

use crate::auth::Scope;
use crate::model::{CollapseKind, Industry, LayerId, Level, RiskLevel};
use serde_json::{Map, Value, json};

/// A closed vocabulary a text property takes its values from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocabulary {
    /// `county`, `town`, `village`, `cell`.
    Level,
    /// `major`, `high`, `medium`, `low`.
    RiskLevel,
    /// The enterprise industries.
    Industry,
    /// The causes of collapse zones.
    CollapseKind,
}

impl Vocabulary {
    /// Every word, in declaration order.
    pub fn words(self) -> Vec<&'static str> {
        match self {
            Vocabulary::Level => Level::ALL.iter().map(|l| l.as_str()).collect(),
            Vocabulary::RiskLevel => RiskLevel::ALL.iter().map(|l| l.as_str()).collect(),
            Vocabulary::Industry => Industry::ALL.iter().map(|l| l.as_str()).collect(),
            Vocabulary::CollapseKind => CollapseKind::ALL.iter().map(|l| l.as_str()).collect(),
        }
    }

    /// The contract word for `text` (which may be a Chinese alias).
    pub fn canonical(self, text: &str) -> Option<&'static str> {
        match self {
            Vocabulary::Level => text.parse::<Level>().ok().map(Level::as_str),
            Vocabulary::RiskLevel => text.parse::<RiskLevel>().ok().map(RiskLevel::as_str),
            Vocabulary::Industry => text.parse::<Industry>().ok().map(Industry::as_str),
            Vocabulary::CollapseKind => text.parse::<CollapseKind>().ok().map(CollapseKind::as_str),
        }
    }
}

/// The type of a property.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Free text.
    Text,
    /// Text from a closed vocabulary.
    Word(Vocabulary),
    /// A whole number, with its bounds.
    Integer {
        /// Smallest value.
        min: i64,
        /// Largest value, if bounded.
        max: Option<i64>,
    },
    /// A number, with its bounds.
    Number {
        /// Smallest value.
        min: f64,
        /// Largest value, if bounded.
        max: Option<f64>,
    },
    /// `true` or `false`.
    Boolean,
}

impl Kind {
    /// The JSON Schema / OpenAPI `type` word.
    pub fn type_word(self) -> &'static str {
        match self {
            Kind::Text | Kind::Word(_) => "string",
            Kind::Integer { .. } => "integer",
            Kind::Number { .. } => "number",
            Kind::Boolean => "boolean",
        }
    }

    /// The JSON Schema of a value of this kind.
    pub fn schema(self) -> Value {
        let mut s = Map::new();
        s.insert("type".into(), json!(self.type_word()));
        match self {
            Kind::Word(v) => {
                s.insert("enum".into(), json!(v.words()));
            }
            Kind::Integer { min, max } => {
                s.insert("minimum".into(), json!(min));
                if let Some(m) = max {
                    s.insert("maximum".into(), json!(m));
                }
            }
            Kind::Number { min, max } => {
                s.insert("minimum".into(), json!(min));
                if let Some(m) = max {
                    s.insert("maximum".into(), json!(m));
                }
            }
            Kind::Text | Kind::Boolean => {}
        }
        Value::Object(s)
    }
}

/// One property of a collection's features.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Property {
    /// Property name in GeoJSON, filters and sort keys.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Short Chinese title.
    pub title: &'static str,
    /// One-line description.
    pub description: &'static str,
    /// Whether the value may be absent (null).
    pub nullable: bool,
}

const fn p(
    name: &'static str,
    kind: Kind,
    title: &'static str,
    description: &'static str,
) -> Property {
    Property {
        name,
        kind,
        title,
        description,
        nullable: false,
    }
}

const fn opt(
    name: &'static str,
    kind: Kind,
    title: &'static str,
    description: &'static str,
) -> Property {
    Property {
        name,
        kind,
        title,
        description,
        nullable: true,
    }
}

const COUNT: Kind = Kind::Integer { min: 0, max: None };

const GRID: &[Property] = &[
    p(
        "code",
        Kind::Text,
        "代码",
        "statistical code of the grid unit (also the feature id)",
    ),
    p("name", Kind::Text, "名称", "name of the grid unit"),
    p(
        "level",
        Kind::Word(Vocabulary::Level),
        "层级",
        "county, town, village or cell",
    ),
    opt(
        "parent_code",
        Kind::Text,
        "上级代码",
        "code of the unit one level up (none for counties)",
    ),
    p("population", COUNT, "常住人口", "resident population"),
    opt(
        "risk_score",
        Kind::Number {
            min: 0.0,
            max: Some(100.0),
        },
        "风险分值",
        "risk score 0–100, one decimal",
    ),
    opt(
        "risk_level",
        Kind::Word(Vocabulary::RiskLevel),
        "风险等级",
        "major 重大, high 较大, medium 一般, low 低",
    ),
    opt(
        "risk_color",
        Kind::Text,
        "风险颜色",
        "map colour of the risk level",
    ),
    domain("domain_hazardous_chemicals"),
    domain("domain_fireworks"),
    domain("domain_mining"),
    domain("domain_metallurgy"),
    domain("domain_nonferrous"),
    domain("domain_dust_explosion"),
    domain("domain_ammonia_refrigeration"),
    domain("domain_confined_space"),
    domain("domain_gas"),
    domain("domain_construction"),
    domain("domain_crowded_place"),
    domain("domain_warehousing"),
    domain("domain_general_manufacturing"),
    domain("domain_hazard_sources"),
    domain("domain_collapse_zones"),
    domain("domain_hidden_dangers"),
    domain("domain_alarms"),
];

/// A `domain_<word>` property of the grid units (分系统贡献分).
const fn domain(name: &'static str) -> Property {
    opt(
        name,
        Kind::Number {
            min: 0.0,
            max: Some(100.0),
        },
        "分系统贡献分",
        "this domain's contributions to risk_score summed, unrounded (RISK_MODEL v2)",
    )
}

const ENTERPRISES: &[Property] = &[
    p(
        "id",
        Kind::Text,
        "企业编号",
        "ledger id (also the feature id)",
    ),
    p("name", Kind::Text, "企业名称", "name of the enterprise"),
    opt(
        "uscc",
        Kind::Text,
        "统一社会信用代码",
        "unified social credit code",
    ),
    p(
        "industry",
        Kind::Word(Vocabulary::Industry),
        "行业类别",
        "industry",
    ),
    p(
        "risk_grade",
        Kind::Word(Vocabulary::RiskLevel),
        "风险等级",
        "the enterprise's own graded risk (双重预防机制)",
    ),
    p("employees", COUNT, "从业人员", "number of employees"),
    p(
        "hidden_dangers_open",
        COUNT,
        "未整改隐患",
        "open hidden dangers",
    ),
    p(
        "major_hidden_dangers_open",
        COUNT,
        "重大隐患",
        "open major hidden dangers",
    ),
    p(
        "blacklisted",
        Kind::Boolean,
        "黑名单",
        "on the joint-punishment list",
    ),
    opt(
        "cell_code",
        Kind::Text,
        "所在网格",
        "the unit cell containing the location (geometry wins over the ledger)",
    ),
];

const HAZARDS: &[Property] = &[
    p("id", Kind::Text, "编号", "id (also the feature id)"),
    p("name", Kind::Text, "名称", "name of the hazard source"),
    opt(
        "enterprise_id",
        Kind::Text,
        "企业编号",
        "the enterprise that runs it",
    ),
    p(
        "grade",
        Kind::Integer {
            min: 1,
            max: Some(4),
        },
        "级别",
        "grade 1 (一级) to 4 (四级), GB 18218-2018",
    ),
    opt(
        "r_value",
        Kind::Number {
            min: 0.0,
            max: None,
        },
        "R值",
        "R = α Σ βᵢ qᵢ/Qᵢ",
    ),
    p(
        "substances",
        Kind::Text,
        "主要危险化学品",
        "main hazardous chemicals",
    ),
    p(
        "monitored",
        Kind::Boolean,
        "在线监测预警",
        "connected to online monitoring",
    ),
    opt("supervisor", Kind::Text, "督长", "responsible official"),
    opt(
        "cell_code",
        Kind::Text,
        "所在网格",
        "the unit cell containing the location",
    ),
];

const ZONES: &[Property] = &[
    p("id", Kind::Text, "编号", "id (also the feature id)"),
    p(
        "kind",
        Kind::Word(Vocabulary::CollapseKind),
        "成因",
        "cause of the collapse risk",
    ),
    p(
        "severity",
        Kind::Integer {
            min: 1,
            max: Some(3),
        },
        "严重程度",
        "1–3, 3 = worst",
    ),
    opt(
        "surveyed",
        Kind::Text,
        "最近探测日期",
        "date of the last ground-radar survey (ISO date)",
    ),
];

/// The properties of a served layer's features, in output order.
pub fn properties(layer: LayerId) -> &'static [Property] {
    match layer {
        LayerId::Enterprises => ENTERPRISES,
        LayerId::HazardSources => HAZARDS,
        LayerId::CollapseZones => ZONES,
        _ => GRID,
    }
}

/// Whether a caller with `scope` gets the `domain_<word>` properties of
/// unit cells: a token that opens some grid unit. A cell's industry values
/// tell which industries have an enterprise in it, which is private;
/// counties, towns and villages carry them for everyone. (A grid manager
/// gets them for the cells of its own area only; see
/// [`super::features::Ctx::value`].)
pub fn cell_domains_open(scope: Scope) -> bool {
    matches!(scope, Scope::All | Scope::Unit(_))
}

/// The properties of `layer` that a caller with `scope` sees, in output
/// order: [`properties`] without the `domain_<word>` ones of unit cells
/// for a caller without a token. Always a prefix of [`properties`], so the
/// positions in both agree.
pub fn properties_for(layer: LayerId, scope: Scope) -> &'static [Property] {
    let all = properties(layer);
    if layer == LayerId::Cells && !cell_domains_open(scope) {
        let end = all
            .iter()
            .position(|p| p.name.starts_with("domain_"))
            .unwrap_or(all.len());
        return &all[..end];
    }
    all
}

/// The index of property `name` in [`properties`]`(layer)`.
pub fn position(layer: LayerId, name: &str) -> Option<usize> {
    properties(layer).iter().position(|p| p.name == name)
}

/// The GeoJSON geometry type of a layer's features.
pub fn geometry_type(layer: LayerId) -> &'static str {
    match layer {
        LayerId::Enterprises | LayerId::HazardSources => "Point",
        _ => "MultiPolygon",
    }
}

/// The queryables document (JSON Schema 2019-09) of a collection as a
/// caller with `scope` sees it ([`properties_for`]); `id` is its own
/// absolute URL.
pub fn schema(layer: LayerId, scope: Scope, id: &str) -> Value {
    let mut props = Map::new();
    for prop in properties_for(layer, scope) {
        let mut s = match prop.kind.schema() {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        s.insert("title".into(), json!(prop.title));
        s.insert("description".into(), json!(prop.description));
        props.insert(prop.name.into(), Value::Object(s));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": id,
        "type": "object",
        "title": layer.label_zh(),
        "properties": props,
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_has_unique_names() {
        for layer in LayerId::SERVED {
            let props = properties(layer);
            for (i, p) in props.iter().enumerate() {
                assert_eq!(position(layer, p.name), Some(i), "{layer} {}", p.name);
            }
        }
        assert!(position(LayerId::Cells, "risk_level").is_some());
        assert!(position(LayerId::Enterprises, "industry").is_some());
        assert!(position(LayerId::HazardSources, "grade").is_some());
    }

    #[test]
    fn vocabularies_take_chinese() {
        assert_eq!(Vocabulary::RiskLevel.canonical("重大"), Some("major"));
        assert_eq!(
            Vocabulary::Industry.canonical("危险化学品"),
            Some("hazardous_chemicals")
        );
        assert_eq!(Vocabulary::Level.canonical("village"), Some("village"));
        assert_eq!(Vocabulary::Level.canonical("street"), None);
    }

    #[test]
    fn schema_lists_properties() {
        let s = schema(
            LayerId::Cells,
            Scope::All,
            "http://x/ogc/collections/cells/queryables",
        );
        assert_eq!(s["properties"]["risk_level"]["enum"][0], "major");
        assert_eq!(s["properties"]["population"]["type"], "integer");
        assert_eq!(s["$id"], "http://x/ogc/collections/cells/queryables");
        assert!(s["properties"]["domain_gas"].is_object());
    }

    #[test]
    fn public_callers_get_no_cell_domains() {
        let public = properties_for(LayerId::Cells, Scope::Public);
        assert!(!public.is_empty());
        assert!(public.iter().all(|p| !p.name.starts_with("domain_")));
        assert!(public.iter().any(|p| p.name == "risk_score"));
        let s = schema(LayerId::Cells, Scope::Nothing, "x");
        assert!(s["properties"].get("domain_gas").is_none());
        // Villages keep them for everyone; a grid manager gets them on cells.
        assert_eq!(
            properties_for(LayerId::Villages, Scope::Public),
            properties(LayerId::Villages)
        );
        assert_eq!(
            properties_for(LayerId::Cells, Scope::Unit(0)),
            properties(LayerId::Cells)
        );
    }
}
