//! `riskmap score` writes every grid unit with its risk fields.

mod common;

use common::*;

#[test]
fn score_writes_every_level_in_each_format() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_tiny_dataset(&data);
    for ext in ["csv", "geojson", "fgb"] {
        let out = tmp.path().join(format!("scores.{ext}"));
        let o = run(
            tmp.path(),
            &["score", "--data", "ds", "--out", out.to_str().unwrap()],
        );
        assert!(
            o.status.success(),
            "{ext}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let bytes = std::fs::read(&out).unwrap();
        let mut issues = Vec::new();
        let table = riskmap::ingest::read_table(&out, &bytes, &mut issues).unwrap();
        assert!(issues.is_empty(), "{issues:?}");
        // 1 county + 1 town + 2 villages + 3 cells.
        assert_eq!(table.records.len(), 7, "{ext}");
        for col in [
            "code",
            "level",
            "parent_code",
            "population",
            "risk_score",
            "risk_level",
            "risk_color",
            "m",
            "domain_hazardous_chemicals",
            "domain_hazard_sources",
            "domain_collapse_zones",
            "domain_hidden_dangers",
            "domain_alarms",
        ] {
            assert!(
                table.columns.iter().any(|c| c == col),
                "{ext}: no {col} in {:?}",
                table.columns
            );
        }
        if ext == "csv" {
            assert!(
                bytes.starts_with(b"\xEF\xBB\xBF"),
                "CSV needs a BOM for Excel"
            );
        }
    }
    // Without GDAL, .gpkg and .shp say how to get them (tests/gdal.rs
    // covers them with the feature).
    #[cfg(not(feature = "gdal"))]
    for out in ["x.gpkg", "x.shp"] {
        let o = run(tmp.path(), &["score", "--data", "ds", "--out", out]);
        assert!(!o.status.success());
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains("--features gdal") && stderr.contains(out),
            "{stderr}"
        );
    }
}

/// `riskmap score` and the server agree, unit by unit: the GeoJSON and CSV
/// outputs (read here with serde_json and a split on commas, not the
/// crate's readers) carry the score and level `/api/cells/{code}` serves.
#[test]
fn score_output_agrees_with_the_servers_api() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_tiny_dataset(&data);
    install_demo_tokens(tmp.path());
    for ext in ["geojson", "csv"] {
        let o = run(
            tmp.path(),
            &["score", "--data", "ds", "--out", &format!("scores.{ext}")],
        );
        assert!(o.status.success(), "{}", output_text(&o));
    }
    let server = Server::start(tmp.path(), &data, &[]);

    let geojson = json(&std::fs::read_to_string(tmp.path().join("scores.geojson")).unwrap());
    let rows: Vec<(String, f64, String)> = geojson["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = &f["properties"];
            (
                p["code"].as_str().unwrap().to_string(),
                p["risk_score"].as_f64().expect("risk_score is a number"),
                p["risk_level"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 7);

    let csv = std::fs::read_to_string(tmp.path().join("scores.csv")).unwrap();
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (c_code, c_score, c_level) = (col("code"), col("risk_score"), col("risk_level"));
    let csv_rows: Vec<(String, f64, String)> = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (
                cells[c_code].to_string(),
                cells[c_score].parse().unwrap(),
                cells[c_level].to_string(),
            )
        })
        .collect();
    let mut a = rows.clone();
    let mut b = csv_rows;
    a.sort_by(|x, y| x.0.cmp(&y.0));
    b.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(a, b, "GeoJSON and CSV outputs differ");

    for (code, score, level) in &rows {
        let (status, body) = server.get_with(&format!("/api/cells/{code}"), PLANNER);
        assert_eq!(status, 200, "{code}: {body}");
        let v = json(&body);
        let served = v["risk_score"]
            .as_f64()
            .unwrap_or_else(|| panic!("{code}: no risk_score in {body}"));
        assert!(
            (served - score).abs() < 1e-9,
            "{code}: score file {score}, API {served}"
        );
        assert_eq!(v["risk_level"].as_str(), Some(level.as_str()), "{code}");
    }
    // Not all one value: a comparison of constants would prove little.
    let distinct: std::collections::BTreeSet<String> =
        rows.iter().map(|r| format!("{:.1}", r.1)).collect();
    assert!(distinct.len() >= 3, "{rows:?}");
}
