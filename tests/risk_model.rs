//! RISK_MODEL v2 through the real binary: the eight worked examples on tiny
//! datasets built here (scores read from `riskmap score` and the served
//! API), the grid manager's view of an out-of-scope contributor, and the
//! demo's additivity and ranking.
//!
//! Expected numbers come from the model's formulas written out in the tests
//! (S = 100 · (1 − e^(−V·Λ)), λ = −ln(1 − x/100), contribution S · λ_f / Λ,
//! the roll-up 0.6 · max + 0.4 · weighted mean), never from the code.

mod common;

use common::*;
use riskmap::crs::metric::LocalProjection;
use serde_json::Value;
use std::path::Path;

/// The cells' south-west corner.
const X0: f64 = 118.0;
const Y0: f64 = 25.0;

fn lam(x: f64) -> f64 {
    -(1.0 - x.min(99.99) / 100.0).ln()
}

fn s_of(v: f64, lambdas: &[f64]) -> f64 {
    100.0 * (1.0 - (-v * lambdas.iter().sum::<f64>()).exp())
}

/// Rounds half away from zero to one decimal.
fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn ring(x0: f64, y0: f64, x1: f64, y1: f64) -> String {
    format!("[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]")
}

fn polygon(props: &str, rings: &str) -> String {
    format!(
        "{{\"type\":\"Feature\",\"properties\":{{{props}}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":{rings}}}}}"
    )
}

fn collection(features: &[String]) -> String {
    format!(
        "{{\"type\":\"FeatureCollection\",\"features\":[{}]}}",
        features.join(",")
    )
}

/// A hazard source of `grade` at (x, y).
fn source(id: &str, grade: u8, monitored: bool, x: f64, y: f64) -> String {
    format!(
        "{{\"type\":\"Feature\",\"properties\":{{\"id\":\"{id}\",\"name\":\"{id}储罐\",\"grade\":{grade},\"substances\":\"液化石油气\",\"monitored\":{monitored}}},\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{x},{y}]}}}}"
    )
}

/// Example 3's enterprise at (x, y): hazardous chemicals, graded major, 3
/// open hidden dangers, no employees.
fn chemicals(x: f64, y: f64) -> String {
    format!("E-1,某化工有限公司,hazardous_chemicals,major,0,3,0,no,{x},{y}")
}

/// Example 4's cavity: severity 3, covering the western half of the cell at X0.
fn half_cavity() -> String {
    polygon(
        "\"id\":\"CZ-1\",\"kind\":\"cavity\",\"severity\":3",
        &ring(X0 - 0.01, Y0 - 0.01, X0 + 0.005, Y0 + 0.02),
    )
}

/// A point `metres` east of the east edge of a 0.01° cell starting at `x0`,
/// at the cell's mid latitude.
fn east_of(x0: f64, metres: f64) -> (f64, f64) {
    let y = Y0 + 0.005;
    let (kx, _) = LocalProjection::new(geo::Point::new(x0 + 0.01, y)).metres_per_degree();
    (x0 + 0.01 + metres / kx, y)
}

