//! CQL2 filters, text and JSON, in every filter CRS: any input → an
//! expression or an error, never a panic (nor a stack overflow: deep
//! nesting, long lists and huge numbers come from `shaped`); a parsed
//! expression evaluates on any values and geometries.
#![no_main]

use geo::Intersects;
use riskmap::model::LayerId;
use riskmap::ogc::cql2;
use riskmap::ogc::crs::OgcCrs;
use riskmap::ogc::features::PropValue;
use riskmap::ogc::queryables::properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some(text) = riskmap_fuzz::shaped(data) else {
        return;
    };
    let crs = [
        OgcCrs::Crs84,
        OgcCrs::Epsg4326,
        OgcCrs::Epsg4490,
        OgcCrs::Epsg3857,
    ][usize::from(data.first().copied().unwrap_or(0) / 8) % 4];
    let point = geo::Point::new(118.6, 24.9);
    for layer in LayerId::SERVED {
        let props = properties(layer);
        let parsed = [
            cql2::parse_in(&text, props, crs).ok(),
            cql2::parse_json(&text, props, crs).ok(),
        ];
        for expr in parsed.into_iter().flatten() {
            // Evaluate against a few kinds of values.
            let _ = expr.matches(&|_| PropValue::Null);
            let _ = expr.matches(&|i| PropValue::Int(i as i64 - 3));
            let _ = expr.matches(&|_| PropValue::Num(f64::NAN));
            let _ = expr.matches(&|_| PropValue::Str("泉州 2024-05-01 Ǎ"));
            let _ = expr.matches(&|i| PropValue::Bool(i % 2 == 0));
            let _ = expr.matches_feature(&|_| PropValue::Null, &|g| g.intersects(&point));
        }
    }
});
