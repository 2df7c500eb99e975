//! QGIS 3.22 (Debian `qgis` + `python3-qgis`, headless) against the demo
//! city: private OGC layers through a Basic-auth configuration holding the
//! token, the vector tiles with the QGIS style, and the ready project
//! `/qgis/riskmap.qgs` drawing cells in the four colours.

mod common;

use common::{GRID_MANAGER, PLANNER, Server, install_demo_tokens};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Debian's python3, where `python3-qgis` installs the `qgis` module.
const SYSTEM_PYTHON: &str = "/usr/bin/python3";

fn has_pyqgis() -> bool {
    let ok = Command::new(SYSTEM_PYTHON)
        .args(["-c", "import qgis.core"])
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .is_ok_and(|o| o.status.success());
    common::require(
        ok,
        "PyQGIS is not installed for /usr/bin/python3 (Debian packages qgis python3-qgis)",
    )
}

/// Runs tests/qgis_client.py; its JSON answer.
fn qgis(args: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/qgis_client.py");
    let o = Command::new(SYSTEM_PYTHON)
        .arg(&script)
        .args(args)
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let line = stdout.lines().rev().find(|l| l.starts_with('{'));
    let Some(line) = line else {
        panic!(
            "qgis_client.py {args:?} printed no JSON (status {}):\n{stdout}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
    };
    serde_json::from_str(line).unwrap()
}

fn get_json(server: &Server, path: &str, token: &str) -> Value {
    let (status, body) = server.get_with(path, token);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Every feature of a collection as the planner sees it (Bearer).
fn all_items(server: &Server, collection: &str, properties: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = get_json(
            server,
            &format!(
                "/ogc/collections/{collection}/items?limit=10000&offset={offset}&properties={properties}"
            ),
            PLANNER,
        );
        let features = page["features"].as_array().unwrap().clone();
        let n = features.len();
        out.extend(features);
        if n < 10000 {
            return out;
        }
        offset += n;
    }
}

fn hex(level: &str) -> &'static str {
    match level {
        "major" => "#d7191c",
        "high" => "#fd8d3c",
        "medium" => "#fecc5c",
        "low" => "#2c7bb6",
        other => panic!("unexpected risk level {other}"),
    }
}