/// A dataset folder: one town and village holding 0.01° cells starting at
/// the given longitudes (with their populations), and the feature layers.
/// `exposure_one` pins V = 1 (`[risk.exposure] base = 1, span = 0`) as the
/// worked examples assume.
fn dataset(
    root: &Path,
    cells: &[(f64, u64)],
    sources: &[String],
    enterprises: &[String],
    zones: &[String],
    exposure_one: bool,
) {
    let dir = root.join("ds");
    std::fs::create_dir_all(&dir).unwrap();
    let west = cells.iter().map(|c| c.0).fold(f64::INFINITY, f64::min);
    let east = cells
        .iter()
        .map(|c| c.0 + 0.01)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut grid = vec![
        polygon(
            "\"code\":\"350502001\",\"name\":\"海滨街道\",\"level\":\"town\",\"parent_code\":\"350502\"",
            &ring(west, Y0, east, Y0 + 0.01),
        ),
        polygon(
            "\"code\":\"350502001001\",\"name\":\"金山社区\",\"level\":\"village\",\"parent_code\":\"350502001\"",
            &ring(west, Y0, east, Y0 + 0.01),
        ),
    ];
    for (i, (x, pop)) in cells.iter().enumerate() {
        grid.push(polygon(
            &format!(
                "\"code\":\"350502001001{:03}\",\"name\":\"网格{}\",\"level\":\"cell\",\"parent_code\":\"350502001001\",\"population\":{pop}",
                i + 1,
                i + 1
            ),
            &ring(*x, Y0, x + 0.01, Y0 + 0.01),
        ));
    }
    std::fs::write(dir.join("grid_cells.geojson"), collection(&grid)).unwrap();
    std::fs::write(dir.join("hazard_sources.geojson"), collection(sources)).unwrap();
    std::fs::write(dir.join("collapse_zones.geojson"), collection(zones)).unwrap();
    let mut csv = String::from(
        "id,name,industry,risk_grade,employees,hidden_dangers_open,major_hidden_dangers_open,blacklisted,lon,lat\n",
    );
    for e in enterprises {
        csv.push_str(e);
        csv.push('\n');
    }
    std::fs::write(dir.join("enterprises.csv"), csv).unwrap();
    let toml = if exposure_one {
        "[risk.exposure]\nbase = 1.0\nspan = 0.0\n"
    } else {
        ""
    };
    std::fs::write(root.join("riskmap.toml"), toml).unwrap();
}

/// `riskmap score` of `root/ds`: each unit's properties by code.
fn score(root: &Path) -> std::collections::HashMap<String, Value> {
    let out = root.join("scores.geojson");
    let o = run(
        root,
        &["score", "--data", "ds", "--out", out.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", output_text(&o));
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["properties"].clone();
            (p["code"].as_str().unwrap().to_string(), p)
        })
        .collect()
}

const CELL: &str = "350502001001001";
const CELL_B: &str = "350502001001002";
const VILLAGE: &str = "350502001001";

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("no number {key} in {v}"))
}

/// The sum of a unit's `domain_*` properties.
fn domain_sum(v: &Value) -> f64 {
    v.as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("domain_"))
        .map(|(_, x)| x.as_f64().unwrap_or(0.0))
        .sum()
}

/// Checks a unit's shown score and level against an unrounded S, and that
/// its domains sum to S.
fn check(unit: &Value, s: f64, level: &str) {
    assert_eq!(num(unit, "risk_score"), round1(s), "{unit}");
    assert_eq!(unit["risk_level"], level, "{unit}");
    assert!(
        (domain_sum(unit) - s).abs() < 1e-6,
        "{} vs {s}",
        domain_sum(unit)
    );
}

#[test]
fn example_1_grade_2_source_inside() {
    let tmp = tempfile::tempdir().unwrap();
    let src = source("HS-0001", 2, false, X0 + 0.005, Y0 + 0.005);
    dataset(tmp.path(), &[(X0, 1000)], &[src], &[], &[], true);
    let units = score(tmp.path());
    let cell = &units[CELL];
    check(cell, 60.0, "high");
    assert!((num(cell, "h") - 60.0).abs() < 1e-9);
    assert!((num(cell, "domain_hazard_sources") - 60.0).abs() < 1e-9);
    assert_eq!(num(cell, "domain_collapse_zones"), 0.0);
}

#[test]
fn example_2_grade_1_source_at_1500_m_monitored() {
    let tmp = tempfile::tempdir().unwrap();
    let (x, y) = east_of(X0, 1500.0);
    dataset(
        tmp.path(),
        &[(X0, 1000)],
        &[source("HS-0007", 1, true, x, y)],
        &[],
        &[],
        true,
    );
    let units = score(tmp.path());
    // h = 100 · (1 − 1500/3000)² = 25, × 0.8 monitored.
    let h = 100.0 * (1.0 - 1500.0f64 / 3000.0).powi(2) * 0.8;
    check(&units[CELL], s_of(1.0, &[lam(h)]), "low");
}

