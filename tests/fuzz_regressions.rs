//! Inputs the fuzz targets (`fuzz/`) found crashing, kept as regression
//! tests: each must give a clear error, not a panic caught further up.

use riskmap::ingest::fgb;

/// A FlatGeobuf file with a string property claiming 16 MiB (the
/// `flatgeobuf` crate's property reader sliced past the buffer) and, later,
/// a feature length claiming 128 MiB. Either is reported, by feature.
#[test]
fn fgb_property_length_past_the_buffer() {
    let bytes = include_bytes!("fuzz_cases/fgb_property_length.fgb");
    let mut issues = Vec::new();
    let result = fgb::read("f.fgb", bytes, &mut issues);
    let texts: Vec<String> = issues
        .iter()
        .map(|i| i.to_string())
        .chain(result.err().map(|e| e.to_string()))
        .collect();
    // Not the catch-all for a panic inside the decoder…
    assert!(
        texts.iter().all(|t| !t.contains("corrupt FlatGeobuf file")),
        "{texts:?}"
    );
    // …but the feature's own problem, named.
    assert!(
        texts
            .iter()
            .any(|t| t.contains("f.fgb")
                && (t.contains("runs past the end") || t.contains("claims"))),
        "{texts:?}"
    );
}

/// A FlatGeobuf feature whose length prefix claims gigabytes: the decoder
/// allocated (and zeroed) a buffer of that size before reading.
#[test]
fn fgb_feature_size_past_the_file() {
    let bytes = include_bytes!("fuzz_cases/fgb_feature_size.fgb");
    let mut issues = Vec::new();
    let err = fgb::read("f.fgb", bytes, &mut issues)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("f.fgb") && err.contains("claims") && err.contains("remain"),
        "{err}"
    );
}

/// A FlatGeobuf polygon whose ring end lies before the previous one: the
/// decoder's `end - offset` wrapped and it asked for a 15 GB buffer.
#[test]
fn fgb_ring_end_out_of_order() {
    let bytes = include_bytes!("fuzz_cases/fgb_ring_end.fgb");
    let mut issues = Vec::new();
    let result = fgb::read("f.fgb", bytes, &mut issues);
    let texts: Vec<String> = issues
        .iter()
        .map(|i| i.to_string())
        .chain(result.err().map(|e| e.to_string()))
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("f.fgb") && t.contains("ring end")),
        "{texts:?}"
    );
}
