//! QML styles (QGIS's layer style files) for the OGC collections: the
//! four-colour fill by `risk_level` for the grid levels, hatched collapse
//! zones, graded triangles for hazard sources, enterprise dots by grade and
//! hidden dangers by grade, in the colours of the web map.

use crate::model::{DangerGrade, LayerId, RiskLevel};
use std::fmt::Write as _;

/// Grey of a unit or point without a grade (the web map's "no data").
const NO_GRADE: &str = "#b8c2cc";

/// What one symbol draws.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Symbol {
    /// A solid polygon fill with an outline.
    Fill {
        color: &'static str,
        alpha: u8,
        outline: &'static str,
        outline_mm: f64,
    },
    /// A hatched polygon (brush pattern) with a dashed outline.
    Hatch {
        color: &'static str,
        outline_mm: f64,
    },
    /// A point marker.
    Marker {
        shape: &'static str,
        color: &'static str,
        size_mm: f64,
    },
}

/// One category of a categorised renderer: the attribute value ("" for
/// every other value), its legend label and its symbol.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Category {
    /// The attribute value ("" for every other value).
    pub value: String,
    /// The legend label.
    pub label: String,
    /// What it draws.
    pub symbol: Symbol,
}

/// How a collection is drawn.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Renderer {
    /// Every feature alike.
    Single(Symbol),
    /// By the value of one attribute.
    Categorized {
        attr: &'static str,
        categories: Vec<Category>,
    },
}

/// `#rrggbb` → `r,g,b,a` as QGIS writes colours.
fn rgba(hex: &str, alpha: u8) -> String {
    let channel = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0)
    };
    format!("{},{},{},{alpha}", channel(1), channel(3), channel(5))
}

/// Escapes text for an XML attribute value.
pub(crate) fn attr_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn options(pairs: &[(&str, String)]) -> String {
    let mut out = String::from("<Option type=\"Map\">");
    for (k, v) in pairs {
        let _ = write!(
            out,
            "<Option name=\"{k}\" type=\"QString\" value=\"{}\"/>",
            attr_escape(v)
        );
    }
    out.push_str("</Option>");
    out
}

pub(crate) fn symbol_xml(name: &str, symbol: &Symbol) -> String {
    let (kind, layers) = match symbol {
        Symbol::Fill {
            color,
            alpha,
            outline,
            outline_mm,
        } => (
            "fill",
            format!(
                "<layer class=\"SimpleFill\" enabled=\"1\" pass=\"0\" locked=\"0\">{}</layer>",
                options(&[
                    ("color", rgba(color, *alpha)),
                    ("style", "solid".into()),
                    ("outline_color", rgba(outline, 255)),
                    ("outline_style", "solid".into()),
                    ("outline_width", outline_mm.to_string()),
                    ("outline_width_unit", "MM".into()),
                ])
            ),
        ),
        Symbol::Hatch { color, outline_mm } => (
            "fill",
            format!(
                "<layer class=\"SimpleFill\" enabled=\"1\" pass=\"0\" locked=\"0\">{}</layer>\
                 <layer class=\"SimpleLine\" enabled=\"1\" pass=\"0\" locked=\"0\">{}</layer>",
                options(&[
                    ("color", rgba(color, 200)),
                    ("style", "b_diagonal".into()),
                    ("outline_style", "no".into()),
                ]),
                options(&[
                    ("line_color", rgba(color, 255)),
                    ("line_style", "dash".into()),
                    ("line_width", outline_mm.to_string()),
                    ("line_width_unit", "MM".into()),
                ])
            ),
        ),
        Symbol::Marker {
            shape,
            color,
            size_mm,
        } => (
            "marker",
            format!(
                "<layer class=\"SimpleMarker\" enabled=\"1\" pass=\"0\" locked=\"0\">{}</layer>",
                options(&[
                    ("name", (*shape).into()),
                    ("color", rgba(color, 255)),
                    ("outline_color", rgba("#ffffff", 255)),
                    ("outline_width", "0.3".into()),
                    ("outline_width_unit", "MM".into()),
                    ("size", size_mm.to_string()),
                    ("size_unit", "MM".into()),
                ])
            ),
        ),
    };
    format!(
        "<symbol name=\"{name}\" type=\"{kind}\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">{layers}</symbol>"
    )
}

