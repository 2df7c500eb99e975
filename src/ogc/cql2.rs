//! A CQL2-text filter (basic CQL2): comparisons (`=`, `<>`, `<`, `<=`,
//! `>`, `>=`) of a queryable with a literal, `IS [NOT] NULL`, `AND`, `OR`,
//! `NOT` and parentheses. Properties are checked against the collection's
//! queryables and literals against their types while parsing, so a filter
//! that parses can be evaluated without errors.
//!
//! Evaluation follows SQL's three-valued logic: a comparison with a null
//! property is unknown, and only features for which the filter is true are
//! selected.

use super::features::PropValue;
use super::queryables::{Kind, Property};

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
        /// The literal.
        value: Literal,
    },
    /// `prop IS NULL` (or `IS NOT NULL` when `negated`).
    IsNull {
        /// Position of the property.
        prop: usize,
        /// `IS NOT NULL`.
        negated: bool,
    },
}

impl Expr {
    /// Whether a feature is selected; `get` gives its value of a property
    /// by position.
    pub fn matches<'a>(&self, get: &dyn Fn(usize) -> PropValue<'a>) -> bool {
        self.eval(get) == Some(true)
    }

    fn eval<'a>(&self, get: &dyn Fn(usize) -> PropValue<'a>) -> Option<bool> {
        match self {
            Expr::And(list) => {
                let mut unknown = false;
                for e in list {
                    match e.eval(get) {
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
                    match e.eval(get) {
                        Some(true) => return Some(true),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                if unknown { None } else { Some(false) }
            }
            Expr::Not(e) => e.eval(get).map(|b| !b),
            Expr::IsNull { prop, negated } => Some((get(*prop) == PropValue::Null) != *negated),
            Expr::Compare { prop, op, value } => {
                let v = get(*prop);
                let ord = match (value, v) {
                    (_, PropValue::Null) => return None,
                    (Literal::Text(t), PropValue::Str(s)) => s.cmp(t.as_str()),
                    (Literal::Bool(b), PropValue::Bool(x)) => x.cmp(b),
                    (Literal::Number(n), v) => v.as_f64()?.partial_cmp(n)?,
                    _ => return None,
                };
                Some(op.test(ord))
            }
        }
    }
}

/// Builds the comparison `prop op literal`, checking the literal's type
/// against the property (and canonicalising enumerated words).
pub fn compare(props: &[Property], prop: usize, op: CmpOp, value: Literal) -> Result<Expr, String> {
    let p = props
        .get(prop)
        .ok_or_else(|| "unknown property".to_string())?;
    let value = match (p.kind, value) {
        (Kind::Text, Literal::Text(t)) => Literal::Text(t),
        (Kind::Word(v), Literal::Text(t)) => match v.canonical(&t) {
            Some(w) => Literal::Text(w.to_string()),
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
                match lit {
                    Literal::Text(t) => format!("the text {t:?}"),
                    Literal::Number(n) => format!("the number {n}"),
                    Literal::Bool(b) => format!("the boolean {b}"),
                }
            ));
        }
    };
    Ok(Expr::Compare { prop, op, value })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Op(CmpOp),
    LParen,
    RParen,
}

fn err(position: usize, message: impl Into<String>) -> Cql2Error {
    Cql2Error {
        position,
        message: message.into(),
    }
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, Cql2Error> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((start, Tok::LParen));
                i += 1;
            }
            ')' => {
                out.push((start, Tok::RParen));
                i += 1;
            }
            '=' => {
                out.push((start, Tok::Op(CmpOp::Eq)));
                i += 1;
            }
            '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('<', Some('>')) => (CmpOp::Ne, 2),
                    ('<', Some('=')) => (CmpOp::Le, 2),
                    ('>', Some('=')) => (CmpOp::Ge, 2),
                    ('<', _) => (CmpOp::Lt, 1),
                    _ => (CmpOp::Gt, 1),
                };
                out.push((start, Tok::Op(op)));
                i += len;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(err(start, "unterminated text literal")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push((start, Tok::Str(s)));
            }
            '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&ch| ch == '"')
                    .ok_or_else(|| err(start, "unterminated quoted property name"))?;
                let name: String = chars[i + 1..i + 1 + end].iter().collect();
                out.push((start, Tok::Ident(name)));
                i += end + 2;
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let mut j = i + 1;
                while j < chars.len()
                    && (chars[j].is_ascii_digit()
                        || matches!(chars[j], '.' | 'e' | 'E')
                        || (matches!(chars[j], '-' | '+') && matches!(chars[j - 1], 'e' | 'E')))
                {
                    j += 1;
                }
                let t: String = chars[i..j].iter().collect();
                let n = t
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| err(start, format!("{t:?} is not a number")))?;
                out.push((start, Tok::Num(n)));
                i = j;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while j < chars.len()
                    && (chars[j].is_alphanumeric() || matches!(chars[j], '_' | '.' | ':'))
                {
                    j += 1;
                }
                out.push((start, Tok::Ident(chars[i..j].iter().collect())));
                i = j;
            }
            other => return Err(err(start, format!("unexpected character {other:?}"))),
        }
    }
    Ok(out)
}

