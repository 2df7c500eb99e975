//! A grid manager's token never sees a private feature outside its scope:
//! a sweep over every route that returns features or labels — tiles with
//! clusters at several zooms, OGC items with bbox and CQL2 filters, search,
//! ledgers (CSV and XLSX), unit bodies and their features — for every cell
//! of its village, on the tiny dataset plus thousands of enterprises on
//! both sides of the scope's edge (enough to cluster). A reload that
//! removes its unit leaves it seeing nothing private.

mod common;

use common::*;
use geozero::mvt::{Message, Tile};
use riskmap::crs::mercator::tile_for;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Read;

const VILLAGE: &str = "350502001001";
const CELLS: [&str; 2] = ["350502001001001", "350502001001002"];
/// 金山's cells as (west, south, east, north).
const CELL_BOXES: [[f64; 4]; 2] = [
    [118.58, 24.90, 118.59, 24.92],
    [118.59, 24.90, 118.60, 24.92],
];
/// The sibling village 笋浯 (out of scope).
const SIBLING_BOX: [f64; 4] = [118.60, 24.90, 118.61, 24.92];
/// The town (both villages).
const TOWN_BOX: [f64; 4] = [118.58, 24.90, 118.61, 24.92];

/// Enterprises added inside 金山 (graded 低) and inside 笋浯 (graded 重大):
/// more than a tile's clustering threshold on each side.
const EXTRA: usize = 2100;

/// What may never reach the grid manager: the ids and names of the private
/// features outside its village.
struct Secrets {
    ids: BTreeSet<String>,
    names: Vec<String>,
}

impl Secrets {
    fn new() -> Secrets {
        let mut ids: BTreeSet<String> = OUT_OF_SCOPE.iter().map(|(i, _)| i.to_string()).collect();
        let mut names: Vec<String> = OUT_OF_SCOPE.iter().map(|(_, n)| n.to_string()).collect();
        for i in 0..EXTRA {
            ids.insert(format!("EO-{i}"));
            names.push(format!("笋浯化工{i}"));
        }
        Secrets { ids, names }
    }

    /// The first secret that `text` holds: a name anywhere in it, or an id
    /// as a whole word (ids are short and may sit inside labels).
    fn leak_in(&self, text: &str) -> Option<String> {
        if let Some(n) = self.names.iter().find(|n| text.contains(n.as_str())) {
            return Some(n.clone());
        }
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .find(|w| self.ids.contains(*w))
            .map(str::to_string)
    }

    fn assert_clean(&self, what: &str, text: &str) {
        if let Some(s) = self.leak_in(text) {
            panic!("{what} shows {s:?}, outside the grid manager's scope:\n{text}");
        }
    }
}

/// One enterprise of the crowded fixture.
struct Placed {
    id: String,
    lon: f64,
    lat: f64,
    in_scope: bool,
}

/// The extra enterprises as CSV rows, with where they are.
fn extra_enterprises() -> Vec<(String, Placed)> {
    let mut out = Vec::new();
    for i in 0..EXTRA {
        // 60 × 35 points inside 金山, off its cells' shared edge.
        let (x, y) = (
            118.5803 + (i % 60) as f64 * 0.00032,
            24.9003 + (i / 60) as f64 * 0.00055,
        );
        out.push((
            format!("EI-{i},金山商户{i},一般工贸,低,5,0,0,否,{x:.6},{y:.6}\n"),
            Placed {
                id: format!("EI-{i}"),
                lon: x,
                lat: y,
                in_scope: true,
            },
        ));
        // 30 × 70 points inside 笋浯.
        let (x, y) = (
            118.6002 + (i % 30) as f64 * 0.00032,
            24.9003 + (i / 30) as f64 * 0.00027,
        );
        out.push((
            format!("EO-{i},笋浯化工{i},危险化学品,重大,50,1,0,否,{x:.6},{y:.6}\n"),
            Placed {
                id: format!("EO-{i}"),
                lon: x,
                lat: y,
                in_scope: false,
            },
        ));
    }
    out
}

/// Every enterprise of the crowded fixture: the tiny dataset's three (as
/// `enterprises_csv` places them) and the extra ones.
fn all_enterprises() -> Vec<Placed> {
    let tiny = [
        ("E1", 118.585, 24.906, true),
        ("E2", 118.595, 24.91, true),
        ("E3", 118.605, 24.91, false),
    ];
    tiny.iter()
        .map(|&(id, lon, lat, in_scope)| Placed {
            id: id.into(),
            lon,
            lat,
            in_scope,
        })
        .chain(extra_enterprises().into_iter().map(|(_, p)| p))
        .collect()
}

