//! The grid managers' API on the real server: access matrix, point lookup,
//! ledger, and the public ranking, stats and search.

mod common;

use common::*;
use serde_json::Value;
use std::process::Command;

/// The tiny dataset served with an audit log.
fn start() -> (tempfile::TempDir, Server) {
    start_tiny("audit_log = \"audit.jsonl\"\n")
}

const TOWN: &str = "350502001";
const OWN_VILLAGE: &str = "350502001001";
const OWN_CELL: &str = "350502001001001";
const SIBLING_VILLAGE: &str = "350502001002";
const SIBLING_CELL: &str = "350502001002001";

#[test]
fn access_matrix() {
    let (_tmp, s) = start();
    // No token: 401 with WWW-Authenticate; unknown token: 401 everywhere.
    let r = ureq::get(&format!("{}/api/cells/{OWN_CELL}", s.base)).call();
    match r {
        Err(ureq::Error::Status(401, resp)) => assert!(
            resp.header("WWW-Authenticate")
                .unwrap_or("")
                .starts_with("Bearer")
        ),
        other => panic!("expected 401, got {other:?}"),
    }
    assert_eq!(
        s.get_with(&format!("/api/cells/{OWN_CELL}"), "wrong").0,
        401
    );
    assert_eq!(s.get_with("/api/ranking", "wrong").0, 401);
    assert_eq!(s.get_with("/health", "wrong").0, 401);

    for (code, planner, manager) in [
        ("350502", 200, 403),
        (TOWN, 200, 403),
        (OWN_VILLAGE, 200, 200),
        (OWN_CELL, 200, 200),
        (SIBLING_VILLAGE, 200, 403),
        (SIBLING_CELL, 200, 403),
        ("350502009009", 404, 403),
        ("12ab", 400, 403),
    ] {
        for (token, want) in [
            (PLANNER, planner),
            (ADMIN, planner),
            (GRID_MANAGER, manager),
        ] {
            let (status, body) = s.get_with(&format!("/api/cells/{code}"), token);
            assert_eq!(status, want, "{code} with {token}: {body}");
            if status == 200 {
                let v = json(&body);
                assert_eq!(v["code"], code);
            } else {
                // Errors never carry another unit's data.
                assert!(!body.contains("risk_score"), "{body}");
            }
            let (status, _) = s.get_with(&format!("/api/cells/{code}/ledger.csv"), token);
            assert_eq!(status, want, "ledger {code} with {token}");
        }
    }
}

