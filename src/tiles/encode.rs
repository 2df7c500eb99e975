//! MVT 2.1 encoding: geometry command streams, layers with de-duplicated
//! keys and values, and the tile's protobuf bytes.
//!
//! Written here rather than through geozero's `mvt` module (whose prost
//! messages the tests decode with):
//! - the geometry command stream, because the geometries arrive already
//!   rounded, de-duplicated and oriented (see [`super::simplify`]), while
//!   geozero's writer floors coordinates and keeps the input's winding;
//! - the key and value tables, over values borrowed from the features
//!   ([`Prop`]), so that building a layer copies no string;
//! - the protobuf bytes: features are encoded as they are added, once,
//!   into one buffer per layer. Building a `Feature` message per feature
//!   and encoding the tile with prost (which walks every packed array
//!   twice, for lengths and for bytes) took about half of the
//!   instructions of a zoom-9 tile of the demo city. The output is the
//!   bytes prost writes for the same messages (a test checks it).

use super::geometry::{TileGeometry, TilePolygon};
use crate::model::LayerId;
use geozero::mvt::tile::GeomType;

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
struct Cursor<'b> {
    at: [i32; 2],
    out: &'b mut Vec<u32>,
}

impl Cursor<'_> {
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

/// Appends the command stream of a geometry to `out`; returns its MVT type.
fn write_geometry(geom: &TileGeometry, out: &mut Vec<u32>) -> GeomType {
    let mut c = Cursor { at: [0, 0], out };
    match geom {
        TileGeometry::Points(points) => {
            c.out.push(command(MOVE_TO, points.len() as u32));
            for p in points {
                c.push(*p);
            }
            GeomType::Point
        }
        TileGeometry::Polygons(polys) => {
            for p in polys {
                c.polygon(p);
            }
            GeomType::Polygon
        }
    }
}

/// Appends the geometry field (4) of `geom` to `out`, using `scratch` for
/// its command integers; returns its MVT type.
fn encode_geometry_into(
    geom: &TileGeometry,
    scratch: &mut Vec<u32>,
    out: &mut Vec<u8>,
) -> GeomType {
    scratch.clear();
    let kind = write_geometry(geom, scratch);
    wire::packed(out, 4, scratch);
    kind
}

/// The encoded geometry fields of some features, back to back, kept so
/// that a layer built again need not cut and encode them again
/// ([`LayerBuilder::add_encoded`]).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct EncodedGeometry {
    bytes: Vec<u8>,
    /// Per feature: its MVT type and the end of its field in `bytes`.
    ends: Vec<(GeomType, u32)>,
    scratch: Vec<u32>,
}

impl EncodedGeometry {
    /// Appends `geom` (not empty) as the next feature's geometry.
    pub fn push(&mut self, geom: &TileGeometry) {
        let kind = encode_geometry_into(geom, &mut self.scratch, &mut self.bytes);
        let end = u32::try_from(self.bytes.len()).unwrap_or(u32::MAX);
        self.ends.push((kind, end));
    }

    /// The type and field of feature `i`.
    pub fn get(&self, i: usize) -> Option<(GeomType, &[u8])> {
        let (kind, end) = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            Some(j) => self.ends.get(j).map_or(0, |e| e.1),
            None => 0,
        };
        Some((kind, self.bytes.get(start as usize..end as usize)?))
    }

    /// Bytes held.
    pub fn size(&self) -> usize {
        self.bytes.len() + 8 * self.ends.len()
    }

    /// Drops the scratch space (once complete).
    pub fn shrink(&mut self) {
        self.scratch = Vec::new();
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

/// A property value, borrowed from the feature it describes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prop<'a> {
    /// A string.
    Str(&'a str),
    /// A floating-point number.
    Double(f64),
    /// An unsigned integer.
    Uint(u64),
    /// A boolean.
    Bool(bool),
}

/// A value as a key of the layer's value table (doubles by their bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ValueKey<'a> {
    Str(&'a str),
    Double(u64),
    Uint(u64),
    Bool(bool),
}

impl<'a> From<Prop<'a>> for ValueKey<'a> {
    fn from(p: Prop<'a>) -> Self {
        match p {
            Prop::Str(s) => ValueKey::Str(s),
            Prop::Double(d) => ValueKey::Double(d.to_bits()),
            Prop::Uint(u) => ValueKey::Uint(u),
            Prop::Bool(b) => ValueKey::Bool(b),
        }
    }
}

/// Protocol-buffer wire format: the few pieces the vector tile schema uses.
mod wire {
    /// Wire type of varints.
    pub const VARINT: u32 = 0;
    /// Wire type of 64-bit fixed values.
    pub const FIXED64: u32 = 1;
    /// Wire type of length-delimited fields.
    pub const LEN: u32 = 2;

    pub fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    pub fn key(out: &mut Vec<u8>, field: u32, wire_type: u32) {
        varint(out, u64::from((field << 3) | wire_type));
    }