#[test]
fn example_3_chemicals_enterprise() {
    let tmp = tempfile::tempdir().unwrap();
    dataset(
        tmp.path(),
        &[(X0, 1000)],
        &[],
        &[chemicals(X0 + 0.007, Y0 + 0.005)],
        &[],
        true,
    );
    let units = score(tmp.path());
    // w = 10 · 4 · (1 + 0.1 · 3) = 52, λ = 52/60.
    let s = s_of(1.0, &[52.0 / 60.0]);
    assert!((s - 57.96).abs() < 0.005);
    check(&units[CELL], s, "high");
    assert!((num(&units[CELL], "domain_hazardous_chemicals") - s).abs() < 1e-6);
}

#[test]
fn example_4_plus_half_cavity_with_contributions() {
    let tmp = tempfile::tempdir().unwrap();
    dataset(
        tmp.path(),
        &[(X0, 1000)],
        &[],
        &[chemicals(X0 + 0.007, Y0 + 0.005)],
        &[half_cavity()],
        true,
    );
    let units = score(tmp.path());
    let lambdas = [52.0 / 60.0, 2f64.ln()];
    let s = s_of(1.0, &lambdas);
    assert!((s - 78.98).abs() < 0.005);
    check(&units[CELL], s, "major");
    assert!((num(&units[CELL], "c") - 50.0).abs() < 0.05);
    // The served contributions: S · λ_f / Λ.
    install_demo_tokens(tmp.path());
    let server = Server::start(tmp.path(), &tmp.path().join("ds"), &[]);
    let (status, body) = server.get_with(&format!("/api/cells/{CELL}"), PLANNER);
    assert_eq!(status, 200, "{body}");
    let v = json(&body);
    let total: f64 = lambdas.iter().sum();
    let list = v["contributions"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{body}");
    assert_eq!(list[0]["id"], "E-1");
    assert_eq!(list[0]["layer"], "enterprises");
    assert_eq!(list[0]["domain"], "hazardous_chemicals");
    assert_eq!(list[0]["component"], "E");
    assert!((num(&list[0], "contribution") - s * lambdas[0] / total).abs() < 1e-6);
    assert!((num(&list[0], "contribution") - 43.88).abs() < 0.005);
    assert_eq!(list[1]["id"], "CZ-1");
    assert_eq!(list[1]["component"], "C");
    assert!((num(&list[1], "contribution") - s * lambdas[1] / total).abs() < 1e-6);
    assert!((num(&list[1], "contribution") - 35.10).abs() < 0.005);
    assert!(list[0]["label"].as_str().unwrap().ends_with("→ E +43.9"));
    // The v1 number as `marginal`: S − S without the enterprise (C = 50 alone).
    assert!((num(&list[0], "marginal") - (s - 50.0)).abs() < 1e-6);
    assert_eq!(v["top_contributors"], v["contributions"]);
    assert!((num(&v["domains"], "hazardous_chemicals") - s * lambdas[0] / total).abs() < 1e-6);
    assert!((num(&v["domains"], "collapse_zones") - s * lambdas[1] / total).abs() < 1e-6);
}

#[test]
fn example_5_least_and_densest_cell() {
    // Two equal cells: the one without population has p = 0 (V = 0.8), the
    // other p = 1 (V = 1.2). The features sit in the first.
    for (pops, v, shown, level) in [
        ([0, 500], 0.8, 71.3, "high"),
        ([500, 0], 1.2, 84.6, "major"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        dataset(
            tmp.path(),
            &[(X0, pops[0]), (X0 + 0.02, pops[1])],
            &[],
            &[chemicals(X0 + 0.007, Y0 + 0.005)],
            &[half_cavity()],
            false,
        );
        let units = score(tmp.path());
        let s = s_of(v, &[52.0 / 60.0, 2f64.ln()]);
        assert_eq!(round1(s), shown);
        check(&units[CELL], s, level);
        assert!((num(&units[CELL], "v") - v).abs() < 1e-9);
        assert!((num(&units[CELL_B], "v") - (2.0 - v)).abs() < 1e-9);
    }
}

#[test]
fn example_6_one_danger_past_its_deadline() {
    // Example 3's enterprise, its three open dangers as records of the
    // hidden_dangers layer: on 2026-06-15 one is past its deadline, so
    // w = 52 · 1.25 = 65 and S = 66.15 → 66.2.
    let tmp = tempfile::tempdir().unwrap();
    dataset(
        tmp.path(),
        &[(X0, 1000)],
        &[],
        &[chemicals(X0 + 0.007, Y0 + 0.005)],
        &[],
        true,
    );
    let records = "id,enterprise_id,category,grade,description,source,found_at,deadline,responsible,status,closed_at\n\
        HD-1,E-1,fire,general,消防通道堵塞,self_check,2026-05-01,2026-06-10,张三,rectifying,\n\
        HD-2,E-1,fire,general,灭火器过期,self_check,2026-06-01,2026-07-01,张三,reported,\n\
        HD-3,E-1,other,general,警示标志缺失,patrol,2026-06-05,2026-07-05,张三,reported,\n\
        HD-4,E-1,other,general,已整改,patrol,2026-03-01,2026-03-20,张三,closed,2026-03-18\n";
    std::fs::write(tmp.path().join("ds/hidden_dangers.csv"), records).unwrap();
    let config = "[risk]\nas_of = \"2026-06-15\"\n\n[risk.exposure]\nbase = 1.0\nspan = 0.0\n";
    std::fs::write(tmp.path().join("riskmap.toml"), config).unwrap();
    let units = score(tmp.path());
    let s = s_of(1.0, &[52.0 * 1.25 / 60.0]);
    assert!((s - 66.15).abs() < 0.005, "{s}");
    check(&units[CELL], s, "high");
    // On the deadline day itself nothing is overdue yet: example 3's 58.0.
    let config = config.replace("2026-06-15", "2026-06-10");
    std::fs::write(tmp.path().join("riskmap.toml"), config).unwrap();
    let units = score(tmp.path());
    check(&units[CELL], s_of(1.0, &[52.0 / 60.0]), "high");

    // The factor is a `[risk]` constant; a bad value names its key.
    std::fs::write(
        tmp.path().join("riskmap.toml"),
        "[risk.hidden_dangers]\noverdue_factor = -1\n",
    )
    .unwrap();
    let o = run(tmp.path(), &["score", "--data", "ds", "--out", "x.geojson"]);
    assert!(!o.status.success());
    assert!(
        output_text(&o).contains("risk.hidden_dangers.overdue_factor"),
        "{}",
        output_text(&o)
    );
}

#[test]
fn example_8_roll_up_and_its_contributions() {
    let tmp = tempfile::tempdir().unwrap();
    // Cell A: example 4 (population 1,000); cell B at X0 + 0.04: example 2
    // (population 3,000), its source 1,500 m east of B.
    let (x, y) = east_of(X0 + 0.04, 1500.0);
    dataset(
        tmp.path(),
        &[(X0, 1000), (X0 + 0.04, 3000)],
        &[source("HS-0007", 1, true, x, y)],
        &[chemicals(X0 + 0.007, Y0 + 0.005)],
        &[half_cavity()],
        true,
    );
    let units = score(tmp.path());
    let lambdas = [52.0 / 60.0, 2f64.ln()];
    let total: f64 = lambdas.iter().sum();
    let sa = s_of(1.0, &lambdas);
    let sb = 20.0;
    check(&units[CELL], sa, "major");
    check(&units[CELL_B], sb, "low");
    let m = (1000.0 * sa + 3000.0 * sb) / 4000.0;
    assert!((m - 34.75).abs() < 0.005);
    let village = 0.6 * sa + 0.4 * m;
    assert!((village - 61.29).abs() < 0.005);
    check(&units[VILLAGE], village, "high");
    // The town holds only this village: the same score.
    check(&units["350502001"], village, "high");

    install_demo_tokens(tmp.path());
    let server = Server::start(tmp.path(), &tmp.path().join("ds"), &[]);
    let (status, body) = server.get_with(&format!("/api/cells/{VILLAGE}"), PLANNER);
    assert_eq!(status, 200, "{body}");
    let v = json(&body);
    let got: Vec<(String, f64)> = v["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                num(c, "contribution"),
            )
        })
        .collect();
    let (ea, ca) = (sa * lambdas[0] / total, sa * lambdas[1] / total);
    let want = [
        ("E-1", 0.6 * ea + 0.4 * 0.25 * ea, 30.72),
        ("CZ-1", 0.6 * ca + 0.4 * 0.25 * ca, 24.57),
        ("HS-0007", 0.4 * 0.75 * sb, 6.00),
    ];
    assert_eq!(got.len(), 3, "{body}");
    for ((id, c), (wid, wc, shown)) in got.iter().zip(want) {
        assert_eq!(id, wid);
        assert!((c - wc).abs() < 1e-6, "{id}: {c} vs {wc}");
        assert!((c - shown).abs() < 0.005, "{id}: {c} vs {shown}");
    }
    let sum: f64 = got.iter().map(|(_, c)| c).sum();
    assert!((sum - village).abs() < 1e-6);
    let domains: f64 = v["domains"]
        .as_object()
        .unwrap()
        .values()
        .map(|x| x.as_f64().unwrap())
        .sum();
    assert!((domains - village).abs() < 1e-6);
    assert!((num(&v["domains"], "hazard_sources") - 0.4 * 0.75 * sb).abs() < 1e-6);

    // The OGC grid-unit collections carry the domains, queryable (on unit
    // cells for a token holder: they tell which industries are there).
    let (status, body) = server.get_with("/ogc/collections/cells/queryables", PLANNER);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json(&body)["properties"]["domain_hazard_sources"]["type"],
        "number"
    );
    let (status, body) = server.get_with(
        "/ogc/collections/cells/items?filter=domain_hazard_sources%20%3E%2010",
        PLANNER,
    );
    assert_eq!(status, 200, "{body}");
    let fc = json(&body);
    let hits = fc["features"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{body}");
    assert_eq!(hits[0]["properties"]["code"], CELL_B);
    assert!((num(&hits[0]["properties"], "domain_hazard_sources") - sb).abs() < 1e-6);
    let (_, body) = server.get(&format!("/ogc/collections/villages/items/{VILLAGE}"));
    let props = &json(&body)["properties"];
    assert!((domain_sum(props) - village).abs() < 1e-6, "{props}");
}