#[test]
fn unit_body_explains_the_score() {
    let (_tmp, s) = start();
    let (status, body) = s.get_with(&format!("/api/cells/{OWN_CELL}"), PLANNER);
    assert_eq!(status, 200);
    let v = json(&body);
    assert_eq!(v["level"], "cell");
    assert_eq!(v["parent_code"], OWN_VILLAGE);
    let parents: Vec<&str> = v["parents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(parents, ["350502", TOWN, OWN_VILLAGE]);
    let score = v["risk_score"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&score));
    let level = v["risk_level"].as_str().unwrap();
    let want = if score >= 75.0 {
        "major"
    } else if score >= 50.0 {
        "high"
    } else if score >= 25.0 {
        "medium"
    } else {
        "low"
    };
    assert_eq!(level, want);
    // The grade-2 source inside the cell, monitored: H = 60 × 0.8 = 48.
    assert!(
        (v["breakdown"]["h"].as_f64().unwrap() - 48.0).abs() < 1e-6,
        "{body}"
    );
    let top = &v["top_contributors"][0];
    assert_eq!(top["id"], "HS-1");
    assert_eq!(top["layer"], "hazard_sources");
    assert_eq!(top["domain"], "hazard_sources");
    assert_eq!(top["component"], "H");
    // Contributions are additive: they sum to the score, as do the domains.
    let sum: f64 = v["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["contribution"].as_f64().unwrap())
        .sum();
    assert!((sum - score).abs() <= 0.05 + 1e-9, "{sum} vs {score}");
    let domains: f64 = v["domains"]
        .as_object()
        .unwrap()
        .values()
        .map(|x| x.as_f64().unwrap())
        .sum();
    assert!((domains - sum).abs() < 1e-9);
    assert_eq!(v["counts"]["enterprises"], 1);
    assert_eq!(v["counts"]["hazard_sources"], 1);
    assert_eq!(v["counts"]["collapse_zones"], 1);
    assert_eq!(v["hidden_dangers"]["open"], 2);
    // The village reports its children, highest first.
    let (_, body) = s.get_with(&format!("/api/cells/{OWN_VILLAGE}"), GRID_MANAGER);
    let v = json(&body);
    let kids = v["children"].as_array().unwrap();
    assert_eq!(kids.len(), 2);
    let score = |k: &Value| k["risk_score"].as_f64().expect("risk_score is a number");
    assert!(score(&kids[0]) >= score(&kids[1]), "{kids:?}");
    assert_eq!(v["rank"]["of"], 2);
}

#[test]
fn point_lookup_with_chinese_datums() {
    let (_tmp, s) = start();
    let (status, body) = s.get_with("/api/cells/at?lon=118.585&lat=24.91", GRID_MANAGER);
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["code"], OWN_CELL);
    assert_eq!(
        s.get_with("/api/cells/at?lon=118.605&lat=24.91", GRID_MANAGER)
            .0,
        403
    );
    assert_eq!(
        s.get_with("/api/cells/at?lon=118.605&lat=24.91", PLANNER).0,
        200
    );
    assert_eq!(
        s.get_with("/api/cells/at?lon=100&lat=24.91", PLANNER).0,
        404
    );
    assert_eq!(
        s.get_with("/api/cells/at?lon=999&lat=24.91", PLANNER).0,
        400
    );
    assert_eq!(
        s.get_with("/api/cells/at?lon=NaN&lat=24.91", PLANNER).0,
        400
    );
    assert_eq!(
        s.get_with("/api/cells/at?lon=118.6&lat=24.91&crs=EPSG:3857", PLANNER)
            .0,
        400
    );
    assert_eq!(s.get("/api/cells/at?lon=118.585&lat=24.91").0, 401);
    // A phone map's GCJ-02 and BD-09 coordinates of the same spot.
    let (gx, gy) = riskmap::crs::chinese::wgs84_to_gcj02(118.598, 24.91);
    let (bx, by) = riskmap::crs::chinese::wgs84_to_bd09(118.598, 24.91);
    assert!(
        gx > 118.6,
        "the GCJ-02 offset moves the point east over the village line"
    );
    for q in [
        format!("lon={gx}&lat={gy}&crs=GCJ02"),
        format!("lon={bx}&lat={by}&crs=BD09"),
    ] {
        let (status, body) = s.get_with(&format!("/api/cells/at?{q}"), PLANNER);
        assert_eq!(status, 200, "{q}: {body}");
        assert_eq!(json(&body)["code"], "350502001001002", "{q}");
    }
    // Uncorrected, the GCJ-02 point lands elsewhere (the offset is hundreds of metres).
    let (_, body) = s.get_with(&format!("/api/cells/at?lon={gx}&lat={gy}"), PLANNER);
    assert_ne!(json(&body)["code"], "350502001001002");
}

#[test]
fn ledger_is_excel_friendly_csv() {
    let (tmp, s) = start();
    let resp = ureq::get(&format!("{}/api/cells/{OWN_VILLAGE}/ledger.csv", s.base))
        .set("Authorization", &format!("Bearer {GRID_MANAGER}"))
        .call()
        .unwrap();
    assert!(
        resp.header("Content-Disposition")
            .unwrap_or("")
            .contains("attachment")
    );
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let path = tmp.path().join("ledger.csv");
    std::fs::write(&path, &bytes).unwrap();
    // Python's csv module, as a spreadsheet user's script would read it.
    let out = Command::new(python())
        .arg("-c")
        .arg("import csv,sys,json\nrows=list(csv.reader(open(sys.argv[1],encoding='utf-8-sig',newline='')))\nprint(json.dumps(rows,ensure_ascii=False))")
        .arg(&path)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0][0], "序号");
    assert_eq!(rows[0][1], "风险点类别");
    // The hazard source and the 较大-graded enterprise E1 with open dangers;
    // E2 (低, no dangers) is not a risk point; E3 lies in the sibling village.
    let ids: Vec<&str> = rows[1..].iter().map(|r| r[2].as_str()).collect();
    assert_eq!(ids, ["HS-1", "E1", "CZ-1"]);
    assert_eq!(rows[1][1], "重大危险源");
    assert_eq!(rows[2][3], "泉州燃气有限公司");
    // Audit log: token requests to /api/cells* are recorded.
    let audit = std::fs::read_to_string(tmp.path().join("audit.jsonl")).unwrap();
    let last: Value = json(audit.lines().last().unwrap());
    assert_eq!(last["token"], "网格员-金山社区");
    assert_eq!(last["role"], "grid_manager");
    assert_eq!(last["status"], 200);
    assert!(last["path"].as_str().unwrap().ends_with("/ledger.csv"));
}

