//! OGC API – Features end to end: the real server on the tiny dataset (and
//! on the generated demo city), checked by hand and with real clients
//! (GDAL's OAPIF driver, OWSLib). A missing client fails the test in CI
//! and skips it loudly elsewhere (`common::require`).

mod common;

use common::{GRID_MANAGER, PLANNER, Server, install_demo_tokens, write_tiny_dataset};
use geo::{Intersects, LineString, MultiPolygon, Point, Polygon, Rect, coord};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const PUBLIC: [&str; 5] = ["counties", "towns", "villages", "cells", "collapse_zones"];
const PRIVATE: [&str; 5] = [
    "hazard_sources",
    "enterprises",
    "hidden_dangers",
    "sensors",
    "alarms",
];

struct Resp {
    status: u16,
    content_type: String,
    content_crs: Option<String>,
    chunked: bool,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn fetch(url: &str, headers: &[(&str, &str)]) -> Resp {
    let mut req = ureq::get(url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let r = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {url}: {e}"),
    };
    Resp {
        status: r.status(),
        content_type: r.header("content-type").unwrap_or("").to_string(),
        content_crs: r.header("content-crs").map(str::to_string),
        chunked: r.header("transfer-encoding") == Some("chunked")
            && r.header("content-length").is_none(),
        body: r.into_string().unwrap_or_default(),
    }
}

struct Api {
    server: Server,
    _dir: tempfile::TempDir,
}

impl Api {
    fn tiny() -> Api {
        Api::tiny_with("")
    }

    /// The tiny dataset served with `toml` as `riskmap.toml`.
    fn tiny_with(toml: &str) -> Api {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("riskmap.toml"), toml).unwrap();
        write_tiny_dataset(&dir.path().join("data/tiny"));
        install_demo_tokens(dir.path());
        let server = Server::start(dir.path(), &dir.path().join("data/tiny"), &[]);
        Api { server, _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.base, path)
    }

    fn get(&self, path: &str) -> Resp {
        fetch(&self.url(path), &[])
    }

    fn get_as(&self, path: &str, token: &str) -> Resp {
        fetch(
            &self.url(path),
            &[("Authorization", &format!("Bearer {token}"))],
        )
    }

    fn ok(&self, path: &str, token: Option<&str>) -> Value {
        let r = match token {
            Some(t) => self.get_as(path, t),
            None => self.get(path),
        };
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.json()
    }

    fn counts(&self) -> Value {
        self.ok("/health", None)["counts"].clone()
    }

    /// Every feature of a collection, in pages of 10,000.
    fn all(&self, collection: &str, query: &str, token: Option<&str>) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let path = format!(
                "/ogc/collections/{collection}/items?limit=10000&offset={}{query}",
                out.len()
            );
            let v = self.ok(&path, token);
            let page = v["features"].as_array().cloned().unwrap_or_default();
            let done = page.is_empty();
            out.extend(page);
            if done || out.len() as u64 >= v["numberMatched"].as_u64().unwrap() {
                assert_eq!(
                    v["numberMatched"].as_u64(),
                    Some(out.len() as u64),
                    "{collection}{query}"
                );
                return out;
            }
        }
    }
}

fn ids(features: &[Value]) -> Vec<String> {
    features
        .iter()
        .map(|f| f["id"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Every `href` in a document.
fn hrefs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "href" {
                    out.push(x.as_str().unwrap_or("").to_string());
                }
                hrefs(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| hrefs(x, out)),
        _ => {}
    }
}

fn assert_absolute(v: &Value, base: &str) {
    let mut all = Vec::new();
    hrefs(v, &mut all);
    assert!(!all.is_empty());
    for h in all {
        assert!(
            h.starts_with(&format!("{base}/ogc")) || h.starts_with(&format!("{base}/qgis/styles/")),
            "relative or foreign link {h}"
        );
    }
}

fn link<'a>(v: &'a Value, rel: &str) -> Option<&'a Value> {
    v["links"].as_array()?.iter().find(|l| l["rel"] == rel)
}

fn status(r: &Resp) -> u16 {
    assert!(r.status < 500, "5xx: {}", r.body);
    r.status
}

#[test]
fn landing_conformance_and_openapi() {
    let api = Api::tiny();
    let base = &api.server.base;
    let landing = api.ok("/ogc", None);
    assert_absolute(&landing, base);
    for rel in ["self", "service-desc", "service-doc", "conformance", "data"] {
        assert!(link(&landing, rel).is_some(), "no {rel} link");
    }
    let desc = link(&landing, "service-desc").unwrap();
    assert_eq!(desc["type"], "application/vnd.oai.openapi+json;version=3.0");
    assert_eq!(
        link(&landing, "data").unwrap()["href"],
        format!("{base}/ogc/collections")
    );

    let conf = api.ok("/ogc/conformance", None);
    let classes: Vec<&str> = conf["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for c in [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    ] {
        assert!(classes.contains(&c), "missing {c}");
    }

    let r = api.get("/ogc/api");
    assert_eq!(r.status, 200);
    assert!(
        r.content_type
            .starts_with("application/vnd.oai.openapi+json"),
        "{}",
        r.content_type
    );
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.0"));
    assert_eq!(doc["servers"][0]["url"], format!("{base}/ogc"));
    let limit = &doc["components"]["parameters"]["limit"]["schema"];
    assert_eq!(
        (limit["default"].as_u64(), limit["maximum"].as_u64()),
        (Some(10), Some(10_000))
    );
    for c in PUBLIC.iter().chain(PRIVATE.iter()) {
        let items = &doc["paths"][format!("/collections/{c}/items")]["get"];
        let names: Vec<String> = items["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| match p["$ref"].as_str() {
                Some(r) => r.rsplit('/').next().unwrap().to_string(),
                None => p["name"].as_str().unwrap().to_string(),
            })
            .collect();
        for n in ["bbox", "limit", "offset", "crs", "bbox-crs", "filter"] {
            assert!(names.iter().any(|x| x == n), "{c}: no {n}");
        }
        let q = api.ok(&format!("/ogc/collections/{c}/queryables"), Some(PLANNER));
        for prop in q["properties"].as_object().unwrap().keys() {
            assert!(
                names.contains(prop),
                "{c}: queryable {prop} not a parameter"
            );
        }
        for p in ["", "/items/{featureId}", "/queryables"] {
            assert!(
                doc["paths"][format!("/collections/{c}{p}")].is_object(),
                "{c}{p}"
            );
        }
    }
    let cells = &doc["paths"]["/collections/cells/items"]["get"]["parameters"];
    let risk = cells
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "risk_level")
        .unwrap();
    assert_eq!(
        (
            risk["in"].as_str(),
            risk["style"].as_str(),
            risk["explode"].as_bool()
        ),
        (Some("query"), Some("form"), Some(false))
    );

    let html = api.get("/ogc/api.html");
    assert_eq!(html.status, 200);
    assert!(html.content_type.starts_with("text/html"));
}

