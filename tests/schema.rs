//! Every output lists exactly the fields the layer schema (`src/schema`)
//! gives it: the properties of decoded vector tiles, the TileJSON
//! `vector_layers` fields, the OGC queryables and items, the `/api`
//! feature collections and the columns of `riskmap score` (GeoJSON, CSV),
//! all read from the real server and the real binary.

mod common;

use common::*;
use geozero::mvt::{Message, Tile};
use riskmap::model::LayerId;
use riskmap::schema::{self, Outputs};
use std::collections::{BTreeMap, BTreeSet};
use std::f64::consts::PI;

/// The tile of zoom `z` holding a point.
fn tile_for(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let phi = lat.to_radians();
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / PI) / 2.0 * n;
    (x.floor() as u32, y.floor() as u32)
}

fn names(layer: LayerId, output: Outputs) -> BTreeSet<String> {
    schema::fields_in(layer, output)
        .map(|f| f.name.to_string())
        .collect()
}

fn keys(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn get_token(server: &Server, path: &str) -> serde_json::Value {
    let (status, body) = server.get_with(path, ADMIN);
    assert_eq!(status, 200, "{path}: {body}");
    json(&body)
}

/// The property names each layer's features use in tile `z/x/y`, and the
/// layer's key table in order.
fn tile_keys(
    server: &Server,
    z: u8,
    x: u32,
    y: u32,
) -> BTreeMap<String, (BTreeSet<String>, Vec<String>)> {
    let resp = ureq::get(&format!("{}/tiles/{z}/{x}/{y}.mvt", server.base))
        .set("Authorization", &format!("Bearer {ADMIN}"))
        .call()
        .unwrap();
    let gzipped = resp.header("content-encoding") == Some("gzip");
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).unwrap();
    if gzipped {
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut plain)
            .unwrap();
        body = plain;
    }
    let tile = Tile::decode(&body[..]).expect("valid MVT");
    tile.layers
        .iter()
        .map(|l| {
            let used: BTreeSet<String> = l
                .features
                .iter()
                .flat_map(|f| f.tags.chunks(2).map(|p| l.keys[p[0] as usize].clone()))
                .collect();
            (l.name.clone(), (used, l.keys.clone()))
        })
        .collect()
}

