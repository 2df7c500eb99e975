//! FlatGeobuf reader: any bytes → a table or an error, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut issues = Vec::new();
    if let Ok(table) = riskmap::ingest::fgb::read("f.fgb", data, &mut issues) {
        riskmap_fuzz::build_all(&table);
    }
});
