//! What a tile rebuilt after live writes takes from its earlier build: the
//! layers no write changed, as they lie compressed in the earlier gzip
//! body ([`KeptLayers`]), and its grid units' encoded geometries
//! ([`LayerCache`]), so that the rebuild encodes and compresses only what
//! the writes changed.
//!
//! A live write gives every tile it may have changed a new version, and the
//! next request for such a tile builds it again. Most of its layers are the
//! same as before: collapse zones, hazard sources and enterprises never
//! change with a write (their tile properties come from the base files),
//! and hidden dangers change only with a hidden-danger write (a report, an
//! event, an alarm's dispatch), not with an alarm. The tile cache keeps,
//! beside a gzip tile's body, where those layers' deflate segments lie in
//! it ([`super::gzip_layers`]) — the hidden dangers under the tile's
//! hidden-danger version (the snapshot's `danger_changes`) — and the
//! rebuild of the same tile for the same caller and filter takes them from
//! the body it replaces, without a copy kept anywhere else.
//!
//! The grid levels' geometries, clipped and encoded, are kept per tile in
//! a [`LayerCache`] (the same for every caller: no write changes a unit's
//! shape), so that the rebuild encodes the units' properties only. One
//! cache serves the snapshots of one load as a server loads it (a reload
//! starts an empty one, and layers kept under another load are not
//! taken); bounded in bytes.

use super::TileId;
use super::encode::EncodedGeometry;
use super::gzip_layers::Segment;
use crate::index::UnitId;
use crate::model::LayerId;
use bytes::Bytes;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The layers a rebuild may reuse: those whose bytes depend only on the
/// base files ([`LayerId::CollapseZones`], [`LayerId::HazardSources`],
/// [`LayerId::Enterprises`]) or on the hidden-danger records
/// ([`LayerId::HiddenDangers`], reused only at the same hidden-danger
/// version).
pub fn reusable(layer: LayerId) -> bool {
    matches!(
        layer,
        LayerId::CollapseZones
            | LayerId::HazardSources
            | LayerId::Enterprises
            | LayerId::HiddenDangers
    )
}

/// One reusable layer of a gzip tile body, as the tile builder made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptLayer {
    /// The layer.
    pub layer: LayerId,
    /// Where its deflate segment lies in the body, with the CRC-32 and
    /// length of its field ([`Segment::crc`]); `None`: no feature.
    pub segment: Option<(Range<usize>, (u32, u32))>,
    /// Its features.
    pub count: usize,
    /// Whether enterprise points were clustered (enterprises only).
    pub clustered: bool,
}

/// The reusable layers of one gzip tile body, and what they were made
/// under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptLayers {
    /// The load ([`LayerCache::load`]) whose snapshot built them.
    pub load: u64,
    /// The tile's hidden-danger version then.
    pub danger_version: u64,
    /// The layers, in tile order.
    pub layers: Vec<KeptLayer>,
}

/// An earlier gzip body of the tile being built, for the same caller and
/// filter, and its reusable layers.
#[derive(Debug, Clone)]
pub struct Previous {
    /// The body.
    pub body: Bytes,
    /// Its reusable layers.
    pub kept: Arc<KeptLayers>,
}

/// The encoded geometries of a grid level's units in a tile, as the first
/// cut of the tile clips them: no write changes a unit's shape, so a
/// rebuild encodes only their properties.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitGeometries {
    /// The units with a geometry in the tile, in feature order, with their
    /// feature ids.
    pub units: Vec<(UnitId, u64)>,
    /// Their geometries, in the same order.
    pub geometry: EncodedGeometry,
}

/// Loads, numbered from 1 as their caches are made.
static LOADS: AtomicU64 = AtomicU64::new(1);

/// The kept unit geometries of one load (moka), weighed by their bytes.
#[derive(Clone)]
pub struct LayerCache {
    inner: Option<moka::sync::Cache<(TileId, LayerId), Arc<UnitGeometries>>>,
    load: u64,
}

impl std::fmt::Debug for LayerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("LayerCache");
        d.field("load", &self.load);
        if let Some(c) = &self.inner {
            d.field("entries", &c.entry_count())
                .field("bytes", &c.weighted_size());
        }
        d.finish()
    }
}

impl Default for LayerCache {
    fn default() -> Self {
        LayerCache::new(0)
    }
}

