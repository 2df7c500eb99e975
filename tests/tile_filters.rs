//! Tile filters (`?industry=`, `?risk_level=`, `?hazard_grade=`) on the
//! demo city (`generate --preset quanzhou --seed 42 --format geojson`),
//! served by the real binary on 127.0.0.1:0. What a filtered tile should
//! hold is computed here by brute force over the generated GeoJSON files
//! (every feature tested against the tile's buffered box, with the
//! slippy-map formulas written out below), not with the tile builder's
//! indexes or projection.

mod common;

use common::*;
use geozero::mvt::tile::Value;
use geozero::mvt::{Message, Tile};
use std::collections::{BTreeMap, BTreeSet};
use std::f64::consts::PI;
use std::io::Read;
use std::path::Path;

/// Tile units of the buffer around a tile (the server's policy).
const BUFFER: f64 = 64.0;

/// Web Mercator position of a WGS 84 point in tiles of zoom `z`.
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

/// Where a point lies against tile `z/x/y` grown by [`BUFFER`]: 1 well
/// inside, -1 well outside, 0 within a hair of the edge (where rounding
/// may put it either side).
fn placed(lon: f64, lat: f64, (z, x, y): (u8, u32, u32)) -> i8 {
    let (wx, wy) = world(lon, lat, z);
    let (px, py) = ((wx - f64::from(x)) * 4096.0, (wy - f64::from(y)) * 4096.0);
    let (lo, hi, eps) = (-BUFFER, 4096.0 + BUFFER, 1e-6);
    let inside = |v: f64| v > lo + eps && v < hi - eps;
    let outside = |v: f64| v < lo - eps || v > hi + eps;
    if inside(px) && inside(py) {
        1
    } else if outside(px) || outside(py) {
        -1
    } else {
        0
    }
}

/// One enterprise of the generated file.
#[derive(Debug, Clone)]
struct Ent {
    id: String,
    industry: String,
    grade: String,
    cell: String,
    at: (f64, f64),
}

/// One hazard source of the generated file.
#[derive(Debug, Clone)]
struct Hazard {
    id: String,
    grade: u64,
    at: (f64, f64),
}

