//! Every reader answers arbitrary bytes with a table or an error, never a
//! panic; the builder answers arbitrary geometry with features or issues.

use proptest::prelude::*;
use riskmap::config::LayerConfig;
use riskmap::ingest::build::Builder;
use riskmap::ingest::table::{Record, Table};
use riskmap::ingest::{IssueSink, csv, fgb, geojson};
use riskmap::model::{LayerId, Value};

const FGB_MAGIC: &[u8] = b"fgb\x03fgb\x00";

fn any_json_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("{".to_string()),
            Just("}".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just(",".to_string()),
            Just(":".to_string()),
            Just("\"type\"".to_string()),
            Just("\"FeatureCollection\"".to_string()),
            Just("\"Feature\"".to_string()),
            Just("\"features\"".to_string()),
            Just("\"geometry\"".to_string()),
            Just("\"Polygon\"".to_string()),
            Just("\"Point\"".to_string()),
            Just("\"coordinates\"".to_string()),
            Just("\"properties\"".to_string()),
            Just("null".to_string()),
            Just("1e309".to_string()),
            Just("-0".to_string()),
            any::<f64>().prop_map(|f| f.to_string()),
            "[a-z\u{4e00}-\u{4e10}]{0,4}".prop_map(|s| format!("\"{s}\"")),
        ],
        0..60,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn geojson_reader_never_panics(text in any_json_like(), bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut issues = Vec::new();
        let _ = geojson::read("x.geojson", text.as_bytes(), &mut issues);
        let _ = geojson::read("x.geojson", &bytes, &mut issues);
    }

    #[test]
    fn csv_reader_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut issues = Vec::new();
        let _ = csv::read("x.csv", &bytes, &mut issues);
    }

    #[test]
    fn fgb_reader_never_panics(tail in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut issues = Vec::new();
        let _ = fgb::read("x.fgb", &tail, &mut issues);
        let mut with_magic = FGB_MAGIC.to_vec();
        with_magic.extend_from_slice(&tail);
        let _ = fgb::read("x.fgb", &with_magic, &mut issues);
    }

    #[test]
    fn builder_never_panics_on_random_geometry(
        coords in prop::collection::vec((prop_oneof![any::<f64>(), -200.0f64..200.0], prop_oneof![any::<f64>(), -100.0f64..100.0]), 0..12),
        as_point in any::<bool>(),
    ) {
        let geometry = if as_point {
            coords.first().map(|&(x, y)| geo::Geometry::Point(geo::Point::new(x, y)))
        } else {
            let ring: Vec<geo::Coord<f64>> = coords.iter().map(|&(x, y)| geo::Coord { x, y }).collect();
            Some(geo::Geometry::Polygon(geo::Polygon::new(geo::LineString(ring), vec![])))
        };
        let table = Table {
            columns: vec!["id".into(), "kind".into(), "severity".into(), "name".into(), "grade".into()],
            records: vec![Record {
                geometry,
                values: vec![Value::Text("Z".into()), Value::Text("cavity".into()), Value::Int(2), Value::Text("n".into()), Value::Int(2)],
            }],
        };
        let cfg = LayerConfig::default();
        let mut zone_issues = Vec::new();
        let zones = Builder::new(LayerId::CollapseZones, &cfg, IssueSink::new("z", &mut zone_issues)).collapse_zones(&table);
        // Either the zone is kept or the reason is recorded.
        prop_assert!(zones.len() + zone_issues.len() > 0);
        // A zone is kept only if it is a valid polygon in range.
        for z in &zones {
            for c in geo::CoordsIter::coords_iter(&z.geometry) {
                prop_assert!(c.x.is_finite() && (-180.0..=180.0).contains(&c.x));
                prop_assert!(c.y.is_finite() && (-90.0..=90.0).contains(&c.y));
            }
        }
        let mut issues = Vec::new();
        let hazards = Builder::new(LayerId::HazardSources, &cfg, IssueSink::new("h", &mut issues)).hazard_sources(&table);
        prop_assert!(hazards.len() + issues.len() > 0);
    }
}
