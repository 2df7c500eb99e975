//! OGC items query strings (`limit`, `offset`, `bbox`, `bbox-crs`, `crs`,
//! `filter`, `sortby`, `properties`, `datetime`, property filters…, also
//! deeply nested, as long lists or with huge numbers via `shaped`): every
//! query is parameters or a 400, never a panic.
#![no_main]

use riskmap::ogc::params::{ItemsParams, limit, pairs};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some(query) = riskmap_fuzz::shaped(data) else {
        return;
    };
    let query = query.as_str();
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
