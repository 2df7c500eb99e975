//! Composite vector tiles and TileJSON from the real server on
//! 127.0.0.1:0, decoded with geozero's protobuf types (prost) and a command
//! decoder written against MVT 2.1 here. What a tile should hold is computed
//! here by brute force over the features the test wrote, with the tile
//! grid's formulas written out below (not the server's R-tree or projection).

mod common;

use common::*;
use geozero::mvt::tile::{Layer, Value};
use geozero::mvt::{Message, Tile};
use std::collections::BTreeMap;
use std::f64::consts::PI;
use std::io::Read;
use std::path::Path;

/// Web Mercator position of a WGS 84 point in tiles of zoom `z` (x right,
/// y down), from the EPSG:3857 / slippy-map formulas.
fn world(lon: f64, lat: f64, z: u8) -> (f64, f64) {
    let n = f64::from(1u32 << z);
    let phi = lat.to_radians();
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / PI) / 2.0 * n;
    (x, y)
}

/// The tile of zoom `z` holding a point.
fn tile_for(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let (x, y) = world(lon, lat, z);
    (x.floor() as u32, y.floor() as u32)
}

/// Pixel position of a point in tile `z/x/y` of 4096 units.
fn project(lon: f64, lat: f64, (z, x, y): (u8, u32, u32)) -> (f64, f64) {
    let (wx, wy) = world(lon, lat, z);
    ((wx - f64::from(x)) * 4096.0, (wy - f64::from(y)) * 4096.0)
}

/// `[west, south, east, north]` of tile `z/x/y` grown by `buffer` of its
/// 4096 units on each side.
fn tile_bounds(z: u8, x: u32, y: u32, buffer: f64) -> [f64; 4] {
    let n = f64::from(1u32 << z);
    let b = buffer / 4096.0;
    let lon = |tx: f64| tx / n * 360.0 - 180.0;
    let lat = |ty: f64| (PI * (1.0 - 2.0 * ty / n)).sinh().atan().to_degrees();
    [
        lon(f64::from(x) - b),
        lat(f64::from(y) + 1.0 + b),
        lon(f64::from(x) + 1.0 + b),
        lat(f64::from(y) - b),
    ]
}

/// Whether two `[w, s, e, n]` boxes share a point.
fn boxes_meet(a: [f64; 4], b: [f64; 4]) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

fn contains(b: [f64; 4], (lon, lat): (f64, f64)) -> bool {
    b[0] <= lon && lon <= b[2] && b[1] <= lat && lat <= b[3]
}

