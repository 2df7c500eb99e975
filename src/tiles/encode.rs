//! MVT 2.1 encoding: geometry command streams, layers with de-duplicated
//! keys and values, and the tile's protobuf bytes.
//!
//! The protobuf messages, the key/value tables and the wire format come from
//! geozero's `mvt` module. The geometry command stream is written here
//! because the geometries arrive already rounded, de-duplicated and oriented
//! (see [`super::simplify`]); geozero's own writer floors coordinates and
//! keeps the input's winding.

use super::geometry::{TileGeometry, TilePolygon};
use crate::model::LayerId;
pub use geozero::mvt::TileValue;
use geozero::mvt::tile::{Feature, GeomType, Layer};
use geozero::mvt::{Message, TagsBuilder, Tile};

const MOVE_TO: u32 = 1;
const LINE_TO: u32 = 2;
const CLOSE_PATH: u32 = 7;

fn command(id: u32, count: u32) -> u32 {
    (id & 0x7) | (count << 3)
}

fn zigzag(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}

/// Writes the command stream of a geometry, tracking the cursor.
struct Cursor {
    at: [i32; 2],
    out: Vec<u32>,
}

impl Cursor {
    fn push(&mut self, p: [i32; 2]) {
        self.out.push(zigzag(p[0] - self.at[0]));
        self.out.push(zigzag(p[1] - self.at[1]));
        self.at = p;
    }

    fn ring(&mut self, ring: &[[i32; 2]]) {
        let Some((first, rest)) = ring.split_first() else {
            return;
        };
        self.out.push(command(MOVE_TO, 1));
        self.push(*first);
        self.out.push(command(LINE_TO, rest.len() as u32));
        for p in rest {
            self.push(*p);
        }
        self.out.push(command(CLOSE_PATH, 1));
    }

    fn polygon(&mut self, p: &TilePolygon) {
        self.ring(&p.exterior);
        for h in &p.holes {
            self.ring(h);
        }
    }
}

/// The MVT geometry type and command stream of a geometry.
pub fn encode_geometry(geom: &TileGeometry) -> (GeomType, Vec<u32>) {
    let mut c = Cursor {
        at: [0, 0],
        out: Vec::new(),
    };
    match geom {
        TileGeometry::Points(points) => {
            c.out.push(command(MOVE_TO, points.len() as u32));
            for p in points {
                c.push(*p);
            }
            (GeomType::Point, c.out)
        }
        TileGeometry::Polygons(polys) => {
            for p in polys {
                c.polygon(p);
            }
            (GeomType::Polygon, c.out)
        }
    }
}

/// One layer of a tile being built.
#[derive(Debug)]
pub struct LayerBuilder {
    layer: LayerId,
    extent: u32,
    features: Vec<Feature>,
    tags: TagsBuilder,
}

impl LayerBuilder {
    /// An empty layer named after `layer`.
    pub fn new(layer: LayerId, extent: u32) -> Self {
        LayerBuilder {
            layer,
            extent,
            features: Vec::new(),
            tags: TagsBuilder::new(),
        }
    }

    /// Adds a feature with a numeric id and typed properties; an empty
    /// geometry is skipped. Returns whether the feature was added.
    pub fn add(&mut self, id: u64, geom: &TileGeometry, props: Vec<(&str, TileValue)>) -> bool {
        if geom.is_empty() {
            return false;
        }
        let (kind, geometry) = encode_geometry(geom);
        let mut tags = Vec::with_capacity(props.len() * 2);
        for (k, v) in props {
            let (ki, vi) = self.tags.insert_ref(k, v);
            tags.push(ki);
            tags.push(vi);
        }
        self.features.push(Feature {
            id: Some(id),
            tags,
            r#type: Some(kind as i32),
            geometry,
        });
        true
    }

    /// Number of features so far.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether the layer has no features.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The finished layer (version 2), or `None` when it has no features.
    pub fn finish(self) -> Option<Layer> {
        if self.features.is_empty() {
            return None;
        }
        let (keys, values) = self.tags.into_tags();
        Some(Layer {
            version: 2,
            name: self.layer.as_str().to_string(),
            features: self.features,
            keys,
            values: values.into_iter().map(Into::into).collect(),
            extent: Some(self.extent),
        })
    }
}

/// The protobuf bytes of a tile made of `layers`.
pub fn encode_tile(layers: Vec<Layer>) -> Vec<u8> {
    Tile { layers }.encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_integers_match_the_spec() {
        // Spec §4.3.1 examples: MoveTo(1) = 9, LineTo(3) = 26, ClosePath = 15.
        assert_eq!(command(MOVE_TO, 1), 9);
        assert_eq!(command(LINE_TO, 3), 26);
        assert_eq!(command(CLOSE_PATH, 1), 15);
        assert_eq!(zigzag(0), 0);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(zigzag(-2), 3);
    }

    #[test]
    fn polygon_stream_matches_the_spec_example() {
        // Spec §4.3.5.7 "Example Polygon": (3,6) (8,12) (20,34) closed.
        let g = TileGeometry::Polygons(vec![TilePolygon {
            exterior: vec![[3, 6], [8, 12], [20, 34]],
            holes: vec![],
        }]);
        let (kind, stream) = encode_geometry(&g);
        assert_eq!(kind, GeomType::Polygon);
        assert_eq!(stream, vec![9, 6, 12, 18, 10, 12, 24, 44, 15]);
    }

    #[test]
    fn multi_point_stream_matches_the_spec_example() {
        let g = TileGeometry::Points(vec![[5, 7], [3, 2]]);
        assert_eq!(encode_geometry(&g).1, vec![17, 10, 14, 3, 9]);
    }

    #[test]
    fn layers_deduplicate_keys_and_values() {
        let mut l = LayerBuilder::new(LayerId::Towns, 4096);
        let g = TileGeometry::Points(vec![[1, 1]]);
        assert!(l.add(
            1,
            &g,
            vec![
                ("level", TileValue::Str("town".into())),
                ("population", TileValue::Uint(5))
            ]
        ));
        assert!(l.add(
            2,
            &g,
            vec![
                ("level", TileValue::Str("town".into())),
                ("population", TileValue::Uint(6))
            ]
        ));
        assert!(!l.add(3, &TileGeometry::Points(vec![]), vec![]));
        let layer = l.finish().unwrap_or_default();
        assert_eq!(layer.name, "towns");
        assert_eq!(layer.version, 2);
        assert_eq!(layer.extent, Some(4096));
        assert_eq!(
            layer.keys,
            vec!["level".to_string(), "population".to_string()]
        );
        assert_eq!(layer.values.len(), 3);
        assert_eq!(layer.features[1].tags, vec![0, 0, 1, 2]);
        let bytes = encode_tile(vec![layer.clone()]);
        let back = Tile::decode(bytes.as_slice()).unwrap_or_default();
        assert_eq!(back.layers, vec![layer]);
        assert!(LayerBuilder::new(LayerId::Cells, 4096).finish().is_none());
    }
}
