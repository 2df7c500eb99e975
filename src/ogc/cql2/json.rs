//! The CQL2-JSON encoding (`filter-lang=cql2-json`): `{"op": …, "args":
//! […]}` trees read with `serde_json` (which refuses nesting past 128) and
//! converted with the depth bounded by [`MAX_DEPTH`].

use super::geometry;
use super::{CmpOp, Expr, Fold, GEOMETRY, Literal, MAX_DEPTH, MAX_FILTER_BYTES, Operand};
use crate::ogc::crs::OgcCrs;
use crate::ogc::queryables::Property;
use serde_json::Value;

struct Reader<'p> {
    props: &'p [Property],
    crs: OgcCrs,
}

fn too_deep() -> String {
    format!("the filter is nested deeper than {MAX_DEPTH} levels")
}

fn op_args(v: &Value) -> Option<(&str, &[Value])> {
    let op = v.get("op")?.as_str()?;
    let args = v
        .get("args")
        .and_then(Value::as_array)
        .map_or(&[][..], |a| a);
    Some((op, args))
}

fn arity(op: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() != n {
        return Err(format!(
            "{op:?} takes {n} argument{}, found {}",
            if n == 1 { "" } else { "s" },
            args.len()
        ));
    }
    Ok(())
}

impl Reader<'_> {
    fn expr(&self, v: &Value, depth: usize) -> Result<Expr, String> {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let Some((op, args)) = op_args(v) else {
            return Err(format!(
                "expected an object with \"op\" and \"args\", found {}",
                short(v)
            ));
        };
        let cmp = |o: CmpOp| -> Result<Expr, String> {
            arity(op, args, 2)?;
            super::binary(
                self.props,
                self.operand(&args[0], depth + 1)?,
                o,
                self.operand(&args[1], depth + 1)?,
            )
        };
        match op.to_ascii_lowercase().as_str() {
            "and" | "or" => {
                if args.len() < 2 {
                    return Err(format!("{op:?} takes at least 2 arguments"));
                }
                let list = args
                    .iter()
                    .map(|a| self.expr(a, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if op.eq_ignore_ascii_case("and") {
                    Expr::And(list)
                } else {
                    Expr::Or(list)
                })
            }
            "not" => {
                arity(op, args, 1)?;
                Ok(Expr::Not(Box::new(self.expr(&args[0], depth + 1)?)))
            }
            "=" => cmp(CmpOp::Eq),
            "<>" => cmp(CmpOp::Ne),
            "<" => cmp(CmpOp::Lt),
            "<=" => cmp(CmpOp::Le),
            ">" => cmp(CmpOp::Gt),
            ">=" => cmp(CmpOp::Ge),
            "like" => {
                arity(op, args, 2)?;
                super::like(
                    self.props,
                    self.operand(&args[0], depth + 1)?,
                    self.operand(&args[1], depth + 1)?,
                    false,
                )
            }
            "between" => {
                // CQL2 1.0: [subject, low, high]; drafts: [subject, [low, high]].
                let (low, high) = match args {
                    [_, low, high] => (low, high),
                    [_, Value::Array(r)] if r.len() == 2 => (&r[0], &r[1]),
                    _ => {
                        return Err(format!(
                            "\"between\" takes 3 arguments, found {}",
                            args.len()
                        ));
                    }
                };
                super::between(
                    self.props,
                    self.operand(&args[0], depth + 1)?,
                    self.operand(low, depth + 1)?,
                    self.operand(high, depth + 1)?,
                    false,
                )
            }
            "in" => {
                arity(op, args, 2)?;
                let Some(list) = args[1].as_array() else {
                    return Err("\"in\" needs an array of values as its second argument".into());
                };
                let list = list
                    .iter()
                    .map(|x| self.operand(x, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                super::in_list(self.props, self.operand(&args[0], depth + 1)?, list, false)
            }
            "isnull" => {
                arity(op, args, 1)?;
                super::is_null(self.operand(&args[0], depth + 1)?, false)
            }
            "s_intersects" => {
                arity(op, args, 2)?;
                super::intersects(
                    self.operand(&args[0], depth + 1)?,
                    self.operand(&args[1], depth + 1)?,
                )
            }
            _ => Err(super::unsupported_function(op)),
        }
    }

    fn operand(&self, v: &Value, depth: usize) -> Result<Operand, String> {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        Ok(match v {
            Value::String(s) => Operand::Lit(Literal::Text(s.clone()), Fold::default()),
            Value::Bool(b) => Operand::Lit(Literal::Bool(*b), Fold::default()),
            Value::Number(n) => Operand::Lit(
                Literal::Number(
                    n.as_f64()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| format!("{n} is not a finite number"))?,
                ),
                Fold::default(),
            ),
            Value::Object(o) if o.contains_key("property") => {
                let name = o.get("property").and_then(Value::as_str).unwrap_or("");
                match self.props.iter().position(|p| p.name == name) {
                    Some(i) => Operand::Prop(i, Fold::default()),
                    None if name == GEOMETRY => Operand::GeometryProp,
                    None => {
                        return Err(format!(
                            "unknown property {name:?}; queryables are {}, {GEOMETRY}",
                            self.props
                                .iter()
                                .map(|p| p.name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                }
            }
            Value::Object(o) if o.contains_key("type") || o.contains_key("bbox") => {
                Operand::Geometry(geometry::from_json(v, self.crs)?)
            }
            Value::Object(o)
                if o.contains_key("date")
                    || o.contains_key("timestamp")
                    || o.contains_key("interval") =>
            {
                return Err(super::unsupported_function("DATE"));
            }
            Value::Object(_) => {
                let Some((op, args)) = op_args(v) else {
                    return Err(format!(
                        "expected a property, a literal or a function, found {}",
                        short(v)
                    ));
                };
                let fold = match op.to_ascii_lowercase().as_str() {
                    "casei" => Fold {
                        case: true,
                        accent: false,
                    },
                    "accenti" => Fold {
                        case: false,
                        accent: true,
                    },
                    _ => return Err(super::unsupported_function(op)),
                };
                arity(op, args, 1)?;
                self.operand(&args[0], depth + 1)?
                    .folded(self.props, fold)?
            }
            Value::Null => return Err("null is not a value; use isNull".into()),
            Value::Array(_) => {
                return Err(
                    "a list of values is only allowed as the second argument of \"in\"".into(),
                );
            }
        })
    }
}

fn short(v: &Value) -> String {
    let t = v.to_string();
    match t.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t,
    }
}

/// Parses a CQL2-JSON filter over `props`, geometries in `crs`
/// (`filter-crs`). Errors are messages for a 400.
pub fn parse_json(text: &str, props: &[Property], crs: OgcCrs) -> Result<Expr, String> {
    if text.len() > MAX_FILTER_BYTES {
        return Err(format!(
            "the filter is {} bytes long; at most {MAX_FILTER_BYTES} are accepted",
            text.len()
        ));
    }
    let v: Value = serde_json::from_str(text).map_err(|e| {
        if e.to_string().contains("recursion limit") {
            too_deep()
        } else {
            format!("not CQL2-JSON: {e}")
        }
    })?;
    Reader { props, crs }.expr(&v, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LayerId;
    use crate::ogc::features::PropValue;
    use crate::ogc::queryables::properties;
    use geo::{Intersects, Point};

    fn cells(text: &str) -> Result<Expr, String> {
        parse_json(text, properties(LayerId::Cells), OgcCrs::Crs84)
    }

    #[test]
    fn json_equals_text() {
        for (json, text) in [
            (
                r#"{"op":"and","args":[{"op":">=","args":[{"property":"risk_score"},20]},{"op":"<","args":[{"property":"population"},500]}]}"#,
                "risk_score >= 20 AND population < 500",
            ),
            (
                r#"{"op":"in","args":[{"property":"risk_level"},["major","较大"]]}"#,
                "risk_level IN ('major', 'high')",
            ),
            (
                r#"{"op":"like","args":[{"property":"name"},"%社区%"]}"#,
                "name LIKE '%社区%'",
            ),
            (
                r#"{"op":"between","args":[{"property":"risk_score"},10,20]}"#,
                "risk_score BETWEEN 10 AND 20",
            ),
            (
                r#"{"op":"not","args":[{"op":"isNull","args":[{"property":"risk_score"}]}]}"#,
                "NOT risk_score IS NULL",
            ),
            (
                r#"{"op":"=","args":[{"op":"casei","args":[{"property":"name"}]},{"op":"casei","args":["ABC"]}]}"#,
                "CASEI(name) = CASEI('ABC')",
            ),
        ] {
            let props = properties(LayerId::Cells);
            assert_eq!(
                cells(json).unwrap(),
                super::super::parse(text, props).unwrap(),
                "{json}"
            );
        }
        let e = cells(
            r#"{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Polygon","coordinates":[[[118,24],[119,24],[119,25],[118,24]]]}]}"#,
        )
        .unwrap();
        let p = Point::new(118.9, 24.1);
        assert!(e.matches_feature(&|_| PropValue::Null, &|g| g.intersects(&p)));
        assert!(
            cells(
                r#"{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[118,24,119,25]}]}"#
            )
            .is_ok()
        );
    }

    #[test]
    fn refusals_name_the_construct() {
        for (bad, named) in [
            (r#"{"op":"s_within","args":[]}"#, "S_WITHIN"),
            (r#"{"op":"t_after","args":[]}"#, "T_AFTER"),
            (r#"{"op":"+","args":[1,2]}"#, "+"),
            (
                r#"{"op":"=","args":[{"property":"name"},{"date":"2024-01-01"}]}"#,
                "DATE",
            ),
            (
                r#"{"op":"=","args":[{"property":"nope"},1]}"#,
                "unknown property",
            ),
            (r#"[1,2]"#, "expected an object"),
            (r#"{"op":"=","args":[1]}"#, "2 arguments"),
        ] {
            let e = cells(bad).unwrap_err();
            assert!(e.contains(named), "{bad}: {e}");
        }
    }

    #[test]
    fn deep_json_is_refused() {
        let mut deep = r#"{"op":"=","args":[{"property":"code"},"1"]}"#.to_string();
        for _ in 0..100 {
            deep = format!(r#"{{"op":"not","args":[{deep}]}}"#);
        }
        assert!(cells(&deep).unwrap_err().contains("64"));
        let brackets = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(cells(&brackets).is_err());
        let nested = format!(
            "{}{}",
            r#"{"op":"not","args":["#.repeat(5000),
            "]}".repeat(5000)
        );
        assert!(cells(&nested).is_err());
        // Under the length limit but past serde_json's own nesting limit.
        let short = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(cells(&short).unwrap_err().contains("64"));
    }
}