#[test]
fn collections_depend_on_the_token() {
    let api = Api::tiny();
    let base = &api.server.base;
    let anon = api.ok("/ogc/collections", None);
    assert_absolute(&anon, base);
    let listed: Vec<&str> = anon["collections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(listed, PUBLIC);
    let planner = api.ok("/ogc/collections", Some(PLANNER));
    assert_eq!(planner["collections"].as_array().unwrap().len(), 10);
    let grid = api.ok("/ogc/collections", Some(GRID_MANAGER));
    assert_eq!(grid["collections"].as_array().unwrap().len(), 10);
    for c in planner["collections"].as_array().unwrap() {
        assert_eq!(c["itemType"], "feature");
        assert_eq!(
            c["storageCrs"],
            "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
        );
        assert_eq!(c["crs"].as_array().unwrap().len(), 4);
        // An empty collection (the tiny dataset has no hidden dangers,
        // sensors or alarms) has no extent.
        if ["hidden_dangers", "sensors", "alarms"].contains(&c["id"].as_str().unwrap()) {
            assert!(c["extent"]["spatial"]["bbox"].is_null(), "{c}");
            continue;
        }
        let b = c["extent"]["spatial"]["bbox"][0].as_array().unwrap();
        assert_eq!(b.len(), 4);
        let b: Vec<f64> = b.iter().map(|x| x.as_f64().expect("a number")).collect();
        assert!(b[0] <= b[2] && b[1] <= b[3], "{b:?}");
        assert!(link(c, "items").is_some());
        let one = api.ok(
            &format!("/ogc/collections/{}", c["id"].as_str().unwrap()),
            Some(PLANNER),
        );
        assert_eq!(one["id"], c["id"]);
    }
    for c in PRIVATE {
        for p in ["", "/items", "/items/E1", "/queryables"] {
            assert_eq!(
                status(&api.get(&format!("/ogc/collections/{c}{p}"))),
                401,
                "{c}{p}"
            );
        }
        assert_eq!(
            api.get_as(&format!("/ogc/collections/{c}"), PLANNER).status,
            200
        );
    }
    // An unknown token is 401 on every path, public ones included.
    assert_eq!(status(&api.get_as("/ogc/collections", "not-a-token")), 401);
    assert_eq!(status(&api.get_as("/ogc", "not-a-token")), 401);
    let q = api.get("/ogc/collections/cells/queryables");
    assert_eq!(q.status, 200);
    assert!(
        q.content_type.starts_with("application/schema+json"),
        "{}",
        q.content_type
    );
    let q = q.json();
    assert_eq!(q["$id"], format!("{base}/ogc/collections/cells/queryables"));
    assert_eq!(q["properties"]["risk_level"]["type"], "string");
}

#[test]
fn paging_returns_every_feature_exactly_once() {
    let api = Api::tiny();
    let base = api.server.base.clone();
    let counts = api.counts();
    for (c, token) in PUBLIC
        .iter()
        .map(|c| (*c, None))
        .chain(PRIVATE.iter().map(|c| (*c, Some(PLANNER))))
    {
        let all = ids(&api.all(c, "", token));
        assert_eq!(all.len() as u64, counts[c].as_u64().unwrap(), "{c}");
        for limit in [1, 2] {
            let mut seen = Vec::new();
            let mut url = format!("{base}/ogc/collections/{c}/items?limit={limit}");
            let mut pages = 0;
            loop {
                let r = match token {
                    Some(t) => fetch(&url, &[("Authorization", &format!("Bearer {t}"))]),
                    None => fetch(&url, &[]),
                };
                assert_eq!(r.status, 200, "{url}: {}", r.body);
                assert!(r.content_type.starts_with("application/geo+json"));
                // A page of one chunk is answered whole (large pages are
                // streamed: see `demo_city` below).
                assert!(!r.chunked, "{url}: a one-chunk page is answered whole");
                let v = r.json();
                assert_absolute(&v, &base);
                assert_eq!(v["numberMatched"].as_u64(), Some(all.len() as u64));
                let page = ids(v["features"].as_array().unwrap());
                assert_eq!(v["numberReturned"].as_u64(), Some(page.len() as u64));
                assert!(page.len() <= limit);
                assert!(v["timeStamp"].as_str().unwrap().ends_with('Z'));
                assert_eq!(link(&v, "prev").is_some(), pages > 0, "{url}");
                seen.extend(page);
                pages += 1;
                match link(&v, "next") {
                    Some(n) => url = n["href"].as_str().unwrap().to_string(),
                    None => break,
                }
                assert!(pages <= all.len(), "paging does not end");
            }
            assert_eq!(seen, all, "{c} limit={limit}");
        }
        // Past the end: an empty page, no next link.
        let v = api.ok(&format!("/ogc/collections/{c}/items?offset=1000"), token);
        assert_eq!(v["numberReturned"], 0);
        assert!(link(&v, "next").is_none());
    }
    let v = api.ok("/ogc/collections/cells/items", None);
    assert!(v["numberReturned"].as_u64().unwrap() <= 10);
    let v = api.ok("/ogc/collections/cells/items?limit=20000", None);
    assert!(
        link(&v, "self").unwrap()["href"]
            .as_str()
            .unwrap()
            .contains("limit=10000")
    );
}

fn ring(coords: &Value) -> LineString<f64> {
    LineString::from(
        coords
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect::<Vec<_>>(),
    )
}

/// Whether a GeoJSON geometry intersects a lon/lat box.
fn geometry_intersects(g: &Value, b: [f64; 4]) -> bool {
    let rect = Rect::new(coord! { x: b[0], y: b[1] }, coord! { x: b[2], y: b[3] });
    match g["type"].as_str() {
        Some("Point") => rect.intersects(&Point::new(
            g["coordinates"][0].as_f64().unwrap(),
            g["coordinates"][1].as_f64().unwrap(),
        )),
        Some("MultiPolygon") => {
            let mp = MultiPolygon(
                g["coordinates"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|rings| {
                        let rings = rings.as_array().unwrap();
                        Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
                    })
                    .collect(),
            );
            rect.intersects(&mp)
        }
        other => panic!("unexpected geometry {other:?}"),
    }
}

fn check_bboxes(api: &Api, token: Option<&str>, collections: &[&str], steps: usize) {
    for c in collections {
        let all = api.all(c, "", token);
        let meta = api.ok(&format!("/ogc/collections/{c}"), token);
        let e: Vec<f64> = meta["extent"]["spatial"]["bbox"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let (w, h) = ((e[2] - e[0]).max(1e-3), (e[3] - e[1]).max(1e-3));
        let mut boxes = vec![
            [e[0], e[1], e[2], e[3]],
            [e[0] - 1.0, e[1] - 1.0, e[0] - 0.5, e[1] - 0.5],
        ];
        for i in 0..steps {
            for j in 0..steps {
                let x = e[0] - 0.1 * w + (i as f64) * 1.2 * w / steps as f64;
                let y = e[1] - 0.1 * h + (j as f64) * 1.2 * h / steps as f64;
                boxes.push([x, y, x + 0.37 * w, y + 0.29 * h]);
            }
        }
        for b in boxes {
            let expected: Vec<String> = ids(&all
                .iter()
                .filter(|f| geometry_intersects(&f["geometry"], b))
                .cloned()
                .collect::<Vec<_>>());
            let q = format!("&bbox={},{},{},{}", b[0], b[1], b[2], b[3]);
            let got = ids(&api.all(c, &q, token));
            assert_eq!(got, expected, "{c} bbox {b:?}");
            // The same box given as EPSG:4326 (latitude first).
            let q = format!(
                "&bbox={},{},{},{}&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326",
                b[1], b[0], b[3], b[2]
            );
            assert_eq!(
                ids(&api.all(c, &q, token)),
                expected,
                "{c} bbox-crs 4326 {b:?}"
            );
        }
    }
}

#[test]
fn bbox_matches_brute_force() {
    let api = Api::tiny();
    check_bboxes(
        &api,
        Some(PLANNER),
        &[
            "counties",
            "towns",
            "villages",
            "cells",
            "collapse_zones",
            "hazard_sources",
            "enterprises",
        ],
        5,
    );
    // Touching the boundary between two cells selects both.
    let got = ids(&api.all("cells", "&bbox=118.59,24.905,118.59,24.91", None));
    assert_eq!(got, ["350502001001001", "350502001001002"]);
}

fn prop<'a>(f: &'a Value, name: &str) -> &'a Value {
    &f["properties"][name]
}

