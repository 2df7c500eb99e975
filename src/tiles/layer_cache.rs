//! [`LayerCache`]: the encoded layers of a tile that live writes rebuild,
//! and its grid units' encoded geometries, kept so that the rebuild encodes
//! only what the writes changed.
//!
//! A live write gives every tile it may have changed a new version, and the
//! next request for such a tile builds it again. Most of its layers are the
//! same as before: collapse zones, hazard sources and enterprises never
//! change with a write (their tile properties come from the base files),
//! and hidden dangers change only with a hidden-danger write (a report, an
//! event, an alarm's dispatch), not with an alarm. Those layers are kept
//! here per tile, caller scope and filter — the hidden dangers under the
//! tile's own hidden-danger version (the snapshot's `danger_changes`) — as
//! the deflate segments of the tile's gzip body ([`super::gzip_layers`]),
//! and reused by the rebuild. The grid levels' geometries, clipped and
//! encoded, are kept per tile too (the same for every caller: no write
//! changes a unit's shape), so that the rebuild encodes the units'
//! properties, the sensors and the alarms, and compresses those layers.
//!
//! One cache serves the snapshots of one load as a server loads it (a
//! reload starts an empty one); it holds the layers of gzip tiles cut with
//! the default tile policy, from their first build on (a tile read before
//! a write is rebuilt from what it kept), bounded in bytes.

use super::encode::EncodedGeometry;
use super::gzip_layers::Segment;
use super::{TileFilter, TileId};
use crate::index::UnitId;
use crate::model::LayerId;
use std::sync::Arc;

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

/// What a kept layer is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LayerKey {
    /// The tile.
    pub tile: TileId,
    /// The caller's cache key (`public`, `all` or `scope:CODE`).
    pub caller: Arc<str>,
    /// The enterprises and hazard sources kept.
    pub filter: TileFilter,
    /// The layer.
    pub layer: LayerId,
    /// The tile's hidden-danger version for [`LayerId::HiddenDangers`]; 0
    /// for the layers no write changes.
    pub version: u64,
}

/// One encoded layer of a tile, as the tile builder made it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerPart {
    /// The layer's tile field, compressed ([`super::gzip_layers`]); `None`:
    /// the layer had no feature in the tile.
    pub segment: Option<Arc<Segment>>,
    /// Its features.
    pub count: usize,
    /// Whether enterprise points were clustered (enterprises only).
    pub clustered: bool,
}

impl LayerKey {
    /// The key of the encoded unit geometries of `layer` (a grid level)
    /// in `tile`, the same for every caller and filter.
    pub fn shapes(tile: TileId, layer: LayerId) -> Self {
        /// No caller's key is empty.
        static ANY_CALLER: std::sync::LazyLock<Arc<str>> =
            std::sync::LazyLock::new(|| Arc::from(""));
        LayerKey {
            tile,
            caller: Arc::clone(&ANY_CALLER),
            filter: TileFilter::NONE,
            layer,
            version: 0,
        }
    }
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

/// What is kept under a key.
#[derive(Debug, Clone)]
enum Kept {
    Part(Arc<LayerPart>),
    Shapes(Arc<UnitGeometries>),
}

/// The kept layers and unit geometries (moka), weighed by their bytes.
#[derive(Clone)]
pub struct LayerCache {
    inner: Option<moka::sync::Cache<LayerKey, Kept>>,
}

impl std::fmt::Debug for LayerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("LayerCache");
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
    /// A cache holding at most about `max_bytes` of layers; `0` keeps
    /// nothing.
    pub fn new(max_bytes: u64) -> Self {
        LayerCache {
            inner: (max_bytes > 0).then(|| {
                moka::sync::Cache::builder()
                    .max_capacity(max_bytes)
                    .weigher(|_k: &LayerKey, v: &Kept| {
                        let len = match v {
                            Kept::Part(p) => p.segment.as_ref().map_or(0, |s| s.compressed_len()),
                            Kept::Shapes(s) => s.geometry.size() + 12 * s.units.len(),
                        };
                        u32::try_from(len + 96).unwrap_or(u32::MAX)
                    })
                    .build()
            }),
        }
    }