fn point(f: &serde_json::Value) -> (f64, f64) {
    let c = &f["geometry"]["coordinates"];
    (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
}

fn read_features(path: &Path) -> Vec<serde_json::Value> {
    let fc = json(&std::fs::read_to_string(path).unwrap());
    fc["features"].as_array().unwrap().clone()
}

fn enterprises(data: &Path) -> Vec<Ent> {
    read_features(&data.join("enterprises.geojson"))
        .iter()
        .map(|f| {
            let p = &f["properties"];
            let s = |k: &str| p[k].as_str().unwrap_or("").to_string();
            Ent {
                id: s("id"),
                industry: s("industry"),
                grade: s("risk_grade"),
                cell: s("cell_code"),
                at: point(f),
            }
        })
        .collect()
}

fn hazards(data: &Path) -> Vec<Hazard> {
    read_features(&data.join("hazard_sources.geojson"))
        .iter()
        .map(|f| Hazard {
            id: f["properties"]["id"].as_str().unwrap().to_string(),
            grade: f["properties"]["grade"].as_u64().unwrap(),
            at: point(f),
        })
        .collect()
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

fn fetch(server: &Server, path: &str, token: Option<&str>) -> Reply {
    let mut req = ureq::get(&format!("{}{}", server.base, path));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
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

fn varint(b: &[u8], i: &mut usize) -> u64 {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = b[*i];
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
    }
    v
}

/// The raw bytes of each layer message of a tile, by layer name (the
/// tile is `repeated Layer layers = 3` and nothing else).
fn raw_layers(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut i = 0;
    while i < bytes.len() {
        let key = varint(bytes, &mut i);
        assert_eq!(key, (3 << 3) | 2, "a tile holds only layers");
        let len = varint(bytes, &mut i) as usize;
        let raw = bytes[i..i + len].to_vec();
        i += len;
        let layer = geozero::mvt::tile::Layer::decode(raw.as_slice()).unwrap();
        out.insert(layer.name, raw);
    }
    out
}

/// One point feature of a tile: id and properties.
#[derive(Debug)]
struct Feat {
    id: u64,
    props: BTreeMap<String, Value>,
}

impl Feat {
    fn str(&self, key: &str) -> &str {
        self.props
            .get(key)
            .and_then(|v| v.string_value.as_deref())
            .unwrap_or_else(|| panic!("no {key} in {self:?}"))
    }

    fn uint(&self, key: &str) -> Option<u64> {
        self.props.get(key).and_then(|v| v.uint_value)
    }

    fn is_cluster(&self) -> bool {
        self.props.contains_key("point_count")
    }
}

/// The features of every layer of a tile.
fn decode(bytes: &[u8]) -> BTreeMap<String, Vec<Feat>> {
    let tile = Tile::decode(bytes).expect("valid protobuf");
    tile.layers
        .iter()
        .map(|l| {
            let feats = l
                .features
                .iter()
                .map(|f| Feat {
                    id: f.id.unwrap(),
                    props: f
                        .tags
                        .chunks(2)
                        .map(|p| {
                            (
                                l.keys[p[0] as usize].clone(),
                                l.values[p[1] as usize].clone(),
                            )
                        })
                        .collect(),
                })
                .collect();
            (l.name.clone(), feats)
        })
        .collect()
}

/// The layers a filter narrows.
const FILTERED: [&str; 2] = ["enterprises", "hazard_sources"];

/// Generates the demo city as GeoJSON and serves it.
fn start() -> (tempfile::TempDir, Server, Vec<Ent>, Vec<Hazard>) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data/quanzhou");
    let o = run(
        tmp.path(),
        &[
            "generate",
            "--preset",
            "quanzhou",
            "--seed",
            "42",
            "--format",
            "geojson",
            "--out",
            path_str(&data),
        ],
    );
    assert!(o.status.success(), "{}", output_text(&o));
    install_demo_tokens(tmp.path());
    let ents = enterprises(&data);
    let hz = hazards(&data);
    assert!(ents.len() > 10_000 && hz.len() > 20);
    let server = Server::start(tmp.path(), &data, &[]);
    (tmp, server, ents, hz)
}

/// The z-`z` tile holding the most enterprises (brute force).
fn densest(ents: &[Ent], z: u8) -> (u8, u32, u32) {
    let mut count: BTreeMap<(u32, u32), usize> = BTreeMap::new();
    for e in ents {
        *count.entry(tile_for(e.at.0, e.at.1, z)).or_default() += 1;
    }
    let ((x, y), _) = count.into_iter().max_by_key(|(k, n)| (*n, *k)).unwrap();
    (z, x, y)
}

/// What a filter keeps, written out for the brute force.
struct Want<'a> {
    query: &'a str,
    industries: &'a [&'a str],
    grades: &'a [&'a str],
}

impl Want<'_> {
    fn keeps(&self, e: &Ent) -> bool {
        (self.industries.is_empty() || self.industries.contains(&e.industry.as_str()))
            && (self.grades.is_empty() || self.grades.contains(&e.grade.as_str()))
    }
}

