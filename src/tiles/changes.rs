//! [`TileChanges`]: which tiles a live write may have changed, so that only
//! those get a new ETag and a new cache entry while every other tile keeps
//! its ETag (and a client's `If-None-Match` still answers 304).

use super::TileId;

/// Zooms above this share the record of their ancestor at this zoom.
pub const TRACKED_MAX_ZOOM: u8 = 16;

/// Share of a tile's width added around a changed box, as the tile buffer
/// (64 of 4,096 units) carries features that far outside the tile.
const BUFFER: f64 = 64.0 / 4096.0;

/// Per tile (up to [`TRACKED_MAX_ZOOM`]), the journal sequence number of the
/// last write that may have changed it. Cloning is cheap (a persistent map).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TileChanges {
    last: imbl::HashMap<TileId, u64>,
}

impl TileChanges {
    /// Records that every tile of zooms `from..=to` (capped at
    /// [`TRACKED_MAX_ZOOM`]) whose buffered area meets the lon/lat box
    /// `[west, south, east, north]` changed at `seq`.
    pub fn mark(&mut self, bbox: [f64; 4], from: u8, to: u8, seq: u64) {
        let [w, s, e, n] = bbox;
        if ![w, s, e, n].iter().all(|v| v.is_finite()) {
            return;
        }
        for z in from..=to.min(TRACKED_MAX_ZOOM) {
            let scale = f64::from(1u32 << z);
            let (x0, y0) = tile_xy(w, n, scale);
            let (x1, y1) = tile_xy(e, s, scale);
            let last = (1u32 << z) - 1;
            let clamp = |v: f64| (v.max(0.0).floor() as u32).min(last);
            for x in clamp(x0 - BUFFER)..=clamp(x1 + BUFFER) {
                for y in clamp(y0 - BUFFER)..=clamp(y1 + BUFFER) {
                    if let Ok(t) = TileId::new(u32::from(z), x, y) {
                        self.last.insert(t, seq);
                    }
                }
            }
        }
    }

    /// The sequence number of the last write that may have changed `tile`
    /// (0: none since the base data).
    pub fn last_change(&self, tile: TileId) -> u64 {
        let z = tile.z();
        let t = if z > TRACKED_MAX_ZOOM {
            let d = z - TRACKED_MAX_ZOOM;
            match TileId::new(u32::from(TRACKED_MAX_ZOOM), tile.x() >> d, tile.y() >> d) {
                Ok(t) => t,
                Err(_) => return 0,
            }
        } else {
            tile
        };
        self.last.get(&t).copied().unwrap_or(0)
    }

    /// Number of tiles recorded.
    pub fn len(&self) -> usize {
        self.last.len()
    }

    /// Whether no tile changed.
    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
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
        let mut c = TileChanges::default();
        // A small box in Quanzhou (118.6 E, 24.9 N).
        c.mark([118.600, 24.900, 118.601, 24.901], 10, 16, 7);
        let (x, y) = tile_xy(118.6005, 24.9005, 65536.0);
        let inside = t(16, x as u32, y as u32);
        assert_eq!(c.last_change(inside), 7);
        assert_eq!(c.last_change(t(16, x as u32 + 5, y as u32)), 0);
        assert_eq!(c.last_change(t(9, (x as u32) >> 7, (y as u32) >> 7)), 0);
        assert_eq!(c.last_change(t(10, (x as u32) >> 6, (y as u32) >> 6)), 7);
        assert_eq!(c.last_change(t(18, (x as u32) << 2, (y as u32) << 2)), 7);
        assert!(c.len() >= 7 && c.len() <= 7 * 4);
        let before = c.clone();
        c.mark([f64::NAN, 0.0, 0.0, 0.0], 0, 16, 9);
        assert_eq!(c, before);
    }
}