/// Enterprises inside `b`, for the grid manager (in scope) and a planner.
fn count_in(b: [f64; 4]) -> (usize, usize) {
    let inside: Vec<Placed> = all_enterprises()
        .into_iter()
        .filter(|e| b[0] <= e.lon && e.lon <= b[2] && b[1] <= e.lat && e.lat <= b[3])
        .collect();
    (inside.iter().filter(|e| e.in_scope).count(), inside.len())
}

/// The tiny dataset plus the extra enterprises (UTF-8 CSV).
fn write_crowded_dataset(dir: &std::path::Path) {
    write_tiny_dataset(dir);
    let mut csv = enterprises_csv();
    for (row, _) in extra_enterprises() {
        csv.push_str(&row);
    }
    std::fs::write(dir.join("enterprises.csv"), csv).unwrap();
}

fn start_crowded() -> (tempfile::TempDir, Server) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_crowded_dataset(&data);
    install_demo_tokens(tmp.path());
    let server = Server::start(tmp.path(), &data, &[]);
    (tmp, server)
}

/// GET with a bearer token: status and body bytes.
fn get_bytes(server: &Server, path: &str, token: &str) -> (u16, Vec<u8>) {
    let resp = match ureq::get(&format!("{}{path}", server.base))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
    {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {path}: {e}"),
    };
    let status = resp.status();
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).unwrap();
    (status, body)
}

/// Every string value of every layer of a tile, and per layer the features'
/// properties as (key, value) text pairs.
fn tile_features(bytes: &[u8]) -> Vec<(String, Vec<(String, String)>)> {
    let tile = Tile::decode(bytes).expect("an MVT");
    let mut out = Vec::new();
    for layer in &tile.layers {
        for f in &layer.features {
            let props = f
                .tags
                .chunks(2)
                .map(|kv| {
                    let key = layer.keys[kv[0] as usize].clone();
                    let v = &layer.values[kv[1] as usize];
                    let text = v
                        .string_value
                        .clone()
                        .or(v.uint_value.map(|n| n.to_string()))
                        .or(v.int_value.map(|n| n.to_string()))
                        .or(v.sint_value.map(|n| n.to_string()))
                        .or(v.double_value.map(|n| n.to_string()))
                        .or(v.bool_value.map(|n| n.to_string()))
                        .unwrap_or_default();
                    (key, text)
                })
                .collect();
            out.push((layer.name.clone(), props));
        }
    }
    out
}

/// Tiles (z, x, y) covering `b` at zoom `z`.
fn tiles_over(b: [f64; 4], z: u8) -> Vec<(u8, u32, u32)> {
    let (x0, y0) = tile_for(b[0], b[3], z);
    let (x1, y1) = tile_for(b[2], b[1], z);
    (x0..=x1)
        .flat_map(|x| (y0..=y1).map(move |y| (z, x, y)))
        .collect()
}

/// The grid manager's tiles over the town at zooms 8–16: no out-of-scope
/// id or name in any property, every cluster only of enterprises in scope
/// (never graded major, counts adding up to the enterprises in scope).
fn sweep_tiles(s: &Server, secrets: &Secrets) {
    let in_scope: BTreeSet<String> = all_enterprises()
        .into_iter()
        .filter(|e| e.in_scope)
        .map(|e| e.id)
        .collect();
    let mut clusters_seen = 0;
    for z in [8u8, 10, 11, 12, 13, 14, 15, 16] {
        for (z, x, y) in tiles_over(TOWN_BOX, z) {
            let path = format!("/tiles/{z}/{x}/{y}.mvt");
            let (status, body) = get_bytes(s, &path, GRID_MANAGER);
            assert!(status == 200 || status == 204, "{path}: {status}");
            if status == 204 {
                continue;
            }
            let mut enterprises_drawn = 0u64;
            for (layer, props) in tile_features(&body) {
                for (k, v) in &props {
                    secrets.assert_clean(&format!("{path} {layer}.{k}"), v);
                }
                if layer != "enterprises" {
                    continue;
                }
                let get = |key: &str| {
                    props
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v.as_str())
                };
                match get("point_count") {
                    Some(n) => {
                        clusters_seen += 1;
                        enterprises_drawn += n.parse::<u64>().unwrap();
                        let grade = get("max_risk_grade").unwrap();
                        assert_ne!(
                            grade, "major",
                            "{path}: a cluster counts an enterprise outside the scope"
                        );
                    }
                    None => {
                        let id = get("id").unwrap();
                        assert!(in_scope.contains(id), "{path}: enterprise {id}");
                        enterprises_drawn += 1;
                    }
                }
            }
            // One tile holds the whole town up to z12: it draws exactly the
            // enterprises in scope.
            if z <= 12 {
                assert_eq!(enterprises_drawn, in_scope.len() as u64, "{path}");
            }
        }
    }
    assert!(
        clusters_seen > 0,
        "the crowded fixture must cluster somewhere"
    );
}