/// Checks the enterprises of the filtered tile `t` against the brute force
/// over `ents` (only those `seen` by the caller) and the grid layers
/// against the unfiltered tile; returns (individual points, clusters).
fn check_enterprises(
    server: &Server,
    token: &str,
    t: (u8, u32, u32),
    want: &Want,
    ents: &[Ent],
    seen: impl Fn(&Ent) -> bool,
) -> (usize, usize) {
    let (z, x, y) = t;
    let plain = fetch(server, &format!("/tiles/{z}/{x}/{y}.mvt"), Some(token));
    let path = format!("/tiles/{z}/{x}/{y}.mvt?{}", want.query);
    let r = fetch(server, &path, Some(token));
    assert_eq!(
        r.status,
        200,
        "{path}: {}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(plain.status, 200);
    assert_ne!(r.header("etag"), plain.header("etag"), "{path}");

    // Brute force: the matching enterprises in the buffered tile.
    let mut inside = BTreeSet::new();
    let mut edge = BTreeSet::new();
    for e in ents.iter().filter(|e| want.keeps(e) && seen(e)) {
        match placed(e.at.0, e.at.1, t) {
            1 => {
                inside.insert(e.id.as_str());
            }
            0 => {
                edge.insert(e.id.as_str());
            }
            _ => {}
        }
    }
    assert!(!inside.is_empty(), "{path}: nothing to keep");

    let tile = decode(&r.body);
    let feats = tile.get("enterprises").map_or(&[][..], Vec::as_slice);
    let mut singles = BTreeSet::new();
    let mut total = 0u64;
    let mut clusters = 0;
    for f in feats {
        // Cluster ids lie above every enterprise index.
        assert_eq!(f.id >> 63 == 1, f.is_cluster(), "{path}: {f:?}");
        if f.is_cluster() {
            clusters += 1;
            let n = f.uint("point_count").unwrap();
            assert!(n >= 2, "{path}: cluster of {n}");
            total += n;
            let g = f.str("max_risk_grade");
            assert!(
                want.grades.is_empty() || want.grades.contains(&g),
                "{path}: cluster of max grade {g}"
            );
        } else {
            let id = f.str("id");
            assert!(
                inside.contains(id) || edge.contains(id),
                "{path}: {id} is not a matching enterprise of the tile"
            );
            let ind = f.str("industry");
            let grade = f.str("risk_grade");
            assert!(
                want.industries.is_empty() || want.industries.contains(&ind),
                "{path}: {id} {ind}"
            );
            assert!(
                want.grades.is_empty() || want.grades.contains(&grade),
                "{path}: {id} {grade}"
            );
            assert!(singles.insert(id.to_string()), "{path}: {id} twice");
            total += 1;
        }
    }
    // Every kept enterprise of the buffered tile is a point or in a cluster.
    let total = total as usize;
    assert!(
        inside.len() <= total && total <= inside.len() + edge.len(),
        "{path}: {total} enterprises drawn, {} in the tile (+{} on its edge)",
        inside.len(),
        edge.len()
    );
    eprintln!(
        "{path}: {} points, {clusters} clusters, {} matching in the tile",
        singles.len(),
        inside.len()
    );
    if clusters == 0 {
        assert!(inside.iter().all(|id| singles.contains(*id)), "{path}");
    }

    // Every other layer: the unfiltered tile's bytes.
    let a = raw_layers(&r.body);
    let b = raw_layers(&plain.body);
    let others = |m: &BTreeMap<String, Vec<u8>>| {
        m.iter()
            .filter(|(k, _)| !FILTERED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    assert!(others(&a).len() >= 3, "{path}: {:?}", a.keys());
    assert!(others(&a) == others(&b), "{path}: a grid layer differs");
    (singles.len(), clusters)
}

#[test]
fn filtered_tiles_keep_exactly_the_matching_features() {
    let (_tmp, server, ents, hz) = start();
    let z12 = densest(&ents, 12);
    let z13 = densest(&ents, 13);
    let all = |_: &Ent| true;

    // The densest z12 tile: low-grade or general-manufacturing enterprises
    // alone are still above the clustering threshold, so they are
    // clustered from those kept.
    for (query, industries, grades) in [
        ("risk_level=low", &[][..], &["low"][..]),
        (
            "industry=general_manufacturing",
            &["general_manufacturing"][..],
            &[][..],
        ),
        (
            "industry=general_manufacturing,warehousing&risk_level=low,medium",
            &["general_manufacturing", "warehousing"][..],
            &["low", "medium"][..],
        ),
    ] {
        let want = Want {
            query,
            industries,
            grades,
        };
        let (_, clusters) = check_enterprises(&server, PLANNER, z12, &want, &ents, all);
        assert!(clusters > 0, "{query}: no cluster");
    }
    // Sparse selections: every kept enterprise drawn as itself, in the
    // densest z12 and z13 tiles (the latter clustered when unfiltered).
    for t in [z12, z13] {
        for (query, industries, grades) in [
            ("risk_level=major", &[][..], &["major"][..]),
            (
                "industry=hazardous_chemicals,gas&risk_level=high,major",
                &["hazardous_chemicals", "gas"][..],
                &["high", "major"][..],
            ),
            ("industry=危险化学品", &["hazardous_chemicals"][..], &[][..]),
        ] {
            let want = Want {
                query,
                industries,
                grades,
            };
            let (singles, clusters) = check_enterprises(&server, PLANNER, t, &want, &ents, all);
            assert!(
                singles > 0 && clusters == 0,
                "{query}: {singles} points, {clusters} clusters"
            );
        }
    }
    let (z, x, y) = z13;
    let plain = fetch(&server, &format!("/tiles/{z}/{x}/{y}.mvt"), Some(PLANNER));
    assert!(
        decode(&plain.body)["enterprises"]
            .iter()
            .any(Feat::is_cluster),
        "the densest z13 tile is clustered without a filter"
    );

    // Hazard sources by grade, on a z9 tile over the city centre.
    let (hx, hy) = tile_for(z13_centre(z13).0, z13_centre(z13).1, 9);
    let t9 = (9, hx, hy);
    for grades in [&[1u64][..], &[1, 2][..], &[4][..]] {
        let query = format!(
            "hazard_grade={}",
            grades
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        );
        let expected: BTreeSet<&str> = hz
            .iter()
            .filter(|h| grades.contains(&h.grade) && placed(h.at.0, h.at.1, t9) == 1)
            .map(|h| h.id.as_str())
            .collect();
        let r = fetch(
            &server,
            &format!("/tiles/9/{hx}/{hy}.mvt?{query}"),
            Some(PLANNER),
        );
        assert_eq!(r.status, 200);
        let tile = decode(&r.body);
        let got: BTreeSet<&str> = tile
            .get("hazard_sources")
            .map(|fs| fs.iter().map(|f| f.str("id")).collect())
            .unwrap_or_default();
        assert_eq!(got, expected, "{query}");
        for f in tile.get("hazard_sources").into_iter().flatten() {
            assert!(grades.contains(&f.uint("grade").unwrap()), "{query}");
        }
        // A hazard filter leaves the enterprises alone.
        let plain =
            raw_layers(&fetch(&server, &format!("/tiles/9/{hx}/{hy}.mvt"), Some(PLANNER)).body);
        assert_eq!(
            raw_layers(&r.body).get("enterprises"),
            plain.get("enterprises"),
            "{query}"
        );
    }
    assert!(
        hz.iter()
            .any(|h| h.grade == 1 && placed(h.at.0, h.at.1, t9) == 1)
    );
}

/// The centre of a tile, lon/lat.
fn z13_centre((z, x, y): (u8, u32, u32)) -> (f64, f64) {
    let n = f64::from(1u32 << z);
    let lon = (f64::from(x) + 0.5) / n * 360.0 - 180.0;
    let lat = (PI * (1.0 - 2.0 * (f64::from(y) + 0.5) / n))
        .sinh()
        .atan()
        .to_degrees();
    (lon, lat)
}

#[test]
fn filters_are_cached_and_tagged_by_what_they_select() {
    let (_tmp, server, ents, _hz) = start();
    let (z, x, y) = densest(&ents, 13);
    let base = format!("/tiles/{z}/{x}/{y}.mvt");
    let get = |q: &str, token: Option<&str>| fetch(&server, &format!("{base}{q}"), token);
    let plain = get("", Some(PLANNER));
    let ab = get("?industry=gas,mining&risk_level=major,high", Some(PLANNER));
    let ba = get(
        "?risk_level=high,major,high&industry=mining,燃气",
        Some(PLANNER),
    );
    assert_eq!(ab.status, 200);
    assert_eq!(ab.header("etag"), ba.header("etag"));
    assert_eq!(ab.body, ba.body);
    assert_ne!(ab.header("etag"), plain.header("etag"));
    let other = get("?industry=gas&risk_level=major,high", Some(PLANNER));
    assert_ne!(other.header("etag"), ab.header("etag"));
    let graded = get("?hazard_grade=1", Some(PLANNER));
    assert_ne!(graded.header("etag"), plain.header("etag"));
    assert_ne!(graded.header("etag"), other.header("etag"));
    // No selection, or all of a dimension, is the unfiltered tile.
    for q in [
        "?industry=",
        "?risk_level=major,high,medium,low",
        "?hazard_grade=&industry=",
    ] {
        let r = get(q, Some(PLANNER));
        assert_eq!(r.header("etag"), plain.header("etag"), "{q}");
        assert_eq!(r.body, plain.body, "{q}");
    }
    // If-None-Match with the filtered tag: 304.
    let resp = ureq::get(&format!(
        "{}{base}?industry=mining,gas&risk_level=high,major",
        server.base
    ))
    .set("Authorization", &format!("Bearer {PLANNER}"))
    .set("If-None-Match", ab.header("etag"))
    .call()
    .unwrap();
    assert_eq!(resp.status(), 304);

    // Anonymous callers see no private layer, filtered or not, and get the
    // unfiltered public tile.
    let public = get("", None);
    for q in ["?risk_level=major&hazard_grade=1", "?industry=gas"] {
        let r = get(q, None);
        assert_eq!(r.status, 200);
        let tile = decode(&r.body);
        assert!(FILTERED.iter().all(|l| !tile.contains_key(*l)), "{q}");
        assert_eq!(r.header("etag"), public.header("etag"), "{q}");
        assert_eq!(r.body, public.body, "{q}");
        assert!(r.header("cache-control").starts_with("public"));
    }
}

#[test]
fn unknown_filter_values_are_400_naming_them() {
    let (_tmp, server, ents, _hz) = start();
    let (z, x, y) = densest(&ents, 13);
    for (q, param, value, accepted) in [
        (
            "industry=nonsense",
            "industry",
            "nonsense",
            "hazardous_chemicals",
        ),
        (
            "industry=gas,bakery",
            "industry",
            "bakery",
            "general_manufacturing",
        ),
        (
            "risk_level=7",
            "risk_level",
            "7",
            "major, high, medium, low",
        ),
        ("hazard_grade=9", "hazard_grade", "9", "1, 2, 3, 4"),
    ] {
        for token in [Some(PLANNER), None] {
            let r = fetch(&server, &format!("/tiles/{z}/{x}/{y}.mvt?{q}"), token);
            assert_eq!(r.status, 400, "{q}");
            assert!(r.header("content-type").starts_with("application/json"));
            let body = json(&String::from_utf8_lossy(&r.body));
            assert_eq!(body["code"], "InvalidParameterValue");
            let d = body["description"].as_str().unwrap();
            assert!(
                d.starts_with(param) && d.contains(&format!("{value:?}")) && d.contains(accepted),
                "{q}: {d}"
            );
        }
    }
    let many = vec!["gas"; 33].join(",");
    let r = fetch(
        &server,
        &format!("/tiles/{z}/{x}/{y}.mvt?industry={many}"),
        Some(PLANNER),
    );
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("at most 32"));
}

/// A grid manager's filtered tile: the matching enterprises of its own
/// area only, clustered (if at all) from those.
#[test]
fn a_grid_managers_filter_keeps_to_its_scope() {
    let (_tmp, server, ents, _hz) = start();
    let own = |e: &Ent| e.cell.starts_with(GRID_MANAGER_SCOPE);
    let first = ents
        .iter()
        .find(|e| own(e))
        .expect("enterprises in the scope");
    let (x, y) = tile_for(first.at.0, first.at.1, 13);
    let want = Want {
        query: "risk_level=low,medium",
        industries: &[],
        grades: &["low", "medium"],
    };
    check_enterprises(&server, GRID_MANAGER, (13, x, y), &want, &ents, own);
}
