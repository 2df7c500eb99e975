//! CQL2-text filters: any text → an expression or a positioned error,
//! never a panic; a parsed expression evaluates on any values.
#![no_main]

use riskmap::model::LayerId;
use riskmap::ogc::cql2;
use riskmap::ogc::features::PropValue;
use riskmap::ogc::queryables::properties;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for layer in riskmap::model::LayerId::SERVED {
        let props = properties(layer);
        if let Ok(expr) = cql2::parse(text, props) {
            // Evaluate against a few kinds of values.
            let _ = expr.matches(&|_| PropValue::Null);
            let _ = expr.matches(&|i| PropValue::Int(i as i64 - 3));
            let _ = expr.matches(&|_| PropValue::Num(f64::NAN));
            let _ = expr.matches(&|_| PropValue::Str("泉州 2024-05-01"));
            let _ = expr.matches(&|i| PropValue::Bool(i % 2 == 0));
        }
    }
    let _ = LayerId::Enterprises;
});
