//! [`TileChanges`]: which tiles a live write may have changed, so that only
//! those get a new ETag and a new cache entry while every other tile keeps
//! its ETag (and a client's `If-None-Match` still answers 304).

use super::TileId;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

/// Zooms above this share the record of their ancestor at this zoom.
pub const TRACKED_MAX_ZOOM: u8 = 16;

/// Share of a tile's width added around a changed box, as the tile buffer
/// (64 of 4,096 units) carries features that far outside the tile.
const BUFFER: f64 = 64.0 / 4096.0;

/// Most tiles a change marks one by one at a zoom; a larger box is marked
/// once, on the few tiles of a coarser zoom that cover it, for every zoom
/// below (a superset of the tiles it meets: a change never goes unseen).
const EXACT_TILES: u64 = 16;

/// Locks the records are spread over (tile requests read them while a
/// write records its tiles).
const SHARDS: usize = 16;

type Shard<V> = RwLock<HashMap<TileId, V, foldhash::fast::RandomState>>;

/// Per tile (up to [`TRACKED_MAX_ZOOM`]), the journal sequence number of the
/// last write that may have changed it.
///
/// One record serves every snapshot derived from one load (a clone shares
/// it): a write records its tiles before its snapshot is served, and a
/// reader asks as of its own snapshot's sequence number
/// ([`TileChanges::last_change`]). Recording a write costs a hash insert
/// per tile, whatever the number of tiles recorded before.
#[derive(Clone, Default)]
pub struct TileChanges(Arc<Records>);

struct Records {
    /// Tiles marked one by one.
    last: [Shard<Marked>; SHARDS],
    /// Coarse marks: a tile, and the first zoom from which every tile below
    /// it counts as changed.
    below: [Shard<(Marked, u8)>; SHARDS],
    /// The zooms (bit z) that hold coarse marks: a tile looks only there.
    below_zooms: AtomicU32,
}

/// The last two sequence numbers that marked a tile: a reader whose
/// snapshot precedes the latest (a write derived, not yet served) still
/// gets the tile's version as of its snapshot.
#[derive(Debug, Clone, Copy, Default)]
struct Marked {
    previous: u64,
    latest: u64,
}

impl Marked {
    fn after(self, seq: u64) -> Marked {
        if seq > self.latest {
            Marked {
                previous: self.latest,
                latest: seq,
            }
        } else {
            // Numbers only grow; a repeat changes nothing.
            self
        }
    }

    /// The last mark up to `at`, or `at` itself when both marks kept are
    /// later (the tile as of `at` is then named by `at`).
    fn as_of(self, at: u64) -> u64 {
        if self.latest <= at {
            self.latest
        } else if self.previous <= at {
            self.previous
        } else {
            at
        }
    }
}

impl Default for Records {
    fn default() -> Self {
        Records {
            last: std::array::from_fn(|_| RwLock::default()),
            below: std::array::from_fn(|_| RwLock::default()),
            below_zooms: AtomicU32::new(0),
        }
    }
}

impl std::fmt::Debug for TileChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileChanges")
            .field("marks", &self.len())
            .finish()
    }
}

fn shard(tile: TileId) -> usize {
    // Neighbouring tiles fall on different shards.
    ((tile.x() ^ tile.y().rotate_left(7) ^ u32::from(tile.z()).rotate_left(13)) as usize) % SHARDS
}

fn read<V: Copy>(shards: &[Shard<V>; SHARDS], tile: TileId) -> Option<V> {
    shards[shard(tile)]
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&tile)
        .copied()
}

fn count<V>(shards: &[Shard<V>; SHARDS]) -> usize {
    shards
        .iter()
        .map(|s| s.read().unwrap_or_else(PoisonError::into_inner).len())
        .sum()
}

impl TileChanges {
    /// Records that every tile of zooms `from..=to` (capped at
    /// [`TRACKED_MAX_ZOOM`]) whose buffered area meets the lon/lat box
    /// `[west, south, east, north]` changed at `seq`.
    pub fn mark(&self, bbox: [f64; 4], from: u8, to: u8, seq: u64) {
        let mut marks = TileMarks::default();
        marks.add(bbox, from, to);
        self.apply(marks, seq);
    }

