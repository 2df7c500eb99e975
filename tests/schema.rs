//! Every output lists exactly the fields the layer schema (`src/schema`)
//! gives it: the properties of decoded vector tiles, the TileJSON
//! `vector_layers` fields, the OGC queryables and items, the `/api`
//! feature collections, the columns of `riskmap score` (GeoJSON, CSV) and
//! the ledger (CSV, XLSX), all read from the real server and the real
//! binary; and every layer file the writers make (GeoJSON, CSV,
//! FlatGeobuf; sensors and alarms included) carries exactly the input-layer schema's fields
//! (`riskmap::model::columns`) and reads back to the same values.

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
    // The tiny dataset with one sensor, so that layer has a feature.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_tiny_dataset(&data);
    std::fs::write(
        data.join("sensors.csv"),
        "id,kind,watches,lon,lat\nS-1,gas,HS-1,118.595,24.911\n",
    )
    .unwrap();
    install_demo_tokens(tmp.path());
    let server = Server::start(tmp.path(), &data, &[]);
    // One alarm of that sensor, posted through the write API.
    let posted = ureq::post(&format!("{}/api/alarms", server.base))
        .set("Authorization", &format!("Bearer {ADMIN}"))
        .send_json(
            serde_json::json!([{"id": "A-1", "sensor_id": "S-1", "level": 1,
            "value": 30.5, "threshold": 20, "started_at": "2026-06-15T08:00:00Z"}]),
        )
        .unwrap();
    assert_eq!(posted.status(), 201);
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
        LayerId::Sensors,
        LayerId::Alarms,
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
        // (Hidden dangers and alarms have their own `/api/hidden-dangers`
        // and `/api/alarms`.)
        if !matches!(
            layer,
            LayerId::Counties
                | LayerId::Towns
                | LayerId::HiddenDangers
                | LayerId::Sensors
                | LayerId::Alarms
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

    // The ledger: the header is the ledger's column table, in order, and
    // the reported danger is a row with a cell in every column.
    let want: Vec<&str> = riskmap::report::ledger::headers().collect();
    let resp = ureq::get(&format!("{}/api/cells/350502001/ledger.csv", server.base))
        .set("Authorization", &format!("Bearer {ADMIN}"))
        .call()
        .unwrap();
    let csv = resp.into_string().unwrap();
    let mut reader = ::csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, want, "ledger.csv header");
    let records: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let danger = records
        .iter()
        .find(|r| &r[1] == LayerId::HiddenDangers.label_zh())
        .unwrap_or_else(|| panic!("no hidden danger in the ledger: {csv}"));
    assert_eq!(danger.len(), want.len());
    for (h, v) in want.iter().zip(danger.iter()) {
        // A general danger without an enterprise leaves the enterprise and
        // hazard-source columns empty; every other column has a value.
        let empty_ok = [
            "未整改隐患",
            "未整改重大隐患",
            "在线监测",
            "黑名单",
            "责任人",
        ];
        assert!(
            !v.is_empty() || empty_ok.contains(h),
            "{h} empty: {danger:?}"
        );
    }
    if require_python_module("openpyxl", "openpyxl") {
        let resp = ureq::get(&format!("{}/api/cells/350502001/ledger.xlsx", server.base))
            .set("Authorization", &format!("Bearer {ADMIN}"))
            .call()
            .unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("ledger.xlsx");
        std::fs::write(&path, &bytes).unwrap();
        let out = std::process::Command::new(python())
            .arg("-c")
            .arg("import openpyxl,sys,json\nws=openpyxl.load_workbook(sys.argv[1]).active\nprint(json.dumps(next(ws.iter_rows(values_only=True)),ensure_ascii=False))")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let header: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(header, want, "ledger.xlsx header");
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

/// The values of every input-schema column of every feature of `ds`, per
/// layer file, keyed by the feature's id or code.
fn layer_values(
    ds: &riskmap::model::Dataset,
) -> BTreeMap<&'static str, BTreeMap<String, Vec<String>>> {
    use riskmap::model::Level;
    use riskmap::model::columns::{self, Column};
    // The columns take `&T`; iterate references.
    fn by_ref<'a, T>(cols: &'a [Column<T>]) -> impl Fn(&&T) -> Vec<String> + 'a {
        move |f| cols.iter().map(|c| format!("{:?}", (c.get)(f))).collect()
    }
    let keyed = |v: Vec<Vec<String>>| -> BTreeMap<String, Vec<String>> {
        v.into_iter().map(|r| (r[0].clone(), r)).collect()
    };
    let mut out = BTreeMap::new();
    out.insert(
        "enterprises",
        keyed(
            ds.enterprises
                .iter()
                .map(|f| by_ref(columns::ENTERPRISES)(&f))
                .collect(),
        ),
    );
    out.insert(
        "hazard_sources",
        keyed(
            ds.hazard_sources
                .iter()
                .map(|f| by_ref(columns::HAZARD_SOURCES)(&f))
                .collect(),
        ),
    );
    out.insert(
        "collapse_zones",
        keyed(
            ds.collapse_zones
                .iter()
                .map(|f| by_ref(columns::COLLAPSE_ZONES)(&f))
                .collect(),
        ),
    );
    out.insert(
        "grid_cells",
        keyed(
            ds.units
                .iter()
                .filter(|u| u.level != Level::County)
                .map(|f| by_ref(columns::GRID_CELLS)(&f))
                .collect(),
        ),
    );
    out.insert(
        "counties",
        keyed(
            ds.units
                .iter()
                .filter(|u| u.level == Level::County)
                .map(|f| by_ref(columns::COUNTIES)(&f))
                .collect(),
        ),
    );
    out.insert(
        "hidden_dangers",
        keyed(
            ds.hidden_dangers
                .iter()
                .map(|f| by_ref(columns::HIDDEN_DANGERS)(&f))
                .collect(),
        ),
    );
    out.insert(
        "sensors",
        keyed(
            ds.sensors
                .iter()
                .map(|f| by_ref(columns::SENSORS)(&f))
                .collect(),
        ),
    );
    out.insert(
        "alarms",
        keyed(
            ds.alarms
                .iter()
                .map(|f| by_ref(columns::ALARMS)(&f))
                .collect(),
        ),
    );
    out
}

