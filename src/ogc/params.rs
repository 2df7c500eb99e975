//! The query parameters of `/collections/{id}/items`: every malformed or
//! unknown one is a 400 that names it.

use super::OgcError;
use super::cql2::{self, CmpOp, Expr, Literal};
use super::crs::{OgcCrs, parse_bbox};
use super::queryables::{Kind, Property, properties_for};
use super::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::auth::Scope;
use crate::datetime::{Interval, parse_datetime};
use crate::model::LayerId;

/// The parameters every items request may carry, besides the collection's
/// queryables.
pub const KNOWN: [&str; 12] = [
    "f",
    "bbox",
    "bbox-crs",
    "crs",
    "limit",
    "offset",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "properties",
];

/// One `sortby` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    /// Position of the property in the collection's properties.
    pub prop: usize,
    /// `-name`: largest first.
    pub descending: bool,
}

/// A parsed items request.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemsParams {
    /// Page size (1 to [`MAX_LIMIT`]).
    pub limit: usize,
    /// Features skipped before the page.
    pub offset: usize,
    /// Lon/lat boxes `[w, s, e, n]` a feature must intersect (two when the
    /// box crosses the antimeridian).
    pub bbox: Option<Vec<[f64; 4]>>,
    /// Output CRS.
    pub crs: OgcCrs,
    /// The `filter` and the property filters, all of which must hold.
    pub filter: Option<Expr>,
    /// Sort keys, most significant first (then by feature id).
    pub sort: Vec<SortKey>,
    /// Positions of the properties to write.
    pub properties: Vec<usize>,
    /// `datetime`: hidden dangers whose `found_at` day meets it, alarms
    /// whose `started_at` moment does (grid units
    /// are answered as of that day by the server; other layers have no
    /// time and are not narrowed).
    pub datetime: Option<Interval>,
    /// The request's own parameters, for `self`/`next`/`prev` links.
    pub pairs: Vec<(String, String)>,
}

/// Decodes a raw query string into pairs; a parameter given twice is a 400.
pub fn pairs(query: Option<&str>) -> Result<Vec<(String, String)>, OgcError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if out.iter().any(|(seen, _)| *seen == k) {
            return Err(OgcError::param(&k, "given more than once"));
        }
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

fn get<'q>(pairs: &'q [(String, String)], name: &str) -> Option<&'q str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The most entries a `sortby` or `properties` list may have.
pub const MAX_LIST: usize = 64;

/// A whole number ≥ 0 written in decimal digits (an optional `+` first),
/// saturating at `u64::MAX` however many digits it has.
fn whole(t: &str) -> Option<u64> {
    let d = t.trim();
    let d = d.strip_prefix('+').unwrap_or(d);
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(d.parse::<u64>().unwrap_or(u64::MAX))
}

/// `limit`: default 10, < 1 or not a whole number → 400, above 10,000
/// (however large) clamped.
pub fn limit(raw: Option<&str>) -> Result<usize, OgcError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(t) => match whole(t) {
            Some(0) | None => Err(OgcError::param(
                "limit",
                format!("must be a whole number ≥ 1, found {t:?}"),
            )),
            Some(n) => Ok(n.min(MAX_LIMIT as u64) as usize),
        },
    }
}

/// `offset`: default 0; not a whole number → 400; past the end (however
/// large) is an empty page.
fn offset(raw: Option<&str>) -> Result<usize, OgcError> {
    match raw {
        None => Ok(0),
        Some(t) => whole(t)
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
            .ok_or_else(|| {
                OgcError::param("offset", format!("must be a whole number ≥ 0, found {t:?}"))
            }),
    }
}

/// The CRS of filter geometries (`filter-crs`, CRS84 when absent).
fn filter_crs(raw: Option<&str>) -> Result<OgcCrs, OgcError> {
    raw.map_or(Ok(OgcCrs::Crs84), |c| OgcCrs::parse("filter-crs", c))
}

/// `filter-lang`: `cql2-text` (the default) or `cql2-json`; true for JSON.
fn filter_is_json(raw: Option<&str>) -> Result<bool, OgcError> {
    match raw.map(|l| l.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(l) if l == "cql2-text" => Ok(false),
        Some(l) if l == "cql2-json" => Ok(true),
        Some(_) => Err(OgcError::param(
            "filter-lang",
            format!(
                "unsupported filter language {:?}; use cql2-text or cql2-json",
                raw.unwrap_or("")
            ),
        )),
    }
}

