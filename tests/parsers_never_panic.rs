//! The query parsers answer any text with a value or an error, never a
//! panic: `bbox` in every CRS, CQL2 filters in text and JSON (parsed and
//! evaluated), `limit`, `datetime`, and whole items query strings — also
//! when the input is shaped to hurt: nested thousands deep, as lists of
//! thousands of entries, with numbers of hundreds of digits.

use proptest::prelude::*;
use riskmap::datetime::parse_datetime;
use riskmap::model::LayerId;
use riskmap::ogc::cql2;
use riskmap::ogc::crs::{OgcCrs, parse_bbox};
use riskmap::ogc::features::PropValue;
use riskmap::ogc::params::{ItemsParams, limit, pairs};
use riskmap::ogc::queryables::properties;

fn number_list() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            any::<f64>().prop_map(|f| f.to_string()),
            (-400.0f64..400.0).prop_map(|f| f.to_string()),
            Just("1e309".to_string()),
            Just("-0".to_string()),
            Just("NaN".to_string()),
            Just("inf".to_string()),
            Just(String::new()),
            "[ 0-9.eE+-]{0,6}",
        ],
        0..8,
    )
    .prop_map(|v| v.join(","))
}

fn cql2_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("risk_level".to_string()),
            Just("name".to_string()),
            Just("grade".to_string()),
            Just("severity".to_string()),
            Just("population".to_string()),
            Just("monitored".to_string()),
            Just("=".to_string()),
            Just("<>".to_string()),
            Just("<=".to_string()),
            Just(">".to_string()),
            Just("AND".to_string()),
            Just("OR".to_string()),
            Just("NOT".to_string()),
            Just("LIKE".to_string()),
            Just("IN".to_string()),
            Just("BETWEEN".to_string()),
            Just("IS NULL".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just(",".to_string()),
            Just("'".to_string()),
            Just("'high'".to_string()),
            Just("'%泉%'".to_string()),
            Just("TRUE".to_string()),
            Just("DATE('2024-05-01')".to_string()),
            Just("TIMESTAMP('2024-05-01T00:00:00Z')".to_string()),
            any::<i64>().prop_map(|i| i.to_string()),
            any::<f64>().prop_map(|f| f.to_string()),
            "[a-z_\u{4e00}-\u{4e10}'\"%()]{0,5}",
        ],
        0..16,
    )
    .prop_map(|v| v.join(" "))
}

/// `inner` wrapped `depth` times in one of the nesting shapes of either
/// encoding, or repeated as a long list, or followed by a huge number.
fn shaped() -> impl Strategy<Value = String> {
    (0u8..7, 0usize..5000, cql2_like()).prop_map(|(shape, n, inner)| match shape {
        0 => format!("{}{inner}{}", "(".repeat(n), ")".repeat(n)),
        1 => format!("{}{inner}", "NOT ".repeat(n)),
        2 => format!("{}name{} = {inner}", "CASEI(".repeat(n), ")".repeat(n)),
        3 => format!(
            "{}{{\"op\":\"=\",\"args\":[{{\"property\":\"name\"}},\"a\"]}}{}",
            r#"{"op":"not","args":["#.repeat(n),
            "]}".repeat(n)
        ),
        4 => format!("risk_level IN ({})", vec!["'high'"; n].join(",")),
        5 => format!("population > {inner}{}", "9".repeat(n)),
        _ => format!("{inner}{}", "(".repeat(n)),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn shaped_filters_are_refused_or_parsed_without_overflow(text in shaped()) {
        for layer in [LayerId::Cells, LayerId::Enterprises] {
            let props = properties(layer);
            for expr in [
                cql2::parse(&text, props).ok(),
                cql2::parse_json(&text, props, OgcCrs::Crs84).ok(),
            ]
            .into_iter()
            .flatten()
            {
                let _ = expr.matches(&|_| PropValue::Str("泉州"));
            }
        }
        if text.len() > cql2::MAX_FILTER_BYTES {
            prop_assert!(cql2::parse(&text, properties(LayerId::Cells)).is_err());
        }
    }

    #[test]
    fn datetime_is_an_interval_or_an_error(raw in prop_oneof![
        ".{0,30}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2}))?",
        "(\\.\\.|[0-9]{4}-[0-9]{2}-[0-9]{2})?/(\\.\\.|[0-9]{4}-[0-9]{2}-[0-9]{2})?",
    ]) {
        if let Ok(i) = parse_datetime(&raw)
            && let (Some(s), Some(e)) = (i.start, i.end)
        {
            prop_assert!(s <= e, "{raw}: {s} > {e}");
        }
    }

    #[test]
    fn bbox_is_ordered_finite_or_an_error(text in number_list()) {
        for crs in [OgcCrs::Crs84, OgcCrs::Epsg4326, OgcCrs::Epsg4490, OgcCrs::Epsg3857] {
            if let Ok(boxes) = parse_bbox(&text, crs) {
                prop_assert!((1..=2).contains(&boxes.len()));
                for [w, s, e, n] in boxes {
                    prop_assert!([w, s, e, n].iter().all(|v| v.is_finite()), "{text}: {w} {s} {e} {n}");
                    prop_assert!(w <= e && s <= n, "{text} in {crs:?}: {w} {s} {e} {n}");
                }
            }
        }
    }

    #[test]
    fn cql2_parses_and_evaluates_or_errs(text in cql2_like(), raw in ".{0,40}") {
        for layer in LayerId::SERVED {
            for t in [&text, &raw] {
                if let Ok(expr) = cql2::parse(t, properties(layer)) {
                    let _ = expr.matches(&|_| PropValue::Null);
                    let _ = expr.matches(&|i| PropValue::Int(i as i64));
                    let _ = expr.matches(&|_| PropValue::Num(f64::NAN));
                    let _ = expr.matches(&|_| PropValue::Str("泉州"));
                }
            }
        }
    }

    #[test]
    fn limit_is_in_range_or_an_error(raw in prop_oneof![".{0,12}", any::<i64>().prop_map(|i| i.to_string()), any::<u64>().prop_map(|i| i.to_string()), "[1-9][0-9]{19,300}"]) {
        if let Ok(l) = limit(Some(&raw)) {
            prop_assert!((1..=riskmap::ogc::MAX_LIMIT).contains(&l), "{raw} → {l}");
        }
    }

    #[test]
    fn items_queries_parse_or_err(
        keys in prop::collection::vec(prop_oneof![
            Just("limit"), Just("offset"), Just("bbox"), Just("bbox-crs"), Just("crs"),
            Just("filter"), Just("filter-lang"), Just("filter-crs"), Just("sortby"),
            Just("properties"), Just("f"), Just("datetime"), Just("name"), Just("risk_level"),
            Just("filter"), Just("sortby"),
            Just("grade"), Just("unknown"),
        ], 0..6),
        values in prop::collection::vec(prop_oneof![
            number_list(), cql2_like(), shaped(), "[-+a-z_,:/0-9.%]{0,20}".prop_map(String::from),
        ], 6),
    ) {
        let query: String = keys
            .iter()
            .zip(&values)
            .map(|(k, v)| format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)))
            .collect::<Vec<_>>()
            .join("&");
        if let Ok(p) = pairs(Some(&query)) {
            for layer in LayerId::SERVED {
                let _ = ItemsParams::parse(layer, p.clone());
            }
        }
    }
}