/// How a served layer is drawn (`None` for the input-only grid layer).
pub(crate) fn renderer_of(layer: LayerId) -> Option<Renderer> {
    let graded = |attr: &'static str, symbol: &dyn Fn(&'static str) -> Symbol| {
        let mut categories: Vec<Category> = [
            RiskLevel::Major,
            RiskLevel::High,
            RiskLevel::Medium,
            RiskLevel::Low,
        ]
        .into_iter()
        .map(|l| Category {
            value: l.as_str().to_string(),
            label: format!("{}风险", l.label_zh()),
            symbol: symbol(l.color()),
        })
        .collect();
        categories.push(Category {
            value: String::new(),
            label: "未评级".to_string(),
            symbol: symbol(NO_GRADE),
        });
        Renderer::Categorized { attr, categories }
    };
    let unit = |outline: &'static str, outline_mm: f64| {
        graded("risk_level", &move |color| Symbol::Fill {
            color,
            alpha: 255,
            outline,
            outline_mm,
        })
    };
    Some(match layer {
        LayerId::Counties => unit("#1a2530", 0.6),
        LayerId::Towns => unit("#2f3d4a", 0.4),
        LayerId::Villages => unit("#4a5a68", 0.26),
        LayerId::Cells => unit("#ffffff", 0.1),
        LayerId::CollapseZones => Renderer::Single(Symbol::Hatch {
            color: "#7f3b08",
            outline_mm: 0.4,
        }),
        LayerId::Enterprises => graded("risk_grade", &|color| Symbol::Marker {
            shape: "circle",
            color,
            size_mm: 2.2,
        }),
        LayerId::HazardSources => Renderer::Categorized {
            attr: "grade",
            categories: [
                (1, "一级", RiskLevel::Major, 4.6),
                (2, "二级", RiskLevel::High, 4.0),
                (3, "三级", RiskLevel::Medium, 3.4),
                (4, "四级", RiskLevel::Low, 3.0),
            ]
            .into_iter()
            .map(|(grade, label, level, size_mm)| Category {
                value: grade.to_string(),
                label: format!("{label}重大危险源"),
                symbol: Symbol::Marker {
                    shape: "triangle",
                    color: level.color(),
                    size_mm,
                },
            })
            .collect(),
        },
        LayerId::HiddenDangers => Renderer::Categorized {
            attr: "grade",
            categories: [
                (DangerGrade::Major, RiskLevel::Major, 3.2),
                (DangerGrade::General, RiskLevel::High, 2.4),
            ]
            .into_iter()
            .map(|(grade, level, size_mm)| Category {
                value: grade.as_str().to_string(),
                label: grade.label_zh().to_string(),
                symbol: Symbol::Marker {
                    shape: "diamond",
                    color: level.color(),
                    size_mm,
                },
            })
            .collect(),
        },
        LayerId::Sensors => Renderer::Single(Symbol::Marker {
            shape: "square",
            color: "#5b6770",
            size_mm: 1.6,
        }),
        LayerId::Alarms => Renderer::Categorized {
            attr: "level",
            categories: [
                (1, RiskLevel::Major),
                (2, RiskLevel::High),
                (3, RiskLevel::Medium),
                (4, RiskLevel::Low),
            ]
            .into_iter()
            .filter_map(|(n, level)| {
                let l = crate::model::AlarmLevel::new(n)?;
                Some(Category {
                    value: n.to_string(),
                    label: format!("{}（{}色）预警", l.label_zh(), l.colour_zh()),
                    symbol: Symbol::Marker {
                        shape: "star",
                        color: level.color(),
                        size_mm: 4.0,
                    },
                })
            })
            .collect(),
        },
        LayerId::GridCells => return None,
    })
}

/// The `<renderer-v2>` element of a collection, as a QML style and a
/// project's layer carry it; `None` for a layer that is not served.
pub fn renderer_xml(layer: LayerId) -> Option<String> {
    let renderer = renderer_of(layer)?;
    Some(match renderer {
        Renderer::Single(symbol) => format!(
            "<renderer-v2 type=\"singleSymbol\" symbollevels=\"0\" forceraster=\"0\" enableorderby=\"0\"><symbols>{}</symbols></renderer-v2>",
            symbol_xml("0", &symbol)
        ),
        Renderer::Categorized { attr, categories } => {
            let mut cats = String::new();
            let mut symbols = String::new();
            for (i, c) in categories.iter().enumerate() {
                let _ = write!(
                    cats,
                    "<category value=\"{}\" label=\"{}\" symbol=\"{i}\" render=\"true\"/>",
                    attr_escape(&c.value),
                    attr_escape(&c.label)
                );
                symbols.push_str(&symbol_xml(&i.to_string(), &c.symbol));
            }
            format!(
                "<renderer-v2 type=\"categorizedSymbol\" attr=\"{attr}\" symbollevels=\"0\" forceraster=\"0\" enableorderby=\"0\"><categories>{cats}</categories><symbols>{symbols}</symbols></renderer-v2>"
            )
        }
    })
}

/// The QML style file of a served collection (`None` for other layers).
pub fn qml(layer: LayerId) -> Option<String> {
    let renderer = renderer_xml(layer)?;
    Some(format!(
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n\
         <qgis version=\"3.22.0\" styleCategories=\"Symbology\">\n{renderer}\n</qgis>\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_layer_has_a_style_in_the_map_colours() {
        for layer in LayerId::SERVED {
            let q = qml(layer).unwrap();
            assert!(q.starts_with("<!DOCTYPE qgis"), "{layer}");
            if layer.level().is_some() {
                assert!(q.contains("attr=\"risk_level\""), "{layer}");
                assert!(q.contains("215,25,28,255"), "{layer}: major red");
                assert!(q.contains("44,123,182,255"), "{layer}: low blue");
                assert!(q.contains("label=\"重大风险\""), "{layer}");
            }
        }
        assert!(qml(LayerId::GridCells).is_none());
        assert!(qml(LayerId::HazardSources).unwrap().contains("value=\"1\""));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(attr_escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(rgba("#fd8d3c", 7), "253,141,60,7");
    }
}
