//! GeoJSON reader: any bytes → a table or an error, never a panic; every
//! table feeds the builder of every layer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut issues = Vec::new();
    if let Ok(table) = riskmap::ingest::geojson::read("f.geojson", data, &mut issues) {
        riskmap_fuzz::build_all(&table);
    }
});