    /// Whether it keeps anything.
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The layer kept for `key`, if any.
    pub fn get(&self, key: &LayerKey) -> Option<Arc<LayerPart>> {
        match self.inner.as_ref()?.get(key)? {
            Kept::Part(p) => Some(p),
            Kept::Shapes(_) => None,
        }
    }

    /// Keeps `part` for `key`.
    pub fn insert(&self, key: LayerKey, part: LayerPart) {
        if let Some(c) = &self.inner {
            c.insert(key, Kept::Part(Arc::new(part)));
        }
    }

    /// The unit geometries kept for `layer` of `tile`, if any.
    pub fn shapes(&self, tile: TileId, layer: LayerId) -> Option<Arc<UnitGeometries>> {
        match self.inner.as_ref()?.get(&LayerKey::shapes(tile, layer))? {
            Kept::Shapes(s) => Some(s),
            Kept::Part(_) => None,
        }
    }

    /// Keeps the unit geometries of `layer` of `tile`.
    pub fn keep_shapes(&self, tile: TileId, layer: LayerId, shapes: Arc<UnitGeometries>) {
        if let Some(c) = &self.inner {
            c.insert(LayerKey::shapes(tile, layer), Kept::Shapes(shapes));
        }
    }
}

/// What a tile build needs to reuse kept layers: the cache, and the keys'
/// parts that come from the snapshot and the caller.
#[derive(Debug, Clone)]
pub struct Reuse<'a> {
    /// The load's cache.
    pub cache: &'a LayerCache,
    /// The caller's cache key.
    pub caller: Arc<str>,
    /// The tile's hidden-danger version.
    pub danger_version: u64,
}

impl Reuse<'_> {
    /// The key of `layer` of `tile` with `filter`, if the layer is
    /// reusable.
    pub fn key(&self, tile: TileId, filter: TileFilter, layer: LayerId) -> Option<LayerKey> {
        reusable(layer).then(|| LayerKey {
            tile,
            caller: Arc::clone(&self.caller),
            filter,
            layer,
            version: if layer == LayerId::HiddenDangers {
                self.danger_version
            } else {
                0
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_parts_by_key_and_nothing_when_off() {
        let tile = TileId::new(12, 3, 4).unwrap_or_else(|e| panic!("{e}"));
        let cache = LayerCache::new(1 << 20);
        let reuse = Reuse {
            cache: &cache,
            caller: Arc::from("all"),
            danger_version: 7,
        };
        assert!(reuse.key(tile, TileFilter::NONE, LayerId::Cells).is_none());
        assert!(reuse.key(tile, TileFilter::NONE, LayerId::Alarms).is_none());
        let dangers = reuse.key(tile, TileFilter::NONE, LayerId::HiddenDangers);
        let enterprises = reuse.key(tile, TileFilter::NONE, LayerId::Enterprises);
        assert_eq!(dangers.as_ref().map(|k| k.version), Some(7));
        assert_eq!(enterprises.as_ref().map(|k| k.version), Some(0));
        let segment = super::super::gzip_layers::Deflater::new()
            .segment(&[&[1, 2, 3]])
            .unwrap_or_else(|e| panic!("{e}"));
        let part = LayerPart {
            segment: Some(Arc::new(segment)),
            count: 1,
            clustered: true,
        };
        if let Some(k) = enterprises.clone() {
            cache.insert(k, part.clone());
        }
        let got = enterprises.as_ref().and_then(|k| cache.get(k));
        assert_eq!(got.as_deref(), Some(&part));
        assert!(dangers.as_ref().and_then(|k| cache.get(k)).is_none());
        let off = LayerCache::new(0);
        assert!(!off.is_enabled());
        if let Some(k) = enterprises.clone() {
            off.insert(k, part);
        }
        assert!(enterprises.as_ref().and_then(|k| off.get(k)).is_none());
    }
}