/// A response: status, headers, body bytes.
struct Reply {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

fn fetch(server: &Server, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = ureq::get(&format!("{}{}", server.base, path));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {path}: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .filter_map(|n| {
            resp.header(&n)
                .map(|v| (n.to_ascii_lowercase(), v.to_string()))
        })
        .collect();
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

/// One decoded feature: id, geometry type, rings or points, properties.
#[derive(Debug)]
struct Decoded {
    id: Option<u64>,
    kind: i32,
    parts: Vec<Vec<[i64; 2]>>,
    props: BTreeMap<String, Value>,
}

fn unzigzag(v: u32) -> i64 {
    i64::from((v >> 1) as i32 ^ -((v & 1) as i32))
}

/// Decodes a feature's command stream per MVT 2.1 §4.3, asserting the
/// stream is well formed (ClosePath after every polygon ring).
fn decode_feature(layer: &Layer, f: &geozero::mvt::tile::Feature) -> Decoded {
    let mut parts: Vec<Vec<[i64; 2]>> = Vec::new();
    let (mut x, mut y) = (0i64, 0i64);
    let mut i = 0;
    let g = &f.geometry;
    while i < g.len() {
        let (id, count) = (g[i] & 7, g[i] >> 3);
        i += 1;
        match id {
            1 | 2 => {
                for _ in 0..count {
                    x += unzigzag(g[i]);
                    y += unzigzag(g[i + 1]);
                    i += 2;
                    if id == 1 && (f.r#type != Some(1) || parts.is_empty()) {
                        parts.push(Vec::new());
                    }
                    parts.last_mut().unwrap().push([x, y]);
                }
            }
            7 => assert_eq!(count, 1, "ClosePath count"),
            other => panic!("unknown command {other}"),
        }
    }
    let mut props = BTreeMap::new();
    for pair in f.tags.chunks(2) {
        props.insert(
            layer.keys[pair[0] as usize].clone(),
            layer.values[pair[1] as usize].clone(),
        );
    }
    Decoded {
        id: f.id,
        kind: f.r#type.unwrap_or(0),
        parts,
        props,
    }
}

fn area2(ring: &[[i64; 2]]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum()
}

/// Decodes a tile and checks the MVT 2.1 rules every layer must keep.
fn decode(bytes: &[u8]) -> BTreeMap<String, Vec<Decoded>> {
    let tile = Tile::decode(bytes).expect("valid protobuf");
    let mut out = BTreeMap::new();
    for layer in &tile.layers {
        assert_eq!(layer.version, 2, "{}", layer.name);
        assert_eq!(layer.extent, Some(4096));
        assert!(!out.contains_key(&layer.name), "layer {} twice", layer.name);
        let mut keys = layer.keys.clone();
        keys.sort();
        keys.dedup();
        assert_eq!(
            keys.len(),
            layer.keys.len(),
            "duplicate keys in {}",
            layer.name
        );
        let feats: Vec<Decoded> = layer
            .features
            .iter()
            .map(|f| decode_feature(layer, f))
            .collect();
        for f in &feats {
            assert!(f.id.is_some(), "feature without id in {}", layer.name);
            if f.kind == 3 {
                assert!(area2(&f.parts[0]) > 0, "first ring must be exterior: {f:?}");
                for ring in &f.parts {
                    assert!(ring.len() >= 3, "degenerate ring in {}", layer.name);
                    assert_ne!(area2(ring), 0, "zero-area ring in {}", layer.name);
                    for i in 0..ring.len() {
                        assert_ne!(
                            ring[i],
                            ring[(i + 1) % ring.len()],
                            "repeated point in {}",
                            layer.name
                        );
                    }
                }
            }
        }
        out.insert(layer.name.clone(), feats);
    }
    out
}

fn string(v: &Value) -> &str {
    v.string_value
        .as_deref()
        .unwrap_or_else(|| panic!("not a string: {v:?}"))
}

/// The z12 tile holding the tiny dataset (all of it lies in one tile).
fn tiny_tile() -> (u8, u32, u32) {
    let a = tile_for(118.58, 24.90, 12);
    assert_eq!(
        a,
        tile_for(118.61, 24.92, 12),
        "tiny dataset must fit one z12 tile"
    );
    (12, a.0, a.1)
}

/// The tiny dataset plus one enterprise outside every cell (UTF-8 CSV).
fn write_dataset_with_outsider(dir: &Path) {
    write_tiny_dataset(dir);
    let csv = format!(
        "{}E9,格外物流,仓储物流,重大,5,1,1,否,118.615,24.915\n",
        enterprises_csv()
    );
    std::fs::write(dir.join("enterprises.csv"), csv).unwrap();
    install_demo_tokens(dir);
}

fn names(tile: &BTreeMap<String, Vec<Decoded>>) -> Vec<&str> {
    tile.keys().map(String::as_str).collect()
}

#[test]
fn public_tile_has_the_public_layers_with_typed_risk_fields() {
    let tmp = tempfile::tempdir().unwrap();
    write_dataset_with_outsider(tmp.path());
    let server = Server::start(tmp.path(), tmp.path(), &[]);
    let (z, x, y) = tiny_tile();
    let r = fetch(&server, &format!("/tiles/{z}/{x}/{y}.mvt"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        "application/vnd.mapbox-vector-tile"
    );
    assert_eq!(r.header("vary"), "Authorization, Accept-Encoding");
    assert!(
        r.header("cache-control").starts_with("public"),
        "{}",
        r.header("cache-control")
    );
    assert!(r.body.len() <= 500 * 1024);
    let tile = decode(&r.body);
    assert_eq!(
        names(&tile),
        ["cells", "collapse_zones", "counties", "towns", "villages"]
    );
    for (layer, n) in [
        ("counties", 1),
        ("towns", 1),
        ("villages", 2),
        ("cells", 3),
        ("collapse_zones", 1),
    ] {
        assert_eq!(tile[layer].len(), n, "{layer}");
    }
    let cell = tile["cells"]
        .iter()
        .find(|f| f.props.get("code").map(string) == Some("350502001001001"))
        .expect("cell 001");
    assert_eq!(cell.id, Some(350_502_001_001_001));
    assert_eq!(string(&cell.props["name"]), "金山第1网格");
    assert_eq!(string(&cell.props["level"]), "cell");
    assert_eq!(string(&cell.props["parent_code"]), "350502001001");
    assert_eq!(cell.props["population"].uint_value, Some(1200));
    for layer in ["counties", "towns", "villages", "cells"] {
        for f in &tile[layer] {
            let score = f.props["risk_score"]
                .double_value
                .expect("risk_score is a double");
            assert!((0.0..=100.0).contains(&score) && (score * 10.0).fract().abs() < 1e-9);
            let level = string(&f.props["risk_level"]);
            let color = string(&f.props["risk_color"]);
            let expected = match level {
                "major" => "#d7191c",
                "high" => "#fd8d3c",
                "medium" => "#fecc5c",
                "low" => "#2c7bb6",
                other => panic!("risk_level {other}"),
            };
            assert_eq!(color, expected);
        }
    }
    assert!(!tile["counties"][0].props.contains_key("parent_code"));
    let zone = &tile["collapse_zones"][0];
    assert_eq!(string(&zone.props["kind"]), "cavity");
    assert_eq!(zone.props["severity"].uint_value, Some(3));
    // The cell polygon sits where the projection puts it.
    let (px, py) = project(118.58, 24.90, (z, x, y));
    let ring = &cell.parts[0];
    assert!(ring.iter().any(|p| (p[0] - px.round() as i64).abs() <= 1 && (p[1] - py.round() as i64).abs() <= 1), "{ring:?}");
}

#[test]
fn private_layers_need_a_token_and_follow_the_scope() {
    let tmp = tempfile::tempdir().unwrap();
    write_dataset_with_outsider(tmp.path());
    let server = Server::start(tmp.path(), tmp.path(), &[]);
    let (z, x, y) = tiny_tile();
    let path = format!("/tiles/{z}/{x}/{y}.mvt");
    let auth = |t: &str| format!("Bearer {t}");

    let planner = fetch(&server, &path, &[("Authorization", &auth(PLANNER))]);
    assert_eq!(planner.status, 200);
    assert!(planner.header("cache-control").starts_with("private"));
    let tile = decode(&planner.body);
    assert_eq!(tile["enterprises"].len(), 4);
    assert_eq!(tile["hazard_sources"].len(), 2);
    let e1 = tile["enterprises"]
        .iter()
        .find(|f| f.props.get("id").map(string) == Some("E1"))
        .expect("E1");
    assert_eq!(string(&e1.props["name"]), "泉州燃气有限公司");
    assert_eq!(string(&e1.props["industry"]), "gas");
    assert_eq!(string(&e1.props["risk_grade"]), "high");
    assert_eq!(e1.props["hidden_dangers_open"].uint_value, Some(2));
    assert_eq!(e1.props["major_hidden_dangers_open"].uint_value, Some(0));
    assert_eq!(e1.kind, 1);
    let hs = &tile["hazard_sources"][0];
    assert_eq!(string(&hs.props["id"]), "HS-1");
    assert_eq!(hs.props["grade"].uint_value, Some(2));
    assert_eq!(hs.props["monitored"].bool_value, Some(true));

    // The grid manager of 350502001001 sees what lies in its cells only.
    let grid = decode(&fetch(&server, &path, &[("Authorization", &auth(GRID_MANAGER))]).body);
    let mut ids: Vec<&str> = grid["enterprises"]
        .iter()
        .map(|f| string(&f.props["id"]))
        .collect();
    ids.sort();
    assert_eq!(ids, ["E1", "E2"]);
    let hazards: Vec<&str> = grid["hazard_sources"]
        .iter()
        .map(|f| string(&f.props["id"]))
        .collect();
    assert_eq!(hazards, ["HS-1"], "HS-2 lies in the sibling village");

    let anon = decode(&fetch(&server, &path, &[]).body);
    assert!(!anon.contains_key("enterprises") && !anon.contains_key("hazard_sources"));

    let bad = fetch(&server, &path, &[("Authorization", "Bearer not-a-token")]);
    assert_eq!(bad.status, 401);
    assert!(bad.header("www-authenticate").starts_with("Bearer"));
}

#[test]
fn status_codes_for_bad_and_empty_tiles() {
    let tmp = tempfile::tempdir().unwrap();
    write_dataset_with_outsider(tmp.path());
    let server = Server::start(tmp.path(), tmp.path(), &[]);
    for (path, status) in [
        ("/tiles/a/0/0.mvt", 400),
        ("/tiles/1/x/0.mvt", 400),
        ("/tiles/1/0/-1.mvt", 400),
        ("/tiles/23/0/0.mvt", 400),
        ("/tiles/1/2/0.mvt", 404),
        ("/tiles/1/0/2.mvt", 404),
        ("/tiles/1/0/0.png", 404),
    ] {
        let r = fetch(&server, path, &[]);
        assert_eq!(r.status, status, "{path}");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert!(
            v["code"].is_string() && v["description"].is_string(),
            "{path}"
        );
    }
    // Authentication comes before parameters.
    assert_eq!(
        fetch(
            &server,
            "/tiles/a/0/0.mvt",
            &[("Authorization", "Bearer nope")]
        )
        .status,
        401
    );
    // Far from the data: no content, still cache-safe.
    let empty = fetch(&server, "/tiles/12/0/0.mvt", &[]);
    assert_eq!(empty.status, 204);
    assert!(empty.body.is_empty());
    assert_eq!(empty.header("vary"), "Authorization, Accept-Encoding");
    assert!(empty.header("content-type").is_empty());
    // Cells are not in z11 tiles; towns are.
    let (_, x, y) = tiny_tile();
    let z11 = decode(&fetch(&server, &format!("/tiles/11/{}/{}.mvt", x / 2, y / 2), &[]).body);
    assert!(!z11.contains_key("cells") && z11.contains_key("towns"));
    let z8 = decode(&fetch(&server, &format!("/tiles/8/{}/{}.mvt", x / 16, y / 16), &[]).body);
    assert_eq!(names(&z8), ["counties", "towns"]);
}

#[test]
fn gzip_etags_and_not_modified() {
    let tmp = tempfile::tempdir().unwrap();
    write_dataset_with_outsider(tmp.path());
    let server = Server::start(tmp.path(), tmp.path(), &[]);
    let (z, x, y) = tiny_tile();
    let path = format!("/tiles/{z}/{x}/{y}.mvt");
    let plain = fetch(&server, &path, &[]);
    let zipped = fetch(&server, &path, &[("Accept-Encoding", "gzip, deflate")]);
    assert_eq!(plain.status, 200);
    assert_eq!(zipped.status, 200);
    assert!(plain.header("content-encoding").is_empty());
    assert_eq!(zipped.header("content-encoding"), "gzip");
    assert_eq!(zipped.header("vary"), "Authorization, Accept-Encoding");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(zipped.body.as_slice())
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain.body);
    let (e_plain, e_zip) = (plain.header("etag"), zipped.header("etag"));
    assert!(e_plain.starts_with('"') && e_plain.ends_with('"'));
    assert_ne!(e_plain, e_zip);
    // Same request again: same ETag (and from the cache).
    assert_eq!(fetch(&server, &path, &[]).header("etag"), e_plain);
    let nm = fetch(&server, &path, &[("If-None-Match", e_plain)]);
    assert_eq!(nm.status, 304);
    assert!(nm.body.is_empty());
    assert_eq!(nm.header("etag"), e_plain);
    assert_eq!(nm.header("vary"), "Authorization, Accept-Encoding");
    // The gzip tag does not validate the identity body, nor a token's tile.
    assert_eq!(
        fetch(&server, &path, &[("If-None-Match", e_zip)]).status,
        200
    );
    let with_token = fetch(
        &server,
        &path,
        &[
            ("If-None-Match", e_plain),
            ("Authorization", &format!("Bearer {PLANNER}")),
        ],
    );
    assert_eq!(with_token.status, 200);
    assert_ne!(with_token.header("etag"), e_plain);
    let (_, metrics) = server.get("/metrics");
    assert!(
        metrics.contains("riskmap_tile_cache_requests_total{result=\"hit\"}"),
        "{metrics}"
    );
}

#[test]
fn tilejson_lists_every_layer_with_absolute_urls() {
    let tmp = tempfile::tempdir().unwrap();
    write_dataset_with_outsider(tmp.path());
    // Forwarding headers count only from a trusted proxy (here: loopback).
    std::fs::write(
        tmp.path().join("riskmap.toml"),
        "trusted_proxies = [\"127.0.0.0/8\"]\n",
    )
    .unwrap();
    let server = Server::start(tmp.path(), tmp.path(), &[]);
    let r = fetch(&server, "/tiles.json", &[]);
    assert_eq!(r.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["tilejson"], "3.0.0");
    assert_eq!(
        v["tiles"][0],
        format!("{}/tiles/{{z}}/{{x}}/{{y}}.mvt", server.base)
    );
    let b = &v["bounds"];
    assert!(
        (b[0].as_f64().unwrap() - 118.58).abs() < 1e-9
            && (b[3].as_f64().unwrap() - 24.92).abs() < 1e-9,
        "{b}"
    );
    assert!(
        v["attribution"]
            .as_str()
            .unwrap()
            .contains("GS(2024)0650号")
    );
    assert!(v["attribution"].as_str().unwrap().contains("国家统计局"));
    let layers = v["vector_layers"].as_array().unwrap();
    let ids: Vec<&str> = layers.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "counties",
            "towns",
            "villages",
            "cells",
            "collapse_zones",
            "hazard_sources",
            "enterprises",
            "hidden_dangers",
            "sensors",
            "alarms"
        ]
    );
    for l in layers {
        // Sensors carry only `id` and `kind`; every other layer more.
        let least = if l["id"] == "sensors" { 2 } else { 4 };
        assert!(l["fields"].as_object().unwrap().len() >= least, "{l}");
        assert!(l["minzoom"].is_u64());
    }
    assert!(
        layers[6]["description"]
            .as_str()
            .unwrap()
            .contains("requires a token")
    );
    assert!(layers[6]["fields"]["point_count"].is_string());
    let proxied = fetch(
        &server,
        "/tiles.json",
        &[
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "map.example.cn"),
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&proxied.body).unwrap();
    assert_eq!(
        v["tiles"][0],
        "https://map.example.cn/tiles/{z}/{x}/{y}.mvt"
    );
}