struct Parser<'p> {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    props: &'p [Property],
}

enum Operand {
    Prop(usize),
    Lit(Literal),
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn here(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(p, _)| *p)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Expr, Cql2Error> {
        let mut list = vec![self.and()?];
        while self.keyword("OR") {
            self.pos += 1;
            list.push(self.and()?);
        }
        Ok(if list.len() == 1 {
            list.remove(0)
        } else {
            Expr::Or(list)
        })
    }

    fn and(&mut self) -> Result<Expr, Cql2Error> {
        let mut list = vec![self.not()?];
        while self.keyword("AND") {
            self.pos += 1;
            list.push(self.not()?);
        }
        Ok(if list.len() == 1 {
            list.remove(0)
        } else {
            Expr::And(list)
        })
    }

    fn not(&mut self) -> Result<Expr, Cql2Error> {
        if self.keyword("NOT") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or()?;
            if self.peek() != Some(&Tok::RParen) {
                return Err(err(self.here(), "expected `)`"));
            }
            self.pos += 1;
            return Ok(e);
        }
        self.predicate()
    }

    fn operand(&mut self) -> Result<(usize, Operand), Cql2Error> {
        let at = self.here();
        let tok = self.peek().cloned();
        let out = match tok {
            Some(Tok::Str(s)) => Operand::Lit(Literal::Text(s)),
            Some(Tok::Num(n)) => Operand::Lit(Literal::Number(n)),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("TRUE") => {
                Operand::Lit(Literal::Bool(true))
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("FALSE") => {
                Operand::Lit(Literal::Bool(false))
            }
            Some(Tok::Ident(w)) => match self.props.iter().position(|p| p.name == w) {
                Some(i) => Operand::Prop(i),
                None => {
                    return Err(err(
                        at,
                        format!(
                            "unknown property {w:?}; queryables are {}",
                            self.props
                                .iter()
                                .map(|p| p.name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            },
            Some(other) => {
                return Err(err(
                    at,
                    format!("expected a property or a literal, found {other:?}"),
                ));
            }
            None => return Err(err(at, "unexpected end of filter")),
        };
        self.pos += 1;
        Ok((at, out))
    }

    fn predicate(&mut self) -> Result<Expr, Cql2Error> {
        let (at, left) = self.operand()?;
        if self.keyword("IS") {
            self.pos += 1;
            let negated = self.keyword("NOT");
            if negated {
                self.pos += 1;
            }
            if !self.keyword("NULL") {
                return Err(err(self.here(), "expected NULL after IS"));
            }
            self.pos += 1;
            return match left {
                Operand::Prop(prop) => Ok(Expr::IsNull { prop, negated }),
                Operand::Lit(_) => Err(err(at, "IS NULL needs a property on its left")),
            };
        }
        let op = match self.peek() {
            Some(Tok::Op(op)) => *op,
            _ => {
                return Err(err(
                    self.here(),
                    "expected a comparison operator (=, <>, <, <=, >, >=) or IS NULL",
                ));
            }
        };
        self.pos += 1;
        let (at2, right) = self.operand()?;
        let (prop, op, lit) = match (left, right) {
            (Operand::Prop(p), Operand::Lit(l)) => (p, op, l),
            (Operand::Lit(l), Operand::Prop(p)) => (p, op.flipped(), l),
            (Operand::Prop(_), Operand::Prop(_)) => {
                return Err(err(
                    at2,
                    "compare a property with a literal, not with another property",
                ));
            }
            (Operand::Lit(_), Operand::Lit(_)) => {
                return Err(err(at, "a comparison needs a property"));
            }
        };
        compare(self.props, prop, op, lit).map_err(|m| err(at, m))
    }
}

/// Parses a CQL2-text filter over `props`.
pub fn parse(text: &str, props: &[Property]) -> Result<Expr, Cql2Error> {
    let toks = lex(text)?;
    let end = text.chars().count();
    if toks.is_empty() {
        return Err(err(0, "the filter is empty"));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        end,
        props,
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(err(
            p.here(),
            "unexpected text after the end of the filter (join conditions with AND or OR)",
        ));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LayerId;
    use crate::ogc::queryables::{position, properties};

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
                value: Literal::Text("it's".into())
            }
        );
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
        ] {
            assert!(cells(bad).is_err(), "{bad}");
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
}
