//! The one schema of every served layer: for each layer a table of its
//! fields — name, type, Chinese title, description, whether it may be
//! absent, where its value comes from (a getter) and which outputs carry
//! it.
//!
//! Every output iterates these tables: the vector tiles and the TileJSON
//! `vector_layers`, OGC API – Features properties and queryables (and so
//! CQL2 filters, sort keys and the OpenAPI document), the `/api` feature
//! collections, and the `riskmap score` table (GeoJSON, CSV, FlatGeobuf,
//! GeoPackage, Shapefile and the PostGIS score table). Adding a property
//! to a layer is one row in its table here plus, if need be, the value it
//! reads; `tests/schema.rs` checks that every output lists exactly the
//! fields its table gives it.
//!
//! A table's order is the order of every output (a tile's properties keep
//! it, so tile bytes do not depend on anything else). An output that
//! deliberately carries fewer fields says so in [`Field::outputs`], never
//! in its own code.
//!
//! - [`grid`]: the grid units of the four levels (counties, towns,
//!   villages, unit cells).
//! - [`enterprises`], [`hazard_sources`], [`collapse_zones`].
//! - [`hidden_dangers`], [`sensors`], [`alarms`]: private point layers
//!   changed by live writes.
//!
//! Public layers and private ones (a token needed) are told by
//! [`LayerId::is_private`]; the access rule itself is `auth::Scope`.

pub mod alarms;
pub mod collapse_zones;
pub mod enterprises;
pub mod grid;
pub mod hazard_sources;
pub mod hidden_dangers;
mod kind;
pub mod sensors;
mod value;

pub use kind::{Kind, Vocabulary};
pub use value::{Ctx, NoRisk, PropValue, RiskLookup};

use crate::model::LayerId;
use crate::risk::Domain;

/// The outputs that may carry a field (a set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Outputs(u8);

impl Outputs {
    /// Vector tiles (MVT) and their TileJSON `vector_layers` fields; for
    /// enterprises: a single enterprise drawn as itself.
    pub const TILES: Outputs = Outputs(1);
    /// Enterprise tiles: a cluster of enterprises drawn as one point.
    pub const CLUSTERS: Outputs = Outputs(1 << 1);
    /// OGC API – Features: item properties, queryables, filters, sort keys.
    pub const OGC: Outputs = Outputs(1 << 2);
    /// The feature collections of `/api/cells/{code}/features`.
    pub const API: Outputs = Outputs(1 << 3);
    /// The `riskmap score` table (files and PostGIS); grid units only.
    pub const SCORE: Outputs = Outputs(1 << 4);
    /// Grid-unit tiles' 分系统 values: one decimal, only when not 0, only
    /// at the zooms where the level is the map's choropleth, and on unit
    /// cells only for a caller whose scope opens the cell (a cell's
    /// industry values tell which industries have an enterprise in it).
    pub const TILE_DOMAINS: Outputs = Outputs(1 << 5);
    /// Every output of a feature (not [`Outputs::CLUSTERS`]).
    pub const ALL: Outputs = Outputs(1 | 1 << 2 | 1 << 3 | 1 << 4);
    /// No output (a field being retired).
    pub const NONE: Outputs = Outputs(0);

    /// The union of two sets.
    pub const fn and(self, other: Outputs) -> Outputs {
        Outputs(self.0 | other.0)
    }

    /// This set without `other`.
    pub const fn without(self, other: Outputs) -> Outputs {
        Outputs(self.0 & !other.0)
    }

    /// Whether every output of `other` is in this set.
    pub const fn has(self, other: Outputs) -> bool {
        self.0 & other.0 == other.0
    }
}

/// Where a field's value comes from.
#[derive(Clone, Copy)]
pub enum Getter {
    /// A function of the feature (its index in the dataset's table, or
    /// its unit id for grid units).
    Fn(for<'a> fn(&Ctx<'a>, u32) -> PropValue<'a>),
    /// A grid unit's contribution of one risk domain (分系统贡献分).
    Domain(Domain),
    /// Not a feature's value: computed by the output that carries it
    /// (the `point_count` and `max_risk_grade` of an enterprise cluster).
    Computed,
}

impl std::fmt::Debug for Getter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Getter::Fn(_) => f.write_str("Fn"),
            Getter::Domain(d) => write!(f, "Domain({})", d.as_str()),
            Getter::Computed => f.write_str("Computed"),
        }
    }
}