/// Saves a workbook response at `path` and reads it back with openpyxl:
/// `[sheet title, document title, rows]`; `None` where openpyxl is missing
/// outside CI (CI fails instead).
fn read_xlsx(resp: ureq::Response, path: &std::path::Path) -> Option<Value> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).unwrap();
    assert!(bytes.starts_with(b"PK"), "an xlsx is a zip");
    std::fs::write(path, &bytes).unwrap();
    if !require_python_module("openpyxl", "openpyxl") {
        return None;
    }
    let out = Command::new(python())
        .arg("-c")
        .arg("import openpyxl,sys,json\nwb=openpyxl.load_workbook(sys.argv[1])\nws=wb.active\nprint(json.dumps([ws.title,wb.properties.title,[list(r) for r in ws.iter_rows(values_only=True)]],ensure_ascii=False))")
        .arg(path)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// The same ledger as an Excel workbook, read back with openpyxl when it is
/// installed, else checked as a zip holding the sheet.
#[test]
fn ledger_as_xlsx() {
    let (tmp, s) = start();
    let url = |code: &str| format!("{}/api/cells/{code}/ledger.xlsx", s.base);
    assert_eq!(s.get_with(&url(OWN_VILLAGE)[s.base.len()..], "nope").0, 401);
    assert_eq!(
        s.get_with(&url(SIBLING_VILLAGE)[s.base.len()..], GRID_MANAGER)
            .0,
        403
    );
    let resp = ureq::get(&url(OWN_VILLAGE))
        .set("Authorization", &format!("Bearer {GRID_MANAGER}"))
        .call()
        .unwrap();
    assert!(resp.content_type().contains("spreadsheetml"));
    assert!(
        resp.header("Content-Disposition")
            .unwrap_or("")
            .contains(".xlsx")
    );
    let Some(v) = read_xlsx(resp, &tmp.path().join("ledger.xlsx")) else {
        return;
    };
    assert_eq!(v[0], "风险点台账");
    let rows = v[2].as_array().unwrap();
    assert_eq!(rows[0][0], "序号");
    let ids: Vec<&str> = rows[1..].iter().map(|r| r[2].as_str().unwrap()).collect();
    assert_eq!(ids, ["HS-1", "E1", "CZ-1"]);
    // Counts and coordinates are numbers, not text.
    assert_eq!(rows[2][8], 2);
    assert!((rows[2][12].as_f64().unwrap() - 118.585).abs() < 1e-9);
}