    /// Records every tile of `marks` as changed at `seq` (a later write's
    /// number than any recorded: numbers only grow, a lower one is
    /// ignored).
    pub fn apply(&self, marks: TileMarks, seq: u64) {
        let mut last: [Vec<TileId>; SHARDS] = Default::default();
        for t in marks.exact {
            last[shard(t)].push(t);
        }
        for (tiles, lock) in last.iter().zip(&self.0.last) {
            if tiles.is_empty() {
                continue;
            }
            let mut map = lock.write().unwrap_or_else(PoisonError::into_inner);
            for &t in tiles {
                let m = map.entry(t).or_default();
                *m = m.after(seq);
            }
        }
        for (t, from) in marks.below {
            self.0
                .below_zooms
                .fetch_or(1 << t.z().min(31), Ordering::Release);
            let mut map = self.0.below[shard(t)]
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let m = map.entry(t).or_insert((Marked::default(), from));
            *m = (m.0.after(seq), from);
        }
    }

    /// The sequence number of the last write up to `at` (the asking
    /// snapshot's) that may have changed `tile` (0: none since the base).
    /// When the two last writes that marked it are both later (a reader of
    /// an old snapshot), `at` itself: the tile as of `at` is named by `at`,
    /// a version no other state of the tile has.
    pub fn last_change(&self, tile: TileId, at: u64) -> u64 {
        let z = tile.z();
        let t = if z > TRACKED_MAX_ZOOM {
            let d = z - TRACKED_MAX_ZOOM;
            match TileId::new(u32::from(TRACKED_MAX_ZOOM), tile.x() >> d, tile.y() >> d) {
                Ok(t) => t,
                Err(_) => return at,
            }
        } else {
            tile
        };
        let mut seq = read(&self.0.last, t).map_or(0, |m| m.as_of(at));
        let zooms = self.0.below_zooms.load(Ordering::Acquire);
        for zc in 0..t.z() {
            if zooms & (1 << zc) == 0 {
                continue;
            }
            let d = t.z() - zc;
            if let Ok(a) = TileId::new(u32::from(zc), t.x() >> d, t.y() >> d)
                && let Some((m, from)) = read(&self.0.below, a)
                && from <= t.z()
            {
                seq = seq.max(m.as_of(at));
            }
        }
        seq.min(at)
    }

    /// Number of marks recorded (tiles and coarse marks).
    pub fn len(&self) -> usize {
        count(&self.0.last) + count(&self.0.below)
    }

    /// Whether no tile changed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The tiles one write may have changed, gathered before they are recorded
/// in [`TileChanges`] (see [`TileChanges::apply`]): a write that meets the
/// same tiles through many boxes (an alarm's cells, their ancestors)
/// records each tile once.
#[derive(Debug, Default)]
pub struct TileMarks {
    exact: HashSet<TileId, foldhash::fast::RandomState>,
    /// Coarse marks: the tile, and the first zoom below it that counts as
    /// changed (always the tile's zoom + 1).
    below: HashMap<TileId, u8, foldhash::fast::RandomState>,
}

impl TileMarks {
    /// Adds every tile of zooms `from..=to` (capped at
    /// [`TRACKED_MAX_ZOOM`]) whose buffered area meets the lon/lat box
    /// `[west, south, east, north]`; a box wider than [`EXACT_TILES`] tiles
    /// at a zoom is marked on the tiles of the zoom above for every zoom
    /// from there down.
    pub fn add(&mut self, bbox: [f64; 4], from: u8, to: u8) {
        let [w, s, e, n] = bbox;
        if ![w, s, e, n].iter().all(|v| v.is_finite()) {
            return;
        }
        let to = to.min(TRACKED_MAX_ZOOM);
        for z in from..=to {
            let (x0, x1, y0, y1) = tile_range(bbox, z);
            let count = u64::from(x1 - x0 + 1) * u64::from(y1 - y0 + 1);
            if count > EXACT_TILES && z > from {
                // From here down, mark the tiles of the zoom above, for
                // every deeper zoom (it covered at most EXACT_TILES).
                let (px0, px1, py0, py1) = tile_range(bbox, z - 1);
                for x in px0..=px1 {
                    for y in py0..=py1 {
                        if let Ok(t) = TileId::new(u32::from(z - 1), x, y) {
                            self.below.insert(t, z);
                        }
                    }
                }
                return;
            }
            for x in x0..=x1 {
                for y in y0..=y1 {
                    if let Ok(t) = TileId::new(u32::from(z), x, y) {
                        self.exact.insert(t);
                    }
                }
            }
        }
    }

