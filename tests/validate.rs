//! `riskmap validate` on good and broken datasets, as a user runs it.

mod common;

use common::*;
use std::path::Path;

fn validate(dir: &Path) -> (i32, String) {
    let out = run(dir, &["validate", "--data", "."]);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn tiny_dataset_is_valid_and_gbk_names_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    let (code, text) = validate(tmp.path());
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("3 enterprises, 2 hazard sources, 1 collapse zones, 3 cells, 2 villages, 1 towns, 1 counties"), "{text}");
    // The county was dissolved from its town (no counties file).
    let config = riskmap::config::Config::default();
    let snap = riskmap::snapshot::Snapshot::load(tmp.path(), &config).unwrap();
    let names: Vec<&str> = snap
        .store
        .dataset
        .enterprises
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["泉州燃气有限公司", "海滨鞋业", "笋浯危化仓储"]);
    assert_eq!(
        snap.store.dataset.enterprises[0].industry,
        riskmap::model::Industry::Gas
    );
    let county = snap
        .store
        .unit_by_code("350502")
        .map(|u| snap.store.unit(u).population);
    assert_eq!(county, Some(2300));
}

/// Breaks one file and expects exit 1 with a message naming file and feature.
fn expect_broken(file: &str, content: &[u8], wants: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    std::fs::write(tmp.path().join(file), content).unwrap();
    let (code, text) = validate(tmp.path());
    assert_eq!(code, 1, "{file}: expected exit 1\n{text}");
    assert!(!text.contains("panicked"), "{text}");
    for w in wants {
        assert!(text.contains(w), "{file}: expected {w:?} in\n{text}");
    }
}

#[test]
fn truncated_geojson() {
    let g = grid_geojson();
    expect_broken(
        "grid_cells.geojson",
        &g.as_bytes()[..g.len() / 2],
        &["grid_cells.geojson:-: ", "not valid GeoJSON"],
    );
}

#[test]
fn not_json() {
    expect_broken(
        "collapse_zones.geojson",
        b"PK\x03\x04 this is a zip",
        &["collapse_zones.geojson:-: ", "not valid GeoJSON"],
    );
}

#[test]
fn empty_file() {
    expect_broken(
        "hazard_sources.geojson",
        b"",
        &["hazard_sources.geojson:-: ", "empty"],
    );
}

#[test]
fn bow_tie_polygon() {
    let bow = zones_geojson().replace(
        &square(118.581, 24.901, 0.002),
        "[[[118.581,24.901],[118.583,24.903],[118.583,24.901],[118.581,24.903],[118.581,24.901]]]",
    );
    expect_broken(
        "collapse_zones.geojson",
        bow.as_bytes(),
        &[
            "collapse_zones.geojson:#1 CZ-1: field `geometry`: ",
            "self-intersection",
        ],
    );
}

#[test]
fn longitude_999_and_nan() {
    let csv = enterprises_csv()
        .replace("118.595,24.91", "999,24.91")
        .replace(
            "E1,泉州燃气有限公司,燃气,较大,120,2,0,否,118.585,24.906",
            "E1,泉州燃气有限公司,燃气,较大,120,2,0,否,NaN,24.906",
        );
    expect_broken(
        "enterprises.csv",
        csv.as_bytes(),
        &[
            "enterprises.csv:#2 E2: field `lon`: longitude 999 is outside [-180, 180]",
            "enterprises.csv:#1 E1: field `lon`",
        ],
    );
}

#[test]
fn duplicate_ids() {
    let csv = enterprises_csv().replace("E2,", "E1,");
    expect_broken(
        "enterprises.csv",
        csv.as_bytes(),
        &["enterprises.csv:E1: field `id`: duplicate id"],
    );
}

#[test]
fn missing_field() {
    let csv = "企业编号,企业名称,风险等级,经度,纬度\nE1,泉州燃气有限公司,较大,118.585,24.906\n";
    expect_broken(
        "enterprises.csv",
        csv.as_bytes(),
        &["enterprises.csv:#1 E1: field `industry`: required field is missing"],
    );
}

#[test]
fn cell_outside_its_village_and_overlapping() {
    let g = grid_geojson().replace(
        "[[[118.59,24.90],[118.60,24.90],[118.60,24.92],[118.59,24.92],[118.59,24.90]]]",
        "[[[118.585,24.90],[118.61,24.90],[118.61,24.92],[118.585,24.92],[118.585,24.90]]]",
    );
    expect_broken(
        "grid_cells.geojson",
        g.as_bytes(),
        &[
            "350502001001002: field `geometry`: cell lies outside its village",
            "overlaps cell 350502001001002",
        ],
    );
}

/// A seam of about 0.5 m between two cells drawn separately is a sliver: a
/// warning, and the dataset still loads.
#[test]
fn sliver_overlap_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    let g = grid_geojson().replace(
        "[[[118.59,24.90],[118.60,24.90],[118.60,24.92],[118.59,24.92],[118.59,24.90]]]",
        "[[[118.589995,24.90],[118.60,24.90],[118.60,24.92],[118.589995,24.92],[118.589995,24.90]]]",
    );
    std::fs::write(tmp.path().join("grid_cells.geojson"), g).unwrap();
    let (code, text) = validate(tmp.path());
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(
            "350502001001001: warning: field `geometry`: cell overlaps cell 350502001001002 by a sliver"
        ),
        "{text}"
    );
    assert!(text.contains("1 warning(s)"), "{text}");
}

#[test]
fn unknown_enum_word_and_bad_hazard_link() {
    let h = hazards_geojson()
        .replace("\"E1\"", "\"E9\"")
        .replace("\"grade\":2", "\"grade\":7");
    expect_broken(
        "hazard_sources.geojson",
        h.as_bytes(),
        &["hazard_sources.geojson:#1 HS-1: field `grade`: unknown hazard grade"],
    );
    let h = hazards_geojson().replace("\"E1\"", "\"E9\"");
    expect_broken(
        "hazard_sources.geojson",
        h.as_bytes(),
        &[
            "hazard_sources.geojson:HS-1: field `enterprise_id`: enterprise \"E9\" is not in the enterprises layer",
        ],
    );
}

#[test]
fn skip_mode_drops_bad_features_and_loads() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    let csv = enterprises_csv().replace("118.595,24.91", "999,24.91");
    std::fs::write(tmp.path().join("enterprises.csv"), csv).unwrap();
    std::fs::write(tmp.path().join("riskmap.toml"), "on_invalid = \"skip\"\n").unwrap();
    let (code, text) = validate(tmp.path());
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("warning: field `lon`") && text.contains("2 enterprises"),
        "{text}"
    );
}
