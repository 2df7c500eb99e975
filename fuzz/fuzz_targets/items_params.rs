//! OGC items query strings (`limit`, `offset`, `bbox`, `bbox-crs`, `crs`,
//! `filter`, `sortby`, `properties`, property filters…): every query is
//! parameters or a 400, never a panic.
#![no_main]

use riskmap::ogc::params::{ItemsParams, limit, pairs};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(l) = limit(Some(query)) {
        assert!(
            (1..=riskmap::ogc::MAX_LIMIT).contains(&l),
            "{query:?} → {l}"
        );
    }
    let Ok(p) = pairs(Some(query)) else {
        return;
    };
    for layer in riskmap::model::LayerId::SERVED {
        let _ = ItemsParams::parse(layer, p.clone());
    }
});
