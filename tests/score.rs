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
