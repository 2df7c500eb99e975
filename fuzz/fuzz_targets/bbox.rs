//! `bbox` parsing in every CRS: boxes come out ordered and in range, or an
//! error.
#![no_main]

use riskmap::ogc::crs::{OgcCrs, parse_bbox};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for crs in [
        OgcCrs::Crs84,
        OgcCrs::Epsg4326,
        OgcCrs::Epsg4490,
        OgcCrs::Epsg3857,
    ] {
        if let Ok(boxes) = parse_bbox(text, crs) {
            assert!(!boxes.is_empty() && boxes.len() <= 2, "{text:?}: {boxes:?}");
            for [w, s, e, n] in boxes {
                assert!(
                    [w, s, e, n].iter().all(|v| v.is_finite()),
                    "{text:?} in {crs:?}: {w} {s} {e} {n}"
                );
                assert!(w <= e && s <= n, "{text:?} in {crs:?}: {w} {s} {e} {n}");
            }
        }
    }
});