/// One field of a layer's features.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Property name in every output (tiles, GeoJSON, columns, filters).
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Short Chinese title.
    pub title: &'static str,
    /// One-line description.
    pub description: &'static str,
    /// Whether the value may be absent (null; left out of tiles).
    pub nullable: bool,
    /// Where the value comes from.
    pub get: Getter,
    /// The outputs that carry the field.
    pub outputs: Outputs,
}

impl Field {
    /// A field that is always present, in every output.
    pub const fn new(
        name: &'static str,
        kind: Kind,
        title: &'static str,
        description: &'static str,
        get: for<'a> fn(&Ctx<'a>, u32) -> PropValue<'a>,
    ) -> Field {
        Field {
            name,
            kind,
            title,
            description,
            nullable: false,
            get: Getter::Fn(get),
            outputs: Outputs::ALL,
        }
    }

    /// The same field, possibly absent (null).
    pub const fn nullable(self) -> Field {
        Field {
            nullable: true,
            ..self
        }
    }

    /// The same field, carried only by `outputs`.
    pub const fn only(self, outputs: Outputs) -> Field {
        Field { outputs, ..self }
    }

    /// Whether `output` carries this field.
    pub fn in_output(&self, output: Outputs) -> bool {
        self.outputs.has(output)
    }

    /// The field's value for feature `index` (grid units: the unit id).
    pub fn value<'a>(&self, ctx: &Ctx<'a>, index: u32) -> PropValue<'a> {
        match self.get {
            Getter::Fn(f) => f(ctx, index),
            Getter::Domain(_)
                if ctx.store.units().get(index as usize).is_some_and(|u| {
                    u.level == crate::model::Level::Cell && !ctx.scope.sees_unit(ctx.store, index)
                }) =>
            {
                PropValue::Null
            }
            Getter::Domain(d) => ctx.risk.domain(index, d).map_or(PropValue::Null, |x| {
                PropValue::Num(crate::model::unsigned_zero(x))
            }),
            Getter::Computed => PropValue::Null,
        }
    }
}

/// Every field of a served layer, in output order.
pub fn fields(layer: LayerId) -> &'static [Field] {
    match layer {
        LayerId::Enterprises => enterprises::FIELDS,
        LayerId::HazardSources => hazard_sources::FIELDS,
        LayerId::HiddenDangers => hidden_dangers::FIELDS,
        LayerId::CollapseZones => collapse_zones::FIELDS,
        LayerId::Sensors => sensors::FIELDS,
        LayerId::Alarms => alarms::FIELDS,
        _ => grid::FIELDS,
    }
}

/// The fields of `layer` that `output` carries, in output order.
pub fn fields_in(layer: LayerId, output: Outputs) -> impl Iterator<Item = &'static Field> {
    fields(layer).iter().filter(move |f| f.in_output(output))
}

/// The names of the fields of `layer` that `output` carries, in order.
pub fn names_in(layer: LayerId, output: Outputs) -> Vec<&'static str> {
    fields_in(layer, output).map(|f| f.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_field_has_an_output() {
        for layer in LayerId::SERVED {
            let all = fields(layer);
            for (i, f) in all.iter().enumerate() {
                assert!(
                    all[..i].iter().all(|g| g.name != f.name),
                    "{layer}: {} twice",
                    f.name
                );
                assert!(f.outputs != Outputs::NONE, "{layer}: {}", f.name);
                assert!(!f.title.is_empty() && !f.description.is_empty());
            }
            assert!(fields_in(layer, Outputs::TILES).next().is_some(), "{layer}");
        }
    }

    #[test]
    fn output_sets() {
        assert!(Outputs::ALL.has(Outputs::TILES));
        assert!(!Outputs::ALL.has(Outputs::CLUSTERS));
        assert!(!Outputs::ALL.without(Outputs::TILES).has(Outputs::TILES));
        assert!(Outputs::OGC.and(Outputs::SCORE).has(Outputs::SCORE));
    }

    #[test]
    fn clusters_carry_only_their_own_fields() {
        assert_eq!(
            names_in(LayerId::Enterprises, Outputs::CLUSTERS),
            ["point_count", "max_risk_grade"]
        );
        for layer in LayerId::SERVED {
            for f in fields(layer) {
                assert_eq!(
                    matches!(f.get, Getter::Computed),
                    f.in_output(Outputs::CLUSTERS),
                    "{}",
                    f.name
                );
            }
        }
    }
}
