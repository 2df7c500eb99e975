//! Spherical Web Mercator (EPSG:3857) and the XYZ tile grid.

use std::f64::consts::PI;

/// Radius of the Web Mercator sphere, metres.
pub const EARTH_RADIUS: f64 = 6_378_137.0;
/// Half the width of the Web Mercator square, metres.
pub const HALF_WORLD: f64 = PI * EARTH_RADIUS;
/// Latitude limit of Web Mercator, degrees.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;

/// Lon/lat degrees → Web Mercator metres (latitude clamped to ±85.0511°).
pub fn from_lon_lat(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LAT, MAX_LAT);
    let x = lon.to_radians() * EARTH_RADIUS;
    let y = (PI / 4.0 + lat.to_radians() / 2.0).tan().ln() * EARTH_RADIUS;
    (x, y)
}

/// Web Mercator metres → lon/lat degrees.
pub fn to_lon_lat(x: f64, y: f64) -> (f64, f64) {
    let lon = (x / EARTH_RADIUS).to_degrees();
    let lat = (2.0 * (y / EARTH_RADIUS).exp().atan() - PI / 2.0).to_degrees();
    (lon, lat)
}

/// Bounds of XYZ tile `z/x/y` as (west, south, east, north) in Web Mercator metres.
pub fn tile_bounds_mercator(z: u8, x: u32, y: u32) -> [f64; 4] {
    let n = f64::from(1u32 << z.min(31));
    let size = 2.0 * HALF_WORLD / n;
    let west = -HALF_WORLD + f64::from(x) * size;
    let north = HALF_WORLD - f64::from(y) * size;
    [west, north - size, west + size, north]
}

/// Bounds of XYZ tile `z/x/y` as (west, south, east, north) in lon/lat degrees.
pub fn tile_bounds_lon_lat(z: u8, x: u32, y: u32) -> [f64; 4] {
    let [w, s, e, n] = tile_bounds_mercator(z, x, y);
    let (w, s) = to_lon_lat(w, s);
    let (e, n) = to_lon_lat(e, n);
    [w, s, e, n]
}

/// The tile at zoom `z` containing lon/lat (clamped to the grid).
pub fn tile_for(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let (mx, my) = from_lon_lat(lon, lat);
    let n = f64::from(1u32 << z.min(31));
    let fx = ((mx + HALF_WORLD) / (2.0 * HALF_WORLD) * n).floor();
    let fy = ((HALF_WORLD - my) / (2.0 * HALF_WORLD) * n).floor();
    let max = n - 1.0;
    (fx.clamp(0.0, max) as u32, fy.clamp(0.0, max) as u32)
}

/// The affine frame of one XYZ tile: lon/lat ⇄ tile pixel coordinates
/// (origin at the tile's north-west corner, y down, `extent` units across).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TileFrame {
    west: f64,
    north: f64,
    /// Tile units per Web Mercator metre.
    scale: f64,
    extent: f64,
}

impl TileFrame {
    /// The frame of tile `z/x/y` with `extent` units across.
    pub fn new(z: u8, x: u32, y: u32, extent: u32) -> Self {
        let [west, _, east, north] = tile_bounds_mercator(z, x, y);
        TileFrame {
            west,
            north,
            scale: f64::from(extent) / (east - west),
            extent: f64::from(extent),
        }
    }

    /// Lon/lat degrees → tile coordinates (unrounded; outside the tile they
    /// fall below 0 or above the extent).
    pub fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (mx, my) = from_lon_lat(lon, lat);
        self.project_mercator(mx, my)
    }

    /// Web Mercator metres → tile coordinates: the affine part of
    /// [`TileFrame::project`], for geometry projected once in advance.
    pub fn project_mercator(&self, mx: f64, my: f64) -> (f64, f64) {
        (
            (mx - self.west) * self.scale,
            (self.north - my) * self.scale,
        )
    }

    /// Tile coordinates → lon/lat degrees.
    pub fn unproject(&self, tx: f64, ty: f64) -> (f64, f64) {
        to_lon_lat(self.west + tx / self.scale, self.north - ty / self.scale)
    }

    /// The lon/lat box (west, south, east, north) covering the tile plus a
    /// margin of `buffer` tile units on every side.
    pub fn lon_lat_bounds(&self, buffer: f64) -> [f64; 4] {
        let (w, n) = self.unproject(-buffer, -buffer);
        let (e, s) = self.unproject(self.extent + buffer, self.extent + buffer);
        [w, s.max(-MAX_LAT), e, n.min(MAX_LAT)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for (lon, lat) in [(118.6, 24.9), (-73.98, 40.75), (0.0, 0.0), (179.9, -60.0)] {
            let (x, y) = from_lon_lat(lon, lat);
            let (lon2, lat2) = to_lon_lat(x, y);
            assert!((lon - lon2).abs() < 1e-9 && (lat - lat2).abs() < 1e-9);
        }
        // A known value: lon 180 is the edge of the square.
        let (x, _) = from_lon_lat(180.0, 0.0);
        assert!((x - HALF_WORLD).abs() < 1e-6);
    }

    #[test]
    fn tiles() {
        let [w, s, e, n] = tile_bounds_lon_lat(0, 0, 0);
        assert!((w + 180.0).abs() < 1e-9 && (e - 180.0).abs() < 1e-9);
        assert!((n - MAX_LAT).abs() < 1e-6 && (s + MAX_LAT).abs() < 1e-6);
        // Quanzhou at z10.
        let (x, y) = tile_for(118.6, 24.9, 10);
        let [w, s, e, n] = tile_bounds_lon_lat(10, x, y);
        assert!(w <= 118.6 && 118.6 < e && s <= 24.9 && 24.9 < n);
    }

    #[test]
    fn tile_frame_maps_corners_and_round_trips() {
        let (x, y) = tile_for(118.6, 24.9, 12);
        let f = TileFrame::new(12, x, y, 4096);
        let [w, s, e, n] = tile_bounds_lon_lat(12, x, y);
        let (px, py) = f.project(w, n);
        assert!(px.abs() < 1e-6 && py.abs() < 1e-6, "{px} {py}");
        let (px, py) = f.project(e, s);
        assert!((px - 4096.0).abs() < 1e-6 && (py - 4096.0).abs() < 1e-6);
        let (lon, lat) = f.unproject(1000.5, 3000.25);
        let (px, py) = f.project(lon, lat);
        assert!((px - 1000.5).abs() < 1e-6 && (py - 3000.25).abs() < 1e-6);
        let [bw, bs, be, bn] = f.lon_lat_bounds(64.0);
        assert!(bw < w && bs < s && be > e && bn > n);
    }
}
