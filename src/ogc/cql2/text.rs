//! The CQL2-text encoding: a lexer and a recursive-descent parser whose
//! recursion is bounded by [`MAX_DEPTH`] and whose input is bounded by
//! [`MAX_FILTER_BYTES`].

use super::geometry;
use super::{
    CmpOp, Cql2Error, Expr, Fold, GEOMETRY, Literal, MAX_DEPTH, MAX_FILTER_BYTES, Operand,
};
use crate::ogc::crs::OgcCrs;
use crate::ogc::queryables::Property;
use geo::{Coord, Geometry, MultiLineString, MultiPoint, MultiPolygon, Point};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Op(CmpOp),
    LParen,
    RParen,
    Comma,
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
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | ',' | '=' => {
                out.push((
                    start,
                    match c {
                        '(' => Tok::LParen,
                        ')' => Tok::RParen,
                        ',' => Tok::Comma,
                        _ => Tok::Op(CmpOp::Eq),
                    },
                ));
                i += 1;
            }
            '<' | '>' => {
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
            '*' | '/' | '%' | '+' | '-'
                if !matches!(c, '+' | '-')
                    || !next.is_some_and(|n| n.is_ascii_digit() || n == '.') =>
            {
                return Err(err(
                    start,
                    format!("arithmetic ({c}) is not supported in filters"),
                ));
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
    depth: usize,
    props: &'p [Property],
    crs: OgcCrs,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Tok> {
        self.toks.get(self.pos + ahead).map(|(_, t)| t)
    }

    fn here(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(p, _)| *p)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), Cql2Error> {
        if self.peek() != Some(&tok) {
            return Err(err(self.here(), format!("expected {what}")));
        }
        self.pos += 1;
        Ok(())
    }

    /// One more level of nesting; refused past [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<(), Cql2Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(
                self.here(),
                format!("the filter is nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
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
            self.enter()?;
            let e = self.not()?;
            self.leave();
            return Ok(Expr::Not(Box::new(e)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            self.enter()?;
            let e = self.or()?;
            self.leave();
            self.expect(Tok::RParen, "`)`")?;
            return Ok(e);
        }
        self.predicate()
    }

    fn number(&mut self) -> Result<f64, Cql2Error> {
        match self.peek() {
            Some(Tok::Num(n)) => {
                let n = *n;
                self.pos += 1;
                Ok(n)
            }
            _ => Err(err(self.here(), "expected a number")),
        }
    }

    /// A WKT position: 2 or 3 numbers separated by spaces.
    fn position(&mut self) -> Result<Coord<f64>, Cql2Error> {
        let at = self.here();
        let mut nums = Vec::with_capacity(3);
        while let Some(Tok::Num(n)) = self.peek() {
            nums.push(*n);
            self.pos += 1;
            if nums.len() > 3 {
                break;
            }
        }
        geometry::position(&nums, self.crs).map_err(|m| err(at, m))
    }

    /// `( position, position, … )`; with `wrapped`, each position may be
    /// in its own parentheses (MULTIPOINT).
    fn positions(&mut self, wrapped: bool) -> Result<Vec<Coord<f64>>, Cql2Error> {
        self.expect(Tok::LParen, "`(` before positions")?;
        let mut out = Vec::new();
        loop {
            if wrapped && self.peek() == Some(&Tok::LParen) {
                self.pos += 1;
                out.push(self.position()?);
                self.expect(Tok::RParen, "`)` after a point")?;
            } else {
                out.push(self.position()?);
            }
            if self.peek() != Some(&Tok::Comma) {
                break;
            }
            self.pos += 1;
        }
        self.expect(Tok::RParen, "`)` after positions")?;
        Ok(out)
    }

    /// `( (positions), (positions), … )`.
    fn rings(&mut self) -> Result<Vec<Vec<Coord<f64>>>, Cql2Error> {
        self.expect(Tok::LParen, "`(` before rings")?;
        let mut out = vec![self.positions(false)?];
        while self.peek() == Some(&Tok::Comma) {
            self.pos += 1;
            out.push(self.positions(false)?);
        }
        self.expect(Tok::RParen, "`)` after rings")?;
        Ok(out)
    }

    /// A geometry literal after its keyword (already consumed).
    fn geometry(&mut self, kind: &str, at: usize) -> Result<Option<Geometry<f64>>, Cql2Error> {
        let at_err = |m: String| err(at, m);
        Ok(Some(match kind {
            "POINT" => {
                self.expect(Tok::LParen, "`(` after POINT")?;
                let p = self.position()?;
                self.expect(Tok::RParen, "`)` after the point")?;
                Geometry::Point(Point(p))
            }
            "LINESTRING" => {
                Geometry::LineString(geometry::line(self.positions(false)?).map_err(at_err)?)
            }
            "POLYGON" => Geometry::Polygon(geometry::polygon(self.rings()?).map_err(at_err)?),
            "MULTIPOINT" => Geometry::MultiPoint(MultiPoint(
                self.positions(true)?.into_iter().map(Point).collect(),
            )),
            "MULTILINESTRING" => {
                let mut lines = Vec::new();
                for l in self.rings()? {
                    lines.push(geometry::line(l).map_err(at_err)?);
                }
                Geometry::MultiLineString(MultiLineString(lines))
            }
            "MULTIPOLYGON" => {
                self.expect(Tok::LParen, "`(` after MULTIPOLYGON")?;
                let mut polys = vec![geometry::polygon(self.rings()?).map_err(at_err)?];
                while self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                    polys.push(geometry::polygon(self.rings()?).map_err(at_err)?);
                }
                self.expect(Tok::RParen, "`)` after the polygons")?;
                Geometry::MultiPolygon(MultiPolygon(polys))
            }
            "BBOX" => {
                self.expect(Tok::LParen, "`(` after BBOX")?;
                let mut nums = vec![self.number()?];
                while self.peek() == Some(&Tok::Comma) && nums.len() < 7 {
                    self.pos += 1;
                    nums.push(self.number()?);
                }
                self.expect(Tok::RParen, "`)` after the BBOX numbers")?;
                geometry::bbox(&nums, self.crs).map_err(at_err)?
            }
            _ => return Ok(None),
        }))
    }

    fn operand(&mut self) -> Result<Operand, Cql2Error> {
        let at = self.here();
        let tok = self.peek().cloned();
        let out = match tok {
            Some(Tok::Str(s)) => Operand::Lit(Literal::Text(s), Fold::default()),
            Some(Tok::Num(n)) => Operand::Lit(Literal::Number(n), Fold::default()),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("TRUE") => {
                Operand::Lit(Literal::Bool(true), Fold::default())
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("FALSE") => {
                Operand::Lit(Literal::Bool(false), Fold::default())
            }
            Some(Tok::Ident(w)) if self.peek_at(1) == Some(&Tok::LParen) => {
                let upper = w.to_ascii_uppercase();
                if let Some(fold) = match upper.as_str() {
                    "CASEI" => Some(Fold {
                        case: true,
                        accent: false,
                    }),
                    "ACCENTI" => Some(Fold {
                        case: false,
                        accent: true,
                    }),
                    _ => None,
                } {
                    self.pos += 2;
                    self.enter()?;
                    let inner = self.operand()?;
                    self.leave();
                    self.expect(Tok::RParen, &format!("`)` after {upper}"))?;
                    return inner.folded(self.props, fold).map_err(|m| err(at, m));
                }
                self.pos += 1;
                return match self.geometry(&upper, at)? {
                    Some(g) => Ok(Operand::Geometry(g)),
                    None => Err(err(at, super::unsupported_function(&w))),
                };
            }
            Some(Tok::Ident(w)) => match self.props.iter().position(|p| p.name == w) {
                Some(i) => Operand::Prop(i, Fold::default()),
                None if w == GEOMETRY => Operand::GeometryProp,
                None => {
                    return Err(err(
                        at,
                        format!(
                            "unknown property {w:?}; queryables are {}, {GEOMETRY}",
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
        Ok(out)
    }

    fn predicate(&mut self) -> Result<Expr, Cql2Error> {
        let at = self.here();
        if let (Some(Tok::Ident(w)), Some(Tok::LParen)) = (self.peek(), self.peek_at(1)) {
            let upper = w.to_ascii_uppercase();
            if upper == "S_INTERSECTS" {
                self.pos += 2;
                let a = self.operand()?;
                self.expect(Tok::Comma, "`,` between the arguments of S_INTERSECTS")?;
                let b = self.operand()?;
                self.expect(Tok::RParen, "`)` after S_INTERSECTS")?;
                return super::intersects(a, b).map_err(|m| err(at, m));
            }
            if upper.starts_with("S_") || upper.starts_with("T_") || upper.starts_with("A_") {
                return Err(err(at, super::unsupported_function(w)));
            }
        }
        let left = self.operand()?;
        let m = |r: Result<Expr, String>| r.map_err(|msg| err(at, msg));
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
            return m(super::is_null(left, negated));
        }
        let negated = self.keyword("NOT");
        if negated {
            self.pos += 1;
        }
        if self.keyword("LIKE") {
            self.pos += 1;
            let pattern = self.operand()?;
            return m(super::like(self.props, left, pattern, negated));
        }
        if self.keyword("BETWEEN") {
            self.pos += 1;
            let low = self.operand()?;
            if !self.keyword("AND") {
                return Err(err(self.here(), "expected AND in BETWEEN … AND …"));
            }
            self.pos += 1;
            let high = self.operand()?;
            return m(super::between(self.props, left, low, high, negated));
        }
        if self.keyword("IN") {
            self.pos += 1;
            self.expect(Tok::LParen, "`(` after IN")?;
            let mut list = Vec::new();
            if self.peek() != Some(&Tok::RParen) {
                list.push(self.operand()?);
                while self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                    list.push(self.operand()?);
                }
            }
            self.expect(Tok::RParen, "`)` after the IN list")?;
            return m(super::in_list(self.props, left, list, negated));
        }
        if negated {
            return Err(err(self.here(), "expected LIKE, BETWEEN or IN after NOT"));
        }
        let op = match self.peek() {
            Some(Tok::Op(op)) => *op,
            _ => {
                return Err(err(
                    self.here(),
                    "expected a comparison operator (=, <>, <, <=, >, >=), LIKE, BETWEEN, IN or IS NULL",
                ));
            }
        };
        self.pos += 1;
        let right = self.operand()?;
        m(super::binary(self.props, left, op, right))
    }
}

/// Parses a CQL2-text filter over `props` (geometries in CRS84).
pub fn parse(text: &str, props: &[Property]) -> Result<Expr, Cql2Error> {
    parse_in(text, props, OgcCrs::Crs84)
}

/// Parses a CQL2-text filter over `props`, geometry literals in `crs`
/// (`filter-crs`).
pub fn parse_in(text: &str, props: &[Property], crs: OgcCrs) -> Result<Expr, Cql2Error> {
    if text.len() > MAX_FILTER_BYTES {
        return Err(err(
            0,
            format!(
                "the filter is {} bytes long; at most {MAX_FILTER_BYTES} are accepted",
                text.len()
            ),
        ));
    }
    let toks = lex(text)?;
    let end = text.chars().count();
    if toks.is_empty() {
        return Err(err(0, "the filter is empty"));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        end,
        depth: 0,
        props,
        crs,
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
