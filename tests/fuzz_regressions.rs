//! Inputs that crashed a parser — found by the fuzz targets (`fuzz/`) or
//! by hand, as a hostile client would send them — kept as regression
//! tests: each must give a clear error, not a panic caught further up nor
//! a stack overflow.

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

/// `GET /ogc/collections/cells/items?filter=` and 3,000 `(`: the CQL2
/// parser recursed once per parenthesis and overflowed a worker's stack,
/// aborting the whole process. Now refused at nesting 64, by message.
#[test]
fn cql2_three_thousand_parentheses() {
    use riskmap::model::LayerId;
    use riskmap::ogc::params::{ItemsParams, pairs};
    let query = format!("filter={}", "(".repeat(3000));
    let err = ItemsParams::parse(LayerId::Cells, pairs(Some(&query)).unwrap())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("filter") && err.contains("64"), "{err}");
}

/// A CQL2-JSON filter nested 10,000 deep (over the 8 KiB limit), and one
/// nested 200 deep under it (past `serde_json`'s own limit of 128): both a
/// clear error.
#[test]
fn cql2_json_nested_deep() {
    use riskmap::model::LayerId;
    use riskmap::ogc::cql2;
    use riskmap::ogc::crs::OgcCrs;
    use riskmap::ogc::queryables::properties;
    let props = properties(LayerId::Cells);
    let deep = format!(
        "{}{{\"property\":\"code\"}}{}",
        r#"{"op":"not","args":["#.repeat(10_000),
        "]}".repeat(10_000)
    );
    let err = cql2::parse_json(&deep, props, OgcCrs::Crs84).unwrap_err();
    assert!(err.contains("8192"), "{err}");
    let short = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let err = cql2::parse_json(&short, props, OgcCrs::Crs84).unwrap_err();
    assert!(err.contains("64"), "{err}");
}

/// `sortby` with 10,000 keys sorted every feature 10,000 times over.
#[test]
fn sortby_ten_thousand_keys() {
    use riskmap::model::LayerId;
    use riskmap::ogc::params::{ItemsParams, pairs};
    let query = format!("sortby={}", vec!["-code"; 10_000].join(","));
    let err = ItemsParams::parse(LayerId::Cells, pairs(Some(&query)).unwrap())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("sortby"), "{err}");
}