#[test]
fn property_filters_and_cql2() {
    let api = Api::tiny();
    let cells = api.all("cells", "", None);
    for level in ["major", "high", "medium", "low"] {
        let expected: Vec<String> = ids(&cells
            .iter()
            .filter(|f| prop(f, "risk_level") == level)
            .cloned()
            .collect::<Vec<_>>());
        assert_eq!(
            ids(&api.all("cells", &format!("&risk_level={level}"), None)),
            expected,
            "{level}"
        );
    }
    // Chinese words are accepted for enumerated properties.
    let major = ids(&api.all("cells", "&risk_level=major", None));
    assert_eq!(
        ids(&api.all("cells", "&risk_level=%E9%87%8D%E5%A4%A7", None)),
        major
    );
    assert_eq!(
        api.all("towns", "&level=town", None).len(),
        api.all("towns", "", None).len()
    );
    assert!(api.all("towns", "&level=cell", None).is_empty());

    let expected: Vec<String> = ids(&cells
        .iter()
        .filter(|f| {
            prop(f, "risk_score").as_f64().unwrap() >= 20.0
                && prop(f, "population").as_u64().unwrap() > 500
        })
        .cloned()
        .collect::<Vec<_>>());
    let q = "&filter=risk_score%20%3E%3D%2020%20AND%20population%20%3E%20500&filter-lang=cql2-text";
    assert_eq!(ids(&api.all("cells", q, None)), expected);
    let q =
        "&filter=NOT%20(risk_level%20%3D%20%27major%27)%20OR%20code%20%3D%20%27350502001001001%27";
    let expected: Vec<String> = ids(&cells
        .iter()
        .filter(|f| prop(f, "risk_level") != "major" || f["id"] == "350502001001001")
        .cloned()
        .collect::<Vec<_>>());
    assert_eq!(ids(&api.all("cells", q, None)), expected);

    let ents = api.all("enterprises", "", Some(PLANNER));
    let chem: Vec<String> = ids(&ents
        .iter()
        .filter(|f| prop(f, "industry") == "hazardous_chemicals")
        .cloned()
        .collect::<Vec<_>>());
    assert!(!chem.is_empty());
    assert_eq!(
        ids(&api.all(
            "enterprises",
            "&industry=hazardous_chemicals",
            Some(PLANNER)
        )),
        chem
    );
    assert_eq!(
        ids(&api.all(
            "enterprises",
            "&filter=blacklisted%20%3D%20true",
            Some(PLANNER)
        ))
        .len(),
        ents.iter()
            .filter(|f| prop(f, "blacklisted") == true)
            .count()
    );
    let hz = api.all("hazard_sources", "", Some(PLANNER));
    let g2: Vec<String> = ids(&hz
        .iter()
        .filter(|f| prop(f, "grade") == 2)
        .cloned()
        .collect::<Vec<_>>());
    assert!(!g2.is_empty());
    assert_eq!(
        ids(&api.all("hazard_sources", "&grade=2", Some(PLANNER))),
        g2
    );

    // sortby and properties.
    let v = api.all(
        "cells",
        "&sortby=-risk_score&properties=code,risk_score",
        None,
    );
    let scores: Vec<f64> = v
        .iter()
        .map(|f| prop(f, "risk_score").as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert_eq!(v[0]["properties"].as_object().unwrap().len(), 2);

    for bad in [
        "filter=colour%20%3D%20%27red%27",
        "filter=risk_score%20%3E%20%27high%27",
        "filter=risk_score%20%3E",
        "filter=risk_level%20%3D%20%27extreme%27",
        "filter-lang=cql2-json&filter=code%3D%271%27",
        "risk_level=extreme",
        "population=many",
        "industry=gas",
        "sortby=colour",
        "properties=colour",
    ] {
        let r = api.get(&format!("/ogc/collections/cells/items?{bad}"));
        assert_eq!(status(&r), 400, "{bad}: {}", r.body);
        let e = r.json();
        assert!(
            e["code"].is_string() && e["description"].is_string(),
            "{}",
            r.body
        );
    }
}

#[test]
fn errors_and_order_of_checks() {
    let api = Api::tiny();
    for (path, want) in [
        ("/ogc/collections/cells/items?limit=0", 400),
        ("/ogc/collections/cells/items?limit=-5", 400),
        ("/ogc/collections/cells/items?limit=ten", 400),
        ("/ogc/collections/cells/items?limit=99999", 200),
        ("/ogc/collections/cells/items?offset=-1", 400),
        ("/ogc/collections/cells/items?bbox=1,2,3", 400),
        ("/ogc/collections/cells/items?bbox=a,b,c,d", 400),
        ("/ogc/collections/cells/items?bbox=118,25,119,24", 400),
        ("/ogc/collections/cells/items?bbox=0,0,200,1", 400),
        ("/ogc/collections/cells/items?colour=red", 400),
        ("/ogc/collections/cells/items?limit=1&limit=2", 400),
        (
            "/ogc/collections/cells/items?crs=http://www.opengis.net/def/crs/EPSG/0/4548",
            400,
        ),
        (
            "/ogc/collections/cells/items?bbox-crs=EPSG:1&bbox=1,2,3,4",
            400,
        ),
        ("/ogc/collections/cells/items?f=html", 400),
        // A day before the grid units' history.
        (
            "/ogc/collections/cells/items?datetime=2024-01-01T00:00:00Z&f=json",
            400,
        ),
        ("/ogc/collections/roads", 404),
        ("/ogc/collections/roads/items", 404),
        ("/ogc/collections/roads/queryables", 404),
        ("/ogc/collections/grid_cells/items", 404),
        ("/ogc/collections/cells/items/999", 404),
        ("/ogc/collections/cells/items/350502001", 404),
        ("/ogc/collections/towns/items/350502001", 200),
        ("/ogc/collections/cells/items/350502001001001?crs=bad", 400),
        // 400 comes before 404.
        ("/ogc/collections/roads/items?limit=0", 400),
        // 401 comes before 400 and 404.
        ("/ogc/collections/enterprises/items?limit=0", 401),
        ("/ogc/collections/enterprises/items/NOPE", 401),
        ("/ogc/nothing", 404),
    ] {
        let r = api.get(path);
        assert_eq!(status(&r), want, "{path}: {}", r.body);
        if want != 200 {
            assert!(r.content_type.starts_with("application/json"), "{path}");
            assert!(
                r.json()["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty())
            );
        }
    }
    // The grid manager (scope 金山社区 350502001001): features outside the
    // scope, known or not, are 403; then parameters; then existence.
    let planner = api.all("enterprises", "", Some(PLANNER));
    let outside: Vec<String> = ids(&planner
        .iter()
        .filter(|f| {
            !prop(f, "cell_code")
                .as_str()
                .is_some_and(|c| c.starts_with("350502001001"))
        })
        .cloned()
        .collect::<Vec<_>>());
    assert!(
        !outside.is_empty(),
        "the fixture has an enterprise outside the grid manager's scope"
    );
    for fid in outside.iter().map(String::as_str).chain(["NOPE"]) {
        let r = api.get_as(
            &format!("/ogc/collections/enterprises/items/{fid}"),
            GRID_MANAGER,
        );
        assert_eq!(status(&r), 403, "{fid}");
    }
    let r = api.get_as("/ogc/collections/enterprises/items?limit=0", GRID_MANAGER);
    assert_eq!(status(&r), 400);
}

#[test]
fn grid_manager_sees_only_its_scope() {
    let api = Api::tiny();
    for c in PRIVATE {
        let planner = api.all(c, "", Some(PLANNER));
        let expected: Vec<String> = ids(&planner
            .iter()
            .filter(|f| {
                prop(f, "cell_code")
                    .as_str()
                    .is_some_and(|c| c.starts_with("350502001001"))
            })
            .cloned()
            .collect::<Vec<_>>());
        let got = api.all(c, "", Some(GRID_MANAGER));
        assert_eq!(ids(&got), expected, "{c}");
        for fid in &expected {
            assert_eq!(
                api.get_as(&format!("/ogc/collections/{c}/items/{fid}"), GRID_MANAGER)
                    .status,
                200
            );
        }
    }
    // Public collections are whole for everyone.
    assert_eq!(
        api.all("cells", "", Some(GRID_MANAGER)).len(),
        api.all("cells", "", None).len()
    );
}

#[test]
fn single_features_match_the_pages() {
    let api = Api::tiny();
    let base = api.server.base.clone();
    for (c, token) in PUBLIC
        .iter()
        .map(|c| (*c, None))
        .chain(PRIVATE.iter().map(|c| (*c, Some(PLANNER))))
    {
        for f in api.all(c, "", token) {
            let fid = f["id"].as_str().unwrap();
            let r = match token {
                Some(t) => api.get_as(&format!("/ogc/collections/{c}/items/{fid}"), t),
                None => api.get(&format!("/ogc/collections/{c}/items/{fid}")),
            };
            assert_eq!(r.status, 200, "{c}/{fid}");
            assert!(r.content_type.starts_with("application/geo+json"));
            let one = r.json();
            assert_eq!(one["type"], "Feature");
            assert_eq!(one["id"], f["id"]);
            assert_eq!(one["properties"], f["properties"]);
            assert_eq!(one["geometry"], f["geometry"]);
            assert_absolute(&one, &base);
            assert!(
                link(&one, "self").unwrap()["href"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/items/{fid}"))
            );
        }
    }
    // Grid units carry the risk fields; the id is the code.
    for f in api.all("cells", "", None) {
        let p = &f["properties"];
        assert_eq!(f["id"], p["code"]);
        assert_eq!(p["level"], "cell");
        let s = p["risk_score"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&s) && ((s * 10.0).round() - s * 10.0).abs() < 1e-9);
        assert!(["major", "high", "medium", "low"].contains(&p["risk_level"].as_str().unwrap()));
        assert!(p["risk_color"].as_str().unwrap().starts_with('#'));
        assert!(p["parent_code"].is_string() && p["population"].is_u64() && p["name"].is_string());
    }
}

#[test]
fn crs_axis_order_and_content_crs() {
    let api = Api::tiny();
    let plain = api.get("/ogc/collections/enterprises/items?limit=100");
    assert_eq!(plain.status, 401);
    let path = "/ogc/collections/cells/items?limit=100";
    let r = api.get(path);
    assert_eq!(
        r.content_crs.as_deref(),
        Some("<http://www.opengis.net/def/crs/OGC/1.3/CRS84>")
    );
    let crs84 = r.json();
    let first = |v: &Value| -> (f64, f64) {
        let p = &v["features"][0]["geometry"]["coordinates"][0][0][0];
        (p[0].as_f64().unwrap(), p[1].as_f64().unwrap())
    };
    let (lon, lat) = first(&crs84);
    for code in ["4326", "4490"] {
        let uri = format!("http://www.opengis.net/def/crs/EPSG/0/{code}");
        let r = api.get(&format!("{path}&crs={uri}"));
        assert_eq!(r.status, 200);
        assert_eq!(r.content_crs, Some(format!("<{uri}>")));
        assert_eq!(
            first(&r.json()),
            (lat, lon),
            "EPSG:{code} is latitude first"
        );
        assert!(
            link(&r.json(), "self").unwrap()["href"]
                .as_str()
                .unwrap()
                .contains("crs=")
        );
    }
    let r = api.get(&format!(
        "{path}&crs=http://www.opengis.net/def/crs/EPSG/0/3857"
    ));
    let (x, y) = first(&r.json());
    assert!((x - lon.to_radians() * 6_378_137.0).abs() < 0.01, "{x}");
    // EPSG:3857 (spherical Mercator on the WGS 84 semi-major axis).
    let want_y = 6_378_137.0
        * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
            .tan()
            .ln();
    assert!((y - want_y).abs() < 0.01, "{y} vs {want_y}");
    // A bbox in Web Mercator selects what the same box in CRS84 does.
    let (x0, y0) = (118.585f64.to_radians() * 6_378_137.0, 2_863_000.0);
    let (x1, y1) = (118.595f64.to_radians() * 6_378_137.0, 2_866_000.0);
    let merc = ids(&api.all(
        "cells",
        &format!("&bbox={x0},{y0},{x1},{y1}&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857"),
        None,
    ));
    assert_eq!(merc.len(), 2, "{merc:?}");
    let r = api.get("/ogc/collections/cells/items/350502001001001?crs=http://www.opengis.net/def/crs/EPSG/0/4490");
    assert_eq!(
        r.content_crs.as_deref(),
        Some("<http://www.opengis.net/def/crs/EPSG/0/4490>")
    );
}

#[test]
fn links_follow_forwarded_headers() {
    // Forwarding headers count only from a trusted proxy (here: loopback).
    let api = Api::tiny_with("trusted_proxies = [\"127.0.0.0/8\"]\n");
    let r = fetch(
        &api.url("/ogc/collections/cells/items?limit=1"),
        &[
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "map.example.cn"),
        ],
    );
    let v = r.json();
    assert_absolute(&v, "https://map.example.cn");
    assert_eq!(
        link(&v, "next").unwrap()["href"],
        "https://map.example.cn/ogc/collections/cells/items?limit=1&offset=1"
    );
    let r = fetch(&api.url("/ogc"), &[("Host", "gis.example.cn:8443")]);
    assert_absolute(&r.json(), "http://gis.example.cn:8443");
}

// ---------------------------------------------------------------- clients

fn have(tool: &str) -> bool {
    common::require_tool(tool, "gdal-bin")
}

/// `ogrinfo -so -al` → (layer name, feature count) pairs.
fn ogrinfo(url: &str, token: Option<&str>) -> Vec<(String, u64)> {
    let mut cmd = Command::new("ogrinfo");
    cmd.args(["-ro", "-so", "-al"]);
    if let Some(t) = token {
        cmd.args([
            "--config",
            "GDAL_HTTP_HEADERS",
            &format!("Authorization: Bearer {t}"),
        ]);
    }
    let out = cmd.arg(format!("OAPIF:{url}/ogc")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "ogrinfo failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut layers = Vec::new();
    let mut name = None;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("Layer name: ") {
            name = Some(n.trim().to_string());
        }
        if let Some(c) = line.strip_prefix("Feature Count: ") {
            let n = name.take().expect("Feature Count before Layer name");
            layers.push((n, c.trim().parse().unwrap()));
        }
    }
    layers
}

fn check_gdal(api: &Api, tmp: &Path, layer_to_copy: &str) {
    let counts = api.counts();
    let base = &api.server.base;
    let anon = ogrinfo(base, None);
    let expected: Vec<(String, u64)> = PUBLIC
        .iter()
        .map(|c| (c.to_string(), counts[c].as_u64().unwrap()))
        .collect();
    assert_eq!(anon, expected);
    let all = ogrinfo(base, Some(PLANNER));
    let expected: Vec<(String, u64)> = PUBLIC
        .iter()
        .chain(PRIVATE.iter())
        .map(|c| (c.to_string(), counts[c].as_u64().unwrap()))
        .collect();
    assert_eq!(all, expected);

    for (layer, token) in [(layer_to_copy, None), ("enterprises", Some(PLANNER))] {
        let out = tmp.join(format!("{layer}.geojson"));
        let mut cmd = Command::new("ogr2ogr");
        if let Some(t) = token {
            cmd.args([
                "--config",
                "GDAL_HTTP_HEADERS",
                &format!("Authorization: Bearer {t}"),
            ]);
        }
        let o = cmd
            .args(["-f", "GeoJSON", "-oo", "PAGE_SIZE=1000"])
            .arg(&out)
            .arg(format!("OAPIF:{base}/ogc"))
            .arg(layer)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "ogr2ogr {layer}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let copied = v["features"].as_array().unwrap();
        assert_eq!(
            copied.len() as u64,
            counts[layer].as_u64().unwrap(),
            "{layer}"
        );
        let got: BTreeSet<String> = copied
            .iter()
            .map(|f| f["properties"]["id"].as_str().unwrap_or("").to_string())
            .collect();
        let want: BTreeSet<String> = ids(&api.all(layer, "", token)).into_iter().collect();
        assert_eq!(got, want, "{layer}");
    }
}

#[test]
fn gdal_reads_every_layer() {
    if !have("ogrinfo") || !have("ogr2ogr") {
        return;
    }
    let api = Api::tiny();
    let tmp = tempfile::tempdir().unwrap();
    check_gdal(&api, tmp.path(), "cells");
}

fn has_owslib() -> bool {
    common::require_python_module("owslib.ogcapi.features", "OWSLib")
}

fn check_owslib(api: &Api) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ogc_owslib.py");
    let counts = api.counts();
    for token in [None, Some(PLANNER)] {
        let mut cmd = Command::new(common::python());
        cmd.arg(&script).arg(format!("{}/ogc", api.server.base));
        if let Some(t) = token {
            cmd.arg(t);
        }
        let o = cmd.output().unwrap();
        assert!(
            o.status.success(),
            "OWSLib script: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let listed: Vec<&str> = v["collections"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let expected: Vec<&str> = match token {
            None => PUBLIC.to_vec(),
            Some(_) => PUBLIC.iter().chain(PRIVATE.iter()).copied().collect(),
        };
        assert_eq!(listed, expected);
        for c in expected {
            let n = counts[c].as_u64().unwrap();
            assert_eq!(v["items"][c]["matched"].as_u64(), Some(n), "{c}");
            assert_eq!(
                v["items"][c]["returned"].as_u64(),
                Some(n.min(10_000)),
                "{c}"
            );
            assert!(!v["items"][c]["queryables"].as_array().unwrap().is_empty());
        }
        assert!(
            v["conformance"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c.as_str().unwrap().ends_with("/conf/core"))
        );
        let major: Vec<String> = ids(&api.all("cells", "&risk_level=major", None));
        let got: Vec<String> = v["major_cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            got.iter().collect::<BTreeSet<_>>(),
            major.iter().collect::<BTreeSet<_>>()
        );
        assert_eq!(v["one"].as_str(), major.iter().min().map(String::as_str));
        // CQL2 through OWSLib: the same features as brute force.
        let cells = api.all("cells", "", None);
        let sorted = |keep: &dyn Fn(&Value) -> bool| -> Vec<String> {
            let mut out = ids(&cells
                .iter()
                .filter(|f| keep(f))
                .cloned()
                .collect::<Vec<_>>());
            out.sort();
            out
        };
        let box_ = v["cql2_bbox"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect::<Vec<_>>();
        let b = [box_[0], box_[1], box_[2], box_[3]];
        for (key, want) in [
            (
                "in",
                sorted(&|f| ["major", "high"].contains(&str_prop(f, "risk_level"))),
            ),
            ("like", sorted(&|f| str_prop(f, "name").contains('1'))),
            (
                "s_intersects",
                sorted(&|f| geometry_intersects(&f["geometry"], b)),
            ),
        ] {
            let got: Vec<String> = v["cql2"][key]
                .as_array()
                .unwrap_or_else(|| panic!("no cql2.{key}: {v}"))
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect();
            assert_eq!(got, want, "OWSLib CQL2 {key}");
        }
    }
}

#[test]
fn owslib_reads_every_collection() {
    if !has_owslib() {
        return;
    }
    let api = Api::tiny();
    check_owslib(&api);
}

/// The generated demo city: paging, bbox and the clients at full size.
#[test]
fn demo_city() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data/quanzhou");
    let generated = common::run(
        dir.path(),
        &[
            "generate",
            "--preset",
            "quanzhou",
            "--seed",
            "42",
            "--out",
            data.to_str().unwrap(),
        ],
    );
    assert!(
        generated.status.success(),
        "cannot generate the demo city: {}",
        String::from_utf8_lossy(&generated.stderr)
    );
    install_demo_tokens(dir.path());
    let server = Server::start(dir.path(), &data, &[]);
    let api = Api { server, _dir: dir };
    let counts = api.counts();
    // Every cell exactly once across pages of 1,000.
    let total = counts["cells"].as_u64().unwrap() as usize;
    let mut seen = BTreeSet::new();
    let mut url = api.url("/ogc/collections/cells/items?limit=1000&properties=code");
    loop {
        let r = fetch(&url, &[]);
        assert_eq!(r.status, 200);
        let v = r.json();
        for id in ids(v["features"].as_array().unwrap()) {
            assert!(seen.insert(id), "a cell came twice");
        }
        match link(&v, "next") {
            Some(n) => url = n["href"].as_str().unwrap().to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), total);
    // A large page is streamed in chunks.
    let r = api.get_as("/ogc/collections/enterprises/items?limit=20000", PLANNER);
    assert!(r.chunked);
    assert_eq!(
        r.json()["numberReturned"].as_u64(),
        Some(counts["enterprises"].as_u64().unwrap().min(10_000))
    );
    check_bboxes(
        &api,
        Some(PLANNER),
        &["towns", "collapse_zones", "hazard_sources"],
        3,
    );
    if have("ogrinfo") && have("ogr2ogr") {
        let tmp = tempfile::tempdir().unwrap();
        check_gdal(&api, tmp.path(), "villages");
        check_gdal_default_paging(&api, tmp.path());
    }
    if has_owslib() {
        check_owslib(&api);
    }
    check_cql2(&api);
    // gzip, ETag and 304 on a 10,000-item page, by ureq and by curl.
    check_gzip_etag(&api, "/ogc/collections/cells/items?limit=10000", None);
    check_curl_compressed(&api, "/ogc/collections/cells/items?limit=10000");
}