/// The whole ranking of a level as an Excel workbook, read back with
/// openpyxl: the rows of the JSON ranking in the same order, scores as
/// numbers, levels in Chinese.
#[test]
fn ranking_as_xlsx() {
    let (tmp, s) = start();
    assert_eq!(s.get("/api/ranking?level=cell&format=pdf").0, 400);
    assert_eq!(
        s.get("/api/ranking?level=cell&format=xlsx&by=change").0,
        400
    );
    assert_eq!(s.get("/api/ranking?level=cell&format=xlsx&limit=0").0, 400);
    let want = json(&s.get("/api/ranking?level=cell&limit=100").1);
    let want = want["items"].as_array().unwrap().clone();
    assert!(
        want.len() > 1 && want.len() < 100,
        "the tiny city's cells fit one JSON page"
    );
    let resp = ureq::get(&format!("{}/api/ranking?level=cell&format=xlsx", s.base))
        .call()
        .unwrap();
    assert!(resp.content_type().contains("spreadsheetml"));
    let disposition = resp.header("Content-Disposition").unwrap_or("").to_owned();
    assert!(disposition.contains("ranking-cell.xlsx"), "{disposition}");
    let Some(v) = read_xlsx(resp, &tmp.path().join("ranking.xlsx")) else {
        return;
    };
    assert_eq!(v[0], "风险排名");
    assert_eq!(v[1], "风险排名 · 单元网格 · 全部");
    let rows = v[2].as_array().unwrap();
    assert_eq!(
        rows[0],
        serde_json::json!([
            "名次",
            "名称",
            "代码",
            "上级单位",
            "上级代码",
            "风险分值",
            "风险等级"
        ])
    );
    assert_eq!(rows.len() - 1, want.len());
    let zh = |level: &str| match level {
        "major" => "重大",
        "high" => "较大",
        "medium" => "一般",
        "low" => "低",
        other => panic!("{other}"),
    };
    for (i, (row, item)) in rows[1..].iter().zip(&want).enumerate() {
        assert_eq!(row[0], i + 1);
        assert_eq!(row[1], item["name"]);
        assert_eq!(row[2], item["code"]);
        assert_eq!(row[3], item["parent_name"]);
        assert_eq!(row[4], item["parent_code"]);
        assert_eq!(row[5].as_f64(), item["risk_score"].as_f64(), "{row:?}");
        assert_eq!(row[6], zh(item["risk_level"].as_str().unwrap()));
    }
}

#[test]
fn public_ranking_stats_search() {
    let (_tmp, s) = start();
    let (status, body) = s.get("/api/ranking?level=cell&limit=2");
    assert_eq!(status, 200);
    let v = json(&body);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let score = |k: &Value| k["risk_score"].as_f64().expect("risk_score is a number");
    assert!(score(&items[0]) >= score(&items[1]), "{items:?}");
    assert!(items[0]["parent_code"].is_string() && items[0]["risk_color"].is_string());
    assert_eq!(s.get("/api/ranking?level=cell&limit=0").0, 400);
    assert_eq!(s.get("/api/ranking?level=cell&limit=abc").0, 400);
    assert_eq!(s.get("/api/ranking?level=planet").0, 400);
    let (_, body) = s.get(&format!(
        "/api/ranking?level=cell&limit=1000&within={SIBLING_VILLAGE}"
    ));
    assert_eq!(json(&body)["items"].as_array().unwrap().len(), 1);

    let (status, body) = s.get(&format!("/api/stats?within={TOWN}"));
    assert_eq!(status, 200);
    let v = json(&body);
    assert!(v["levels"].get("town").is_none() && v["levels"].get("county").is_none());
    let cells = &v["levels"]["cell"];
    let total: u64 = ["major", "high", "medium", "low"]
        .iter()
        .map(|k| cells[k].as_u64().unwrap())
        .sum();
    assert_eq!(total, 3);
    assert_eq!(v["layers"]["enterprises"], 3);
    assert_eq!(s.get("/api/stats?within=999999999").0, 404);

    let (_, body) = s.get("/api/search?q=金山");
    let v = json(&body);
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["kind"] == "grid_unit")
    );
    assert!(!v["items"].as_array().unwrap().is_empty());
    let (_, body) = s.get("/api/search?q=3505020010");
    assert!(
        json(&body)["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["id"].as_str().unwrap().starts_with("3505020010"))
    );
    // Enterprises only with a token, and only in scope.
    let (_, body) = s.get("/api/search?q=笋浯危化");
    assert_eq!(json(&body)["items"].as_array().unwrap().len(), 0);
    let (_, body) = s.get_with("/api/search?q=笋浯危化", PLANNER);
    assert_eq!(json(&body)["items"][0]["kind"], "enterprise");
    let (_, body) = s.get_with("/api/search?q=笋浯危化", GRID_MANAGER);
    assert_eq!(json(&body)["items"].as_array().unwrap().len(), 0);
    assert_eq!(s.get("/api/search").0, 400);
}

