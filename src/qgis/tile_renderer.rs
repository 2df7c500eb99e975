//! The vector-tile layer's renderer in a QGIS project (`<renderer
//! type="basic">`): one rule per tile layer and category, with the symbols
//! of the QML styles and the zoom bands of the web map's style, so the
//! project draws the tiles in the four colours without any conversion.

use super::qml::{Category, Renderer, Symbol, attr_escape, renderer_of, symbol_xml};
use crate::model::LayerId;
use serde_json::Value;
use std::fmt::Write as _;

/// QGIS's zoom band of a style layer: `minzoom` rounded up, `maxzoom`
/// rounded up (QGIS zoom levels are whole), `-1` where open.
fn zoom_band(style: &Value, id: &str) -> (i64, i64) {
    let layer = style
        .get("layers")
        .and_then(Value::as_array)
        .and_then(|ls| {
            ls.iter()
                .find(|l| l.get("id").and_then(Value::as_str) == Some(id))
        });
    let zoom = |key: &str| {
        layer
            .and_then(|l| l.get(key))
            .and_then(Value::as_f64)
            .map_or(-1, |z| z.ceil() as i64)
    };
    (zoom("minzoom"), zoom("maxzoom"))
}

/// A QGIS expression literal for an attribute value.
fn literal(value: &str) -> String {
    if value.parse::<i64>().is_ok() {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

/// The filter of one category among `all`.
fn category_filter(attr: &str, category: &Category, all: &[Category]) -> String {
    if category.value.is_empty() {
        let listed: Vec<String> = all
            .iter()
            .filter(|c| !c.value.is_empty())
            .map(|c| literal(&c.value))
            .collect();
        format!(
            "\"{attr}\" IS NULL OR \"{attr}\" NOT IN ({})",
            listed.join(",")
        )
    } else {
        format!("\"{attr}\" = {}", literal(&category.value))
    }
}

fn geometry_code(symbol: &Symbol) -> u8 {
    match symbol {
        Symbol::Marker { .. } => 0,
        Symbol::Fill { .. } | Symbol::Hatch { .. } => 2,
    }
}

/// One rule of the renderer.
fn style_xml(
    out: &mut String,
    name: &str,
    layer: &str,
    filter: &str,
    band: (i64, i64),
    symbol: &Symbol,
) {
    let _ = write!(
        out,
        "<style name=\"{}\" layer=\"{layer}\" geometry=\"{}\" enabled=\"1\" min-zoom=\"{}\" max-zoom=\"{}\" expression=\"{}\"><symbols>{}</symbols></style>",
        attr_escape(name),
        geometry_code(symbol),
        band.0,
        band.1,
        attr_escape(filter),
        symbol_xml("0", symbol)
    );
}

/// The renderer of the tile layers `style` (the web map's style) shows.
pub fn tile_renderer(style: &Value) -> String {
    let mut out = String::from("<renderer type=\"basic\"><styles>");
    for layer in LayerId::SERVED {
        let Some(renderer) = renderer_of(layer) else {
            continue;
        };
        let name = layer.as_str();
        let style_id = name.replace('_', "-");
        let band = if layer.level().is_some() || layer == LayerId::CollapseZones {
            zoom_band(style, &format!("{style_id}-fill"))
        } else {
            (-1, -1)
        };
        // Enterprises: single points by their grade, clusters by the
        // highest grade they hold.
        let clustered = layer == LayerId::Enterprises;
        match renderer {
            Renderer::Single(symbol) => style_xml(&mut out, name, name, "", band, &symbol),
            Renderer::Categorized { attr, categories } => {
                for c in &categories {
                    let filter = category_filter(attr, c, &categories);
                    let filter = if clustered {
                        format!("\"point_count\" IS NULL AND ({filter})")
                    } else {
                        filter
                    };
                    style_xml(
                        &mut out,
                        &format!("{} · {}", layer.label_zh(), c.label),
                        name,
                        &filter,
                        band,
                        &c.symbol,
                    );
                    if clustered {
                        let filter = format!(
                            "\"point_count\" IS NOT NULL AND ({})",
                            category_filter("max_risk_grade", c, &categories)
                        );
                        let symbol = match &c.symbol {
                            Symbol::Marker { shape, color, .. } => Symbol::Marker {
                                shape,
                                color,
                                size_mm: 4.5,
                            },
                            other => other.clone(),
                        };
                        style_xml(
                            &mut out,
                            &format!("{}聚合 · {}", layer.label_zh(), c.label),
                            name,
                            &filter,
                            band,
                            &symbol,
                        );
                    }
                }
            }
        }
    }
    out.push_str("</styles></renderer>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_levels_take_the_web_maps_zoom_bands() {
        let style: Value = serde_json::from_slice(crate::assets::style()).unwrap();
        let r = tile_renderer(&style);
        assert_eq!(zoom_band(&style, "counties-fill"), (-1, 9));
        assert_eq!(zoom_band(&style, "villages-fill"), (11, 13));
        assert!(r.contains("layer=\"cells\" geometry=\"2\""));
        assert!(r.contains("expression=\"&quot;risk_level&quot; = &apos;major&apos;\""));
        assert!(r.contains("&quot;grade&quot; = 1"));
        assert!(r.contains("&quot;max_risk_grade&quot;"));
    }
}