/// What [`write_grid_dataset`] wrote: the boxes of the villages and cells
/// (all axis-aligned squares) and the enterprises' points, in file order.
struct Grid {
    villages: Vec<[f64; 4]>,
    cells: Vec<[f64; 4]>,
    enterprises: Vec<(f64, f64)>,
}

impl Grid {
    /// Units of `boxes` whose square meets `window` (brute force).
    fn meeting(boxes: &[[f64; 4]], window: [f64; 4]) -> usize {
        boxes.iter().filter(|b| boxes_meet(**b, window)).count()
    }

    /// Enterprises inside `window` (brute force).
    fn enterprises_in(&self, window: [f64; 4]) -> usize {
        self.enterprises
            .iter()
            .filter(|p| contains(window, **p))
            .count()
    }
}

/// A bigger grid: one town of `v`×`v` villages, each of 4×4 cells, and
/// `n` enterprises spread over it (deterministic), written as GeoJSON.
fn write_grid_dataset(dir: &Path, v: usize, n: usize) -> Grid {
    let mut grid = Grid {
        villages: Vec::new(),
        cells: Vec::new(),
        enterprises: Vec::new(),
    };
    let (x0, y0, vs) = (118.50, 24.80, 0.02);
    let cs = vs / 4.0;
    let ring = |x: f64, y: f64, s: f64| {
        format!(
            "[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]",
            x + s,
            x + s,
            y + s,
            y + s
        )
    };
    let mut feats = vec![format!(
        "{{\"type\":\"Feature\",\"properties\":{{\"code\":\"350502001\",\"name\":\"镇\",\"level\":\"town\",\"parent_code\":\"350502\"}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":{}}}}}",
        ring(x0, y0, vs * v as f64)
    )];
    for vi in 0..v * v {
        let (vx, vy) = (x0 + (vi % v) as f64 * vs, y0 + (vi / v) as f64 * vs);
        let vcode = format!("350502001{:03}", vi + 1);
        grid.villages.push([vx, vy, vx + vs, vy + vs]);
        feats.push(format!(
            "{{\"type\":\"Feature\",\"properties\":{{\"code\":\"{vcode}\",\"name\":\"村{vi}\",\"level\":\"village\",\"parent_code\":\"350502001\"}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":{}}}}}",
            ring(vx, vy, vs)
        ));
        for ci in 0..16 {
            let (cx, cy) = (vx + (ci % 4) as f64 * cs, vy + (ci / 4) as f64 * cs);
            grid.cells.push([cx, cy, cx + cs, cy + cs]);
            feats.push(format!(
                "{{\"type\":\"Feature\",\"properties\":{{\"code\":\"{vcode}{:03}\",\"name\":\"网格{ci}\",\"level\":\"cell\",\"parent_code\":\"{vcode}\",\"population\":{}}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":{}}}}}",
                ci + 1,
                100 + ci * 7,
                ring(cx, cy, cs)
            ));
        }
    }
    let fc = |f: &[String]| {
        format!(
            "{{\"type\":\"FeatureCollection\",\"features\":[{}]}}",
            f.join(",")
        )
    };
    std::fs::write(dir.join("grid_cells.geojson"), fc(&feats)).unwrap();
    let span = vs * v as f64;
    let grades = ["重大", "较大", "一般", "低"];
    let mut csv = String::from(
        "id,name,industry,risk_grade,employees,hidden_dangers_open,major_hidden_dangers_open,blacklisted,lon,lat\n",
    );
    let mut state: u64 = 42;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64) / ((1u64 << 53) as f64)
    };
    for i in 0..n {
        let (lon, lat) = (
            x0 + 0.0001 + next() * (span - 0.0002),
            y0 + 0.0001 + next() * (span - 0.0002),
        );
        let (lon, lat) = (format!("{lon:.6}"), format!("{lat:.6}"));
        csv.push_str(&format!(
            "E{i},企业{i},一般工贸,{},1,0,0,否,{lon},{lat}\n",
            grades[i % 97 % 4]
        ));
        grid.enterprises
            .push((lon.parse().unwrap(), lat.parse().unwrap()));
    }
    std::fs::write(dir.join("enterprises.csv"), csv).unwrap();
    std::fs::write(dir.join("hazard_sources.geojson"), hazards_geojson()).unwrap();
    std::fs::write(dir.join("collapse_zones.geojson"), zones_geojson()).unwrap();
    install_demo_tokens(dir);
    grid
}

