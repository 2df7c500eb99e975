//! A bounded in-memory cache of encoded tiles: one entry per tile address
//! (load, day, tile, caller scope, filter, encoding), holding the tile's
//! latest state built, so that a live write's new state replaces the old
//! one in place instead of leaving it to take room until it is evicted.

use super::layer_cache::{KeptLayers, Previous};
use super::{TileFilter, TileId};
use bytes::Bytes;
use moka::ops::compute::{CompResult, Op};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What a cached tile is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TileKey {
    /// The load serving it ([`super::LayerCache::load`]): states are
    /// numbered within one load, and a reload (even of the same files)
    /// never shares an entry with the load before.
    pub load: u64,
    /// The load's base data version.
    pub base: Arc<str>,
    /// The tile's state: the sequence number of the last live write that
    /// may have changed it (0: none since the base); for a past day's tile,
    /// the snapshot's.
    pub seq: u64,
    /// The day of a past day's tile (`?date=`).
    pub date: Option<Arc<str>>,
    /// The tile.
    pub tile: TileId,
    /// The caller's cache key (`public`, `all` or `scope:CODE`).
    pub caller: Arc<str>,
    /// The enterprises and hazard sources kept ([`TileFilter::NONE`]: all).
    pub filter: TileFilter,
    /// Gzip-compressed body (else identity).
    pub gzip: bool,
}

impl TileKey {
    /// Feeds the tile's `data_version` to `out` in pieces: `<base>`,
    /// `<base>-<seq>`, or `<base>-<seq>@<date>` for a past day's tile.
    pub fn data_version_in(&self, mut out: impl FnMut(&[u8])) {
        out(self.base.as_bytes());
        if self.seq == 0 && self.date.is_none() {
            return;
        }
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        let mut n = self.seq;
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out(b"-");
        out(&digits[start..]);
        if let Some(d) = &self.date {
            out(b"@");
            out(d.as_bytes());
        }
    }

    /// The tile's `data_version` (see [`TileKey::data_version_in`]).
    pub fn data_version(&self) -> String {
        let mut v = Vec::new();
        self.data_version_in(|b| v.extend_from_slice(b));
        String::from_utf8_lossy(&v).into_owned()
    }

    fn address(&self) -> Address {
        Address {
            load: self.load,
            base: Arc::clone(&self.base),
            date: self.date.clone(),
            tile: self.tile,
            caller: Arc::clone(&self.caller),
            filter: self.filter,
            gzip: self.gzip,
        }
    }
}

/// A cached tile body: `None` for a tile with no feature.
pub type TileBody = Option<Bytes>;

/// What one entry is kept under: a key without its state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Address {
    load: u64,
    base: Arc<str>,
    date: Option<Arc<str>>,
    tile: TileId,
    caller: Arc<str>,
    filter: TileFilter,
    gzip: bool,
}

/// A tile's body in one state, with where its reusable layers lie in it
/// (gzip bodies built with the default tile policy).
#[derive(Debug)]
struct Stored {
    seq: u64,
    body: TileBody,
    kept: Option<Arc<KeptLayers>>,
    /// When this state was known to be the tile's latest: the moment the
    /// request it was built for read its snapshot (not moved on by the
    /// hits after it).
    current_at: Instant,
    /// Set once a rebuild has been started behind a stale answer of this
    /// state ([`TileCache::get_stale`]).
    refreshing: AtomicBool,
}

/// A tile's cached state answered although a write has changed the tile
/// since ([`TileCache::get_stale`]).
#[derive(Debug, Clone)]
pub struct Stale {
    /// The body of the state served.
    pub body: TileBody,
    /// The state served (earlier than the one asked for).
    pub seq: u64,
    /// Whether this caller is the one to start the tile's rebuild (the
    /// first to be answered this state while stale once it is half the
    /// lag old).
    pub refresh: bool,
}

/// What a tile build makes: the body, and where its reusable layers lie.
pub type Built = (TileBody, Option<KeptLayers>);