/// Requests served under `/ogc`, from the server's own metrics.
fn ogc_requests(api: &Api) -> u64 {
    let text = api.get("/metrics").body;
    text.lines()
        .filter(|l| l.starts_with("riskmap_http_requests_total{route=\"/ogc"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// `ogr2ogr OAPIF:… cells` with no option (GDAL 3.6 asks for pages of 10
/// and follows `next` links) copies every cell in at most 20 requests.
fn check_gdal_default_paging(api: &Api, tmp: &Path) {
    let total = api.counts()["cells"].as_u64().unwrap();
    let out = tmp.join("cells_default_paging.geojson");
    let before = ogc_requests(api);
    let o = Command::new("ogr2ogr")
        .args(["-f", "GeoJSON"])
        .arg(&out)
        .arg(format!("OAPIF:{}/ogc", api.server.base))
        .arg("cells")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "ogr2ogr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let requests = ogc_requests(api) - before;
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["features"].as_array().unwrap().len() as u64, total);
    assert!(
        requests <= 20,
        "ogr2ogr made {requests} requests for {total} cells"
    );
    eprintln!("ogr2ogr copied {total} cells in {requests} requests");
}

/// `curl --compressed`: gzip on the wire, an ETag, then 304.
fn check_curl_compressed(api: &Api, path: &str) {
    if !common::require_tool("curl", "curl") {
        return;
    }
    let url = api.url(path);
    let o = Command::new("curl")
        .args([
            "-s",
            "--compressed",
            "-D",
            "-",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download}",
        ])
        .arg(&url)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let header = |name: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    assert_eq!(
        header("content-encoding").as_deref(),
        Some("gzip"),
        "{text}"
    );
    let etag = header("etag").expect("an ETag");
    let downloaded: u64 = text.lines().last().unwrap().trim().parse().unwrap();
    let identity = api.get(path).body.len() as u64;
    assert!(
        downloaded * 4 < identity,
        "gzip {downloaded} bytes vs identity {identity}"
    );
    let o = Command::new("curl")
        .args([
            "-s",
            "--compressed",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
        ])
        .arg(format!("If-None-Match: {etag}"))
        .arg(&url)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "304");
    eprintln!("{path}: {identity} bytes, {downloaded} gzipped");
}