#[test]
fn counts_match_brute_force_and_dense_enterprises_are_clustered() {
    let tmp = tempfile::tempdir().unwrap();
    let grid = write_grid_dataset(tmp.path(), 4, 6000);
    let server = Server::start(tmp.path(), tmp.path(), &[]);
    let token = format!("Bearer {PLANNER}");
    // z15: nothing clustered; every feature the test wrote is tested
    // against the tile's box grown by the 64/4096 buffer.
    let (x, y) = tile_for(118.54, 24.84, 15);
    let window = tile_bounds(15, x, y, 64.0);
    let r = fetch(
        &server,
        &format!("/tiles/15/{x}/{y}.mvt"),
        &[("Authorization", &token)],
    );
    assert_eq!(r.status, 200);
    let tile = decode(&r.body);
    for (layer, boxes) in [("cells", &grid.cells), ("villages", &grid.villages)] {
        let expected = Grid::meeting(boxes, window);
        let got = tile.get(layer).map_or(0, Vec::len);
        assert!(expected > 0);
        // Slivers under 1 unit² at the window's edge may be dropped.
        assert!(
            got <= expected && got + 2 >= expected,
            "{layer}: {got} vs {expected}"
        );
    }
    let expected_e = grid.enterprises_in(window);
    assert!(expected_e > 10);
    assert_eq!(tile["enterprises"].len(), expected_e);
    assert!(
        tile["enterprises"]
            .iter()
            .all(|f| !f.props.contains_key("point_count"))
    );
    // Each point lies where the projection puts its enterprise.
    for f in &tile["enterprises"] {
        let i: usize = string(&f.props["id"])[1..].parse().unwrap();
        let (lon, lat) = grid.enterprises[i];
        let (px, py) = project(lon, lat, (15, x, y));
        let p = f.parts[0][0];
        assert!(
            (p[0] as f64 - px).abs() <= 1.0 && (p[1] as f64 - py).abs() <= 1.0,
            "E{i} at {p:?}, expected ({px}, {py})"
        );
    }

    // z12 holds all 6,000 enterprises: clustered, every point accounted for.
    let (x, y) = tile_for(118.54, 24.84, 12);
    let r = fetch(
        &server,
        &format!("/tiles/12/{x}/{y}.mvt"),
        &[("Authorization", &token)],
    );
    assert!(r.body.len() <= 500 * 1024, "{}", r.body.len());
    let tile = decode(&r.body);
    let ents = &tile["enterprises"];
    assert!(ents.len() <= 2000, "{}", ents.len());
    let total: u64 = ents
        .iter()
        .map(|f| {
            f.props
                .get("point_count")
                .and_then(|v| v.uint_value)
                .unwrap_or(1)
        })
        .sum();
    let window = tile_bounds(12, x, y, 64.0);
    assert_eq!(total as usize, grid.enterprises_in(window));
    let clusters: Vec<&Decoded> = ents
        .iter()
        .filter(|f| f.props.contains_key("point_count"))
        .collect();
    assert!(!clusters.is_empty());
    for c in clusters {
        let g = string(&c.props["max_risk_grade"]);
        assert!(["major", "high", "medium", "low"].contains(&g));
    }
    // The cells of the z12 tile: about those whose outline reaches it.
    let expected = Grid::meeting(&grid.cells, window);
    let got = tile["cells"].len();
    assert!(
        expected > 100 && got <= expected && got + 4 >= expected,
        "{got} vs {expected}"
    );
}