#[test]
fn features_inside_a_unit() {
    let (_tmp, s) = start();
    let ids = |body: &str| -> Vec<String> {
        let v = json(body);
        let mut ids: Vec<String> = v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let (status, body) = s.get_with(
        &format!("/api/cells/{OWN_VILLAGE}/features?layer=enterprises"),
        GRID_MANAGER,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body), ["E1", "E2"]);
    let (_, body) = s.get_with(
        &format!("/api/cells/{OWN_VILLAGE}/features?layer=cells"),
        GRID_MANAGER,
    );
    assert_eq!(ids(&body), [OWN_CELL, "350502001001002"]);
    let level = &json(&body)["features"][0]["properties"]["risk_level"];
    assert!(["major", "high", "medium", "low"].contains(&level.as_str().unwrap_or("")));
    let (_, body) = s.get_with(
        &format!("/api/cells/{TOWN}/features?layer=enterprises"),
        PLANNER,
    );
    assert_eq!(ids(&body), ["E1", "E2", "E3"]);
    let (_, body) = s.get_with(
        &format!("/api/cells/{OWN_CELL}/features?layer=collapse_zones"),
        PLANNER,
    );
    assert_eq!(ids(&body), ["CZ-1"]);
    assert_eq!(
        s.get_with(
            &format!("/api/cells/{SIBLING_VILLAGE}/features?layer=enterprises"),
            GRID_MANAGER
        )
        .0,
        403
    );
    assert_eq!(
        s.get_with(&format!("/api/cells/{OWN_VILLAGE}/features"), GRID_MANAGER)
            .0,
        400
    );
    assert_eq!(
        s.get_with(
            &format!("/api/cells/{OWN_VILLAGE}/features?layer=roads"),
            GRID_MANAGER
        )
        .0,
        400
    );
    assert_eq!(
        s.get(&format!(
            "/api/cells/{OWN_VILLAGE}/features?layer=enterprises"
        ))
        .0,
        401
    );
}

#[test]
fn closing_public_access() {
    let (_tmp, s) = start_tiny("public_access = false\n");
    assert_eq!(s.get("/api/ranking").0, 401);
    assert_eq!(s.get("/health").0, 200);
    assert_eq!(s.get_with("/api/ranking", PLANNER).0, 200);
    // The page and its files stay open: it asks for a token itself.
    assert_eq!(s.get("/").0, 200);
    assert_eq!(s.get("/styles/riskmap.json").0, 200);
    assert_eq!(s.get("/tiles.json").0, 401);
}

/// `/api/cells/at` agrees with a brute-force point-in-polygon over every
/// cell of the generated demo city on 1,000 random points.
#[test]
fn point_lookup_matches_brute_force_on_the_demo_city() {
    use geo::{BoundingRect, Intersects, Point};
    use rand::{Rng, SeedableRng};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data/quanzhou");
    let generated = run(
        dir.path(),
        &[
            "generate",
            "--preset",
            "quanzhou",
            "--seed",
            "7",
            "--out",
            data.to_str().unwrap(),
        ],
    );
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    install_demo_tokens(dir.path());
    let server = Server::start(dir.path(), &data, &[]);

    let loaded =
        riskmap::ingest::load_dir(&data, &riskmap::config::Config::default().ingest()).unwrap();
    let cells: Vec<_> = loaded
        .dataset
        .units
        .iter()
        .filter(|u| u.level == riskmap::model::Level::Cell)
        .map(|u| {
            (
                u.code.clone(),
                u.geometry.bounding_rect().unwrap(),
                &u.geometry,
            )
        })
        .collect();
    assert!(cells.len() > 10_000, "{} cells", cells.len());
    let (mut w, mut s, mut e, mut n) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (_, r, _) in &cells {
        w = w.min(r.min().x);
        s = s.min(r.min().y);
        e = e.max(r.max().x);
        n = n.max(r.max().y);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261201);
    let (mut inside, mut outside) = (0, 0);
    for _ in 0..1000 {
        let p = Point::new(rng.random_range(w..e), rng.random_range(s..n));
        let expected: Vec<&str> = cells
            .iter()
            .filter(|(_, r, g)| {
                r.min().x <= p.x()
                    && p.x() <= r.max().x
                    && r.min().y <= p.y()
                    && p.y() <= r.max().y
                    && g.intersects(&p)
            })
            .map(|(c, _, _)| c.as_str())
            .collect();
        let (status, body) = server.get_with(
            &format!("/api/cells/at?lon={}&lat={}", p.x(), p.y()),
            PLANNER,
        );
        if expected.is_empty() {
            assert_eq!(status, 404, "{p:?}: {body}");
            outside += 1;
        } else {
            assert_eq!(status, 200, "{p:?}: {body}");
            let code = json(&body)["code"].as_str().unwrap().to_string();
            // On a shared boundary the lowest code wins.
            assert_eq!(Some(&code.as_str()), expected.iter().min(), "{p:?}");
            inside += 1;
        }
    }
    // The city's bounding box holds both land and sea.
    assert!(
        inside > 100 && outside > 50,
        "{inside} inside, {outside} outside"
    );
}