// ------------------------------------------------ hostile requests, CQL2, gzip

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A GeoJSON Point or MultiPolygon as a `geo` geometry.
fn geometry(g: &Value) -> geo::Geometry<f64> {
    match g["type"].as_str() {
        Some("Point") => geo::Geometry::Point(Point::new(
            g["coordinates"][0].as_f64().unwrap(),
            g["coordinates"][1].as_f64().unwrap(),
        )),
        Some("MultiPolygon") => geo::Geometry::MultiPolygon(MultiPolygon(
            g["coordinates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|rings| {
                    let rings = rings.as_array().unwrap();
                    Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
                })
                .collect(),
        )),
        other => panic!("unexpected geometry {other:?}"),
    }
}

/// Requests that used to take the process down (a 3,000-paren filter
/// overflowed the stack) or to cost unbounded work: each is a 400 JSON
/// error, and the server keeps answering.
#[test]
fn hostile_filters_and_lists_are_refused_and_the_server_lives() {
    // Let long targets reach the parameter checks (the default target limit
    // is 8 KiB and would answer 414 first).
    let (_dir, server) = common::start_tiny("[limits]\nmax_uri_bytes = 1048576\n");
    let base = server.base.clone();
    let deep_json = format!(
        r#"{{"op":"not","args":[{}{{"op":"=","args":[{{"property":"code"}},"1"]}}{}]}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let mut notted = r#"{"op":"=","args":[{"property":"code"},"1"]}"#.to_string();
    for _ in 0..100 {
        notted = format!(r#"{{"op":"not","args":[{notted}]}}"#);
    }
    let fields = vec!["code"; 10_000].join(",");
    let cases = [
        // Raw parentheses, as a browser or curl sends them.
        format!("filter={}", "(".repeat(3000)),
        format!(
            "filter={}risk_score>1{}",
            "(".repeat(3000),
            ")".repeat(3000)
        ),
        format!(
            "filter={}",
            enc(&format!("{}risk_score>1", "NOT ".repeat(1000)))
        ),
        format!("filter={}", enc(&"(".repeat(100))),
        format!("filter-lang=cql2-json&filter={}", enc(&deep_json)),
        format!("filter-lang=cql2-json&filter={}", enc(&notted)),
        format!("filter={}", enc(&vec!["risk_score > 1"; 1000].join(" OR "))),
        format!("sortby={fields}"),
        format!("properties={fields}"),
        format!("bbox={}", vec!["1"; 10_000].join(",")),
        "datetime=garbage".to_string(),
        "datetime=2024-02-30".to_string(),
        "datetime=2024-05-02/2024-05-01".to_string(),
        "filter=S_CONTAINS(geometry,POINT(118.6%2024.9))".to_string(),
    ];
    for q in &cases {
        let url = format!("{base}/ogc/collections/cells/items?{q}");
        let r = fetch(&url, &[]);
        assert_eq!(r.status, 400, "{}…: {}", &q[..q.len().min(60)], r.body);
        assert!(r.content_type.starts_with("application/json"));
        let e = r.json();
        assert!(e["description"].is_string(), "{}", r.body);
        // The process is alive and answers the next request.
        let next = fetch(&format!("{base}/ogc/collections/cells/items?limit=2"), &[]);
        assert_eq!(next.status, 200);
    }
    let e = fetch(
        &format!("{base}/ogc/collections/cells/items?{}", cases[1]),
        &[],
    )
    .json();
    assert!(
        e["description"].as_str().unwrap().contains("64"),
        "the error names the limit: {e}"
    );
    // limit and offset beyond u64 are clamped, not refused.
    let v = fetch(
        &format!("{base}/ogc/collections/cells/items?limit=99999999999999999999999"),
        &[],
    )
    .json();
    assert!(
        link(&v, "self").unwrap()["href"]
            .as_str()
            .unwrap()
            .contains("limit=10000")
    );
    let r = fetch(
        &format!("{base}/ogc/collections/cells/items?offset=99999999999999999999999"),
        &[],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["numberReturned"], 0);
    // A well-formed datetime on the grid units: an interval that meets
    // the history selects the state at its end; an instant or interval
    // outside it is 400 naming the days held.
    for (d, status) in [
        ("2024-05-01T08:00:00Z/..", 200),
        ("../2099-05-01T08:00:00%2B08:00", 200),
        ("2024-05-01", 400),
        ("2024-05-01/2024-05-31", 400),
    ] {
        let r = fetch(
            &format!("{base}/ogc/collections/cells/items?datetime={d}"),
            &[],
        );
        assert_eq!(r.status, status, "{d}: {}", r.body);
        if status == 400 {
            assert!(r.body.contains("history"), "{d}: {}", r.body);
        }
    }
    // With the default target limit, the same filter stops at the target
    // (414) or header (431) size limit before any parsing.
    let (_dir2, strict) = common::start_tiny("");
    let r = fetch(
        &format!(
            "{}/ogc/collections/cells/items?filter-lang=cql2-json&filter={}",
            strict.base,
            enc(&deep_json)
        ),
        &[],
    );
    assert!([414, 431].contains(&r.status), "{}: {}", r.status, r.body);
    assert_eq!(strict.get("/health").0, 200);
}

/// One CQL2 case: the text filter, its JSON encoding (if written out),
/// and the test's own predicate over a feature.
type Case<'a> = (String, Option<String>, Box<dyn Fn(&Value) -> bool + 'a>);

fn str_prop<'a>(f: &'a Value, name: &str) -> &'a str {
    prop(f, name).as_str().unwrap_or("")
}

