//! A bounded in-memory cache of encoded tiles, keyed so that a new
//! `data_version`, another caller scope, another filter or another
//! encoding never shares an entry.

use super::{TileFilter, TileId};
use bytes::Bytes;
use std::io::Write;
use std::sync::Arc;

/// What a cached tile is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TileKey {
    /// The base data version, with the sequence number of the last live
    /// write that may have changed this tile (`<base>-<seq>`), if any.
    pub data_version: Arc<str>,
    /// The tile.
    pub tile: TileId,
    /// The caller's cache key (`public`, `all` or `scope:CODE`).
    pub caller: Arc<str>,
    /// The enterprises and hazard sources kept ([`TileFilter::NONE`]: all).
    pub filter: TileFilter,
    /// Gzip-compressed body (else identity).
    pub gzip: bool,
}

/// A cached tile body: `None` for a tile with no feature.
pub type TileBody = Option<Bytes>;

/// The tile cache (moka), weighed by body size.
#[derive(Clone)]
pub struct TileCache {
    inner: moka::sync::Cache<TileKey, TileBody>,
    enabled: bool,
}

impl std::fmt::Debug for TileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileCache")
            .field("entries", &self.inner.entry_count())
            .field("bytes", &self.inner.weighted_size())
            .finish()
    }
}

impl TileCache {
    /// A cache holding at most about `max_bytes` of tile bodies; `0` keeps
    /// nothing (every call builds).
    pub fn new(max_bytes: u64) -> Self {
        TileCache {
            enabled: max_bytes > 0,
            inner: moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_k: &TileKey, v: &TileBody| {
                    let len = v.as_ref().map_or(0, Bytes::len);
                    u32::try_from(len + 128).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }

    /// The cached body for `key`, or the one `build` makes (stored when it
    /// succeeds). Concurrent callers of one key wait for a single build.
    pub fn get_or_build<E>(
        &self,
        key: TileKey,
        build: impl FnOnce() -> Result<TileBody, E>,
    ) -> Result<TileBody, Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        if !self.enabled {
            return build().map_err(Arc::new);
        }
        self.inner.try_get_with(key, build)
    }

    /// The cached body for `key`, if present.
    pub fn get(&self, key: &TileKey) -> Option<TileBody> {
        if !self.enabled {
            return None;
        }
        self.inner.get(key)
    }

    /// Number of cached tiles (approximate until pending tasks run).
    pub fn entry_count(&self) -> u64 {
        self.inner.run_pending_tasks();
        self.inner.entry_count()
    }
}

/// Gzip-compresses a tile body.
pub fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 2),
        // Level 1: on the demo city's largest tiles about twice as fast as
        // the default level 6 for output under 10 % larger — compressing
        // an uncached tile would otherwise cost more than building it.
        flate2::Compression::fast(),
    );
    enc.write_all(bytes)?;
    enc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn key(version: &str, gzip: bool) -> TileKey {
        TileKey {
            data_version: version.into(),
            tile: TileId::new(3, 1, 2).unwrap_or_else(|e| panic!("{e}")),
            caller: "public".into(),
            filter: TileFilter::NONE,
            gzip,
        }
    }

    #[test]
    fn builds_once_and_separates_versions_and_encodings() {
        let cache = TileCache::new(1 << 20);
        let mut builds = 0;
        for _ in 0..3 {
            let body = cache.get_or_build::<()>(key("v1", false), || {
                builds += 1;
                Ok(Some(Bytes::from_static(b"abc")))
            });
            assert_eq!(body.ok().flatten().as_deref(), Some(&b"abc"[..]));
        }
        assert_eq!(builds, 1);
        assert!(cache.get(&key("v2", false)).is_none());
        assert!(cache.get(&key("v1", true)).is_none());
        let failed = cache.get_or_build(key("v3", false), || Err("boom"));
        assert!(failed.is_err());
        assert!(cache.get(&key("v3", false)).is_none());
        assert_eq!(cache.entry_count(), 1);
        // A zero-sized cache builds every time and keeps nothing.
        let off = TileCache::new(0);
        let mut builds = 0;
        for _ in 0..2 {
            let body = off.get_or_build::<()>(key("v1", false), || {
                builds += 1;
                Ok(Some(Bytes::from_static(b"x")))
            });
            assert!(body.is_ok());
        }
        assert_eq!(builds, 2);
        assert!(off.get(&key("v1", false)).is_none());
    }

    #[test]
    fn gzip_round_trips() {
        let data = vec![7u8; 10_000];
        let z = gzip(&data).unwrap_or_default();
        assert!(z.len() < 200 && z[..2] == [0x1f, 0x8b]);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(z.as_slice())
            .read_to_end(&mut back)
            .unwrap_or_default();
        assert_eq!(back, data);
    }
}