impl LayerCache {
    /// A cache holding at most about `max_bytes` of geometries; `0` keeps
    /// nothing (and its snapshots reuse no layer either).
    pub fn new(max_bytes: u64) -> Self {
        LayerCache {
            inner: (max_bytes > 0).then(|| {
                moka::sync::Cache::builder()
                    .max_capacity(max_bytes)
                    .weigher(|_k: &(TileId, LayerId), s: &Arc<UnitGeometries>| {
                        let len = s.geometry.size() + 12 * s.units.len();
                        u32::try_from(len + 96).unwrap_or(u32::MAX)
                    })
                    .build()
            }),
            load: LOADS.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// A cache that keeps nothing, for the same load (a past day's
    /// snapshot of it).
    pub fn off(&self) -> LayerCache {
        LayerCache {
            inner: None,
            load: self.load,
        }
    }

    /// Whether it keeps anything.
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The load it serves: a number no other cache made by this process
    /// has.
    pub fn load(&self) -> u64 {
        self.load
    }

    /// The unit geometries kept for `layer` of `tile`, if any.
    pub fn shapes(&self, tile: TileId, layer: LayerId) -> Option<Arc<UnitGeometries>> {
        self.inner.as_ref()?.get(&(tile, layer))
    }

    /// Keeps the unit geometries of `layer` of `tile`.
    pub fn keep_shapes(&self, tile: TileId, layer: LayerId, shapes: Arc<UnitGeometries>) {
        if let Some(c) = &self.inner {
            c.insert((tile, layer), shapes);
        }
    }
}

/// What a tile build needs to reuse: the load's cache, the tile's
/// hidden-danger version, and the tile's previous body, if any.
#[derive(Debug, Clone)]
pub struct Reuse<'a> {
    /// The load's cache.
    pub cache: &'a LayerCache,
    /// The tile's hidden-danger version.
    pub danger_version: u64,
    /// The tile's previous gzip body for the same caller and filter.
    pub previous: Option<Previous>,
}

impl Reuse<'_> {
    /// `layer` as the previous body holds it, if it may be reused: made
    /// under the same load and, for the hidden dangers, at the same
    /// hidden-danger version. The segment (`None`: no feature), the
    /// feature count, and whether enterprise points were clustered.
    pub fn take(&self, layer: LayerId) -> Option<(Option<Segment>, usize, bool)> {
        let p = self.previous.as_ref()?;
        if !reusable(layer)
            || p.kept.load != self.cache.load
            || (layer == LayerId::HiddenDangers && p.kept.danger_version != self.danger_version)
        {
            return None;
        }
        let k = p.kept.layers.iter().find(|k| k.layer == layer)?;
        let segment = match &k.segment {
            Some((range, crc)) => Some(Segment::in_body(&p.body, range.clone(), *crc)?),
            None => None,
        };
        Some((segment, k.count, k.clustered))
    }
}

#[cfg(test)]
mod tests {
    use super::super::gzip_layers::{Deflater, gzip, ranges};
    use super::*;

    #[test]
    fn takes_reusable_layers_of_the_same_load_and_danger_version() {
        let cache = LayerCache::new(1 << 20);
        let mut d = Deflater::new();
        let seg = |d: &mut Deflater, b: &[u8]| d.segment(&[b]).unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = (seg(&mut d, &[1, 2, 3]), seg(&mut d, &[4, 5]));
        let body = Bytes::from(gzip([&a, &b]));
        let r = ranges([&a, &b]);
        let kept = KeptLayers {
            load: cache.load(),
            danger_version: 7,
            layers: vec![
                KeptLayer {
                    layer: LayerId::Enterprises,
                    segment: Some((r[0].clone(), a.crc())),
                    count: 3,
                    clustered: true,
                },
                KeptLayer {
                    layer: LayerId::HiddenDangers,
                    segment: Some((r[1].clone(), b.crc())),
                    count: 2,
                    clustered: false,
                },
                KeptLayer {
                    layer: LayerId::CollapseZones,
                    segment: None,
                    count: 0,
                    clustered: false,
                },
            ],
        };
        let reuse = |cache, danger_version, kept: &KeptLayers| Reuse {
            cache,
            danger_version,
            previous: Some(Previous {
                body: body.clone(),
                kept: Arc::new(kept.clone()),
            }),
        };
        let same = reuse(&cache, 7, &kept);
        assert_eq!(
            same.take(LayerId::Enterprises),
            Some((Some(a.clone()), 3, true))
        );
        assert_eq!(same.take(LayerId::HiddenDangers), Some((Some(b), 2, false)));
        assert_eq!(same.take(LayerId::CollapseZones), Some((None, 0, false)));
        // Another hidden-danger version: the dangers are made again.
        let later = reuse(&cache, 8, &kept);
        assert!(later.take(LayerId::HiddenDangers).is_none());
        assert_eq!(later.take(LayerId::Enterprises), Some((Some(a), 3, true)));
        // Layers a write changes, layers not kept, another load: none.
        assert!(later.take(LayerId::Cells).is_none());
        assert!(later.take(LayerId::HazardSources).is_none());
        let other = LayerCache::new(1 << 20);
        assert_ne!(other.load(), cache.load());
        assert!(reuse(&other, 7, &kept).take(LayerId::Enterprises).is_none());
        // A range outside the body is not taken.
        let mut broken = kept.clone();
        broken.layers[0].segment = Some((0..body.len() + 1, (0, 0)));
        assert!(
            reuse(&cache, 7, &broken)
                .take(LayerId::Enterprises)
                .is_none()
        );
    }

    #[test]
    fn keeps_shapes_and_nothing_when_off() {
        let tile = TileId::new(12, 3, 4).unwrap_or_else(|e| panic!("{e}"));
        let cache = LayerCache::new(1 << 20);
        let shapes = Arc::new(UnitGeometries {
            units: vec![(1, 1)],
            geometry: EncodedGeometry::default(),
        });
        cache.keep_shapes(tile, LayerId::Cells, Arc::clone(&shapes));
        assert_eq!(cache.shapes(tile, LayerId::Cells), Some(shapes.clone()));
        assert!(cache.shapes(tile, LayerId::Villages).is_none());
        let off = LayerCache::new(0);
        assert!(!off.is_enabled());
        off.keep_shapes(tile, LayerId::Cells, shapes);
        assert!(off.shapes(tile, LayerId::Cells).is_none());
    }
}
