//! The landing page, conformance declaration and collection metadata.

use super::crs::OgcCrs;
use super::features::Ctx;
use super::links::{BaseUrl, Link};
use super::{CONFORMANCE, GEOJSON, HTML, JSON, OPENAPI, SCHEMA};
use crate::auth::Scope;
use crate::model::LayerId;
use geo::BoundingRect;
use serde_json::{Value, json};

/// The relation of a collection's queryables link.
pub const REL_QUERYABLES: &str = "http://www.opengis.net/def/rel/ogc/1.0/queryables";

/// `/ogc`: title and the links clients start from.
pub fn landing(base: &BaseUrl) -> Value {
    let links = [
        Link::new(base.ogc(""), "self", JSON, "this document"),
        Link::new(
            base.ogc("/api"),
            "service-desc",
            OPENAPI,
            "the API definition (OpenAPI 3.0)",
        ),
        Link::new(
            base.ogc("/api.html"),
            "service-doc",
            HTML,
            "the API documentation",
        ),
        Link::new(
            base.ogc("/conformance"),
            "conformance",
            JSON,
            "conformance classes",
        ),
        Link::new(base.ogc("/collections"), "data", JSON, "the collections"),
    ];
    json!({
        "title": "城市安全风险电子地图 — OGC API – Features",
        "description": "Grid units with their risk scores (区县, 乡镇/街道, 村/社区, 单元网格), road-collapse risk zones, and, with a token, enterprises, major hazard sources, hidden dangers, monitoring sensors and alarms.",
        "links": links,
    })
}

/// `/ogc/conformance`.
pub fn conformance() -> Value {
    json!({ "conformsTo": CONFORMANCE })
}

/// The CRS84 envelope `[w, s, e, n]` of the features of a layer that
/// `scope` sees, if any (its corners would otherwise place the outermost
/// private features outside a grid manager's scope).
pub fn extent(ctx: &Ctx<'_>, layer: LayerId, scope: Scope) -> Option<[f64; 4]> {
    let seen = |i: usize| scope.sees_feature(ctx.store, layer, i as u32);
    let ds = &ctx.store.dataset;
    let mut acc: Option<[f64; 4]> = None;
    let mut add = |w: f64, s: f64, e: f64, n: f64| {
        acc = Some(match acc {
            None => [w, s, e, n],
            Some(a) => [a[0].min(w), a[1].min(s), a[2].max(e), a[3].max(n)],
        });
    };
    match layer {
        LayerId::Enterprises => ds
            .enterprises
            .iter()
            .enumerate()
            .filter(|(i, _)| seen(*i))
            .for_each(|(_, e)| {
                add(
                    e.location.x(),
                    e.location.y(),
                    e.location.x(),
                    e.location.y(),
                )
            }),
        LayerId::HazardSources => ds
            .hazard_sources
            .iter()
            .enumerate()
            .filter(|(i, _)| seen(*i))
            .for_each(|(_, h)| {
                add(
                    h.location.x(),
                    h.location.y(),
                    h.location.x(),
                    h.location.y(),
                )
            }),
        LayerId::CollapseZones => ds
            .collapse_zones
            .iter()
            .filter_map(|z| z.geometry.bounding_rect())
            .for_each(|r| add(r.min().x, r.min().y, r.max().x, r.max().y)),
        LayerId::HiddenDangers => ctx
            .store
            .dangers()
            .iter()
            .filter(|(i, _)| seen(*i as usize))
            .for_each(|(_, e)| {
                let p = e.record.location;
                add(p.x(), p.y(), p.x(), p.y())
            }),
        LayerId::Sensors => ctx
            .store
            .alarms()
            .sensors()
            .iter()
            .enumerate()
            .filter(|(i, _)| seen(*i))
            .for_each(|(_, s)| {
                add(
                    s.location.x(),
                    s.location.y(),
                    s.location.x(),
                    s.location.y(),
                )
            }),
        LayerId::Alarms => ctx
            .store
            .alarms()
            .iter()
            .filter(|(i, _)| seen(*i as usize))
            .for_each(|(_, e)| {
                let p = e.record.location;
                add(p.x(), p.y(), p.x(), p.y())
            }),
        _ => {
            if let Some(level) = layer.level() {
                ctx.store
                    .units_at(level)
                    .iter()
                    .filter_map(|&u| ctx.store.unit(u).geometry.bounding_rect())
                    .for_each(|r| add(r.min().x, r.min().y, r.max().x, r.max().y));
            }
        }
    }
    acc
}

fn description(layer: LayerId) -> String {
    let what = match layer {
        LayerId::Enterprises => {
            "生产经营单位 — enterprises of the work-safety ledger (requires a token)"
        }
        LayerId::HazardSources => "重大危险源 — major hazard sources (requires a token)",
        LayerId::CollapseZones => "道路塌陷风险区 — road-collapse risk zones",
        LayerId::HiddenDangers => {
            "隐患 — hidden-danger records of the closure loop, every status (requires a token)"
        }
        LayerId::Sensors => "监测传感器 — monitoring sensors (requires a token)",
        LayerId::Alarms => "监测预警 — monitoring alarms, every status, live (requires a token)",
        _ => "grid units with their risk score, level and colour",
    };
    format!("{} ({layer}): {what}", layer.label_zh())
}

/// The metadata of one collection as `scope` sees it.
pub fn collection(ctx: &Ctx<'_>, base: &BaseUrl, layer: LayerId, scope: Scope) -> Value {
    let path = format!("/collections/{layer}");
    let links = [
        Link::new(base.ogc(&path), "self", JSON, "this collection"),
        Link::new(
            base.ogc(&format!("{path}/items")),
            "items",
            GEOJSON,
            "the features",
        ),
        Link::new(
            base.ogc(&format!("{path}/queryables")),
            REL_QUERYABLES,
            SCHEMA,
            "queryables",
        ),
        Link::new(
            format!("{}/qgis/styles/{layer}.qml", base.as_str()),
            "stylesheet",
            "text/xml",
            "QGIS 样式（QML）",
        ),
    ];
    let mut c = json!({
        "id": layer.as_str(),
        "title": layer.label_zh(),
        "description": description(layer),
        "itemType": "feature",
        "crs": OgcCrs::ALL.map(OgcCrs::uri),
        "storageCrs": OgcCrs::Crs84.uri(),
        "links": links,
    });
    if let Some(b) = extent(ctx, layer, scope) {
        c["extent"] = json!({
            "spatial": { "bbox": [b], "crs": OgcCrs::Crs84.uri() }
        });
    }
    c
}

/// `/ogc/collections`: the collections open to `scope`.
pub fn collections(ctx: &Ctx<'_>, base: &BaseUrl, scope: Scope) -> Value {
    json!({
        "links": [Link::new(base.ogc("/collections"), "self", JSON, "the collections")],
        "crs": OgcCrs::ALL.map(OgcCrs::uri),
        "collections": scope.layers().into_iter().map(|l| collection(ctx, base, l, scope)).collect::<Vec<_>>(),
    })
}
