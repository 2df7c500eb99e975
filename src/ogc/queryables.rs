//! The properties of each collection: what features carry, what may be
//! filtered and sorted on (every property is a queryable), and the JSON
//! Schema of `/collections/{id}/queryables`, all from the layer schema
//! ([`crate::schema`]).

use crate::auth::Scope;
use crate::model::LayerId;
use crate::schema::{self, Field, Outputs};
use serde_json::{Map, Value, json};
use std::sync::LazyLock;

pub use crate::schema::{Kind, Vocabulary};

/// One property of a collection's features: a field of the layer's
/// schema ([`crate::schema`]) that OGC carries.
pub type Property = Field;

/// The OGC properties of the seven kinds of layer (grid units,
/// enterprises, hazard sources, collapse zones, hidden dangers, sensors,
/// alarms), picked from the schema once.
static OGC: LazyLock<[Vec<Field>; 7]> = LazyLock::new(|| {
    [
        LayerId::Cells,
        LayerId::Enterprises,
        LayerId::HazardSources,
        LayerId::CollapseZones,
        LayerId::HiddenDangers,
        LayerId::Sensors,
        LayerId::Alarms,
    ]
    .map(|l| schema::fields_in(l, Outputs::OGC).copied().collect())
});

/// The properties of a served layer's features, in output order (the
/// layer's schema fields that OGC carries).
pub fn properties(layer: LayerId) -> &'static [Property] {
    let i = match layer {
        LayerId::Enterprises => 1,
        LayerId::HazardSources => 2,
        LayerId::CollapseZones => 3,
        LayerId::HiddenDangers => 4,
        LayerId::Sensors => 5,
        LayerId::Alarms => 6,
        _ => 0,
    };
    &OGC[i]
}

/// Whether a caller with `scope` gets the `domain_<word>` properties of
/// unit cells: a token that opens some grid unit. A cell's industry values
/// tell which industries have an enterprise in it, which is private;
/// counties, towns and villages carry them for everyone. (A grid manager
/// gets them for the cells of its own area only; see
/// [`super::features::Ctx::value`].)
pub fn cell_domains_open(scope: Scope) -> bool {
    matches!(scope, Scope::All | Scope::Unit(_))
}

/// The properties of `layer` that a caller with `scope` sees, in output
/// order: [`properties`] without the `domain_<word>` ones of unit cells
/// for a caller without a token. Always a prefix of [`properties`], so the
/// positions in both agree.
pub fn properties_for(layer: LayerId, scope: Scope) -> &'static [Property] {
    let all = properties(layer);
    if layer == LayerId::Cells && !cell_domains_open(scope) {
        let end = all
            .iter()
            .position(|p| p.name.starts_with("domain_"))
            .unwrap_or(all.len());
        return &all[..end];
    }
    all
}

/// The index of property `name` in [`properties`]`(layer)`.
pub fn position(layer: LayerId, name: &str) -> Option<usize> {
    properties(layer).iter().position(|p| p.name == name)
}

/// The GeoJSON geometry type of a layer's features.
pub fn geometry_type(layer: LayerId) -> &'static str {
    match layer {
        LayerId::Enterprises
        | LayerId::HazardSources
        | LayerId::HiddenDangers
        | LayerId::Sensors
        | LayerId::Alarms => "Point",
        _ => "MultiPolygon",
    }
}

/// The queryables document (JSON Schema 2019-09) of a collection as a
/// caller with `scope` sees it ([`properties_for`]); `id` is its own
/// absolute URL.
pub fn schema(layer: LayerId, scope: Scope, id: &str) -> Value {
    let mut props = Map::new();
    for prop in properties_for(layer, scope) {
        let mut s = match prop.kind.schema() {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        s.insert("title".into(), json!(prop.title));
        s.insert("description".into(), json!(prop.description));
        props.insert(prop.name.into(), Value::Object(s));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": id,
        "type": "object",
        "title": layer.label_zh(),
        "properties": props,
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_has_unique_names() {
        for layer in LayerId::SERVED {
            let props = properties(layer);
            for (i, p) in props.iter().enumerate() {
                assert_eq!(position(layer, p.name), Some(i), "{layer} {}", p.name);
            }
        }
        assert!(position(LayerId::Cells, "risk_level").is_some());
        assert!(position(LayerId::Enterprises, "industry").is_some());
        assert!(position(LayerId::HazardSources, "grade").is_some());
    }

    #[test]
    fn vocabularies_take_chinese() {
        assert_eq!(Vocabulary::RiskLevel.canonical("重大"), Some("major"));
        assert_eq!(
            Vocabulary::Industry.canonical("危险化学品"),
            Some("hazardous_chemicals")
        );
        assert_eq!(Vocabulary::Level.canonical("village"), Some("village"));
        assert_eq!(Vocabulary::Level.canonical("street"), None);
    }

    #[test]
    fn schema_lists_properties() {
        let s = schema(
            LayerId::Cells,
            Scope::All,
            "http://x/ogc/collections/cells/queryables",
        );
        assert_eq!(s["properties"]["risk_level"]["enum"][0], "major");
        assert_eq!(s["properties"]["population"]["type"], "integer");
        assert_eq!(s["$id"], "http://x/ogc/collections/cells/queryables");
        assert!(s["properties"]["domain_gas"].is_object());
    }

    #[test]
    fn public_callers_get_no_cell_domains() {
        let public = properties_for(LayerId::Cells, Scope::Public);
        assert!(!public.is_empty());
        assert!(public.iter().all(|p| !p.name.starts_with("domain_")));
        assert!(public.iter().any(|p| p.name == "risk_score"));
        let s = schema(LayerId::Cells, Scope::Nothing, "x");
        assert!(s["properties"].get("domain_gas").is_none());
        // Villages keep them for everyone; a grid manager gets them on cells.
        let names = |p: &[Property]| p.iter().map(|f| f.name).collect::<Vec<_>>();
        assert_eq!(
            names(properties_for(LayerId::Villages, Scope::Public)),
            names(properties(LayerId::Villages))
        );
        assert_eq!(
            names(properties_for(LayerId::Cells, Scope::Unit(0))),
            names(properties(LayerId::Cells))
        );
        // The cells' domain properties are their last ones: the public list
        // is a prefix, so positions agree.
        let all = names(properties(LayerId::Cells));
        let first = all.iter().position(|n| n.starts_with("domain_")).unwrap();
        assert!(all[first..].iter().all(|n| n.starts_with("domain_")));
    }
}