/// The output CRS of `crs` (CRS84 when absent); also used by `/items/{fid}`.
pub fn output_crs(raw: Option<&str>) -> Result<OgcCrs, OgcError> {
    raw.map_or(Ok(OgcCrs::Crs84), |c| OgcCrs::parse("crs", c))
}

/// `f`: only JSON encodings are offered.
pub fn format(raw: Option<&str>) -> Result<(), OgcError> {
    match raw.map(str::trim) {
        None | Some("json" | "geojson" | "application/json" | "application/geo+json") => Ok(()),
        Some(other) => Err(OgcError::param(
            "f",
            format!("unsupported format {other:?}; use json"),
        )),
    }
}

/// Checks the parameters that do not depend on the collection (for a
/// collection id that may not exist: 400 comes before 404).
pub fn check_common(pairs: &[(String, String)]) -> Result<(), OgcError> {
    format(get(pairs, "f"))?;
    limit(get(pairs, "limit"))?;
    offset(get(pairs, "offset"))?;
    output_crs(get(pairs, "crs"))?;
    filter_crs(get(pairs, "filter-crs"))?;
    let bbox_crs = match get(pairs, "bbox-crs") {
        Some(c) => OgcCrs::parse("bbox-crs", c)?,
        None => OgcCrs::Crs84,
    };
    if let Some(b) = get(pairs, "bbox") {
        parse_bbox(b, bbox_crs)?;
    }
    filter_is_json(get(pairs, "filter-lang"))?;
    if let Some(f) = get(pairs, "filter")
        && f.len() > cql2::MAX_FILTER_BYTES
    {
        return Err(OgcError::param(
            "filter",
            format!(
                "the filter is {} bytes long; at most {} are accepted",
                f.len(),
                cql2::MAX_FILTER_BYTES
            ),
        ));
    }
    if let Some(d) = get(pairs, "datetime") {
        parse_datetime(d).map_err(|m| OgcError::param("datetime", m))?;
    }
    Ok(())
}

/// A simple property filter `?name=value`, typed by the property.
fn equals(props: &[Property], prop: usize, raw: &str) -> Result<Expr, OgcError> {
    let name = props.get(prop).map_or("", |p| p.name);
    let bad = |what: &str| OgcError::param(name, format!("{raw:?} is not {what}"));
    let lit = match props.get(prop).map(|p| p.kind) {
        Some(Kind::Integer { .. } | Kind::Number { .. }) => Literal::Number(
            raw.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad("a number"))?,
        ),
        Some(Kind::Boolean) => Literal::Bool(match raw.trim() {
            "true" | "1" | "是" => true,
            "false" | "0" | "否" => false,
            _ => return Err(bad("a boolean (true or false)")),
        }),
        _ => Literal::Text(raw.to_string()),
    };
    cql2::compare(props, prop, CmpOp::Eq, lit).map_err(|m| OgcError::param(name, m))
}

/// A comma-separated list of at most [`MAX_LIST`] entries.
fn list<'r>(param: &str, raw: &'r str) -> Result<Vec<&'r str>, OgcError> {
    let items: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .take(MAX_LIST + 1)
        .collect();
    if items.len() > MAX_LIST {
        return Err(OgcError::param(
            param,
            format!("at most {MAX_LIST} entries are accepted"),
        ));
    }
    Ok(items)
}

/// Refuses a property named twice in `param`.
fn once(param: &str, props: &[Property], seen: &[usize], prop: usize) -> Result<(), OgcError> {
    if seen.contains(&prop) {
        let name = props.get(prop).map_or("", |p| p.name);
        return Err(OgcError::param(param, format!("{name} is named twice")));
    }
    Ok(())
}

fn property(props: &[Property], param: &str, name: &str) -> Result<usize, OgcError> {
    props.iter().position(|p| p.name == name).ok_or_else(|| {
        OgcError::param(
            param,
            format!("unknown property {name:?}; properties are {}", names(props)),
        )
    })
}

fn names(props: &[Property]) -> String {
    props.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}

impl ItemsParams {
    /// Parses an items request for `layer` as a caller who sees every
    /// property (a planner).
    pub fn parse(layer: LayerId, pairs: Vec<(String, String)>) -> Result<ItemsParams, OgcError> {
        Self::parse_for(layer, Scope::All, pairs)
    }