#[test]
fn grid_manager_sees_an_out_of_scope_source_without_identity() {
    // The tiny grid (the grid manager holds village 金山 350502001001); a
    // grade-1 source in the sibling village 笋浯 reaches 金山's cells.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_tiny_dataset(&data);
    std::fs::write(
        data.join("hazard_sources.geojson"),
        collection(&[
            source("HS-1", 2, true, 118.585, 24.905),
            source("HS-OUT", 1, false, 118.605, 24.91),
        ]),
    )
    .unwrap();
    install_demo_tokens(tmp.path());
    let server = Server::start(tmp.path(), &data, &[]);
    let own = "350502001001002";
    let (status, body) = server.get_with(&format!("/api/cells/{own}"), GRID_MANAGER);
    assert_eq!(status, 200, "{body}");
    let v = json(&body);
    let list = v["contributions"].as_array().unwrap();
    let hidden: Vec<&Value> = list
        .iter()
        .filter(|c| c["layer"] == "hazard_sources" && c.get("id").is_none())
        .collect();
    assert_eq!(hidden.len(), 1, "{body}");
    let keys: Vec<&String> = hidden[0].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    for k in ["layer", "domain", "component", "contribution"] {
        assert!(hidden[0].get(k).is_some(), "{k}");
    }
    assert!(num(hidden[0], "contribution") > 0.0);
    assert!(!body.contains("HS-OUT"), "{body}");
    // In scope: the source inside 金山 keeps its id and label.
    assert!(
        list.iter()
            .any(|c| c["id"] == "HS-1" && c["label"].is_string())
    );
    // A planner sees the same source with its identity.
    let (_, body) = server.get_with(&format!("/api/cells/{own}"), PLANNER);
    assert!(body.contains("HS-OUT"), "{body}");
    let sum: f64 = json(&body)["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| num(c, "contribution"))
        .sum();
    assert!((round1(sum) - num(&v, "risk_score")).abs() < 1e-9);
}