/// CQL2 beyond the basics, checked against a brute-force evaluation of
/// every feature read without a filter.
fn check_cql2(api: &Api) {
    let cells = api.all("cells", "", None);
    let meta = api.ok("/ogc/collections/cells", None);
    let e: Vec<f64> = meta["extent"]["spatial"]["bbox"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let (w, h) = (e[2] - e[0], e[3] - e[1]);
    let b = [
        e[0] + 0.2 * w,
        e[1] + 0.3 * h,
        e[0] + 0.45 * w,
        e[1] + 0.5 * h,
    ];
    let tri = [
        (e[0] + 0.1 * w, e[1] + 0.1 * h),
        (e[0] + 0.6 * w, e[1] + 0.2 * h),
        (e[0] + 0.3 * w, e[1] + 0.7 * h),
    ];
    let tri_poly = Polygon::new(
        LineString::from(vec![tri[0], tri[1], tri[2], tri[0]]),
        vec![],
    );
    let centre = Point::new(e[0] + 0.5 * w, e[1] + 0.5 * h);
    let wkt_tri = |lat_first: bool| {
        let p = |(x, y): (f64, f64)| {
            if lat_first {
                format!("{y} {x}")
            } else {
                format!("{x} {y}")
            }
        };
        format!(
            "POLYGON(({}, {}, {}, {}))",
            p(tri[0]),
            p(tri[1]),
            p(tri[2]),
            p(tri[0])
        )
    };
    let in_box = move |f: &Value| geometry_intersects(&f["geometry"], b);
    let score = |f: &Value| prop(f, "risk_score").as_f64();
    let cases: Vec<Case> = vec![
        (
            "risk_level IN ('major','high')".into(),
            Some(r#"{"op":"in","args":[{"property":"risk_level"},["major","high"]]}"#.into()),
            Box::new(|f| ["major", "high"].contains(&str_prop(f, "risk_level"))),
        ),
        (
            "risk_level NOT IN ('重大','低')".into(),
            None,
            Box::new(|f| {
                !["major", "low"].contains(&str_prop(f, "risk_level"))
                    && !prop(f, "risk_level").is_null()
            }),
        ),
        (
            "name LIKE '%1%'".into(),
            Some(r#"{"op":"like","args":[{"property":"name"},"%1%"]}"#.into()),
            Box::new(|f| str_prop(f, "name").contains('1')),
        ),
        (
            "name NOT LIKE '%1_'".into(),
            None,
            Box::new(|f| {
                let n: Vec<char> = str_prop(f, "name").chars().collect();
                !(n.len() >= 2 && n[n.len() - 2] == '1')
            }),
        ),
        (
            "risk_score BETWEEN 20 AND 40.5".into(),
            Some(
                r#"{"op":"between","args":[{"property":"risk_score"},20,40.5]}"#.into(),
            ),
            Box::new(move |f| score(f).is_some_and(|s| (20.0..=40.5).contains(&s))),
        ),
        (
            "NOT (risk_level = 'low') AND population NOT BETWEEN 100 AND 900".into(),
            Some(r#"{"op":"and","args":[{"op":"not","args":[{"op":"=","args":[{"property":"risk_level"},"low"]}]},{"op":"not","args":[{"op":"between","args":[{"property":"population"},100,900]}]}]}"#.into()),
            Box::new(|f| {
                let p = prop(f, "population").as_f64().unwrap();
                str_prop(f, "risk_level") != "low"
                    && !prop(f, "risk_level").is_null()
                    && !(100.0..=900.0).contains(&p)
            }),
        ),
        (
            "CASEI(risk_level) = casei('MAJOR')".into(),
            Some(r#"{"op":"=","args":[{"op":"casei","args":[{"property":"risk_level"}]},{"op":"casei","args":["MAJOR"]}]}"#.into()),
            Box::new(|f| str_prop(f, "risk_level") == "major"),
        ),
        (
            format!(
                "S_INTERSECTS(geometry, BBOX({}, {}, {}, {}))",
                b[0], b[1], b[2], b[3]
            ),
            Some(format!(
                r#"{{"op":"s_intersects","args":[{{"property":"geometry"}},{{"bbox":[{},{},{},{}]}}]}}"#,
                b[0], b[1], b[2], b[3]
            )),
            Box::new(in_box),
        ),
        (
            format!("S_INTERSECTS(geometry, {}) AND risk_level <> 'low'", wkt_tri(false)),
            None,
            Box::new(|f| {
                tri_poly.intersects(&geometry(&f["geometry"]))
                    && str_prop(f, "risk_level") != "low"
                    && !prop(f, "risk_level").is_null()
            }),
        ),
        (
            format!("S_INTERSECTS(geometry, POINT({} {}))", centre.x(), centre.y()),
            Some(format!(
                r#"{{"op":"s_intersects","args":[{{"property":"geometry"}},{{"type":"Point","coordinates":[{},{}]}}]}}"#,
                centre.x(),
                centre.y()
            )),
            Box::new(move |f| geometry(&f["geometry"]).intersects(&centre)),
        ),
    ];
    let mut non_empty = 0;
    for (text, json, pred) in &cases {
        let expected: Vec<String> = ids(&cells
            .iter()
            .filter(|f| pred(f))
            .cloned()
            .collect::<Vec<_>>());
        non_empty += usize::from(!expected.is_empty() && expected.len() < cells.len());
        let got = ids(&api.all("cells", &format!("&filter={}", enc(text)), None));
        assert_eq!(got, expected, "{text}");
        if let Some(j) = json {
            let got = ids(&api.all(
                "cells",
                &format!("&filter-lang=cql2-json&filter={}", enc(j)),
                None,
            ));
            assert_eq!(got, expected, "{j}");
        }
    }
    assert!(
        non_empty >= 3,
        "the cases select something and not everything"
    );
    // The triangle given latitude first in EPSG:4326, named three ways.
    let expected: Vec<String> = ids(&cells
        .iter()
        .filter(|f| tri_poly.intersects(&geometry(&f["geometry"])))
        .cloned()
        .collect::<Vec<_>>());
    for crs in [
        "http://www.opengis.net/def/crs/EPSG/0/4326",
        "EPSG:4490",
        "urn:ogc:def:crs:EPSG::4326",
    ] {
        let q = format!(
            "&filter-crs={}&filter={}",
            enc(crs),
            enc(&format!("S_INTERSECTS(geometry, {})", wkt_tri(true)))
        );
        assert_eq!(ids(&api.all("cells", &q, None)), expected, "{crs}");
    }
    // Private collection: enterprises by industry list and name pattern.
    let ents = api.all("enterprises", "", Some(PLANNER));
    let expected: Vec<String> = ids(&ents
        .iter()
        .filter(|f| {
            ["hazardous_chemicals", "gas"].contains(&str_prop(f, "industry"))
                || str_prop(f, "name").contains("公司")
        })
        .cloned()
        .collect::<Vec<_>>());
    assert!(!expected.is_empty());
    let q = format!(
        "&filter={}",
        enc("industry IN ('危险化学品', 'gas') OR name LIKE '%公司%'")
    );
    assert_eq!(ids(&api.all("enterprises", &q, Some(PLANNER))), expected);
    // Unsupported constructs: 400 naming them.
    for (f, named) in [
        ("S_WITHIN(geometry, POINT(1 2))", "S_WITHIN"),
        ("T_BEFORE(surveyed, DATE('2024-01-01'))", "T_BEFORE"),
        ("name = UPPER('a')", "UPPER"),
        ("population + 1 > 2", "arithmetic"),
    ] {
        let r = api.get(&format!("/ogc/collections/cells/items?filter={}", enc(f)));
        assert_eq!(r.status, 400, "{f}");
        assert!(
            r.json()["description"].as_str().unwrap().contains(named),
            "{f}: {}",
            r.body
        );
    }
}

#[test]
fn cql2_beyond_the_basics_matches_brute_force() {
    let api = Api::tiny();
    check_cql2(&api);
    let classes = api.ok("/ogc/conformance", None)["conformsTo"].clone();
    for c in [
        "cql2-json",
        "advanced-comparison-operators",
        "case-insensitive-comparison",
        "basic-spatial-functions",
    ] {
        let uri = format!("http://www.opengis.net/spec/cql2/1.0/conf/{c}");
        assert!(
            classes.as_array().unwrap().iter().any(|x| x == &uri),
            "missing {uri}"
        );
    }
}

/// `crs` and `bbox-crs` in the URI, CURIE, `EPSG:N` and URN spellings.
#[test]
fn crs_spellings() {
    let api = Api::tiny();
    let plain = api.ok("/ogc/collections/cells/items", None);
    for spelling in [
        "http://www.opengis.net/def/crs/EPSG/0/4490",
        "EPSG:4490",
        "urn:ogc:def:crs:EPSG::4490",
        "[EPSG:4490]",
    ] {
        let r = api.get(&format!(
            "/ogc/collections/cells/items?crs={}",
            enc(spelling)
        ));
        assert_eq!(r.status, 200, "{spelling}: {}", r.body);
        assert_eq!(
            r.content_crs.as_deref(),
            Some("<http://www.opengis.net/def/crs/EPSG/0/4490>")
        );
        let v = r.json();
        let (a, b) = (
            &v["features"][0]["geometry"]["coordinates"][0][0][0],
            &plain["features"][0]["geometry"]["coordinates"][0][0][0],
        );
        assert_eq!(
            (a[0].as_f64(), a[1].as_f64()),
            (b[1].as_f64(), b[0].as_f64())
        );
        let q = format!("&bbox=24.9,118.58,24.92,118.595&bbox-crs={}", enc(spelling));
        assert_eq!(
            ids(&api.all("cells", &q, None)),
            ids(&api.all("cells", "&bbox=118.58,24.9,118.595,24.92", None))
        );
    }
    let r = api.get("/ogc/collections/cells/items?crs=urn:ogc:def:crs:EPSG::4548");
    assert_eq!(r.status, 400);
}

struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn raw(url: &str, headers: &[(&str, &str)]) -> Raw {
    let mut req = ureq::get(url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let r = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {url}: {e}"),
    };
    let headers = r
        .headers_names()
        .into_iter()
        .map(|n| (n.clone(), r.header(&n).unwrap_or("").to_string()))
        .collect();
    let status = r.status();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut body).unwrap();
    Raw {
        status,
        headers,
        body,
    }
}

fn gunzip(bytes: &[u8]) -> String {
    let mut out = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(bytes), &mut out).unwrap();
    out
}

/// OGC and `/api` JSON: gzip when asked, an ETag per data version,
/// request and encoding, `304` for a matching `If-None-Match`; a streamed
/// page stays streamed when gzipped.
fn check_gzip_etag(api: &Api, path: &str, token: Option<&str>) {
    let url = api.url(path);
    let auth = token.map(|t| format!("Bearer {t}"));
    let with = |extra: &[(&str, &str)]| {
        let mut h: Vec<(&str, &str)> = extra.to_vec();
        if let Some(a) = &auth {
            h.push(("Authorization", a));
        }
        raw(&url, &h)
    };
    let plain = with(&[]);
    assert_eq!(plain.status, 200, "{path}");
    assert_eq!(plain.header("content-encoding"), None);
    let zipped = with(&[("Accept-Encoding", "gzip, deflate")]);
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"), "{path}");
    assert!(zipped.header("vary").unwrap().contains("Accept-Encoding"));
    let text = gunzip(&zipped.body);
    let a: Value = serde_json::from_str(&text).unwrap();
    let b: Value = serde_json::from_slice(&plain.body).unwrap();
    let strip = |mut v: Value| {
        if let Some(o) = v.as_object_mut() {
            o.remove("timeStamp");
        }
        v
    };
    assert_eq!(strip(a), strip(b), "{path}: same document either way");
    let (t1, t2) = (
        plain.header("etag").unwrap().to_string(),
        zipped.header("etag").unwrap().to_string(),
    );
    assert_ne!(t1, t2, "gzip and identity bodies differ");
    for (tag, accept) in [(&t1, "identity"), (&t2, "gzip")] {
        let again = with(&[("Accept-Encoding", accept), ("If-None-Match", tag)]);
        assert_eq!(again.status, 304, "{path} {accept}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(tag.as_str()));
    }
    // The other encoding's tag does not validate this one.
    let cross = with(&[("Accept-Encoding", "gzip"), ("If-None-Match", &t1)]);
    assert_eq!(cross.status, 200);
    // Another caller gets another tag.
    if token.is_none() {
        let other = raw(&url, &[("Authorization", &format!("Bearer {PLANNER}"))]);
        assert_ne!(other.header("etag"), Some(t1.as_str()));
    }
}

#[test]
fn json_is_gzipped_with_etags_and_304() {
    let api = Api::tiny();
    for (path, token) in [
        ("/ogc", None),
        ("/ogc/collections", None),
        ("/ogc/collections/cells/items?limit=10000", None),
        ("/ogc/collections/enterprises/items/E1", Some(PLANNER)),
        ("/ogc/api", None),
        ("/api/stats", None),
        ("/api/cells/350502001001", Some(PLANNER)),
    ] {
        check_gzip_etag(&api, path, token);
    }
    // A streamed page stays streamed (chunked, no length) when gzipped.
    let r = raw(
        &api.url("/ogc/collections/cells/items?limit=10000"),
        &[("Accept-Encoding", "gzip")],
    );
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    // Errors are neither tagged nor compressed.
    let r = raw(
        &api.url("/ogc/collections/cells/items?limit=0"),
        &[("Accept-Encoding", "gzip")],
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.header("etag"), None);
    assert_eq!(r.header("content-encoding"), None);
}

/// Unit cells' `domain_<word>` properties are private: a public caller's
/// cells have none (not in the features, the queryables, filters or
/// sortby), villages keep them; a planner gets them on every cell, a grid
/// manager on the cells of its area only.
#[test]
fn cell_domain_properties_need_a_token() {
    let api = Api::tiny();
    let domain_keys = |f: &Value| -> Vec<String> {
        f["properties"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("domain_"))
            .cloned()
            .collect()
    };
    let public = api.all("cells", "", None);
    assert!(!public.is_empty());
    for f in &public {
        assert!(domain_keys(f).is_empty(), "{f}");
    }
    let q = api.ok("/ogc/collections/cells/queryables", None);
    assert!(q["properties"].get("domain_gas").is_none());
    assert!(q["properties"].get("risk_score").is_some());
    for query in [
        "filter=domain_gas%3E0",
        "sortby=-domain_gas",
        "properties=code,domain_gas",
        "domain_gas=1",
    ] {
        let r = api.get(&format!("/ogc/collections/cells/items?{query}"));
        assert_eq!(r.status, 400, "{query}: {}", r.body);
    }
    let item = api.ok("/ogc/collections/cells/items/350502001001001", None);
    assert!(domain_keys(&item).is_empty());
    // Villages carry them for everyone.
    let villages = api.all("villages", "", None);
    assert!(villages.iter().all(|f| domain_keys(f).len() == 17));
    let vq = api.ok("/ogc/collections/villages/queryables", None);
    assert!(vq["properties"].get("domain_gas").is_some());

    // A planner: every cell, and they sum to the unrounded score.
    let planner = api.all("cells", "", Some(PLANNER));
    let mut nonzero = 0;
    for f in &planner {
        assert_eq!(domain_keys(f).len(), 17, "{f}");
        let p = f["properties"].as_object().unwrap();
        let sum: f64 = domain_keys(f).iter().map(|k| p[k].as_f64().unwrap()).sum();
        assert!(
            (sum - p["risk_score"].as_f64().unwrap()).abs() <= 0.05 + 1e-9,
            "{f}"
        );
        nonzero += domain_keys(f)
            .iter()
            .filter(|k| p[*k].as_f64() > Some(0.0))
            .count();
    }
    assert!(nonzero > 0);
    let q = api.ok("/ogc/collections/cells/queryables", Some(PLANNER));
    assert!(q["properties"].get("domain_gas").is_some());
    let sorted = api.ok(
        "/ogc/collections/cells/items?sortby=-domain_gas&properties=domain_gas",
        Some(PLANNER),
    );
    assert_eq!(
        sorted["features"].as_array().unwrap().len(),
        planner.len().min(10)
    );

    // The grid manager of 350502001001: values on its own cells only.
    let grid = api.all("cells", "", Some(GRID_MANAGER));
    let (mut own, mut other) = (0, 0);
    for f in &grid {
        let code = f["id"].as_str().unwrap();
        let p = f["properties"].as_object().unwrap();
        let nulls = domain_keys(f).iter().filter(|k| p[*k].is_null()).count();
        if code.starts_with("350502001001") {
            assert_eq!(nulls, 0, "{f}");
            own += 1;
        } else {
            assert_eq!(nulls, 17, "{f}");
            other += 1;
        }
    }
    assert!(own > 0 && other > 0, "{own} {other}");
}
