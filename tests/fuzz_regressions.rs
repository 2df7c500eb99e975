//! Inputs the fuzz targets (`fuzz/`) found crashing, kept as regression
//! tests: each must give a clear error, not a panic caught further up.

use riskmap::ingest::fgb;

/// A FlatGeobuf feature whose string property claims 16 MiB: the
/// `flatgeobuf` crate's property reader sliced past the buffer.
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
            .any(|t| t.contains("f.fgb") && t.contains("runs past the end")),
        "{texts:?}"
    );
}
