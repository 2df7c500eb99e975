//! Selecting, paging and writing features: what the caller's [`Scope`]
//! sees, `bbox`, filters, `sortby`, the page, and the FeatureCollection
//! written in chunks so a large page never sits in memory as one string.

use super::OgcError;
use super::crs::OgcCrs;
use super::features::{Ctx, PropValue};
use super::links::{BaseUrl, Link, query_string};
use super::params::ItemsParams;
use super::queryables::{properties, properties_for};
use super::{DEFAULT_LIMIT, GEOJSON, JSON, MAX_LIMIT};
use crate::auth::{Denied, Scope};
use crate::datetime::parse_datetime;
use crate::index::aabb;
use crate::model::LayerId;
use geo::{Geometry, Intersects, Rect, coord};
use std::cmp::Ordering;

impl From<Denied> for OgcError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::NeedsToken(m) => OgcError::Unauthorized(m),
            Denied::OutOfScope(m) => OgcError::Forbidden(m),
        }
    }
}

/// The features a request matched and the page of them to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// `numberMatched`.
    pub matched: usize,
    /// The page, in order.
    pub page: Vec<u32>,
}

fn intersects_box(ctx: &Ctx<'_>, layer: LayerId, index: u32, b: &[f64; 4]) -> bool {
    let rect = Rect::new(coord! { x: b[0], y: b[1] }, coord! { x: b[2], y: b[3] });
    intersects_geometry(ctx, layer, index, &Geometry::Rect(rect))
}

/// Whether the geometry of a feature intersects a lon/lat geometry (a
/// filter's `S_INTERSECTS` literal).
fn intersects_geometry(ctx: &Ctx<'_>, layer: LayerId, index: u32, g: &Geometry<f64>) -> bool {
    let ds = &ctx.store.dataset;
    let i = index as usize;
    match layer {
        LayerId::Enterprises => ds
            .enterprises
            .get(i)
            .is_some_and(|e| g.intersects(&e.location)),
        LayerId::HazardSources => ds
            .hazard_sources
            .get(i)
            .is_some_and(|h| g.intersects(&h.location)),
        LayerId::CollapseZones => ds
            .collapse_zones
            .get(i)
            .is_some_and(|z| g.intersects(&z.geometry)),
        LayerId::HiddenDangers => ctx
            .store
            .dangers()
            .get(index)
            .is_some_and(|e| g.intersects(&e.record.location)),
        LayerId::Sensors => ctx
            .store
            .alarms()
            .sensors()
            .get(i)
            .is_some_and(|s| g.intersects(&s.location)),
        LayerId::Alarms => ctx
            .store
            .alarms()
            .get(index)
            .is_some_and(|e| g.intersects(&e.record.location)),
        _ => ds.units.get(i).is_some_and(|u| g.intersects(&u.geometry)),
    }
}

/// Features of `layer` whose geometry intersects one of the boxes, in id order.
fn in_boxes(ctx: &Ctx<'_>, layer: LayerId, boxes: &[[f64; 4]]) -> Vec<u32> {
    let mut out = Vec::new();
    for b in boxes {
        let env = aabb(b[0], b[1], b[2], b[3]);
        let store = ctx.store;
        let found: Vec<u32> = match layer {
            LayerId::Enterprises => store.enterprises_in_envelope(&env).collect(),
            LayerId::HazardSources => store.hazards_in_envelope(&env).collect(),
            LayerId::CollapseZones => store.zones_in_envelope(&env).collect(),
            LayerId::HiddenDangers => store.dangers().in_envelope(store, &env),
            LayerId::Sensors => store.alarms().sensors_in_envelope(&env),
            LayerId::Alarms => store.alarms().in_envelope(&env),
            _ => match layer.level() {
                Some(level) => store.units_in_envelope(level, &env).collect(),
                None => Vec::new(),
            },
        };
        out.extend(
            found
                .into_iter()
                .filter(|&i| intersects_box(ctx, layer, i, b)),
        );
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn order(a: PropValue<'_>, b: PropValue<'_>) -> Ordering {
    match (a, b) {
        (PropValue::Null, PropValue::Null) => Ordering::Equal,
        (PropValue::Null, _) => Ordering::Greater,
        (_, PropValue::Null) => Ordering::Less,
        (PropValue::Str(x), PropValue::Str(y)) => x.cmp(y),
        (PropValue::Bool(x), PropValue::Bool(y)) => x.cmp(&y),
        (x, y) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => Ordering::Equal,
        },
    }
}

/// The property `datetime` narrows a layer by: a hidden danger's
/// `found_at` day, an alarm's `started_at` moment.
fn time_property(layer: LayerId) -> Option<&'static str> {
    match layer {
        LayerId::HiddenDangers => Some("found_at"),
        LayerId::Alarms => Some("started_at"),
        _ => None,
    }
}