/// Hidden-danger records of the tiny dataset: two open ones in the grid
/// manager's village 金山 (one of E1's, past its deadline on the as-of
/// day), a closed one there and an open one in the sibling village 笋浯.
const DANGERS_CSV: &str = "id,enterprise_id,category,grade,description,source,found_at,deadline,responsible,status,closed_at,lon,lat\n\
    D-OWN-1,E1,gas,major,储罐阀门泄漏,inspection,2026-05-01,2026-06-01,王五,rectifying,,,\n\
    D-OWN-2,,road,general,路面沉降,patrol,2026-06-01,2026-07-01,,reported,,118.595,24.911\n\
    D-SHUT,,road,general,井盖缺失,patrol,2026-05-01,2026-05-20,,closed,2026-05-10,118.596,24.912\n\
    D-SIB,,fire,general,消防通道堵塞,report,2026-06-02,2026-07-02,,reported,,118.605,24.915\n";

/// Serves the tiny dataset with [`DANGERS_CSV`] on the as-of day 2026-06-15.
fn start_with_dangers() -> (tempfile::TempDir, Server) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_tiny_dataset(&data);
    std::fs::write(data.join("hidden_dangers.csv"), DANGERS_CSV).unwrap();
    install_demo_tokens(tmp.path());
    std::fs::write(
        tmp.path().join("riskmap.toml"),
        "[risk]\nas_of = \"2026-06-15\"\n",
    )
    .unwrap();
    let server = Server::start(tmp.path(), &data, &[]);
    (tmp, server)
}

/// The ledger's rows (headers first) as the server sends them, read with
/// openpyxl (XLSX) or Python's csv module (CSV).
fn ledger_rows_read(
    s: &Server,
    tmp: &std::path::Path,
    code: &str,
    token: &str,
    ext: &str,
) -> Vec<Vec<Value>> {
    let resp = ureq::get(&format!("{}/api/cells/{code}/ledger.{ext}", s.base))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).unwrap();
    let path = tmp.join(format!("ledger-{code}.{ext}"));
    std::fs::write(&path, &bytes).unwrap();
    let script = if ext == "xlsx" {
        "import openpyxl,sys,json\nws=openpyxl.load_workbook(sys.argv[1]).active\nprint(json.dumps([list(r) for r in ws.iter_rows(values_only=True)],ensure_ascii=False))"
    } else {
        "import csv,sys,json\nprint(json.dumps(list(csv.reader(open(sys.argv[1],encoding='utf-8-sig',newline=''))),ensure_ascii=False))"
    };
    let out = Command::new(python())
        .args(["-c", script])
        .arg(&path)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The ledger lists the open hidden dangers inside the unit, with status,