#[test]
fn gdal_reads_a_tile() {
    if !require_tool("ogrinfo", "gdal-bin") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_dataset_with_outsider(tmp.path());
    let server = Server::start(tmp.path(), tmp.path(), &[]);
    let (z, x, y) = tiny_tile();
    let r = fetch(
        &server,
        &format!("/tiles/{z}/{x}/{y}.mvt"),
        &[("Authorization", &format!("Bearer {PLANNER}"))],
    );
    let dir = tmp.path().join(format!("t/{z}/{x}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{y}.pbf"));
    std::fs::write(&file, &r.body).unwrap();
    let out = std::process::Command::new("ogrinfo")
        .args(["-ro", "-al", "-so"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (layer, n) in [
        ("counties", 1),
        ("towns", 1),
        ("villages", 2),
        ("cells", 3),
        ("collapse_zones", 1),
        ("hazard_sources", 2),
        ("enterprises", 4),
    ] {
        let block = text
            .split("Layer name: ")
            .find(|b| b.starts_with(&format!("{layer}\n")))
            .unwrap_or_else(|| panic!("no layer {layer} in\n{text}"));
        assert!(
            block.contains(&format!("Feature Count: {n}\n")),
            "{layer}: {block}"
        );
    }
    assert!(text.contains("risk_score: Real"), "{text}");
}

/// Dense tiles (clustered from the Z-order pyramid): the features of a
/// tile that belong to it count each of its enterprises exactly once, and
/// a cluster drawn in a neighbour's buffer is the same cluster (id, count,
/// place) as in its own tile.
#[test]
fn dense_tiles_partition_the_points_and_agree_at_their_edges() {
    let tmp = tempfile::tempdir().unwrap();
    let grid = write_grid_dataset(tmp.path(), 4, 20_000);
    let server = Server::start(tmp.path(), tmp.path(), &[]);
    let token = format!("Bearer {PLANNER}");
    let z = 13u8;
    let (x0, y0) = tile_for(118.50, 24.88, z);
    let (x1, y1) = tile_for(118.58, 24.80, z);
    // The tile a feature belongs to: a cluster by its quadtree cell (the
    // id holds the level in bits 56–62 over the cell's Morton code), an
    // enterprise by the location the test gave it (found by its `id`).
    let compact = |mut v: u64| {
        v &= 0x5555_5555_5555_5555;
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
        v = (v | (v >> 2)) & 0x0f0f_0f0f_0f0f_0f0f;
        v = (v | (v >> 4)) & 0x00ff_00ff_00ff_00ff;
        v = (v | (v >> 8)) & 0x0000_ffff_0000_ffff;
        ((v | (v >> 16)) & 0xffff_ffff) as u32
    };
    let home = |f: &Decoded| {
        let id = f.id.unwrap();
        if id >> 63 == 1 {
            let level = ((id >> 56) & 0x7f) as u32;
            let code = id & ((1 << 56) - 1);
            let shift = level - u32::from(z);
            (compact(code) >> shift, compact(code >> 1) >> shift)
        } else {
            let i: usize = string(&f.props["id"])[1..].parse().unwrap();
            let (lon, lat) = grid.enterprises[i];
            tile_for(lon, lat, z)
        }
    };
    // Cluster id → (point_count, position in world units of zoom 13 × 4096).
    let mut seen: BTreeMap<u64, (u64, [i64; 2])> = BTreeMap::new();
    let mut dense = 0;
    let mut shared = 0;
    for x in x0..=x1 {
        for y in y0..=y1 {
            let inside = grid.enterprises_in(tile_bounds(z, x, y, 0.0));
            if inside <= 2000 {
                continue;
            }
            dense += 1;
            let r = fetch(
                &server,
                &format!("/tiles/{z}/{x}/{y}.mvt"),
                &[("Authorization", &token)],
            );
            assert_eq!(r.status, 200);
            let tile = decode(&r.body);
            let mut own = 0;
            for f in &tile["enterprises"] {
                let id = f.id.unwrap();
                let count = f
                    .props
                    .get("point_count")
                    .and_then(|v| v.uint_value)
                    .unwrap_or(1);
                if home(f) == (x, y) {
                    own += count as usize;
                }
                let p = f.parts[0][0];
                let world = [i64::from(x) * 4096 + p[0], i64::from(y) * 4096 + p[1]];
                if let Some((c, at)) = seen.insert(id, (count, world)) {
                    shared += 1;
                    assert_eq!(c, count, "cluster {id:x} counted differently");
                    assert!(
                        (at[0] - world[0]).abs() <= 1 && (at[1] - world[1]).abs() <= 1,
                        "cluster {id:x} at {at:?} and {world:?}"
                    );
                }
            }
            assert_eq!(own, inside, "tile {z}/{x}/{y}");
        }
    }
    assert!(dense >= 2, "{dense} dense tiles");
    assert!(shared > 0, "no feature drawn by two tiles");
}

/// The `domain_<word>` properties of a decoded tile feature.
fn domain_props(f: &Decoded) -> BTreeMap<String, f64> {
    f.props
        .iter()
        .filter(|(k, _)| k.starts_with("domain_"))
        .map(|(k, v)| {
            (
                k.clone(),
                v.double_value.expect("domain values are doubles"),
            )
        })
        .collect()
}

#[test]
fn domain_values_are_in_tiles_and_unit_cells_carry_them_for_a_scope_only() {
    let tmp = tempfile::tempdir().unwrap();
    write_dataset_with_outsider(tmp.path());
    let server = Server::start(tmp.path(), tmp.path(), &[]);
    let (z, x, y) = tiny_tile();
    let path = format!("/tiles/{z}/{x}/{y}.mvt");
    let auth = |t: &str| format!("Bearer {t}");
    // What each unit's domains are, unrounded, from /api/cells.
    let expected = |code: &str| -> BTreeMap<String, f64> {
        let r = fetch(
            &server,
            &format!("/api/cells/{code}"),
            &[("Authorization", &auth(PLANNER))],
        );
        assert_eq!(r.status, 200, "{code}");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        v["domains"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, x)| {
                (
                    format!("domain_{k}"),
                    (x.as_f64().unwrap() * 10.0).round() / 10.0,
                )
            })
            .filter(|(_, x)| *x > 0.0)
            .collect()
    };
    // Each level carries them in the zooms where the page draws it as the
    // choropleth: counties to z8, towns z9–10, villages z10–12, cells z12+.
    let mut some = 0;
    for (z, carrying) in [
        (8, &["counties"][..]),
        (10, &["towns", "villages"][..]),
        (12, &["villages"][..]),
    ] {
        let (tx, ty) = tile_for(118.58, 24.90, z);
        let p = format!("/tiles/{z}/{tx}/{ty}.mvt");
        for token in [None, Some(PLANNER), Some(GRID_MANAGER)] {
            let headers: Vec<(&str, String)> = token
                .map(|t| ("Authorization", auth(t)))
                .into_iter()
                .collect();
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let tile = decode(&fetch(&server, &p, &headers).body);
            for layer in ["counties", "towns", "villages"] {
                for f in tile.get(layer).into_iter().flatten() {
                    let code = string(&f.props["code"]);
                    let got = domain_props(f);
                    if carrying.contains(&layer) {
                        assert_eq!(got, expected(code), "z{z} {token:?} {layer} {code}");
                        some += got.len();
                    } else {
                        assert!(got.is_empty(), "z{z} {layer} {code} carries {got:?}");
                    }
                }
            }
        }
    }
    assert!(some > 0, "the tiny dataset's units have domain values");
    let public = decode(&fetch(&server, &path, &[]).body);
    let planner = decode(&fetch(&server, &path, &[("Authorization", &auth(PLANNER))]).body);
    let grid = decode(&fetch(&server, &path, &[("Authorization", &auth(GRID_MANAGER))]).body);
    let mut planner_cells = 0;
    for f in &planner["cells"] {
        let code = string(&f.props["code"]);
        assert_eq!(domain_props(f), expected(code), "planner cell {code}");
        planner_cells += domain_props(f).len();
    }
    assert!(planner_cells > 0, "the planner's cells carry domain values");
    for f in &public["cells"] {
        assert!(
            domain_props(f).is_empty(),
            "a public cell carries {:?}",
            f.props
        );
    }
    // The grid manager of 350502001001: its own cells, none of the others.
    let mut own = 0;
    for f in &grid["cells"] {
        let code = string(&f.props["code"]);
        if code.starts_with("350502001001") {
            assert_eq!(domain_props(f), expected(code), "grid cell {code}");
            own += 1;
        } else {
            assert!(domain_props(f).is_empty(), "out-of-scope cell {code}");
        }
    }
    assert!(own > 0 && own < grid["cells"].len());
    // TileJSON names the fields on every grid layer.
    let doc: serde_json::Value =
        serde_json::from_slice(&fetch(&server, "/tiles.json", &[]).body).unwrap();
    for l in doc["vector_layers"].as_array().unwrap() {
        let grid_layer =
            ["counties", "towns", "villages", "cells"].contains(&l["id"].as_str().unwrap());
        assert_eq!(
            l["fields"].get("domain_hazardous_chemicals").is_some(),
            grid_layer,
            "{}",
            l["id"]
        );
    }
}
