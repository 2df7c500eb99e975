//! CQL2 filters in the text ([`parse`]) and JSON ([`parse_json`])
//! encodings:
//!
//! - basic CQL2: comparisons (`=`, `<>`, `<`, `<=`, `>`, `>=`) of a
//!   queryable with a literal, `IS [NOT] NULL`, `AND`, `OR`, `NOT`,
//!   parentheses;
//! - advanced comparison: `LIKE` (`%`, `_`, `\` escapes), `BETWEEN`, `IN`,
//!   each also negated (`NOT LIKE`, …);
//! - case- and accent-insensitive comparison: `CASEI(…)`, `ACCENTI(…)`;
//! - basic spatial: `S_INTERSECTS(geometry, …)` with `POINT`, `LINESTRING`,
//!   `POLYGON`, `MULTIPOINT`, `MULTILINESTRING`, `MULTIPOLYGON` or `BBOX`
//!   literals (GeoJSON geometries or `{"bbox":…}` in JSON), in `filter-crs`.
//!
//! Anything else (other spatial, temporal or array functions, arithmetic,
//! property-to-property comparisons) is refused with a message naming the
//! construct. Properties are checked against the collection's queryables and
//! literals against their types while parsing, so a filter that parses can
//! be evaluated without errors. A filter longer than [`MAX_FILTER_BYTES`] or
//! nested deeper than [`MAX_DEPTH`] is refused before it can exhaust the
//! stack.
//!
//! Evaluation follows SQL's three-valued logic: a comparison with a null
//! property is unknown, and only features for which the filter is true are
//! selected.

mod geometry;
mod json;
mod like;
mod text;

pub use json::parse_json;
pub use text::{parse, parse_in};

use super::features::PropValue;
use super::queryables::{Kind, Property};
use geo::Geometry;
use unicode_normalization::UnicodeNormalization;

/// The deepest nesting of parentheses, `NOT`s and functions a filter may
/// have.
pub const MAX_DEPTH: usize = 64;

/// The longest filter accepted, in bytes.
pub const MAX_FILTER_BYTES: usize = 8 * 1024;

/// The property name spatial predicates use for a feature's geometry.
pub const GEOMETRY: &str = "geometry";

/// A filter that cannot be used, with the character position it refers to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at character {position}: {message}")]
pub struct Cql2Error {
    /// 0-based character offset in the filter text.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }

    fn test(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => ord == Equal,
            CmpOp::Ne => ord != Equal,
            CmpOp::Lt => ord == Less,
            CmpOp::Le => ord != Greater,
            CmpOp::Gt => ord == Greater,
            CmpOp::Ge => ord != Less,
        }
    }

    /// The operator as written in CQL2 text.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A literal value in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// Text (for enumerated properties, the canonical word).
    Text(String),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
}

/// Case and accent folding applied to a text value before comparing
/// (`CASEI`, `ACCENTI`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fold {
    /// `CASEI`: compare lower-cased.
    pub case: bool,
    /// `ACCENTI`: compare without diacritics.
    pub accent: bool,
}

impl Fold {
    fn any(self) -> bool {
        self.case || self.accent
    }

    /// `text` with this folding applied.
    pub fn apply(self, text: &str) -> String {
        let mut out: String = if self.accent {
            text.nfd()
                .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
                .collect()
        } else {
            text.to_string()
        };
        if self.case {
            out = out.to_lowercase();
        }
        out
    }
}

/// A parsed, type-checked filter over one collection's properties.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All must hold.
    And(Vec<Expr>),
    /// One must hold.
    Or(Vec<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// Property (by position in the collection's properties) compared with a literal.
    Compare {
        /// Position of the property.
        prop: usize,
        /// Operator.
        op: CmpOp,
        /// The literal (already folded).
        value: Literal,
        /// Folding applied to the property's text before comparing.
        fold: Fold,
    },
    /// `prop IS NULL` (or `IS NOT NULL` when `negated`).
    IsNull {
        /// Position of the property.
        prop: usize,
        /// `IS NOT NULL`.
        negated: bool,
    },
    /// `prop LIKE pattern`.
    Like {
        /// Position of the (text) property.
        prop: usize,
        /// The pattern (already folded).
        pattern: like::Pattern,
        /// Folding applied to the property's text before matching.
        fold: Fold,
    },
    /// `prop BETWEEN low AND high` (both ends included).
    Between {
        /// Position of the (numeric) property.
        prop: usize,
        /// Lower end.
        low: f64,
        /// Upper end.
        high: f64,
    },
    /// `prop IN (values…)`.
    In {
        /// Position of the property.
        prop: usize,
        /// The values (already folded).
        values: Vec<Literal>,
        /// Folding applied to the property's text before comparing.
        fold: Fold,
    },
    /// `S_INTERSECTS(geometry, literal)`: the literal in lon/lat.
    Intersects(Box<Geometry<f64>>),
}