    pub fn varint_len(v: u64) -> usize {
        // Seven bits a byte; 0 takes one byte.
        (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
    }

    /// A length-delimited field holding `bytes`.
    pub fn bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
        out.reserve(bytes.len() + 12);
        key(out, field, LEN);
        varint(out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }

    /// A packed repeated `uint32` field (omitted when empty).
    pub fn packed(out: &mut Vec<u8>, field: u32, values: &[u32]) {
        if values.is_empty() {
            return;
        }
        key(out, field, LEN);
        let len: usize = values.iter().map(|&v| varint_len(u64::from(v))).sum();
        out.reserve(len + 12);
        varint(out, len as u64);
        for &v in values {
            varint(out, u64::from(v));
        }
    }
}

/// One layer of a tile being built: features encoded as they come, plus
/// the de-duplicated key and value tables their tags point into.
#[derive(Debug)]
pub struct LayerBuilder<'a> {
    layer: LayerId,
    extent: u32,
    count: usize,
    /// The encoded `features` fields (MVT layer field 2), back to back.
    features: Vec<u8>,
    keys: Vec<&'static str>,
    values: Vec<ValueKey<'a>>,
    value_index: foldhash::HashMap<ValueKey<'a>, u32>,
    /// Scratch buffers reused by every feature.
    tags: Vec<u32>,
    geometry: Vec<u32>,
    geometry_field: Vec<u8>,
    feature: Vec<u8>,
}

impl<'a> LayerBuilder<'a> {
    /// An empty layer named after `layer`.
    pub fn new(layer: LayerId, extent: u32) -> Self {
        LayerBuilder::with_capacity(layer, extent, 0)
    }

    /// An empty layer with room for about `features` features.
    pub fn with_capacity(layer: LayerId, extent: u32, features: usize) -> Self {
        let mut value_index = foldhash::HashMap::default();
        value_index.reserve(features * 3);
        LayerBuilder {
            layer,
            extent,
            count: 0,
            features: Vec::with_capacity(features * 32),
            keys: Vec::new(),
            values: Vec::with_capacity(features * 3),
            value_index,
            tags: Vec::new(),
            geometry: Vec::new(),
            geometry_field: Vec::new(),
            feature: Vec::new(),
        }
    }

    fn key(&mut self, k: &'static str) -> u32 {
        match self.keys.iter().position(|&x| x == k) {
            Some(i) => i as u32,
            None => {
                self.keys.push(k);
                (self.keys.len() - 1) as u32
            }
        }
    }

    fn value(&mut self, v: Prop<'a>) -> u32 {
        let key = ValueKey::from(v);
        let next = self.values.len() as u32;
        let i = *self.value_index.entry(key).or_insert(next);
        if i == next {
            self.values.push(key);
        }
        i
    }

    /// Adds a feature with a numeric id and typed properties; an empty
    /// geometry is skipped. Returns whether the feature was added.
    pub fn add(
        &mut self,
        id: u64,
        geom: &TileGeometry,
        props: &[(&'static str, Prop<'a>)],
    ) -> bool {
        if geom.is_empty() {
            return false;
        }
        let mut field = std::mem::take(&mut self.geometry_field);
        field.clear();
        let kind = encode_geometry_into(geom, &mut self.geometry, &mut field);
        self.add_encoded(id, kind, &field, props);
        self.geometry_field = field;
        true
    }

    /// Adds a feature whose geometry is already encoded (an
    /// [`EncodedGeometry`]'s field): the bytes [`LayerBuilder::add`] writes
    /// for the same geometry.
    pub fn add_encoded(
        &mut self,
        id: u64,
        kind: GeomType,
        geometry_field: &[u8],
        props: &[(&'static str, Prop<'a>)],
    ) {
        let mut tags = std::mem::take(&mut self.tags);
        tags.clear();
        for &(k, v) in props {
            tags.push(self.key(k));
            tags.push(self.value(v));
        }
        // Feature: id = 1, tags = 2, type = 3, geometry = 4.
        let f = &mut self.feature;
        f.clear();
        wire::key(f, 1, wire::VARINT);
        wire::varint(f, id);
        wire::packed(f, 2, &tags);
        wire::key(f, 3, wire::VARINT);
        wire::varint(f, kind as u64);
        f.extend_from_slice(geometry_field);
        wire::bytes(&mut self.features, 2, f);
        self.tags = tags;
        self.count += 1;
    }