#[test]
fn every_output_carries_the_schema_fields() {
    let (_tmp, server) = start_tiny("");
    // One hidden danger, reported through the write API, so the layer has
    // a feature in every output.
    let report = ureq::post(&format!("{}/api/hidden-dangers", server.base))
        .set("Authorization", &format!("Bearer {ADMIN}"))
        .send_json(
            serde_json::json!({"lon": 118.595, "lat": 24.911, "grade": "general",
            "category": "road", "description": "路面塌陷", "deadline": "2099-01-01"}),
        )
        .unwrap();
    assert_eq!(report.status(), 201);

    // Vector tiles: a tile at zoom 12 over the whole tiny dataset.
    let (x, y) = tile_for(118.595, 24.91, 12);
    let tile = tile_keys(&server, 12, x, y);
    for layer in [
        LayerId::Cells,
        LayerId::Villages,
        LayerId::CollapseZones,
        LayerId::HazardSources,
        LayerId::Enterprises,
        LayerId::HiddenDangers,
    ] {
        let (used, table) = tile
            .get(layer.as_str())
            .unwrap_or_else(|| panic!("no {layer} in tile 12/{x}/{y}: {:?}", tile.keys()));
        // Every feature of the tiny dataset is scored and has a parent, a
        // survey date and single (unclustered) enterprises: all fields the
        // schema gives tiles are there, and no other.
        // Domain values (分系统) are there when not 0 at this zoom; every
        // other key is a tile field.
        let domains = names(layer, Outputs::TILE_DOMAINS);
        let plain: BTreeSet<String> = used.difference(&domains).cloned().collect();
        assert_eq!(plain, names(layer, Outputs::TILES), "tile layer {layer}");
        // Keys appear in schema order (the first feature has them all).
        let order: Vec<&str> = schema::fields_in(layer, Outputs::TILES)
            .map(|f| f.name)
            .collect();
        assert_eq!(
            &table[..order.len()],
            &order[..],
            "key order of tile layer {layer}"
        );
        assert!(
            table[order.len()..].iter().all(|k| domains.contains(k)),
            "{table:?}"
        );
    }

    // TileJSON: each layer's fields are its tile fields and, for
    // enterprises, the fields of clusters.
    let (status, body) = server.get("/tiles.json");
    assert_eq!(status, 200, "{body}");
    let tj = json(&body);
    let layers = tj["vector_layers"].as_array().unwrap();
    assert_eq!(layers.len(), LayerId::SERVED.len());
    for l in layers {
        let id = l["id"].as_str().unwrap();
        let layer: LayerId = id.parse().unwrap();
        let mut want = names(layer, Outputs::TILES);
        want.extend(names(layer, Outputs::TILE_DOMAINS));
        want.extend(names(layer, Outputs::CLUSTERS));
        assert_eq!(keys(&l["fields"]), want, "TileJSON fields of {id}");
    }
    assert!(names(LayerId::Enterprises, Outputs::CLUSTERS).contains("point_count"));

    for layer in LayerId::SERVED {
        let id = layer.as_str();
        let ogc = names(layer, Outputs::OGC);
        // OGC queryables.
        let q = get_token(&server, &format!("/ogc/collections/{id}/queryables"));
        assert_eq!(keys(&q["properties"]), ogc, "queryables of {id}");
        // An OGC item, through the page and by its id.
        let page = get_token(&server, &format!("/ogc/collections/{id}/items?limit=1"));
        let feature = &page["features"][0];
        assert_eq!(keys(&feature["properties"]), ogc, "OGC item of {id}");
        let fid = feature["id"].as_str().unwrap();
        let item = get_token(&server, &format!("/ogc/collections/{id}/items/{fid}"));
        assert_eq!(keys(&item["properties"]), ogc, "OGC item {fid} of {id}");
        // The `/api` feature collection inside the town.
        // (Hidden dangers have their own `/api/hidden-dangers`.)
        if !matches!(
            layer,
            LayerId::Counties | LayerId::Towns | LayerId::HiddenDangers
        ) {
            let fc = get_token(
                &server,
                &format!("/api/cells/350502001/features?layer={id}"),
            );
            let f = &fc["features"][0];
            assert_eq!(
                keys(&f["properties"]),
                names(layer, Outputs::API),
                "/api features of {id}"
            );
        }
    }

    // `area_km2`, one row of the grid-unit table, is in every output of
    // grid units, with the unit's area (the tiny town is 3 × 2 km).
    for output in [Outputs::TILES, Outputs::OGC, Outputs::API, Outputs::SCORE] {
        assert!(names(LayerId::Towns, output).contains("area_km2"));
    }
    let town = get_token(&server, "/ogc/collections/towns/items/350502001");
    let area = town["properties"]["area_km2"].as_f64().unwrap();
    assert!((6.0..8.0).contains(&area), "{area}");

    // Grid units carry more in OGC than in tiles, deliberately: the table
    // says so (and the domains, for one, are OGC and score only).
    assert!(names(LayerId::Cells, Outputs::OGC).contains("domain_gas"));
    assert!(!names(LayerId::Cells, Outputs::TILES).contains("domain_gas"));
}

#[test]
fn score_outputs_carry_the_schema_columns_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(&tmp.path().join("ds"));
    let want: Vec<&str> = schema::fields_in(LayerId::Cells, Outputs::SCORE)
        .map(|f| f.name)
        .collect();
    assert!(want.contains(&"risk_score") && want.contains(&"h"));

    let o = run(tmp.path(), &["score", "--data", "ds", "--out", "s.csv"]);
    assert!(o.status.success(), "{}", output_text(&o));
    let csv = std::fs::read_to_string(tmp.path().join("s.csv")).unwrap();
    let header = csv.trim_start_matches('\u{feff}').lines().next().unwrap();
    let mut columns: Vec<&str> = header.split(',').collect();
    // The geometry comes last, as WKT.
    assert_eq!(columns.pop(), Some("wkt"), "{header}");
    assert_eq!(columns, want, "CSV header");

    let o = run(tmp.path(), &["score", "--data", "ds", "--out", "s.geojson"]);
    assert!(o.status.success(), "{}", output_text(&o));
    let fc = json(&std::fs::read_to_string(tmp.path().join("s.geojson")).unwrap());
    let features = fc["features"].as_array().unwrap();
    assert_eq!(features.len(), 7);
    let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
    for f in features {
        assert_eq!(keys(&f["properties"]), want, "GeoJSON properties");
    }
}