    /// Parses an items request for `layer` from a caller with `scope`:
    /// only the properties it sees ([`properties_for`]) may be filtered,
    /// sorted and selected, and by default it gets those.
    pub fn parse_for(
        layer: LayerId,
        scope: Scope,
        pairs: Vec<(String, String)>,
    ) -> Result<ItemsParams, OgcError> {
        check_common(&pairs)?;
        let props = properties_for(layer, scope);
        let mut filters = Vec::new();
        for (k, v) in &pairs {
            if KNOWN.contains(&k.as_str()) {
                continue;
            }
            match props.iter().position(|p| p.name == k.as_str()) {
                Some(p) => filters.push(equals(props, p, v)?),
                None => {
                    return Err(OgcError::BadRequest(format!(
                        "unknown query parameter {k:?}; known are {} and the queryables {}",
                        KNOWN.join(", "),
                        names(props)
                    )));
                }
            }
        }
        if let Some(text) = get(&pairs, "filter") {
            let crs = filter_crs(get(&pairs, "filter-crs"))?;
            let e = if filter_is_json(get(&pairs, "filter-lang"))? {
                cql2::parse_json(text, props, crs).map_err(|e| OgcError::param("filter", e))?
            } else {
                cql2::parse_in(text, props, crs).map_err(|e| OgcError::param("filter", e))?
            };
            filters.push(e);
        }
        let filter = match filters.len() {
            0 => None,
            1 => filters.pop(),
            _ => Some(Expr::And(filters)),
        };
        let bbox_crs = match get(&pairs, "bbox-crs") {
            Some(c) => OgcCrs::parse("bbox-crs", c)?,
            None => OgcCrs::Crs84,
        };
        let bbox = get(&pairs, "bbox")
            .map(|b| parse_bbox(b, bbox_crs))
            .transpose()?;
        let mut sort: Vec<SortKey> = Vec::new();
        if let Some(raw) = get(&pairs, "sortby") {
            for key in list("sortby", raw)? {
                let (descending, name) = match key.strip_prefix('-') {
                    Some(n) => (true, n),
                    None => (false, key.strip_prefix('+').unwrap_or(key)),
                };
                let prop = property(props, "sortby", name)?;
                let seen: Vec<usize> = sort.iter().map(|k| k.prop).collect();
                once("sortby", props, &seen, prop)?;
                sort.push(SortKey { prop, descending });
            }
        }
        let properties = match get(&pairs, "properties") {
            None => (0..props.len()).collect(),
            Some(raw) => {
                let mut out: Vec<usize> = Vec::new();
                for name in list("properties", raw)? {
                    let prop = property(props, "properties", name)?;
                    once("properties", props, &out, prop)?;
                    out.push(prop);
                }
                out
            }
        };
        let datetime = get(&pairs, "datetime")
            .map(parse_datetime)
            .transpose()
            .map_err(|m| OgcError::param("datetime", m))?;
        Ok(ItemsParams {
            limit: limit(get(&pairs, "limit"))?,
            offset: offset(get(&pairs, "offset"))?,
            bbox,
            crs: output_crs(get(&pairs, "crs"))?,
            filter,
            sort,
            properties,
            datetime,
            pairs,
        })
    }

    /// The request's parameters with `offset` replaced (for paging links).
    pub fn pairs_at(&self, offset: usize) -> Vec<(String, String)> {
        self.pairs_at_with(offset, self.limit)
    }