    /// Whether no tile was added.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.below.is_empty()
    }
}

/// The tile columns and rows `(x0, x1, y0, y1)` of zoom `z` whose
/// buffered area meets the lon/lat box.
fn tile_range(bbox: [f64; 4], z: u8) -> (u32, u32, u32, u32) {
    let [w, s, e, n] = bbox;
    let scale = f64::from(1u32 << z);
    let (x0, y0) = tile_xy(w, n, scale);
    let (x1, y1) = tile_xy(e, s, scale);
    let last = (1u32 << z) - 1;
    let clamp = |v: f64| (v.max(0.0).floor() as u32).min(last);
    (
        clamp(x0 - BUFFER),
        clamp(x1 + BUFFER),
        clamp(y0 - BUFFER),
        clamp(y1 + BUFFER),
    )
}

/// Fractional tile coordinates of a lon/lat point at `scale` = 2^z.
fn tile_xy(lon: f64, lat: f64, scale: f64) -> (f64, f64) {
    let lat = lat.clamp(-85.051_128_78, 85.051_128_78).to_radians();
    let x = (lon + 180.0) / 360.0 * scale;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * scale;
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(z: u32, x: u32, y: u32) -> TileId {
        TileId::new(z, x, y).unwrap()
    }

    #[test]
    fn marks_only_the_covering_tiles_and_maps_deep_zooms_up() {
        let c = TileChanges::default();
        // A small box in Quanzhou (118.6 E, 24.9 N).
        c.mark([118.600, 24.900, 118.601, 24.901], 10, 16, 7);
        let (x, y) = tile_xy(118.6005, 24.9005, 65536.0);
        let inside = t(16, x as u32, y as u32);
        assert_eq!(c.last_change(inside, u64::MAX), 7);
        assert_eq!(c.last_change(t(16, x as u32 + 5, y as u32), u64::MAX), 0);
        assert_eq!(
            c.last_change(t(9, (x as u32) >> 7, (y as u32) >> 7), u64::MAX),
            0
        );
        assert_eq!(
            c.last_change(t(10, (x as u32) >> 6, (y as u32) >> 6), u64::MAX),
            7
        );
        assert_eq!(
            c.last_change(t(18, (x as u32) << 2, (y as u32) << 2), u64::MAX),
            7
        );
        assert!(c.len() >= 7 && c.len() <= 7 * 4);
        let before = c.len();
        c.mark([f64::NAN, 0.0, 0.0, 0.0], 0, 16, 9);
        assert_eq!(c.len(), before);
    }

    #[test]
    fn a_large_box_is_marked_coarsely_and_every_tile_it_meets_changes() {
        let c = TileChanges::default();
        // A county-sized box (about 40 km).
        let b = [118.40, 24.80, 118.80, 25.15];
        c.mark(b, 0, 16, 3);
        assert!(c.len() < 200, "{} marks", c.len());
        // Every z14 and z16 tile whose area meets the box changed.
        for z in [9u8, 14, 16] {
            let (x0, x1, y0, y1) = tile_range(b, z);
            for x in (x0..=x1).step_by(7) {
                for y in (y0..=y1).step_by(7) {
                    assert_eq!(
                        c.last_change(t(u32::from(z), x, y), u64::MAX),
                        3,
                        "{z}/{x}/{y}"
                    );
                }
            }
            // Far away: unchanged.
            assert_eq!(c.last_change(t(u32::from(z), x1 + 40, y0), u64::MAX), 0);
        }
        // Below `from`, nothing.
        let d = TileChanges::default();
        d.mark(b, 12, 16, 5);
        let (x0, _, y0, _) = tile_range(b, 11);
        assert_eq!(d.last_change(t(11, x0, y0), u64::MAX), 0);
        let (x0, _, y0, _) = tile_range(b, 13);
        assert_eq!(d.last_change(t(13, x0, y0), u64::MAX), 5);
    }

    #[test]
    fn one_write_s_boxes_gathered_mark_what_they_mark_one_by_one() {
        // An alarm's point, two of its cells and a county-sized ancestor.
        let boxes = [
            ([118.60, 24.90, 118.60, 24.90], 12u8),
            ([118.598, 24.898, 118.603, 24.902], 12),
            ([118.600, 24.899, 118.606, 24.905], 12),
            ([118.40, 24.80, 118.80, 25.15], 8),
        ];
        let one_by_one = TileChanges::default();
        let gathered = TileChanges::default();
        let mut marks = TileMarks::default();
        assert!(marks.is_empty());
        for (b, from) in boxes {
            one_by_one.mark(b, from, 16, 9);
            marks.add(b, from, 16);
        }
        gathered.apply(marks, 9);
        assert_eq!(gathered.len(), one_by_one.len());
        for z in 6..=16u32 {
            let (x0, x1, y0, y1) = tile_range([118.3, 24.7, 118.9, 25.2], z as u8);
            for x in x0..=x1 {
                for y in y0..=y1 {
                    let tile = t(z, x, y);
                    assert_eq!(
                        gathered.last_change(tile, u64::MAX),
                        one_by_one.last_change(tile, u64::MAX),
                        "{z}/{x}/{y}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_snapshot_asks_as_of_its_own_sequence_number() {
        let c = TileChanges::default();
        let b = [118.600, 24.900, 118.601, 24.901];
        let (x, y) = tile_xy(118.6005, 24.9005, 65536.0);
        let tile = t(16, x as u32, y as u32);
        c.mark(b, 10, 16, 5);
        // A later snapshot shares the record (a clone is the same record).
        let later = c.clone();
        assert_eq!(later.last_change(tile, 7), 5);
        assert_eq!(c.last_change(tile, 5), 5);
        // Asked before the write that changed it: as of the asker.
        assert_eq!(c.last_change(tile, 3), 0);
        later.mark(b, 10, 16, 9);
        assert_eq!(c.last_change(tile, 7), 5);
        assert_eq!(c.last_change(tile, 9), 9);
        assert_eq!(c.last_change(tile, 12), 9);
        // A lower number than recorded changes nothing.
        c.mark(b, 10, 16, 8);
        assert_eq!(c.last_change(tile, 12), 9);
        assert_eq!(c.last_change(tile, 7), 5);
        // Two marks after the asker: only the asker's own number names the
        // tile as of its snapshot.
        c.mark(b, 10, 16, 11);
        assert_eq!(c.last_change(tile, 7), 7);
        assert_eq!(c.last_change(tile, 10), 9);
        // A tile no write met stays at the base.
        assert_eq!(c.last_change(t(16, x as u32 + 50, y as u32), 12), 0);
        // Coarse marks too.
        let big = [118.40, 24.80, 118.80, 25.15];
        c.mark(big, 0, 16, 13);
        assert_eq!(c.last_change(tile, 12), 11);
        assert_eq!(c.last_change(tile, 20), 13);
        // Inside the large box, away from the small one.
        let inside = t(16, x as u32 + 20, y as u32);
        assert_eq!(c.last_change(inside, 12), 0);
        assert_eq!(c.last_change(inside, 14), 13);
    }
}