/// The tile cache (moka), weighed by body size.
#[derive(Clone)]
pub struct TileCache {
    inner: moka::sync::Cache<Address, Arc<Stored>>,
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
                .weigher(|_k: &Address, v: &Arc<Stored>| {
                    let len = v.body.as_ref().map_or(0, Bytes::len)
                        + v.kept.as_ref().map_or(0, |k| 64 + 48 * k.layers.len());
                    u32::try_from(len + 240).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }

    /// The cached body for `key`, or the one `build` makes, with the state
    /// it is of: `key.seq`, or a later state of the tile when the entry
    /// already holds one (a request whose snapshot a write overtook gets
    /// the tile as it is now). `build` is given the entry's earlier state
    /// of the tile, if it has one with reusable layers; the body made
    /// replaces it. Concurrent callers of one tile wait for a single
    /// build, and none is stored when `build` fails.
    /// `current_at` is when the snapshot `key` comes from was read: the
    /// state built is known to have been current then.
    pub fn get_or_build<E>(
        &self,
        key: TileKey,
        current_at: Instant,
        build: impl FnOnce(Option<Previous>) -> Result<Built, E>,
    ) -> Result<(TileBody, u64), Arc<E>>
    where
        E: Send + Sync + 'static,
    {
        let seq = key.seq;
        if !self.enabled {
            return build(None).map(|(body, _)| (body, seq)).map_err(Arc::new);
        }
        let done = self
            .inner
            .entry(key.address())
            .and_try_compute_with(|old| match old.map(|e| e.into_value()) {
                Some(s) if s.seq >= seq => Ok(Op::Nop),
                old => {
                    let previous = old.and_then(|s| {
                        Some(Previous {
                            body: s.body.clone()?,
                            kept: Arc::clone(s.kept.as_ref()?),
                        })
                    });
                    build(previous).map(|(body, kept)| {
                        Op::Put(Arc::new(Stored {
                            seq,
                            body,
                            kept: kept.map(Arc::new),
                            current_at,
                            refreshing: AtomicBool::new(false),
                        }))
                    })
                }
            })
            .map_err(Arc::new)?;
        match done {
            CompResult::Inserted(e) | CompResult::ReplacedWith(e) | CompResult::Unchanged(e) => {
                let s = e.into_value();
                Ok((s.body.clone(), s.seq))
            }
            CompResult::StillNone(_) | CompResult::Removed(_) => Ok((None, seq)),
        }
    }

    /// The cached body for `key`, if the tile's entry holds that state.
    pub fn get(&self, key: &TileKey) -> Option<TileBody> {
        if !self.enabled {
            return None;
        }
        let s = self.inner.get(&key.address())?;
        (s.seq == key.seq).then(|| s.body.clone())
    }

    /// The tile's cached state when it is earlier than `key` asks for (a
    /// write has changed the tile since) but was the tile's latest no more
    /// than `max_stale` ago (built from a snapshot read since): what a
    /// server that lets tiles lag the writes by at most `max_stale`
    /// answers while the tile is rebuilt. `None` when the entry holds the
    /// state asked for or a later one, when it is older than that, for a
    /// past day's tile (which never changes), or when `max_stale` is zero.
    pub fn get_stale(&self, key: &TileKey, max_stale: Duration) -> Option<Stale> {
        self.get_stale_at(key, max_stale, Instant::now())
    }

    /// [`TileCache::get_stale`] at the moment `now`.
    fn get_stale_at(&self, key: &TileKey, max_stale: Duration, now: Instant) -> Option<Stale> {
        if !self.enabled || max_stale.is_zero() || key.date.is_some() {
            return None;
        }
        let s = self.inner.get(&key.address())?;
        let age = now.saturating_duration_since(s.current_at);
        if s.seq >= key.seq || age > max_stale {
            return None;
        }
        Some(Stale {
            // Rebuilt once half the lag has passed (a tile that changes
            // with every write is rebuilt at most about twice per lag,
            // however often it is read), before the lag runs out.
            refresh: age >= max_stale / 2 && !s.refreshing.swap(true, Ordering::AcqRel),
            body: s.body.clone(),
            seq: s.seq,
        })
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

    fn key(seq: u64, gzip: bool) -> TileKey {
        TileKey {
            load: 1,
            base: "v".into(),
            seq,
            date: None,
            tile: TileId::new(3, 1, 2).unwrap_or_else(|e| panic!("{e}")),
            caller: "public".into(),
            filter: TileFilter::NONE,
            gzip,
        }
    }

    #[test]
    fn builds_once_and_answers_only_the_state_asked_for() {
        let cache = TileCache::new(1 << 20);
        let mut builds = 0;
        for _ in 0..3 {
            let body = cache.get_or_build::<()>(key(1, false), Instant::now(), |_| {
                builds += 1;
                Ok((Some(Bytes::from_static(b"abc")), None))
            });
            assert_eq!(body.ok().and_then(|b| b.0).as_deref(), Some(&b"abc"[..]));
        }
        assert_eq!(builds, 1);
        assert!(cache.get(&key(2, false)).is_none());
        assert!(cache.get(&key(1, true)).is_none());
        // A failed build stores nothing and keeps the state there was.
        let failed = cache.get_or_build(key(3, false), Instant::now(), |_| Err("boom"));
        assert!(failed.is_err());
        assert!(cache.get(&key(3, false)).is_none());
        assert!(cache.get(&key(1, false)).is_some());
        assert_eq!(cache.entry_count(), 1);
        // A zero-sized cache builds every time and keeps nothing.
        let off = TileCache::new(0);
        let mut builds = 0;
        for _ in 0..2 {
            let body = off.get_or_build::<()>(key(1, false), Instant::now(), |_| {
                builds += 1;
                Ok((Some(Bytes::from_static(b"x")), None))
            });
            assert!(body.is_ok());
        }
        assert_eq!(builds, 2);
        assert!(off.get(&key(1, false)).is_none());
    }

    #[test]
    fn a_later_state_replaces_the_entry_and_an_earlier_one_never_does() {
        let cache = TileCache::new(1 << 20);
        let body = |b: &'static [u8]| {
            move |p: Option<Previous>| {
                assert!(p.is_none(), "nothing kept to hand on");
                Ok::<_, ()>((Some(Bytes::from_static(b)), None))
            }
        };
        let got = |r: Result<(TileBody, u64), Arc<()>>| r.ok().and_then(|b| b.0);
        assert!(got(cache.get_or_build(key(1, false), Instant::now(), body(b"one"))).is_some());
        assert_eq!(
            got(cache.get_or_build(key(5, false), Instant::now(), body(b"five"))).as_deref(),
            Some(&b"five"[..])
        );
        assert!(cache.get(&key(1, false)).is_none());
        assert_eq!(cache.entry_count(), 1);
        // A reader of an earlier snapshot gets the later state, unbuilt.
        let later = cache.get_or_build(key(3, false), Instant::now(), |_| -> Result<Built, ()> {
            panic!("built a state the entry has gone past")
        });
        assert_eq!(later.ok(), Some((Some(Bytes::from_static(b"five")), 5)));
        assert_eq!(
            cache.get(&key(5, false)).flatten().as_deref(),
            Some(&b"five"[..])
        );
        assert!(cache.get(&key(3, false)).is_none());
        // A past day's tile has an entry of its own.
        let dated = TileKey {
            date: Some("2026-01-01".into()),
            ..key(5, false)
        };
        assert!(cache.get(&dated).is_none());
        assert!(got(cache.get_or_build(dated.clone(), Instant::now(), body(b"day"))).is_some());
        assert!(cache.get(&key(5, false)).is_some());
        // Another load (a reload, even of the same files) shares nothing.
        let reloaded = TileKey {
            load: 2,
            ..key(0, false)
        };
        assert!(cache.get(&reloaded).is_none());
        assert_eq!(
            cache
                .get_or_build(reloaded, Instant::now(), body(b"reloaded"))
                .ok(),
            Some((Some(Bytes::from_static(b"reloaded")), 0))
        );
        assert_eq!(cache.entry_count(), 3);
    }

    #[test]
    fn a_rebuild_is_handed_the_earlier_state_and_its_kept_layers() {
        let cache = TileCache::new(1 << 20);
        let kept = KeptLayers {
            load: 3,
            danger_version: 2,
            layers: Vec::new(),
        };
        let first = cache.get_or_build::<()>(key(1, true), Instant::now(), |p| {
            assert!(p.is_none());
            Ok((Some(Bytes::from_static(b"first")), Some(kept.clone())))
        });
        assert!(first.is_ok());
        let mut handed = None;
        let second = cache.get_or_build::<()>(key(4, true), Instant::now(), |p| {
            handed = p.map(|p| (p.body, (*p.kept).clone()));
            Ok((Some(Bytes::from_static(b"second")), None))
        });
        assert_eq!(
            second.ok().and_then(|b| b.0).as_deref(),
            Some(&b"second"[..])
        );
        assert_eq!(handed, Some((Bytes::from_static(b"first"), kept)));
        // Nothing kept by the second build: nothing handed to the third.
        let third = cache.get_or_build::<()>(key(5, true), Instant::now(), |p| {
            assert!(p.is_none());
            Ok((None, None))
        });
        assert_eq!(third.ok(), Some((None, 5)));
    }

    #[test]
    fn a_stale_state_is_answered_only_within_the_lag_and_one_caller_rebuilds() {
        let cache = TileCache::new(1 << 20);
        let lag = Duration::from_secs(60);
        let t0 = Instant::now();
        let after = |secs| t0 + Duration::from_secs(secs);
        let built = |b: &'static [u8]| move |_| Ok::<_, ()>((Some(Bytes::from_static(b)), None));
        let at = |seq, x| TileKey {
            tile: TileId::new(3, x, 2).unwrap_or_else(|e| panic!("{e}")),
            ..key(seq, false)
        };
        let stale = |k: &TileKey, lag, now| {
            cache
                .get_stale_at(k, lag, now)
                .map(|s| (s.seq, s.refresh, s.body))
        };
        assert!(cache.get_or_build(at(2, 1), t0, built(b"two")).is_ok());
        // The state asked for, or none cached: nothing stale to answer.
        assert!(stale(&at(2, 1), lag, after(40)).is_none());
        assert!(stale(&at(1, 1), lag, after(40)).is_none());
        assert!(
            stale(
                &TileKey {
                    gzip: true,
                    ..at(3, 1)
                },
                lag,
                after(40)
            )
            .is_none()
        );
        // A past day's tile never changes: never stale.
        let dated = TileKey {
            date: Some("2026-01-01".into()),
            ..at(3, 1)
        };
        assert!(stale(&dated, lag, after(40)).is_none());
        // A later state asked for within half the lag: the earlier state,
        // no rebuild yet.
        let body = Some(Bytes::from_static(b"two"));
        assert_eq!(
            stale(&at(3, 1), lag, after(10)),
            Some((2, false, body.clone()))
        );
        // Past half the lag: one caller starts the rebuild.
        assert_eq!(
            stale(&at(3, 1), lag, after(40)),
            Some((2, true, body.clone()))
        );
        assert_eq!(stale(&at(7, 1), lag, after(41)), Some((2, false, body)));
        // No lag allowed, or past the lag: never stale.
        assert!(stale(&at(3, 1), Duration::ZERO, after(1)).is_none());
        assert!(stale(&at(3, 1), lag, after(61)).is_none());
        // The rebuilt state has a rebuild of its own to start.
        assert!(
            cache
                .get_or_build(at(3, 1), after(61), built(b"new"))
                .is_ok()
        );
        let fresh = stale(&at(4, 1), lag, after(100)).map(|s| (s.0, s.1));
        assert_eq!(fresh, Some((3, true)));
    }

    #[test]
    fn data_versions_name_the_base_the_state_and_the_day() {
        assert_eq!(key(0, false).data_version(), "v");
        assert_eq!(key(407, false).data_version(), "v-407");
        let dated = TileKey {
            date: Some("2026-01-01".into()),
            ..key(0, true)
        };
        assert_eq!(dated.data_version(), "v-0@2026-01-01");
        assert_eq!(
            key(u64::MAX, false).data_version(),
            format!("v-{}", u64::MAX)
        );
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