/// deadline and overdue, and only those the caller's scope sees; the
/// enterprises' open counts come from the records (as in scoring).
#[test]
fn ledger_lists_open_dangers_in_scope() {
    if !require_python_module("openpyxl", "openpyxl") {
        return;
    }
    let (tmp, s) = start_with_dangers();
    let col = |rows: &[Vec<Value>], name: &str| -> usize {
        rows[0]
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}: {:?}", rows[0]))
    };
    let text = |v: &Value| v.as_str().map(str::to_string).unwrap_or_default();

    // The grid manager's own village, as a workbook.
    let rows = ledger_rows_read(&s, tmp.path(), OWN_VILLAGE, GRID_MANAGER, "xlsx");
    let id = col(&rows, "编号");
    let ids: Vec<String> = rows[1..].iter().map(|r| text(&r[id])).collect();
    assert_eq!(
        ids,
        ["HS-1", "E1", "CZ-1", "D-OWN-1", "D-OWN-2"],
        "{rows:?}"
    );
    let row = |want: &str| rows[1..].iter().find(|r| r[id] == want).unwrap();
    let d1 = row("D-OWN-1");
    assert_eq!(d1[col(&rows, "风险点类别")], "隐患");
    assert_eq!(d1[col(&rows, "名称")], "储罐阀门泄漏");
    assert_eq!(d1[col(&rows, "风险等级")], "重大隐患");
    assert_eq!(d1[col(&rows, "所属单元网格")], OWN_CELL);
    assert_eq!(d1[col(&rows, "责任人")], "王五");
    assert_eq!(d1[col(&rows, "隐患状态")], "整改中");
    assert_eq!(d1[col(&rows, "整改时限")], "2026-06-01");
    assert_eq!(d1[col(&rows, "是否逾期")], "是");
    // It takes E1's point, a number in the workbook.
    assert!((d1[col(&rows, "经度")].as_f64().unwrap() - 118.585).abs() < 1e-9);
    let d2 = row("D-OWN-2");
    assert_eq!(d2[col(&rows, "隐患状态")], "已上报");
    assert_eq!(d2[col(&rows, "是否逾期")], "否");
    assert_eq!(d2[col(&rows, "所属单元网格")], "350502001001002");
    // E1's open dangers are its one open record, a major one (its own
    // fields say 2 and 0, but the layer is loaded).
    let e1 = row("E1");
    assert_eq!(e1[col(&rows, "未整改隐患")], 1);
    assert_eq!(e1[col(&rows, "未整改重大隐患")], 1);
    assert!(e1[col(&rows, "隐患状态")].is_null());
    // Out of scope (笋浯) and closed records are absent.
    for absent in ["D-SIB", "D-SHUT", "E3", "HS-2"] {
        assert!(!ids.iter().any(|i| i == absent), "{absent} in {ids:?}");
    }

    // A planner's ledger of the town lists 笋浯's danger too (CSV).
    let rows = ledger_rows_read(&s, tmp.path(), TOWN, PLANNER, "csv");
    let id = col(&rows, "编号");
    let ids: Vec<String> = rows[1..].iter().map(|r| text(&r[id])).collect();
    assert!(ids.contains(&"D-SIB".to_string()), "{ids:?}");
    assert!(!ids.contains(&"D-SHUT".to_string()), "{ids:?}");
    // The grid manager cannot ask for the town or the sibling village.
    for code in [TOWN, SIBLING_VILLAGE] {
        assert_eq!(
            s.get_with(&format!("/api/cells/{code}/ledger.csv"), GRID_MANAGER)
                .0,
            403
        );
    }
}

/// `/api/hidden-dangers?within=` checks the code as `/api/cells/{code}`
/// does: for a grid manager any code outside its scope — known, unknown
/// or malformed — is 403 (its existence is never told), then 400, then
/// 404 for a planner.
#[test]
fn dangers_within_has_the_cells_order_of_checks() {
    let (_tmp, s) = start_with_dangers();
    let list =
        |code: &str, token: &str| s.get_with(&format!("/api/hidden-dangers?within={code}"), token);
    for (code, planner, manager) in [
        (OWN_VILLAGE, 200, 200),
        (SIBLING_VILLAGE, 200, 403),
        (TOWN, 200, 403),
        ("350502009009", 404, 403),
        ("12ab", 400, 403),
    ] {
        assert_eq!(list(code, PLANNER).0, planner, "{code} with the planner");
        let (status, body) = list(code, GRID_MANAGER);
        assert_eq!(status, manager, "{code} with the grid manager: {body}");
    }
    // The same codes on `/api/cells/{code}` answer the same.
    for code in ["350502009009", "12ab", SIBLING_VILLAGE] {
        assert_eq!(
            s.get_with(&format!("/api/cells/{code}"), GRID_MANAGER).0,
            403
        );
    }
    let (_, body) = list(OWN_VILLAGE, GRID_MANAGER);
    let ids: Vec<String> = json(&body)["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&"D-OWN-1".to_string()), "{ids:?}");
    assert!(!ids.contains(&"D-SIB".to_string()), "{ids:?}");
}