/// The layer files the writers make (`generate`, `journal compact`, the
/// exports) carry exactly the input-layer schema's fields, in order, and
/// the readers read every one back to the same value: a field left out of
/// a writer, or of a reader, fails here.
#[test]
fn layer_files_carry_the_input_schema_and_read_back() {
    use riskmap::generate::{Preset, generate_dataset_as_of};
    use riskmap::model::columns;
    use riskmap::write::{
        Format, alarms_table, dataset_tables, hidden_dangers_table, sensors_table, write_dataset,
        write_table,
    };
    let as_of: riskmap::model::Date = "2026-06-15".parse().unwrap();
    let ds = generate_dataset_as_of(Preset::Quanzhou, 7, as_of, &|_| {}).unwrap();
    assert!(!ds.hidden_dangers.is_empty());
    assert!(!ds.sensors.is_empty() && !ds.alarms.is_empty());
    let want = layer_values(&ds);
    let tmp = tempfile::tempdir().unwrap();
    for ext in ["geojson", "csv", "fgb"] {
        let dir = tmp.path().join(ext);
        match ext {
            "geojson" => drop(write_dataset(&dir, &ds, Format::GeoJson).unwrap()),
            "fgb" => drop(write_dataset(&dir, &ds, Format::Fgb).unwrap()),
            _ => {
                std::fs::create_dir_all(&dir).unwrap();
                let mut tables = dataset_tables(&ds);
                tables.push(hidden_dangers_table(&ds.hidden_dangers));
                tables.push(sensors_table(&ds.sensors));
                tables.push(alarms_table(&ds.alarms));
                // Every table as CSV (polygons with a `wkt` column); the
                // readers take points from CSV, so the polygon layers are
                // read back from GeoJSON beside them.
                let polygons = tmp.path().join("csv-polygons");
                std::fs::create_dir_all(&polygons).unwrap();
                for t in tables {
                    let point = t.geometry_type == riskmap::write::GeometryKind::Point;
                    let at = if point { &dir } else { &polygons };
                    write_table(&at.join(format!("{}.csv", t.name)), &t).unwrap();
                    if !point {
                        write_table(&dir.join(format!("{}.geojson", t.name)), &t).unwrap();
                    }
                }
            }
        }
        for layer in columns::FILE_LAYERS {
            let mut path = dir.join(format!("{layer}.{ext}"));
            if ext == "csv" && !columns::is_point_layer(layer) {
                path = tmp.path().join("csv-polygons").join(format!("{layer}.csv"));
            }
            let names: Vec<String> = match ext {
                "geojson" => {
                    let fc = json(&std::fs::read_to_string(&path).unwrap());
                    fc["features"][0]["properties"]
                        .as_object()
                        .unwrap()
                        .keys()
                        .cloned()
                        .collect()
                }
                "csv" => {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let header = text.trim_start_matches('\u{feff}').lines().next().unwrap();
                    let mut h: Vec<String> = header.split(',').map(String::from).collect();
                    // The geometry: lon, lat for points, wkt for polygons.
                    if columns::is_point_layer(layer) {
                        assert_eq!(h.split_off(h.len() - 2), ["lon", "lat"], "{layer}.csv");
                    } else {
                        assert_eq!(h.pop().as_deref(), Some("wkt"), "{layer}.csv");
                    }
                    h
                }
                _ => continue,
            };
            let mut names = names;
            let mut schema: Vec<String> = columns::names(layer)
                .iter()
                .map(|s| s.to_string())
                .collect();
            if ext == "geojson" {
                // serde_json objects are sorted by key.
                names.sort();
                schema.sort();
            }
            assert_eq!(names, schema, "fields of {layer}.{ext}");
        }
        let loaded = riskmap::ingest::load_dir(&dir, &riskmap::config::Config::default().ingest())
            .unwrap_or_else(|e| panic!("{ext}: {e}"));
        let got = layer_values(&loaded.dataset);
        for (layer, rows) in &want {
            // The loader leaves out a childless unit (the demo's 金门县,
            // 350527, has no towns); every other feature reads back.
            let missing: Vec<&String> = rows
                .keys()
                .filter(|k| !got[layer].contains_key(*k))
                .collect();
            let allowed: Vec<String> = if *layer == "counties" {
                vec![format!(
                    "{:?}",
                    riskmap::model::Value::Text("350527".into())
                )]
            } else {
                Vec::new()
            };
            assert!(
                missing.iter().all(|k| allowed.contains(k)),
                "{layer}.{ext}: missing {missing:?}"
            );
            assert_eq!(
                rows.len(),
                got[layer].len() + missing.len(),
                "{layer}.{ext}"
            );
            for (key, values) in &got[layer] {
                assert_eq!(Some(values), rows.get(key), "{layer}.{ext}: {key}");
            }
        }
        // Whole point records read back equal, so a field of the model
        // that the schema lacks (and so no file carries) fails too.
        // (FlatGeobuf keeps its spatial index's order: compare by id.)
        fn by_id<T: Clone>(v: &[T], id: impl Fn(&T) -> &str) -> Vec<T> {
            let mut v = v.to_vec();
            v.sort_by(|a, b| id(a).cmp(id(b)));
            v
        }
        let l = &loaded.dataset;
        assert_eq!(
            by_id(&l.enterprises, |e| &e.id),
            by_id(&ds.enterprises, |e| &e.id),
            "enterprises.{ext}"
        );
        assert_eq!(
            by_id(&l.hazard_sources, |h| &h.id),
            by_id(&ds.hazard_sources, |h| &h.id),
            "hazard_sources.{ext}"
        );
        assert_eq!(
            by_id(&l.hidden_dangers, |d| &d.id),
            by_id(&ds.hidden_dangers, |d| &d.id),
            "hidden_dangers.{ext}"
        );
        assert_eq!(
            by_id(&l.sensors, |d| &d.id),
            by_id(&ds.sensors, |d| &d.id),
            "sensors.{ext}"
        );
        assert_eq!(
            by_id(&l.alarms, |d| &d.id),
            by_id(&ds.alarms, |d| &d.id),
            "alarms.{ext}"
        );
    }
}
