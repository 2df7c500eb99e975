//! GCJ-02 (Chinese consumer maps) and BD-09 (Baidu) datums.
//!
//! The forward transforms are the published obfuscation formulas
//! (a = 6378245.0, ee = 0.00669342162296594323), applied only inside China's
//! bounding box. They have no closed-form inverse: [`gcj02_to_wgs84`] and
//! [`bd09_to_gcj02`] iterate the forward transform until the round trip is
//! below 1e-10° (about 0.01 mm), which takes a handful of steps.

use std::f64::consts::PI;

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;
const X_PI: f64 = PI * 3000.0 / 180.0;
const TOLERANCE_DEG: f64 = 1e-10;
const MAX_ITERATIONS: usize = 30;

/// Whether the GCJ-02 offset applies (the point is inside China's bounding box).
pub fn in_china(lon: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS84 → GCJ-02 (identity outside China).
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    let dlat = transform_lat(lon - 105.0, lat - 35.0);
    let dlon = transform_lon(lon - 105.0, lat - 35.0);
    let radlat = lat.to_radians();
    let magic = 1.0 - EE * radlat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (A / sqrt_magic * radlat.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 → BD-09.
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// Inverts `forward` near `(x, y)` by fixed-point iteration on the residual.
fn invert(x: f64, y: f64, forward: impl Fn(f64, f64) -> (f64, f64)) -> (f64, f64) {
    let (mut gx, mut gy) = (x, y);
    for _ in 0..MAX_ITERATIONS {
        let (fx, fy) = forward(gx, gy);
        let (dx, dy) = (fx - x, fy - y);
        if dx.abs() < TOLERANCE_DEG && dy.abs() < TOLERANCE_DEG {
            break;
        }
        gx -= dx;
        gy -= dy;
    }
    (gx, gy)
}

/// GCJ-02 → WGS84, by iterating the forward transform (error < 0.01 mm).
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    invert(lon, lat, wgs84_to_gcj02)
}

/// BD-09 → GCJ-02, by iterating the forward transform.
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    invert(lon, lat, gcj02_to_bd09)
}

/// WGS84 → BD-09.
pub fn wgs84_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let (g, h) = wgs84_to_gcj02(lon, lat);
    gcj02_to_bd09(g, h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::metric::distance_m;

    // Published pairs (the widely used coordtransform library's examples).
    const WGS: (f64, f64) = (116.404, 39.915);
    const WGS_AS_GCJ: (f64, f64) = (116.410_244_499_169_38, 39.916_404_281_501_64);
    const GCJ: (f64, f64) = (116.404, 39.915);
    const GCJ_AS_BD: (f64, f64) = (116.410_369_493_710_29, 39.921_336_993_510_21);

    #[test]
    fn forward_matches_published_pairs() {
        let got = wgs84_to_gcj02(WGS.0, WGS.1);
        assert!(distance_m(got, WGS_AS_GCJ) < 0.01, "{got:?}");
        let got = gcj02_to_bd09(GCJ.0, GCJ.1);
        assert!(distance_m(got, GCJ_AS_BD) < 0.01, "{got:?}");
    }

    #[test]
    fn inverses_recover_published_points_to_half_a_metre() {
        let got = gcj02_to_wgs84(WGS_AS_GCJ.0, WGS_AS_GCJ.1);
        assert!(distance_m(got, WGS) < 0.5, "{got:?}");
        let got = bd09_to_gcj02(GCJ_AS_BD.0, GCJ_AS_BD.1);
        assert!(distance_m(got, GCJ) < 0.5, "{got:?}");
    }

    #[test]
    fn round_trips_over_quanzhou() {
        let mut worst: f64 = 0.0;
        for i in 0..20 {
            for j in 0..20 {
                let p = (117.5 + 0.08 * f64::from(i), 24.4 + 0.06 * f64::from(j));
                let g = wgs84_to_gcj02(p.0, p.1);
                let b = wgs84_to_bd09(p.0, p.1);
                let back = gcj02_to_wgs84(g.0, g.1);
                let (bg0, bg1) = bd09_to_gcj02(b.0, b.1);
                let back_b = gcj02_to_wgs84(bg0, bg1);
                worst = worst.max(distance_m(back, p)).max(distance_m(back_b, p));
                // The offsets are hundreds of metres, so a no-op would fail.
                assert!(distance_m(g, p) > 100.0);
            }
        }
        assert!(worst < 0.01, "worst round trip {worst} m");
    }

    #[test]
    fn identity_outside_china() {
        assert_eq!(wgs84_to_gcj02(2.35, 48.85), (2.35, 48.85));
        assert_eq!(gcj02_to_wgs84(2.35, 48.85), (2.35, 48.85));
    }
}