/// Selects the features of `layer` that `scope` sees and `params` match,
/// sorts them (by `sortby`, then id order) and cuts the page.
pub fn select(ctx: &Ctx<'_>, layer: LayerId, scope: Scope, params: &ItemsParams) -> Selection {
    let candidates = match &params.bbox {
        Some(boxes) => in_boxes(ctx, layer, boxes),
        None => ctx.all(layer),
    };
    let props = properties(layer);
    let mut ids: Vec<u32> =
        candidates
            .into_iter()
            .filter(|&i| scope.sees_feature(ctx.store, layer, i))
            .filter(|&i| match (&params.datetime, time_property(layer)) {
                (Some(wanted), Some(name)) => props
                    .iter()
                    .find(|prop| prop.name == name)
                    .is_some_and(|prop| match ctx.value(layer, i, prop) {
                        PropValue::Str(day) => {
                            parse_datetime(day).is_ok_and(|d| d.intersects(wanted))
                        }
                        _ => false,
                    }),
                _ => true,
            })
            .filter(|&i| {
                params.filter.as_ref().is_none_or(|f| {
                    f.matches_feature(
                        &|p| {
                            props
                                .get(p)
                                .map_or(PropValue::Null, |prop| ctx.value(layer, i, prop))
                        },
                        &|g| intersects_geometry(ctx, layer, i, g),
                    )
                })
            })
            .collect();
    if !params.sort.is_empty() {
        ids.sort_by(|&a, &b| {
            for key in &params.sort {
                let Some(prop) = props.get(key.prop) else {
                    continue;
                };
                let o = order(ctx.value(layer, a, prop), ctx.value(layer, b, prop));
                let o = if key.descending { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            a.cmp(&b)
        });
    }
    let matched = ids.len();
    let start = params.offset.min(matched);
    let end = start.saturating_add(params.limit).min(matched);
    Selection {
        matched,
        page: ids[start..end].to_vec(),
    }
}

/// The feature `fid` of `layer` if `scope` sees it: for a grid manager
/// any private id outside its scope, known or not, is a 403; then unknown
/// ids are a 404.
pub fn find(ctx: &Ctx<'_>, layer: LayerId, scope: Scope, fid: &str) -> Result<u32, OgcError> {
    scope.open(layer)?;
    let found = ctx.find(layer, fid);
    let hidden = match found {
        Some(i) => !scope.sees_feature(ctx.store, layer, i),
        // Unknown and outside look alike to a grid manager (403 both).
        None => layer.is_private() && scope != Scope::All,
    };
    if hidden {
        return Err(OgcError::Forbidden(format!(
            "{layer} {fid:?} is outside this token's grid unit"
        )));
    }
    found.ok_or_else(|| OgcError::NotFound(format!("no feature {fid:?} in collection {layer}")))
}

/// The page size a `next` link asks for after a page of `limit`: pages of
/// 10, 100 and 1,000 (the default page size and its tenfold steps) grow
/// tenfold up to [`MAX_LIMIT`], so a client that keeps the default page
/// size and follows `next` links (GDAL 3.6 asks for 10 and ignores the
/// OpenAPI maximum) reads a large collection in a handful of requests. Any
/// other page size is kept.
pub fn next_limit(limit: usize) -> usize {
    let mut step = DEFAULT_LIMIT;
    while step < MAX_LIMIT {
        if limit == step {
            return (step * 10).min(MAX_LIMIT);
        }
        step *= 10;
    }
    limit
}

/// The `self`, `alternate`-free paging links of an items page.
pub fn page_links(
    base: &BaseUrl,
    layer: LayerId,
    params: &ItemsParams,
    sel: &Selection,
) -> Vec<Link> {
    let path = format!("/collections/{layer}/items");
    let url_with = |offset: usize, limit: usize| {
        format!(
            "{}{}",
            base.ogc(&path),
            query_string(&params.pairs_at_with(offset, limit))
        )
    };
    let url = |offset: usize| url_with(offset, params.limit);
    let mut links = vec![
        Link::new(url(params.offset), "self", GEOJSON, "this page"),
        Link::new(
            base.ogc(&format!("/collections/{layer}")),
            "collection",
            JSON,
            layer.label_zh(),
        ),
    ];
    let returned = sel.page.len();
    if params.offset.saturating_add(returned) < sel.matched {
        links.push(Link::new(
            url_with(params.offset + returned, next_limit(params.limit)),
            "next",
            GEOJSON,
            "next page",
        ));
    }
    if params.offset > 0 {
        links.push(Link::new(
            url(params.offset.saturating_sub(params.limit)),
            "prev",
            GEOJSON,
            "previous page",
        ));
    }
    links
}

/// The FeatureCollection up to the opening of its `features` array.
pub fn collection_head(sel: &Selection, time_stamp: &str, links: &[Link]) -> String {
    let links = serde_json::to_string(links).unwrap_or_else(|_| "[]".into());
    format!(
        "{{\"type\":\"FeatureCollection\",\"numberMatched\":{},\"numberReturned\":{},\"timeStamp\":\"{time_stamp}\",\"links\":{links},\"features\":[",
        sel.matched,
        sel.page.len()
    )
}

/// What closes the FeatureCollection after its features.
pub const COLLECTION_TAIL: &str = "]}";

/// A page's features being written, a chunk at a time: the inside of the
/// `features` array, a comma before each feature but the page's first.
#[derive(Debug)]
pub struct PageWriter {
    layer: LayerId,
    page: Vec<u32>,
    crs: OgcCrs,
    props: Vec<usize>,
    next: usize,
}

impl PageWriter {
    /// A writer of `page` (feature positions in `layer`) in `crs` with the
    /// properties at positions `props`.
    pub fn new(layer: LayerId, page: Vec<u32>, crs: OgcCrs, props: Vec<usize>) -> Self {
        PageWriter {
            layer,
            page,
            crs,
            props,
            next: 0,
        }
    }

    /// Whether every feature has been written.
    pub fn done(&self) -> bool {
        self.next >= self.page.len()
    }

    /// Writes the next features to `buf` until it holds at least
    /// `chunk_bytes` or the page ends.
    pub fn write_chunk(&mut self, ctx: &Ctx<'_>, chunk_bytes: usize, buf: &mut String) {
        while let Some(&i) = self.page.get(self.next) {
            if self.next > 0 {
                buf.push(',');
            }
            ctx.write_feature(buf, self.layer, i, self.crs, &self.props);
            self.next += 1;
            if buf.len() >= chunk_bytes {
                break;
            }
        }
    }
}

/// One feature as a GeoJSON document with its `self` and `collection` links.
pub fn feature_document(
    ctx: &Ctx<'_>,
    base: &BaseUrl,
    layer: LayerId,
    index: u32,
    crs: OgcCrs,
) -> String {
    let mut out = String::new();
    let all: Vec<usize> = (0..properties_for(layer, ctx.scope).len()).collect();
    ctx.write_feature(&mut out, layer, index, crs, &all);
    out.pop();
    let fid = ctx.id(layer, index);
    let enc = super::links::path_segment(fid);
    let links = [
        Link::new(
            base.ogc(&format!("/collections/{layer}/items/{enc}")),
            "self",
            GEOJSON,
            "this feature",
        ),
        Link::new(
            base.ogc(&format!("/collections/{layer}")),
            "collection",
            JSON,
            layer.label_zh(),
        ),
    ];
    out.push_str(",\"links\":");
    out.push_str(&serde_json::to_string(&links).unwrap_or_else(|_| "[]".into()));
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_pages_grow_from_the_default_size() {
        assert_eq!(next_limit(10), 100);
        assert_eq!(next_limit(100), 1000);
        assert_eq!(next_limit(1000), 10_000);
        assert_eq!(next_limit(10_000), 10_000);
        for kept in [1, 2, 20, 500, 9999] {
            assert_eq!(next_limit(kept), kept);
        }
    }

    #[test]
    fn a_page_written_in_chunks_is_the_page_written_at_once() {
        use crate::auth::Scope;
        use crate::index::Store;
        use crate::model::{Dataset, Industry, RiskLevel};
        use crate::risk::fixtures::{X0, Y0, enterprise, grid4x4};
        let store = Store::build(Dataset {
            units: grid4x4(),
            enterprises: (0..12)
                .map(|i| {
                    let d = f64::from(i) * 0.001;
                    enterprise(
                        &format!("E-{i}"),
                        X0 + d,
                        Y0 + d,
                        Industry::Gas,
                        RiskLevel::Major,
                    )
                })
                .collect(),
            ..Dataset::default()
        });
        let risk = crate::risk::score_all(&store, &crate::risk::RiskParams::default());
        let ctx = Ctx {
            store: &store,
            risk: &risk,
            scope: Scope::All,
        };
        for layer in [LayerId::Cells, LayerId::Enterprises] {
            let n = if layer == LayerId::Cells { 16 } else { 12 };
            let page: Vec<u32> = (0..n).rev().collect();
            let props: Vec<usize> = (0..properties_for(layer, Scope::All).len()).collect();
            let mut whole = String::new();
            let mut w = PageWriter::new(layer, page.clone(), OgcCrs::Crs84, props.clone());
            w.write_chunk(&ctx, usize::MAX, &mut whole);
            assert!(w.done());
            let mut chunked = String::new();
            let mut w = PageWriter::new(layer, page, OgcCrs::Crs84, props);
            let mut chunks = 0;
            while !w.done() {
                let mut buf = String::new();
                w.write_chunk(&ctx, 1, &mut buf);
                chunked.push_str(&buf);
                chunks += 1;
            }
            // One feature a chunk, and the same text.
            assert_eq!(chunks, n);
            assert_eq!(chunked, whole);
            let doc: serde_json::Value =
                serde_json::from_str(&format!("[{whole}]")).expect("features");
            assert_eq!(doc.as_array().map(Vec::len), Some(n as usize));
        }
    }
}