    /// Number of features so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the layer has no features.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The encoded layer message (version 2), or `None` when it has no
    /// features.
    pub fn finish(self) -> Option<Vec<u8>> {
        if self.count == 0 {
            return None;
        }
        // Layer: name = 1, features = 2, keys = 3, values = 4, extent = 5,
        // version = 15 (in field order, as protobuf encoders write them).
        let mut out = Vec::with_capacity(self.features.len() + 64 * self.values.len() + 64);
        wire::bytes(&mut out, 1, self.layer.as_str().as_bytes());
        out.extend_from_slice(&self.features);
        for k in &self.keys {
            wire::bytes(&mut out, 3, k.as_bytes());
        }
        let mut v = Vec::new();
        for value in &self.values {
            v.clear();
            // Value: string = 1, double = 3, uint = 5, bool = 7.
            match *value {
                ValueKey::Str(s) => wire::bytes(&mut v, 1, s.as_bytes()),
                ValueKey::Double(bits) => {
                    wire::key(&mut v, 3, wire::FIXED64);
                    v.extend_from_slice(&bits.to_le_bytes());
                }
                ValueKey::Uint(u) => {
                    wire::key(&mut v, 5, wire::VARINT);
                    wire::varint(&mut v, u);
                }
                ValueKey::Bool(b) => {
                    wire::key(&mut v, 7, wire::VARINT);
                    wire::varint(&mut v, u64::from(b));
                }
            }
            wire::bytes(&mut out, 4, &v);
        }
        wire::key(&mut out, 5, wire::VARINT);
        wire::varint(&mut out, u64::from(self.extent));
        wire::key(&mut out, 15, wire::VARINT);
        wire::varint(&mut out, 2);
        Some(out)
    }
}

/// The protobuf bytes of a tile made of encoded `layers` (tile field 3).
pub fn encode_tile(layers: Vec<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::with_capacity(layers.iter().map(|l| l.len() + 6).sum());
    for l in &layers {
        push_layer(&mut out, l);
    }
    out
}

/// Appends the tile field (3) holding the encoded layer `message`.
pub fn push_layer(out: &mut Vec<u8>, message: &[u8]) {
    wire::bytes(out, 3, message);
}

/// The key and length that start the tile field holding a layer message
/// of `len` bytes ([`push_layer`] writes them before the message).
pub fn layer_field_key(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(11);
    wire::key(&mut out, 3, wire::LEN);
    wire::varint(&mut out, len as u64);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use geozero::mvt::{Message, Tile};

    /// The MVT geometry type and command stream of a geometry.
    fn encode_geometry(geom: &TileGeometry) -> (GeomType, Vec<u32>) {
        let mut out = Vec::new();
        let kind = write_geometry(geom, &mut out);
        (kind, out)
    }

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
            &[("level", Prop::Str("town")), ("population", Prop::Uint(5))]
        ));
        assert!(l.add(
            2,
            &g,
            &[("level", Prop::Str("town")), ("population", Prop::Uint(6))]
        ));
        assert!(!l.add(3, &TileGeometry::Points(vec![]), &[]));
        assert_eq!(l.len(), 2);
        let bytes = encode_tile(l.finish().into_iter().collect());
        let tile = Tile::decode(bytes.as_slice()).unwrap_or_default();
        assert_eq!(tile.layers.len(), 1);
        let layer = &tile.layers[0];
        assert_eq!(layer.name, "towns");
        assert_eq!(layer.version, 2);
        assert_eq!(layer.extent, Some(4096));
        assert_eq!(
            layer.keys,
            vec!["level".to_string(), "population".to_string()]
        );
        assert_eq!(layer.values.len(), 3);
        assert_eq!(layer.values[0].string_value.as_deref(), Some("town"));
        assert_eq!(layer.values[2].uint_value, Some(6));
        assert_eq!(layer.features[1].tags, vec![0, 0, 1, 2]);
        assert_eq!(layer.features[1].id, Some(2));
        assert_eq!(layer.features[1].geometry, vec![9, 2, 2]);
        assert!(LayerBuilder::new(LayerId::Cells, 4096).finish().is_none());
    }

    #[test]
    fn bytes_equal_what_prost_writes_for_the_same_messages() {
        let mut l = LayerBuilder::new(LayerId::Cells, 4096);
        let poly = TileGeometry::Polygons(vec![TilePolygon {
            exterior: vec![[0, 0], [4000, 0], [4000, 300], [-64, 4160]],
            holes: vec![vec![[10, 10], [10, 20], [20, 20]]],
        }]);
        let big = u64::MAX - 7;
        assert!(l.add(
            big,
            &poly,
            &[
                ("code", Prop::Str("350502001001")),
                ("name", Prop::Str("鲤城区")),
                ("risk_score", Prop::Double(-12.625)),
                ("population", Prop::Uint(300_000)),
                ("monitored", Prop::Bool(true)),
                ("monitored_too", Prop::Bool(false)),
            ]
        ));
        assert!(l.add(0, &TileGeometry::Points(vec![[5, 7], [3, 2]]), &[]));
        let mine = encode_tile(l.finish().into_iter().collect());
        let decoded = Tile::decode(mine.as_slice()).unwrap_or_default();
        assert_eq!(decoded.layers[0].features.len(), 2);
        assert_eq!(decoded.layers[0].features[0].id, Some(big));
        assert_eq!(decoded.layers[0].values[2].double_value, Some(-12.625));
        assert_eq!(decoded.layers[0].values[5].bool_value, Some(false));
        assert_eq!(decoded.encode_to_vec(), mine);
        for v in [
            0u64,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut b = Vec::new();
            wire::varint(&mut b, v);
            assert_eq!(b.len(), wire::varint_len(v), "{v}");
        }
    }
}