impl Expr {
    /// Whether a feature is selected; `get` gives its value of a property
    /// by position. Spatial predicates are unknown (not selected) here: use
    /// [`Expr::matches_feature`] to test them.
    pub fn matches<'a>(&self, get: &dyn Fn(usize) -> PropValue<'a>) -> bool {
        self.eval(get, &|_| None) == Some(true)
    }

    /// Whether a feature is selected; `intersects` tells whether its
    /// geometry intersects a lon/lat geometry.
    pub fn matches_feature<'a>(
        &self,
        get: &dyn Fn(usize) -> PropValue<'a>,
        intersects: &dyn Fn(&Geometry<f64>) -> bool,
    ) -> bool {
        self.eval(get, &|g| Some(intersects(g))) == Some(true)
    }

    /// Whether the filter uses a spatial predicate.
    pub fn is_spatial(&self) -> bool {
        match self {
            Expr::And(list) | Expr::Or(list) => list.iter().any(Expr::is_spatial),
            Expr::Not(e) => e.is_spatial(),
            Expr::Intersects(_) => true,
            _ => false,
        }
    }

    fn eval<'a>(
        &self,
        get: &dyn Fn(usize) -> PropValue<'a>,
        geo: &dyn Fn(&Geometry<f64>) -> Option<bool>,
    ) -> Option<bool> {
        match self {
            Expr::And(list) => {
                let mut unknown = false;
                for e in list {
                    match e.eval(get, geo) {
                        Some(false) => return Some(false),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                if unknown { None } else { Some(true) }
            }
            Expr::Or(list) => {
                let mut unknown = false;
                for e in list {
                    match e.eval(get, geo) {
                        Some(true) => return Some(true),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                if unknown { None } else { Some(false) }
            }
            Expr::Not(e) => e.eval(get, geo).map(|b| !b),
            Expr::IsNull { prop, negated } => Some((get(*prop) == PropValue::Null) != *negated),
            Expr::Compare {
                prop,
                op,
                value,
                fold,
            } => compare_value(get(*prop), *op, value, *fold),
            Expr::Like {
                prop,
                pattern,
                fold,
            } => match get(*prop) {
                PropValue::Str(s) if fold.any() => Some(pattern.matches(&fold.apply(s))),
                PropValue::Str(s) => Some(pattern.matches(s)),
                _ => None,
            },
            Expr::Between { prop, low, high } => {
                let v = get(*prop).as_f64()?;
                if v.is_nan() {
                    return None;
                }
                Some(*low <= v && v <= *high)
            }
            Expr::In { prop, values, fold } => {
                let v = get(*prop);
                let mut unknown = false;
                for lit in values {
                    match compare_value(v, CmpOp::Eq, lit, *fold) {
                        Some(true) => return Some(true),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                if unknown { None } else { Some(false) }
            }
            Expr::Intersects(g) => geo(g),
        }
    }
}

fn compare_value(v: PropValue<'_>, op: CmpOp, value: &Literal, fold: Fold) -> Option<bool> {
    let ord = match (value, v) {
        (_, PropValue::Null) => return None,
        (Literal::Text(t), PropValue::Str(s)) if fold.any() => {
            fold.apply(s).as_str().cmp(t.as_str())
        }
        (Literal::Text(t), PropValue::Str(s)) => s.cmp(t.as_str()),
        (Literal::Bool(b), PropValue::Bool(x)) => x.cmp(b),
        (Literal::Number(n), v) => v.as_f64()?.partial_cmp(n)?,
        _ => return None,
    };
    Some(op.test(ord))
}

/// Builds the comparison `prop op literal`, checking the literal's type
/// against the property (and canonicalising enumerated words).
pub fn compare(props: &[Property], prop: usize, op: CmpOp, value: Literal) -> Result<Expr, String> {
    let value = typed(props, prop, op, value, Fold::default())?;
    Ok(Expr::Compare {
        prop,
        op,
        value,
        fold: Fold::default(),
    })
}

fn property(props: &[Property], prop: usize) -> Result<&Property, String> {
    props
        .get(prop)
        .ok_or_else(|| "unknown property".to_string())
}

fn describe(lit: &Literal) -> String {
    match lit {
        Literal::Text(t) => format!("the text {t:?}"),
        Literal::Number(n) => format!("the number {n}"),
        Literal::Bool(b) => format!("the boolean {b}"),
    }
}

/// Checks `value` against the type of property `prop` for operator `op`;
/// returns the literal to compare with (canonical word, folded text).
fn typed(
    props: &[Property],
    prop: usize,
    op: CmpOp,
    value: Literal,
    fold: Fold,
) -> Result<Literal, String> {
    let p = property(props, prop)?;
    Ok(match (p.kind, value) {
        (Kind::Text, Literal::Text(t)) => Literal::Text(t),
        (Kind::Word(v), Literal::Text(t)) => match v.canonical(&t) {
            Some(w) if fold.any() => Literal::Text(fold.apply(w)),
            Some(w) => Literal::Text(w.to_string()),
            None if fold.any() => Literal::Text(t),
            None if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
                return Err(format!(
                    "{t:?} is not a value of {}; use one of {}",
                    p.name,
                    v.words().join(", ")
                ));
            }
            None => Literal::Text(t),
        },
        (Kind::Integer { .. } | Kind::Number { .. }, Literal::Number(n)) => Literal::Number(n),
        (Kind::Boolean, Literal::Bool(b)) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
            Literal::Bool(b)
        }
        (Kind::Boolean, Literal::Bool(_)) => {
            return Err(format!("{} is a boolean: compare it with = or <>", p.name));
        }
        (kind, lit) => {
            return Err(format!(
                "{} is a {} property and cannot be compared with {}",
                p.name,
                kind.type_word(),
                describe(&lit)
            ));
        }
    })
}

/// One side of a predicate, as either encoding parses it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    /// A queryable, with the folding wrapped around it.
    Prop(usize, Fold),
    /// A literal, with the folding wrapped around it (already applied).
    Lit(Literal, Fold),
    /// The feature's geometry (`geometry`).
    GeometryProp,
    /// A geometry literal, in lon/lat.
    Geometry(Geometry<f64>),
}

impl Operand {
    fn what(&self) -> &'static str {
        match self {
            Operand::Prop(..) => "a property",
            Operand::Lit(..) => "a literal",
            Operand::GeometryProp => "the geometry",
            Operand::Geometry(_) => "a geometry literal",
        }
    }

    /// Wraps `CASEI`/`ACCENTI` around this operand.
    pub(crate) fn folded(self, props: &[Property], f: Fold) -> Result<Operand, String> {
        let name = if f.case { "CASEI" } else { "ACCENTI" };
        match self {
            Operand::Prop(i, old) => {
                let p = property(props, i)?;
                if !matches!(p.kind, Kind::Text | Kind::Word(_)) {
                    return Err(format!(
                        "{name} needs text, but {} is a {} property",
                        p.name,
                        p.kind.type_word()
                    ));
                }
                Ok(Operand::Prop(
                    i,
                    Fold {
                        case: old.case || f.case,
                        accent: old.accent || f.accent,
                    },
                ))
            }
            Operand::Lit(Literal::Text(t), old) => Ok(Operand::Lit(
                Literal::Text(f.apply(&t)),
                Fold {
                    case: old.case || f.case,
                    accent: old.accent || f.accent,
                },
            )),
            other => Err(format!("{name} needs text, not {}", other.what())),
        }
    }
}

/// `left op right`: one side a property, the other a literal.
pub(crate) fn binary(
    props: &[Property],
    left: Operand,
    op: CmpOp,
    right: Operand,
) -> Result<Expr, String> {
    let (prop, pfold, op, lit, lfold) = match (left, right) {
        (Operand::Prop(p, pf), Operand::Lit(l, lf)) => (p, pf, op, l, lf),
        (Operand::Lit(l, lf), Operand::Prop(p, pf)) => (p, pf, op.flipped(), l, lf),
        (Operand::Prop(..), Operand::Prop(..)) => {
            return Err(
                "comparing a property with another property is not supported; compare it with a literal"
                    .into(),
            );
        }
        (Operand::Lit(..), Operand::Lit(..)) => {
            return Err("a comparison needs a property".into());
        }
        (a, b) => {
            return Err(format!(
                "{} cannot be compared with {}; use S_INTERSECTS for geometries",
                a.what(),
                b.what()
            ));
        }
    };
    let value = typed(props, prop, op, lit, lfold)?;
    Ok(Expr::Compare {
        prop,
        op,
        value,
        fold: pfold,
    })
}

/// `subject IS [NOT] NULL`.
pub(crate) fn is_null(subject: Operand, negated: bool) -> Result<Expr, String> {
    match subject {
        Operand::Prop(prop, _) => Ok(Expr::IsNull { prop, negated }),
        other => Err(format!("IS NULL needs a property, not {}", other.what())),
    }
}

fn not_if(e: Expr, negated: bool) -> Expr {
    if negated { Expr::Not(Box::new(e)) } else { e }
}

/// `subject [NOT] LIKE pattern`.
pub(crate) fn like(
    props: &[Property],
    subject: Operand,
    pattern: Operand,
    negated: bool,
) -> Result<Expr, String> {
    let Operand::Prop(prop, fold) = subject else {
        return Err(format!(
            "LIKE needs a property on its left, not {}",
            subject.what()
        ));
    };
    let p = property(props, prop)?;
    if !matches!(p.kind, Kind::Text | Kind::Word(_)) {
        return Err(format!(
            "LIKE needs a text property, but {} is a {} property",
            p.name,
            p.kind.type_word()
        ));
    }
    let Operand::Lit(Literal::Text(t), _) = pattern else {
        return Err(format!("LIKE needs a text pattern, not {}", pattern.what()));
    };
    Ok(not_if(
        Expr::Like {
            prop,
            pattern: like::Pattern::new(&t),
            fold,
        },
        negated,
    ))
}

/// `subject [NOT] BETWEEN low AND high`.
pub(crate) fn between(
    props: &[Property],
    subject: Operand,
    low: Operand,
    high: Operand,
    negated: bool,
) -> Result<Expr, String> {
    let Operand::Prop(prop, _) = subject else {
        return Err(format!("BETWEEN needs a property, not {}", subject.what()));
    };
    let p = property(props, prop)?;
    if !matches!(p.kind, Kind::Integer { .. } | Kind::Number { .. }) {
        return Err(format!(
            "BETWEEN needs a numeric property, but {} is a {} property",
            p.name,
            p.kind.type_word()
        ));
    }
    let num = |o: Operand| match o {
        Operand::Lit(Literal::Number(n), _) => Ok(n),
        other => Err(format!("BETWEEN needs numbers, not {}", other.what())),
    };
    let (low, high) = (num(low)?, num(high)?);
    Ok(not_if(Expr::Between { prop, low, high }, negated))
}

/// `subject [NOT] IN (list)`.
pub(crate) fn in_list(
    props: &[Property],
    subject: Operand,
    list: Vec<Operand>,
    negated: bool,
) -> Result<Expr, String> {
    let Operand::Prop(prop, fold) = subject else {
        return Err(format!(
            "IN needs a property on its left, not {}",
            subject.what()
        ));
    };
    if list.is_empty() {
        return Err("IN needs at least one value".into());
    }
    let values = list
        .into_iter()
        .map(|o| match o {
            Operand::Lit(l, lf) => typed(props, prop, CmpOp::Eq, l, lf),
            other => Err(format!("IN needs literals, not {}", other.what())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(not_if(Expr::In { prop, values, fold }, negated))
}

/// `S_INTERSECTS(a, b)`: the geometry and a geometry literal.
pub(crate) fn intersects(a: Operand, b: Operand) -> Result<Expr, String> {
    match (a, b) {
        (Operand::GeometryProp, Operand::Geometry(g))
        | (Operand::Geometry(g), Operand::GeometryProp) => Ok(Expr::Intersects(Box::new(g))),
        (a, b) => Err(format!(
            "S_INTERSECTS needs the property {GEOMETRY} and a geometry literal, not {} and {}",
            a.what(),
            b.what()
        )),
    }
}

/// Why a function name is refused.
pub(crate) fn unsupported_function(name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    let kind = if upper.starts_with("S_") {
        "spatial function"
    } else if upper.starts_with("T_") {
        "temporal function"
    } else if upper.starts_with("A_") {
        "array function"
    } else if matches!(upper.as_str(), "DATE" | "TIMESTAMP" | "INTERVAL") {
        "temporal literal"
    } else if upper == "GEOMETRYCOLLECTION" {
        "geometry type"
    } else {
        "function"
    };
    format!(
        "the {kind} {upper} is not supported; supported are comparisons, LIKE, BETWEEN, IN, IS NULL, CASEI, ACCENTI and S_INTERSECTS with POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON or BBOX"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LayerId;
    use crate::ogc::crs::OgcCrs;
    use crate::ogc::queryables::{position, properties};
    use geo::{Intersects, Point};

    fn cells(text: &str) -> Result<Expr, Cql2Error> {
        parse(text, properties(LayerId::Cells))
    }

    fn row<'a>(score: Option<f64>, level: &'a str, pop: i64) -> impl Fn(usize) -> PropValue<'a> {
        let props = properties(LayerId::Cells);
        move |i| match props[i].name {
            "risk_score" => score.map_or(PropValue::Null, PropValue::Num),
            "risk_level" => PropValue::Str(level),
            "population" => PropValue::Int(pop),
            "name" => PropValue::Str("金山第1网格"),
            "code" => PropValue::Str("350502001001001"),
            _ => PropValue::Null,
        }
    }

    #[test]
    fn comparisons_and_logic() {
        let e = cells("risk_score >= 60 AND risk_level = 'major'").unwrap();
        assert!(e.matches(&row(Some(70.0), "major", 1)));
        assert!(!e.matches(&row(Some(50.0), "major", 1)));
        assert!(!e.matches(&row(None, "major", 1)));
        let e = cells("population < 100 or NOT (risk_level <> '重大')").unwrap();
        assert!(e.matches(&row(None, "major", 500)));
        assert!(e.matches(&row(None, "low", 5)));
        assert!(!e.matches(&row(None, "low", 500)));
        let e = cells("100 > population").unwrap();
        assert!(e.matches(&row(None, "low", 5)));
        let e = cells("\"name\" = '金山第1网格' AND risk_score IS NULL").unwrap();
        assert!(e.matches(&row(None, "low", 5)));
        let e = cells("risk_score IS NOT NULL").unwrap();
        assert!(!e.matches(&row(None, "low", 5)));
        // Unknown stays unknown under NOT.
        let e = cells("NOT risk_score > 10").unwrap();
        assert!(!e.matches(&row(None, "low", 5)));
        let e = cells("name = 'it''s'").unwrap();
        assert_eq!(
            e,
            Expr::Compare {
                prop: position(LayerId::Cells, "name").unwrap(),
                op: CmpOp::Eq,
                value: Literal::Text("it's".into()),
                fold: Fold::default(),
            }
        );
    }

    #[test]
    fn advanced_comparisons() {
        let r = row(Some(42.5), "high", 250);
        for (f, want) in [
            ("name LIKE '金山%'", true),
            ("name LIKE '%网格'", true),
            ("name LIKE '金_第1网格'", true),
            ("name LIKE '金_第2网格'", false),
            ("name NOT LIKE '%笋%'", true),
            ("code LIKE '3505020010%'", true),
            ("risk_score BETWEEN 40 AND 45", true),
            ("risk_score BETWEEN 42.5 AND 42.5", true),
            ("population NOT BETWEEN 100 AND 300", false),
            ("risk_level IN ('major', 'high')", true),
            ("risk_level IN ('重大', '较大')", true),
            ("risk_level NOT IN ('major', 'high')", false),
            ("population IN (1, 250, 3)", true),
            ("CASEI(risk_level) = CASEI('HIGH')", true),
            ("CASEI(risk_level) IN (CASEI('Major'), CASEI('High'))", true),
            ("risk_level = 'high' AND NOT (population < 100)", true),
            ("ACCENTI(name) = ACCENTI('金山第1网格')", true),
        ] {
            let e = cells(f).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!(e.matches(&r), want, "{f}");
        }
        // Unknown (null) values are never selected, negated or not.
        let n = row(None, "high", 1);
        assert!(!cells("risk_score BETWEEN 0 AND 100").unwrap().matches(&n));
        assert!(
            !cells("NOT risk_score BETWEEN 0 AND 100")
                .unwrap()
                .matches(&n)
        );
        assert_eq!(
            Fold {
                case: true,
                accent: true
            }
            .apply("Ǎbc Éte"),
            "abc ete"
        );
    }

    #[test]
    fn spatial_in_filter_crs() {
        let props = properties(LayerId::Cells);
        let hit = Point::new(118.6, 24.9);
        let miss = Point::new(120.0, 30.0);
        for (f, crs) in [
            (
                "S_INTERSECTS(geometry, BBOX(118.5, 24.8, 118.7, 25.0))",
                OgcCrs::Crs84,
            ),
            (
                "S_INTERSECTS(geometry, BBOX(24.8, 118.5, 25.0, 118.7))",
                OgcCrs::Epsg4326,
            ),
            (
                "S_INTERSECTS(geometry, POLYGON((118.5 24.8, 118.7 24.8, 118.7 25.0, 118.5 25.0, 118.5 24.8)))",
                OgcCrs::Crs84,
            ),
            (
                "S_INTERSECTS(MULTIPOLYGON(((118.5 24.8, 118.7 24.8, 118.7 25.1, 118.5 24.8)), ((0 0, 1 0, 1 1, 0 0))), geometry)",
                OgcCrs::Crs84,
            ),
            ("S_INTERSECTS(geometry, POINT(118.6 24.9))", OgcCrs::Crs84),
            (
                "S_INTERSECTS(geometry, POINT(24.9 118.6))",
                OgcCrs::Epsg4490,
            ),
        ] {
            let e = parse_in(f, props, crs).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!(e.is_spatial());
            let test =
                |p: Point<f64>| e.matches_feature(&|_| PropValue::Null, &|g| g.intersects(&p));
            assert!(test(hit), "{f}");
            assert!(!test(miss), "{f}");
            // Without a geometry to test, a spatial filter selects nothing.
            assert!(!e.matches(&|_| PropValue::Null));
        }
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = cells("risk_scor > 1").unwrap_err();
        assert_eq!(e.position, 0);
        assert!(e.message.contains("unknown property"), "{e}");
        let e = cells("risk_score > 'high'").unwrap_err();
        assert!(e.message.contains("number property"), "{e}");
        let e = cells("risk_level = 'extreme'").unwrap_err();
        assert!(e.message.contains("major, high, medium, low"), "{e}");
        let e = cells("risk_score > 1 risk_level = 'major'").unwrap_err();
        assert_eq!(e.position, 15);
        for bad in [
            "",
            "(risk_score > 1",
            "risk_score >",
            "risk_score 1",
            "name = 'x",
            "1 = 1",
            "code = name",
            "risk_score > 1 AND",
            "a ~ b",
            "name LIKE 3",
            "risk_score LIKE '1%'",
            "name BETWEEN 'a' AND 'b'",
            "risk_score BETWEEN 1",
            "risk_level IN ()",
            "risk_level IN ('major', 'extreme')",
            "CASEI(population) = 1",
            "S_INTERSECTS(geometry, POINT(1))",
            "S_INTERSECTS(geometry, POLYGON((0 0, 1 1)))",
            "S_INTERSECTS(name, POINT(1 2))",
            "S_INTERSECTS(geometry, POINT(200 2))",
            "geometry = 1",
        ] {
            assert!(cells(bad).is_err(), "{bad}");
        }
        for (bad, named) in [
            ("S_CONTAINS(geometry, POINT(1 2))", "S_CONTAINS"),
            ("T_AFTER(surveyed, DATE('2024-01-01'))", "T_AFTER"),
            ("name > DATE('2024-01-01')", "DATE"),
            ("A_CONTAINS(name, ('a'))", "A_CONTAINS"),
            ("UPPER(name) = 'A'", "UPPER"),
            (
                "S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(1 2)))",
                "GEOMETRYCOLLECTION",
            ),
            ("population * 2 > 1", "arithmetic"),
        ] {
            let e = cells(bad).unwrap_err();
            assert!(e.message.contains(named), "{bad}: {e}");
        }
        let e = parse("blacklisted < true", properties(LayerId::Enterprises)).unwrap_err();
        assert!(e.message.contains("boolean"), "{e}");
        assert!(
            parse(
                "blacklisted = TRUE AND employees >= 1e2",
                properties(LayerId::Enterprises)
            )
            .is_ok()
        );
    }

    #[test]
    fn depth_and_length_limits() {
        let deep = format!("{}risk_score > 1{}", "(".repeat(3000), ")".repeat(3000));
        let e = cells(&deep).unwrap_err();
        assert!(e.message.contains("64"), "{e}");
        let nots = format!("{}risk_score > 1", "NOT ".repeat(100));
        assert!(cells(&nots).unwrap_err().message.contains("64"));
        let casei = format!("{}name{} = 'a'", "CASEI(".repeat(100), ")".repeat(100));
        assert!(cells(&casei).unwrap_err().message.contains("64"));
        let ok = format!("{}risk_score > 1{}", "(".repeat(60), ")".repeat(60));
        assert!(cells(&ok).is_ok());
        let long = vec!["risk_score > 1"; 1000].join(" OR ");
        let e = cells(&long).unwrap_err();
        assert!(e.message.contains("8192"), "{e}");
    }
}