#[test]
fn qgis_reads_private_layers_with_basic_auth_and_the_project_draws_four_colours() {
    if !has_pyqgis() {
        return;
    }
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
        "{}",
        common::output_text(&generated)
    );
    install_demo_tokens(dir.path());
    let server = Server::start(dir.path(), &data, &[]);
    let base = server.base.as_str();
    let out = dir.path().join("qgis");
    std::fs::create_dir_all(&out).unwrap();
    let out = out.to_str().unwrap();

    // Expectations from the server through Bearer, not through QGIS: every
    // enterprise for the planner, and by brute force over them the ones in
    // the grid manager's unit.
    let enterprises = all_items(&server, "enterprises", "cell_code");
    let scope = common::GRID_MANAGER_SCOPE;
    let in_scope = enterprises
        .iter()
        .filter(|f| {
            f["properties"]["cell_code"]
                .as_str()
                .is_some_and(|c| c.starts_with(scope))
        })
        .count();
    assert!(in_scope > 0 && in_scope < enterprises.len());

    let planner = qgis(&["oapif", base, "enterprises", PLANNER]);
    assert_eq!(planner["valid"], true, "{planner}");
    assert_eq!(planner["features"].as_u64(), Some(enterprises.len() as u64));
    let manager = qgis(&["oapif", base, "enterprises", GRID_MANAGER]);
    assert_eq!(
        manager["features"].as_u64(),
        Some(in_scope as u64),
        "{manager}"
    );
    let anonymous = qgis(&["oapif", base, "enterprises"]);
    assert_eq!(anonymous["valid"], false, "{anonymous}");
    assert_eq!(anonymous["features"].as_u64(), Some(0));
    let (status, _) = server.get("/ogc/collections/enterprises/items");
    assert_eq!(status, 401);

    // Vector tiles, enterprises only. Anonymous first on the plain URL (QGIS
    // caches it), then the planner on the `auth=required` URL: the points
    // are drawn; anonymous on that URL draws nothing.
    let public = qgis(&["tiles", base, out, "public"]);
    assert_eq!(public["pixels"].as_u64(), Some(0), "{public}");
    let private = qgis(&["tiles", base, out, "private", PLANNER]);
    assert!(private["pixels"].as_u64().unwrap() > 1000, "{private}");
    assert_eq!(private["warnings"], serde_json::json!([]), "{private}");
    let refused = qgis(&["tiles", base, out, "private"]);
    assert_eq!(refused["pixels"].as_u64(), Some(0), "{refused}");
    let (status, _) = server.get("/tiles/12/3396/1753.mvt?auth=required");
    assert_eq!(status, 401);

    // The project: the largest cell of each level (so it fills pixels
    // beyond its outline), its colour from the OGC layer and the tiles.
    let cells = all_items(&server, "cells", "code,risk_level,area_km2");
    let mut chosen: Vec<(String, String)> = Vec::new();
    for level in ["major", "high", "medium", "low"] {
        let best = cells
            .iter()
            .filter(|f| f["properties"]["risk_level"] == level)
            .max_by(|a, b| {
                let area = |f: &Value| f["properties"]["area_km2"].as_f64().unwrap_or(0.0);
                area(a).total_cmp(&area(b))
            });
        if let Some(f) = best {
            let code = f["properties"]["code"].as_str().unwrap().to_string();
            chosen.push((code, level.to_string()));
        }
    }
    assert!(chosen.len() >= 3, "the demo has cells of most levels");
    let mut args = vec!["project", base, out, PLANNER];
    args.extend(chosen.iter().map(|(c, _)| c.as_str()));
    let project = qgis(&args);
    assert_eq!(project["crs"], "EPSG:3857", "{project}");
    for (id, layer) in project["layers"].as_object().unwrap() {
        assert_eq!(layer["valid"], true, "{id}: {layer}");
    }
    for id in [
        "riskmap_enterprises",
        "riskmap_hazard_sources",
        "riskmap_cells",
    ] {
        assert!(project["layers"].get(id).is_some(), "{id} in {project}");
    }
    for (code, level) in &chosen {
        assert_eq!(
            project["ogc"][code],
            hex(level),
            "OGC layer, cell {code} ({level})"
        );
        assert_eq!(
            project["tiles"][code],
            hex(level),
            "tiles, cell {code} ({level})"
        );
    }
    let png = std::fs::metadata(project["png"].as_str().unwrap()).unwrap();
    assert!(png.len() > 10_000, "the whole-city PNG is drawn");
}

#[test]
fn styles_and_project_are_served_and_linked() {
    let (_dir, server) = common::start_tiny("");
    let (status, body) = server.get("/ogc/collections/cells");
    assert_eq!(status, 200);
    let c: Value = serde_json::from_str(&body).unwrap();
    let link = c["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "stylesheet")
        .unwrap_or_else(|| panic!("no stylesheet link: {c}"));
    let href = link["href"].as_str().unwrap();
    let path = href.strip_prefix(&server.base).unwrap();
    let (status, qml) = server.get(path);
    assert_eq!(status, 200);
    assert!(qml.contains("attr=\"risk_level\""), "{qml}");
    for layer in [
        "counties",
        "enterprises",
        "hazard_sources",
        "collapse_zones",
    ] {
        let (status, _) = server.get(&format!("/qgis/styles/{layer}.qml"));
        assert_eq!(status, 200, "{layer}");
    }
    assert_eq!(server.get("/qgis/styles/grid_cells.qml").0, 404);
    assert_eq!(server.get("/qgis/styles/nothing.qml").0, 404);
    let (status, project) = server.get("/qgis/riskmap.qgs");
    assert_eq!(status, 200);
    assert!(project.contains(&format!("url='{}/ogc' typename='cells'", server.base)));
    let (status, style) = server.get("/qgis/style.json");
    assert_eq!(status, 200);
    let style: Value = serde_json::from_str(&style).unwrap();
    assert!(!style.to_string().contains("fill-pattern"));
}