    /// The request's parameters with `offset` and `limit` replaced.
    pub fn pairs_at_with(&self, offset: usize, limit: usize) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .pairs
            .iter()
            .filter(|(k, _)| k != "offset" && k != "limit")
            .cloned()
            .collect();
        out.push(("limit".into(), limit.to_string()));
        if offset > 0 {
            out.push(("offset".into(), offset.to_string()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(layer: LayerId, q: &str) -> Result<ItemsParams, OgcError> {
        ItemsParams::parse(layer, pairs(Some(q))?)
    }

    #[test]
    fn defaults_and_limits() {
        let p = parse(LayerId::Cells, "").unwrap();
        assert_eq!((p.limit, p.offset, p.crs), (10, 0, OgcCrs::Crs84));
        assert_eq!(
            p.properties.len(),
            super::super::queryables::properties(LayerId::Cells).len()
        );
        assert_eq!(parse(LayerId::Cells, "limit=99999").unwrap().limit, 10_000);
        for huge in [
            "limit=99999999999999999999999999",
            "limit=%2B18446744073709551616",
        ] {
            assert_eq!(parse(LayerId::Cells, huge).unwrap().limit, 10_000, "{huge}");
        }
        assert_eq!(
            parse(LayerId::Cells, "offset=99999999999999999999999999")
                .unwrap()
                .offset,
            usize::MAX
        );
        for bad in [
            "limit=0",
            "limit=-1",
            "limit=ten",
            "limit=",
            "offset=-1",
            "offset=x",
            "limit=1e3",
            "limit=0000",
            "offset=1.5",
        ] {
            assert!(parse(LayerId::Cells, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_and_duplicate_parameters() {
        let e = parse(LayerId::Cells, "colour=red").unwrap_err();
        assert!(
            matches!(&e, OgcError::BadRequest(m) if m.contains("colour")),
            "{e}"
        );
        assert!(parse(LayerId::Cells, "limit=1&limit=2").is_err());
        assert!(parse(LayerId::Cells, "industry=gas").is_err());
        assert!(parse(LayerId::Enterprises, "industry=gas").is_ok());
    }

    #[test]
    fn property_filters_are_typed() {
        assert!(parse(LayerId::Cells, "risk_level=major").is_ok());
        assert!(parse(LayerId::Cells, "risk_level=%E9%87%8D%E5%A4%A7").is_ok());
        assert!(parse(LayerId::Cells, "risk_level=extreme").is_err());
        assert!(parse(LayerId::HazardSources, "grade=1").is_ok());
        assert!(parse(LayerId::HazardSources, "grade=one").is_err());
        assert!(parse(LayerId::Enterprises, "blacklisted=true").is_ok());
        assert!(parse(LayerId::Enterprises, "blacklisted=maybe").is_err());
        let p = parse(LayerId::Towns, "level=town&filter=population%3E10").unwrap();
        assert!(matches!(p.filter, Some(Expr::And(ref v)) if v.len() == 2));
    }

    #[test]
    fn other_parameters() {
        assert!(parse(LayerId::Cells, "filter-lang=cql2-json&filter=code='1'").is_err());
        assert!(
            parse(
                LayerId::Cells,
                "filter-lang=cql2-json&filter=%7B%22op%22%3A%22%3D%22%2C%22args%22%3A%5B%7B%22property%22%3A%22code%22%7D%2C%221%22%5D%7D"
            )
            .is_ok()
        );
        assert!(parse(LayerId::Cells, "filter-lang=ecql&filter=code='1'").is_err());
        let long = format!("filter={}", "(".repeat(9000));
        assert!(parse(LayerId::Cells, &long).is_err());
        assert!(
            parse(
                LayerId::Cells,
                "filter-crs=EPSG:4326&filter=S_INTERSECTS(geometry,POINT(24.9 118.6))"
            )
            .is_ok()
        );
        for bad_time in ["garbage", "2024-02-30", "2024-05-01/2024-04-01", ""] {
            let e = parse(LayerId::Cells, &format!("datetime={bad_time}")).unwrap_err();
            assert!(e.to_string().contains("datetime"), "{bad_time}: {e}");
        }
        let p = parse(LayerId::Cells, "datetime=2024-05-01/..").unwrap();
        assert_eq!(p.datetime.map(|d| d.end), Some(None));
        let many = vec!["code"; 10_000].join(",");
        for key in ["sortby", "properties"] {
            let e = parse(LayerId::Cells, &format!("{key}={many}")).unwrap_err();
            assert!(e.to_string().contains(key), "{e}");
            assert!(parse(LayerId::Cells, &format!("{key}=code,name,code")).is_err());
        }
        assert!(parse(LayerId::Cells, "filter=code%3D").is_err());
        assert!(parse(LayerId::Cells, "f=html").is_err());
        assert!(parse(LayerId::Cells, "f=json&datetime=2024-01-01T00:00:00Z").is_ok());
        let p = parse(
            LayerId::Cells,
            "sortby=-risk_score,code&properties=code,risk_level",
        )
        .unwrap();
        assert_eq!(p.sort.len(), 2);
        assert!(p.sort[0].descending && !p.sort[1].descending);
        assert_eq!(p.properties.len(), 2);
        assert!(parse(LayerId::Cells, "sortby=colour").is_err());
        assert!(parse(LayerId::Cells, "properties=colour").is_err());
        let p = parse(
            LayerId::Cells,
            "bbox=24,118,25,119&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326",
        )
        .unwrap();
        assert_eq!(p.bbox, Some(vec![[118.0, 24.0, 119.0, 25.0]]));
        assert!(parse(LayerId::Cells, "crs=EPSG:9999").is_err());
        let p = parse(LayerId::Cells, "limit=5&offset=10&risk_level=low").unwrap();
        assert_eq!(
            p.pairs_at(15),
            vec![
                ("risk_level".to_string(), "low".to_string()),
                ("limit".into(), "5".into()),
                ("offset".into(), "15".into())
            ]
        );
    }
}