/// OGC items: every page, bbox and CQL2 filter answers only features in
/// scope — counts checked against the fixture, and a planner's answer to
/// the same query shows the fixture can catch a leak.
fn sweep_ogc(s: &Server, secrets: &Secrets) {
    let enc = |q: &str| {
        percent_encoding::utf8_percent_encode(q, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let bbox = |b: [f64; 4]| format!("bbox={},{},{},{}", b[0], b[1], b[2], b[3]);
    let all = all_enterprises();
    let (manager_all, planner_all) = (all.iter().filter(|e| e.in_scope).count(), all.len());
    let (town_m, town_p) = count_in(TOWN_BOX);
    let (sibling_m, sibling_p) = count_in(SIBLING_BOX);
    let (cell_m, cell_p) = count_in(CELL_BOXES[1]);
    assert!(
        sibling_m == 0 && sibling_p > EXTRA && cell_m > 1000,
        "the fixture"
    );
    let queries: Vec<(&str, String, usize, usize)> = vec![
        // (collection, query, grid manager's count, planner's count)
        (
            "enterprises",
            "limit=10000".into(),
            manager_all,
            planner_all,
        ),
        (
            "enterprises",
            format!("limit=10000&{}", bbox(TOWN_BOX)),
            town_m,
            town_p,
        ),
        (
            "enterprises",
            format!("limit=10000&{}", bbox(SIBLING_BOX)),
            sibling_m,
            sibling_p,
        ),
        (
            "enterprises",
            format!("limit=10000&{}", bbox(CELL_BOXES[1])),
            cell_m,
            cell_p,
        ),
        (
            "enterprises",
            format!("filter={}", enc("name = '笋浯危化仓储'")),
            0,
            1,
        ),
        (
            "enterprises",
            format!("filter={}&filter-lang=cql2-text", enc("id = 'EO-7'")),
            0,
            1,
        ),
        // Every enterprise graded 重大 lies outside the scope.
        (
            "enterprises",
            format!("limit=10000&filter={}", enc("risk_grade = 'major'")),
            0,
            EXTRA + 1,
        ),
        (
            "enterprises",
            format!(
                "filter={}",
                enc("id = 'E3' OR (name = '笋浯化工5' AND employees > 1)")
            ),
            0,
            2,
        ),
        (
            "enterprises",
            "limit=5&sortby=-risk_grade".into(),
            manager_all,
            planner_all,
        ),
        ("hazard_sources", "limit=100".into(), 1, 2),
        ("hazard_sources", bbox(SIBLING_BOX), 0, 1),
        (
            "hazard_sources",
            format!("filter={}", enc("id = 'HS-2'")),
            0,
            1,
        ),
        (
            "hazard_sources",
            format!("filter={}", enc("grade = 3")),
            0,
            1,
        ),
    ];
    for (collection, query, manager, planner) in queries {
        let path = format!("/ogc/collections/{collection}/items?{query}");
        let (status, body) = get_bytes(s, &path, GRID_MANAGER);
        let text = String::from_utf8(body).unwrap();
        assert_eq!(status, 200, "{path}: {text}");
        secrets.assert_clean(&path, &text);
        let v = json(&text);
        assert_eq!(v["numberMatched"], manager, "{path}");
        let (status, body) = get_bytes(s, &path, PLANNER);
        assert_eq!(status, 200);
        assert_eq!(
            json(&String::from_utf8_lossy(&body))["numberMatched"],
            planner,
            "planner {path}"
        );
    }
    // One feature by id: outside the scope and unknown answer alike.
    for collection in ["enterprises", "hazard_sources"] {
        let outside = if collection == "enterprises" {
            "EO-3"
        } else {
            "HS-2"
        };
        let (a, body_a) = get_bytes(
            s,
            &format!("/ogc/collections/{collection}/items/{outside}"),
            GRID_MANAGER,
        );
        let (b, body_b) = get_bytes(
            s,
            &format!("/ogc/collections/{collection}/items/NO-SUCH"),
            GRID_MANAGER,
        );
        assert_eq!((a, b), (403, 403));
        assert_eq!(
            String::from_utf8_lossy(&body_a).replace(outside, "X"),
            String::from_utf8_lossy(&body_b).replace("NO-SUCH", "X")
        );
        // The collection's extent stays inside the village: its corners
        // would otherwise place the outermost features of the sibling.
        let (_, body) = get_bytes(s, &format!("/ogc/collections/{collection}"), GRID_MANAGER);
        let v = json(&String::from_utf8_lossy(&body));
        let b = &v["extent"]["spatial"]["bbox"][0];
        assert!(b[2].as_f64().unwrap() <= 118.60, "{collection} extent {b}");
    }
}

/// `/api/search` for every kind of out-of-scope text.
fn sweep_search(s: &Server, secrets: &Secrets) {
    for q in [
        "笋浯",
        "笋浯危化仓储",
        "笋浯储罐区",
        "笋浯化工1",
        "化工",
        "E",
        "E3",
        "EO-1",
        "HS",
        "HS-2",
        "储罐",
        "3505",
    ] {
        let path = format!(
            "/api/search?limit=100&q={}",
            percent_encoding::utf8_percent_encode(q, percent_encoding::NON_ALPHANUMERIC)
        );
        let (status, body) = get_bytes(s, &path, GRID_MANAGER);
        let text = String::from_utf8(body).unwrap();
        assert_eq!(status, 200, "{path}: {text}");
        secrets.assert_clean(&path, &text);
    }
    // The planner finds them: the query can find a leak.
    let (_, body) = get_bytes(s, "/api/search?q=HS-2", PLANNER);
    assert!(String::from_utf8_lossy(&body).contains("笋浯储罐区"));
}

/// The text of every entry of a ZIP archive (stored or deflated), found
/// through its central directory.
fn zip_texts(bytes: &[u8]) -> Vec<String> {
    let u16_at = |p: usize| usize::from(u16::from_le_bytes([bytes[p], bytes[p + 1]]));
    let u32_at = |p: usize| {
        u32::from_le_bytes([bytes[p], bytes[p + 1], bytes[p + 2], bytes[p + 3]]) as usize
    };
    let end = (0..=bytes.len() - 22)
        .rev()
        .find(|&p| bytes[p..p + 4] == [0x50, 0x4b, 0x05, 0x06])
        .expect("a zip archive");
    let (entries, mut at) = (u16_at(end + 10), u32_at(end + 16));
    let mut out = Vec::new();
    for _ in 0..entries {
        assert_eq!(bytes[at..at + 4], [0x50, 0x4b, 0x01, 0x02]);
        let (method, size, local) = (u16_at(at + 10), u32_at(at + 20), u32_at(at + 42));
        let start = local + 30 + u16_at(local + 26) + u16_at(local + 28);
        let data = &bytes[start..start + size];
        let mut text = String::new();
        match method {
            0 => text = String::from_utf8_lossy(data).into_owned(),
            8 => {
                flate2::read::DeflateDecoder::new(data)
                    .read_to_string(&mut text)
                    .unwrap();
            }
            m => panic!("zip method {m}"),
        }
        out.push(text);
        at += 46 + u16_at(at + 28) + u16_at(at + 30) + u16_at(at + 32);
    }
    assert!(
        out.iter().any(|t| t.contains("风险点")),
        "the workbook's strings"
    );
    out
}

/// Everything a grid manager reads about one unit of its village.
fn sweep_unit(s: &Server, secrets: &Secrets, code: &str) {
    let mut paths = vec![
        format!("/api/cells/{code}"),
        format!("/api/cells/{code}/ledger.csv"),
    ];
    for layer in [
        "enterprises",
        "hazard_sources",
        "collapse_zones",
        "cells",
        "villages",
    ] {
        paths.push(format!("/api/cells/{code}/features?layer={layer}"));
    }
    for path in &paths {
        let (status, body) = get_bytes(s, path, GRID_MANAGER);
        let text = String::from_utf8(body).unwrap();
        assert_eq!(status, 200, "{path}: {text}");
        secrets.assert_clean(path, &text);
    }
    let path = format!("/api/cells/{code}/ledger.xlsx");
    let (status, body) = get_bytes(s, &path, GRID_MANAGER);
    assert_eq!(status, 200);
    for entry in zip_texts(&body) {
        // In the workbook's XML an id is a whole text node (cell
        // references like `E3` are attributes).
        for id in &secrets.ids {
            assert!(!entry.contains(&format!(">{id}<")), "{path} shows {id}");
        }
        if let Some(n) = secrets.names.iter().find(|n| entry.contains(n.as_str())) {
            panic!("{path} shows {n}");
        }
    }
}

/// The contributors of 金山第2网格: HS-2 (in 笋浯, 250 m away) raises its
/// score; the grid manager sees that, and only that.
fn check_redacted_contributor(s: &Server) {
    let path = format!("/api/cells/{}", CELLS[1]);
    let planner = json(&String::from_utf8_lossy(&get_bytes(s, &path, PLANNER).1));
    let from_hs2 = planner["top_contributors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "HS-2")
        .unwrap_or_else(|| panic!("HS-2 reaches the cell: {planner}"))
        .clone();
    let manager = json(&String::from_utf8_lossy(
        &get_bytes(s, &path, GRID_MANAGER).1,
    ));
    let list = manager["top_contributors"].as_array().unwrap();
    assert_eq!(
        list.len(),
        planner["top_contributors"].as_array().unwrap().len()
    );
    let redacted: Vec<&Value> = list.iter().filter(|c| c.get("id").is_none()).collect();
    assert_eq!(redacted.len(), 1, "{manager}");
    let keys: BTreeSet<&str> = redacted[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["component", "contribution", "domain", "layer"])
    );
    assert_eq!(redacted[0]["layer"], "hazard_sources");
    assert_eq!(redacted[0]["component"], "H");
    assert_eq!(redacted[0]["contribution"], from_hs2["contribution"]);
    // The same score either way.
    assert_eq!(manager["risk_score"], planner["risk_score"]);
}

/// The whole `contributions` list (RISK_MODEL v2) of `code` as the grid
/// manager reads it, entry by entry against the planner's: an entry inside
/// the scope is the planner's entry unchanged; one outside it keeps only
/// layer, domain, component and contribution, and is a feature outside the
/// village. Returns how many entries were redacted.
fn check_contributions(s: &Server, secrets: &Secrets, code: &str) -> usize {
    let path = format!("/api/cells/{code}");
    let planner = json(&String::from_utf8_lossy(&get_bytes(s, &path, PLANNER).1));
    let manager = json(&String::from_utf8_lossy(
        &get_bytes(s, &path, GRID_MANAGER).1,
    ));
    let full = planner["contributions"].as_array().unwrap();
    let seen = manager["contributions"].as_array().unwrap();
    assert_eq!(seen.len(), full.len(), "{code}");
    assert!(!full.is_empty(), "{code}: {planner}");
    let mut redacted = 0;
    for (m, p) in seen.iter().zip(full) {
        if m.get("id").is_some() {
            assert_eq!(m, p, "{code}");
            assert!(!secrets.ids.contains(p["id"].as_str().unwrap()), "{m}");
            continue;
        }
        redacted += 1;
        let keys: BTreeSet<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            BTreeSet::from(["component", "contribution", "domain", "layer"]),
            "{code}: {m}"
        );
        for k in ["component", "contribution", "domain", "layer"] {
            assert_eq!(m[k], p[k], "{code}: {k}");
        }
        assert!(
            secrets.ids.contains(p["id"].as_str().unwrap()),
            "{code}: {p} is inside the scope yet redacted"
        );
    }
    // The top ten are the first ten of the same list.
    assert_eq!(
        manager["top_contributors"].as_array().unwrap()[..],
        seen[..seen.len().min(10)],
        "{code}"
    );
    redacted
}

#[test]
fn a_grid_manager_sees_nothing_of_what_lies_outside_its_scope() {
    let (_tmp, s) = start_crowded();
    let secrets = Secrets::new();
    // The fixture puts the secrets where a planner reads them.
    let (_, planner_tile) = get_bytes(
        &s,
        &format!(
            "/tiles/16/{}/{}.mvt",
            tile_for(118.6025, 24.912, 16).0,
            tile_for(118.6025, 24.912, 16).1
        ),
        PLANNER,
    );
    let shown: Vec<String> = tile_features(&planner_tile)
        .into_iter()
        .flat_map(|(_, p)| p.into_iter().map(|(_, v)| v))
        .collect();
    assert!(shown.iter().any(|v| v == "HS-2"), "{shown:?}");

    check_redacted_contributor(&s);
    // The second cell and the village (rolled up) list HS-2 without identity.
    assert!(check_contributions(&s, &secrets, CELLS[1]) >= 1);
    assert!(check_contributions(&s, &secrets, VILLAGE) >= 1);
    check_contributions(&s, &secrets, CELLS[0]);
    sweep_tiles(&s, &secrets);
    sweep_ogc(&s, &secrets);
    sweep_search(&s, &secrets);
    sweep_unit(&s, &secrets, VILLAGE);
    for (code, b) in CELLS.iter().zip(CELL_BOXES) {
        sweep_unit(&s, &secrets, code);
        let centre = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
        let path = format!("/api/cells/at?lon={}&lat={}", centre.0, centre.1);
        let (status, body) = get_bytes(&s, &path, GRID_MANAGER);
        let text = String::from_utf8(body).unwrap();
        assert_eq!(status, 200, "{path}: {text}");
        assert_eq!(json(&text)["code"], *code);
        secrets.assert_clean(&path, &text);
    }
    // Out of scope: a 403 that names nothing private.
    for path in [
        "/api/cells/at?lon=118.6025&lat=24.912".to_string(),
        "/api/cells/350502001002001".to_string(),
        "/api/cells/350502001002001/features?layer=enterprises".to_string(),
        "/api/cells/350502001002/ledger.csv".to_string(),
    ] {
        let (status, body) = get_bytes(&s, &path, GRID_MANAGER);
        let text = String::from_utf8(body).unwrap();
        assert_eq!(status, 403, "{path}: {text}");
        secrets.assert_clean(&path, &text);
    }
}

#[test]
fn after_a_reload_without_its_unit_a_grid_manager_sees_nothing_private() {
    let (tmp, s) = start_tiny("");
    let tile = {
        let (x, y) = tile_for(118.59, 24.91, 12);
        format!("/tiles/12/{x}/{y}.mvt")
    };
    let layers = |token: &str| -> BTreeSet<String> {
        let (_, body) = get_bytes(&s, &tile, token);
        tile_features(&body).into_iter().map(|(l, _)| l).collect()
    };
    assert!(layers(GRID_MANAGER).contains("enterprises"));

    // The new grid has no 金山 (its village and cells).
    let mut grid: Value = json(&grid_geojson());
    grid["features"].as_array_mut().unwrap().retain(|f| {
        !f["properties"]["code"]
            .as_str()
            .unwrap()
            .starts_with(VILLAGE)
    });
    std::fs::write(tmp.path().join("ds/grid_cells.geojson"), grid.to_string()).unwrap();
    let (status, body) = s.post("/api/admin/reload", Some(ADMIN));
    assert_eq!(status, 200, "{body}");

    let private = ["enterprises", "hazard_sources"];
    assert!(private.iter().all(|l| !layers(GRID_MANAGER).contains(*l)));
    assert!(private.iter().all(|l| layers(PLANNER).contains(*l)));
    for layer in private {
        let (status, _) = get_bytes(&s, &format!("/ogc/collections/{layer}/items"), GRID_MANAGER);
        assert_eq!(status, 403, "{layer}");
    }
    let (_, body) = get_bytes(&s, "/ogc/collections", GRID_MANAGER);
    let listed = String::from_utf8_lossy(&body).to_string();
    assert!(!listed.contains("\"enterprises\"") && !listed.contains("\"hazard_sources\""));
    for q in ["E", "HS", "液化气站", "泉州燃气"] {
        let (status, body) = get_bytes(
            &s,
            &format!(
                "/api/search?q={}",
                percent_encoding::utf8_percent_encode(q, percent_encoding::NON_ALPHANUMERIC)
            ),
            GRID_MANAGER,
        );
        assert_eq!(status, 200);
        let items = json(&String::from_utf8_lossy(&body))["items"].clone();
        assert!(
            items
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["kind"] == "grid_unit"),
            "{q}: {items}"
        );
    }
    for path in [
        "/api/cells/at?lon=118.605&lat=24.91",
        "/api/cells/350502001002001",
        "/api/cells/350502001001001",
    ] {
        assert_eq!(get_bytes(&s, path, GRID_MANAGER).0, 403, "{path}");
    }
}
