//! The web map's MapLibre style rewritten into the subset QGIS 3.22's
//! Mapbox GL converter reads, so a vector-tile layer in QGIS draws the
//! same four colours instead of grey:
//!
//! - `match` labels become one-element arrays (`["major"]`): the converter
//!   turns a bare string label into an empty `IN ()` list, MapLibre reads
//!   both forms alike;
//! - the collapse-zone hatch (an image the page draws at run time) becomes
//!   a translucent fill of the hatch's colour;
//! - the hazard-source icons and the enterprise cluster discs (run-time
//!   images too) become circles by grade;
//! - the cluster radius `step` (which the converter skips) becomes a
//!   zoom interpolation;
//! - layers of the page's own GeoJSON label source and the selection
//!   outlines (driven by the page) are left out.

use serde_json::{Value, json};

/// The colour of the collapse-zone hatch.
const HATCH: &str = "#7f3b08";

/// Rewrites `match` expressions' labels into arrays, recursively.
fn arrays_in_matches(v: &Value) -> Value {
    match v {
        Value::Array(items) if items.first().and_then(Value::as_str) == Some("match") => {
            let mut out: Vec<Value> = items.iter().take(2).map(arrays_in_matches).collect();
            let rest = items.get(2..).unwrap_or_default();
            let (pairs, fallback) = rest.split_at(rest.len().saturating_sub(1));
            for pair in pairs.chunks(2) {
                if let [label, output] = pair {
                    out.push(match label {
                        Value::Array(_) => label.clone(),
                        other => Value::Array(vec![other.clone()]),
                    });
                    out.push(arrays_in_matches(output));
                }
            }
            out.extend(fallback.iter().map(arrays_in_matches));
            Value::Array(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(arrays_in_matches).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), arrays_in_matches(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// One layer as QGIS should see it (`None`: leave it out).
fn layer_for_qgis(layer: &Value) -> Option<Value> {
    let id = layer.get("id").and_then(Value::as_str).unwrap_or("");
    let source = layer.get("source").and_then(Value::as_str);
    if id.ends_with("-selected") || (source.is_some() && source != Some("riskmap")) {
        return None;
    }
    let mut layer = arrays_in_matches(layer);
    let paint = layer.get_mut("paint").and_then(Value::as_object_mut);
    if let Some(paint) = paint {
        if paint.remove("fill-pattern").is_some() {
            paint.insert("fill-color".into(), json!(HATCH));
            paint.insert("fill-opacity".into(), json!(0.28));
        }
        if paint
            .get("circle-radius")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            == Some("step")
        {
            paint.insert(
                "circle-radius".into(),
                json!(["interpolate", ["linear"], ["zoom"], 8, 7, 14, 12]),
            );
        }
    }
    if id == "enterprises-cluster" {
        let mut circle = json!({
            "id": "enterprises-cluster",
            "type": "circle",
            "source": "riskmap",
            "source-layer": "enterprises",
            "filter": ["has", "point_count"],
            "paint": {
                "circle-color": ["match", ["get", "max_risk_grade"],
                    ["major"], "#d7191c", ["high"], "#fd8d3c", ["medium"], "#fecc5c",
                    ["low"], "#2c7bb6", "#b8c2cc"],
                "circle-radius": 8,
                "circle-stroke-color": "#ffffff",
                "circle-stroke-width": 1.5
            }
        });
        if let (Some(obj), Some(min)) = (circle.as_object_mut(), layer.get("minzoom")) {
            obj.insert("minzoom".into(), min.clone());
        }
        return Some(circle);
    }
    if id == "hazard-sources-symbol" {
        let mut circle = json!({
            "id": "hazard-sources-circle",
            "type": "circle",
            "source": "riskmap",
            "source-layer": "hazard_sources",
            "paint": {
                "circle-color": ["match", ["get", "grade"],
                    [1], "#d7191c", [2], "#fd8d3c", [3], "#fecc5c", [4], "#2c7bb6", "#b8c2cc"],
                "circle-radius": ["interpolate", ["linear"], ["zoom"], 8, 4, 14, 8],
                "circle-stroke-color": "#4a1486",
                "circle-stroke-width": 1.5
            }
        });
        if let (Some(obj), Some(min)) = (circle.as_object_mut(), layer.get("minzoom")) {
            obj.insert("minzoom".into(), min.clone());
        }
        return Some(circle);
    }
    Some(layer)
}

/// A circle layer coloured by `["match", ["get", attr], …]` split into one
/// layer per colour with the choice in its filter: QGIS 3.22 reads a
/// `match` for fill colours but not for circle colours.
fn split_circle_colours(layer: Value) -> Vec<Value> {
    let colour = layer.pointer("/paint/circle-color").cloned();
    let Some(Value::Array(m)) = colour else {
        return vec![layer];
    };
    let attr = m.get(1).and_then(|g| g.get(1)).cloned();
    let (Some("match"), Some(attr)) = (m.first().and_then(Value::as_str), attr) else {
        return vec![layer];
    };
    let rest = m.get(2..).unwrap_or_default();
    let (pairs, fallback) = rest.split_at(rest.len().saturating_sub(1));
    let id = layer
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let base_filter = layer.get("filter").cloned();
    let with_filter = |suffix: &str, test: Value, colour: &Value| {
        let mut l = layer.clone();
        if let Some(obj) = l.as_object_mut() {
            obj.insert("id".into(), json!(format!("{id}-{suffix}")));
            let filter = match &base_filter {
                Some(f) => json!(["all", f, test]),
                None => test,
            };
            obj.insert("filter".into(), filter);
        }
        if let Some(paint) = l.get_mut("paint").and_then(Value::as_object_mut) {
            paint.insert("circle-color".into(), colour.clone());
        }
        l
    };
    let mut out = Vec::new();
    let mut others = vec![json!("all")];
    for pair in pairs.chunks(2) {
        let [labels, colour] = pair else { continue };
        let labels = labels
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![labels.clone()]);
        for label in labels {
            let suffix = label
                .as_str()
                .map_or_else(|| label.to_string(), str::to_string);
            out.push(with_filter(
                &suffix,
                json!(["==", ["get", attr], label]),
                colour,
            ));
            others.push(json!(["!=", ["get", attr], label]));
        }
    }
    if let Some(colour) = fallback.first() {
        out.push(with_filter("other", Value::Array(others), colour));
    }
    out
}

/// The QGIS variant of a MapLibre style document.
pub fn qgis_style(style: &Value) -> Value {
    let mut out = style.clone();
    if let Some(obj) = out.as_object_mut() {
        let layers: Vec<Value> = style
            .get("layers")
            .and_then(Value::as_array)
            .map(|ls| {
                ls.iter()
                    .filter_map(layer_for_qgis)
                    .flat_map(split_circle_colours)
                    .collect()
            })
            .unwrap_or_default();
        obj.insert("layers".into(), Value::Array(layers));
        if let Some(sources) = obj.get_mut("sources").and_then(Value::as_object_mut) {
            sources.retain(|name, _| name == "riskmap");
        }
        obj.insert(
            "name".into(),
            json!(format!(
                "{} (QGIS)",
                style
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("riskmap")
            )),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_labels_become_arrays_and_keep_their_outputs() {
        let v = json!([
            "match",
            ["get", "risk_level"],
            "major",
            "#d7191c",
            ["high", "x"],
            "#fd8d3c",
            "#b8c2cc"
        ]);
        assert_eq!(
            arrays_in_matches(&v),
            json!([
                "match",
                ["get", "risk_level"],
                ["major"],
                "#d7191c",
                ["high", "x"],
                "#fd8d3c",
                "#b8c2cc"
            ])
        );
    }

    #[test]
    fn the_served_style_loses_patterns_images_and_page_layers() {
        let style: Value = serde_json::from_slice(crate::assets::style()).unwrap();
        let q = qgis_style(&style);
        let text = q.to_string();
        assert!(!text.contains("fill-pattern"));
        assert!(!text.contains("icon-image"));
        assert!(!text.contains("\"step\""));
        assert!(!text.contains("\"match\",[\"get\",\"risk_level\"],\"major\""));
        assert!(text.contains("[\"major\"],\"#d7191c\""));
        let layers = q["layers"].as_array().unwrap();
        assert!(
            layers
                .iter()
                .all(|l| l.get("source").is_none_or(|s| s == "riskmap"))
        );
        assert!(layers.iter().any(|l| l["id"] == "hazard-sources-circle-1"));
        assert!(layers.iter().any(|l| l["id"] == "enterprises-point-major"));
        assert!(layers.iter().any(|l| l["id"] == "enterprises-point-other"));
        assert!(
            layers
                .iter()
                .filter(|l| l["type"] == "circle")
                .all(|l| l["paint"]["circle-color"].is_string())
        );
        assert!(layers.iter().any(|l| l["id"] == "cells-fill"));
    }
}
