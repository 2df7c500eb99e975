//! The `hidden_dangers` layer (隐患 records) end to end on the data side:
//! written by riskmap's writers in every native format and read back equal;
//! records that give only an enterprise take its point; `riskmap validate`
//! names file, feature and field of every bad record; a truncated file is
//! an error; `generate --as-of` checks its date.

mod common;

use common::*;
use geo::Point;
use riskmap::config::Config;
use riskmap::ingest::load_dir;
use riskmap::model::{
    DangerCategory, DangerGrade, DangerSource, DangerStatus, Date, HiddenDanger, Industry,
    OtherCategory,
};
use riskmap::write::{hidden_dangers_table, write_hidden_dangers, write_table};
use std::path::Path;

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

/// Records in the tiny dataset: an enterprise's open major danger, a
/// closed general one, a standalone road danger with no deadline, one with
/// commas, quotes and a line break in its text.
fn records() -> Vec<HiddenDanger> {
    vec![
        HiddenDanger {
            id: "HD-20261101-0001".into(),
            enterprise_id: Some("E1".into()),
            category: DangerCategory::Industry(Industry::Gas),
            grade: DangerGrade::Major,
            description: "燃气泄漏报警装置失效".into(),
            source: DangerSource::Inspection,
            found_at: date("2026-11-01"),
            deadline: Some(date("2026-11-30")),
            responsible: Some("泉州燃气有限公司".into()),
            status: DangerStatus::Rectifying,
            closed_at: None,
            location: Point::new(118.585, 24.906),
        },
        HiddenDanger {
            id: "HD-20260315-0002".into(),
            enterprise_id: Some("E3".into()),
            category: DangerCategory::Industry(Industry::HazardousChemicals),
            grade: DangerGrade::General,
            description: "装卸区静电接地装置损坏".into(),
            source: DangerSource::SelfCheck,
            found_at: date("2026-03-15"),
            deadline: Some(date("2026-04-15")),
            responsible: None,
            status: DangerStatus::Closed,
            closed_at: Some(date("2026-04-02")),
            location: Point::new(118.6051234, 24.9101234),
        },
        HiddenDanger {
            id: "HD-20261120-0001".into(),
            enterprise_id: None,
            category: DangerCategory::Other(OtherCategory::Road),
            grade: DangerGrade::General,
            description: "人行道下方疑似空洞, \"待探测\"\n第二行".into(),
            source: DangerSource::Report,
            found_at: date("2026-11-20"),
            deadline: None,
            responsible: Some("市政管理部门".into()),
            status: DangerStatus::Reported,
            closed_at: None,
            location: Point::new(118.5912345, 24.9154321),
        },
    ]
}

fn load(dir: &Path) -> riskmap::ingest::Loaded {
    load_dir(dir, &Config::default().ingest()).unwrap_or_else(|e| panic!("{e}: {:#?}", e.issues))
}

#[test]
fn every_native_format_round_trips_the_layer() {
    for ext in ["fgb", "geojson", "csv"] {
        let tmp = tempfile::tempdir().unwrap();
        write_tiny_dataset(tmp.path());
        let path = tmp.path().join(format!("hidden_dangers.{ext}"));
        write_table(&path, &hidden_dangers_table(&records())).unwrap();
        let loaded = load(tmp.path());
        assert!(loaded.dataset.has_hidden_dangers, "{ext}");
        let mut read = loaded.dataset.hidden_dangers.clone();
        if ext == "fgb" {
            // FlatGeobuf keeps its features in spatial-index order.
            let order: Vec<String> = records().into_iter().map(|d| d.id).collect();
            read.sort_by_key(|d| order.iter().position(|id| *id == d.id));
        }
        assert_eq!(read, records(), "{ext}");
        assert!(
            loaded
                .files
                .iter()
                .any(|f| f.layer == riskmap::model::LayerId::HiddenDangers && f.path == path),
            "{ext}"
        );
    }
}

#[test]
fn the_layer_is_written_in_the_folders_format() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    // The tiny dataset's enterprises are a CSV: the layer follows.
    let path = write_hidden_dangers(tmp.path(), &records()).unwrap();
    assert_eq!(path, tmp.path().join("hidden_dangers.csv"));
    assert_eq!(load(tmp.path()).dataset.hidden_dangers, records());
    // Writing again replaces that file, in its format.
    let fewer = &records()[..1];
    assert_eq!(write_hidden_dangers(tmp.path(), fewer).unwrap(), path);
    assert_eq!(load(tmp.path()).dataset.hidden_dangers, fewer);
    // A GeoJSON folder gets GeoJSON.
    let gj = tempfile::tempdir().unwrap();
    std::fs::write(gj.path().join("grid_cells.geojson"), grid_geojson()).unwrap();
    assert_eq!(
        write_hidden_dangers(gj.path(), &[]).unwrap(),
        gj.path().join("hidden_dangers.geojson")
    );
}

#[test]
fn absent_and_empty_layers() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    let loaded = load(tmp.path());
    assert!(!loaded.dataset.has_hidden_dangers);
    assert!(
        loaded
            .issues
            .iter()
            .all(|i| !i.file.contains("hidden_dangers")),
        "an absent optional layer is no warning: {:?}",
        loaded.issues
    );
    std::fs::write(
        tmp.path().join("hidden_dangers.geojson"),
        "{\"type\":\"FeatureCollection\",\"features\":[]}\n",
    )
    .unwrap();
    let loaded = load(tmp.path());
    assert!(loaded.dataset.has_hidden_dangers);
    assert!(loaded.dataset.hidden_dangers.is_empty());
}

#[test]
fn a_ledger_with_chinese_headers_and_enterprise_points() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    let csv = "隐患编号,企业编号,隐患类别,隐患等级,隐患描述,发现方式,发现日期,整改时限,整改责任人,状态,销号日期,经度,纬度\n\
               A1,E3,危化品,重大隐患,储罐区报警器失效,部门检查,2026/10/08,2026-12-31,王五,整改中,,,\n\
               A2,,管线,一般,燃气管线占压,网格巡查,2026-11-02,,,已销号,2026-11-20,118.592,24.911\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(csv);
    std::fs::write(tmp.path().join("hidden_dangers.csv"), &gbk).unwrap();
    let loaded = load(tmp.path());
    let d = &loaded.dataset.hidden_dangers;
    assert_eq!(d.len(), 2);
    let e3 = loaded
        .dataset
        .enterprises
        .iter()
        .find(|e| e.id == "E3")
        .unwrap();
    assert_eq!(d[0].location, e3.location, "takes the enterprise's point");
    assert_eq!(d[0].found_at, date("2026-10-08"));
    assert_eq!(d[0].status, DangerStatus::Rectifying);
    assert_eq!(d[0].responsible.as_deref(), Some("王五"));
    assert_eq!(
        d[1].category,
        DangerCategory::Other(OtherCategory::Pipeline)
    );
    assert_eq!(d[1].source, DangerSource::Patrol);
    assert_eq!(d[1].closed_at, Some(date("2026-11-20")));
    assert_eq!(d[1].location, Point::new(118.592, 24.911));
}

fn validate(dir: &Path) -> (i32, String) {
    let out = run(dir, &["validate", "--data", "."]);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn validate_names_file_feature_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    let csv = "id,enterprise_id,category,grade,description,source,found_at,deadline,responsible,status,closed_at,lon,lat\n\
               B1,E1,gas,major,无时限,inspection,2026-10-01,,,rectifying,,,\n\
               B2,E1,bakery,general,x,patrol,2026-10-01,,,reported,,,\n\
               B3,E1,gas,general,x,patrol,2026-13-01,,,reported,,,\n\
               B4,E1,gas,general,x,patrol,2026-10-01,,,rectifying,2026-10-09,,\n\
               B5,E9,gas,general,x,patrol,2026-10-01,,,reported,,,\n\
               B6,,road,general,x,patrol,2026-10-01,,,reported,,,\n\
               B8,E1,gas,general,x,patrol,2026-10-01,,,reported,,,\n\
               B8,E1,gas,general,x,patrol,2026-10-01,,,closed,,,\n\
               B9,,road,general,x,patrol,2026-10-01,,,reported,,130.0,10.0\n\
               B10,E1,gas,general,x,patrol,2026-10-01,,,已销号,2026-09-01,,\n";
    std::fs::write(tmp.path().join("hidden_dangers.csv"), csv).unwrap();
    let (code, text) = validate(tmp.path());
    assert_eq!(code, 1, "{text}");
    assert!(!text.contains("panicked"), "{text}");
    for want in [
        "hidden_dangers.csv:#1 B1: field `deadline`: a major danger",
        "hidden_dangers.csv:#2 B2: field `category`: unknown hidden danger category \"bakery\"",
        "hidden_dangers.csv:#3 B3: field `found_at`: not a date YYYY-MM-DD",
        "hidden_dangers.csv:#4 B4: field `closed_at`: set, but the status is rectifying",
        "hidden_dangers.csv:#5 B5: field `enterprise_id`: enterprise \"E9\" is not in the enterprises layer",
        "hidden_dangers.csv:#6 B6: field `lon`: no point",
        "hidden_dangers.csv:#8 B8: field `id`: duplicate id \"B8\" (also feature #7 B8)",
        "hidden_dangers.csv:#8 B8: warning: field `closed_at`: the danger is closed but has no closed_at",
        "hidden_dangers.csv:#10 B10: field `closed_at`: 2026-09-01 is before found_at 2026-10-01",
    ] {
        assert!(text.contains(want), "expected {want:?} in\n{text}");
    }
    // With only the warnings left the dataset loads, and a point outside
    // every cell is kept and flagged.
    let fixed = "id,enterprise_id,category,grade,description,source,found_at,deadline,responsible,status,closed_at,lon,lat\n\
                 B8,E1,gas,general,x,patrol,2026-10-01,,,closed,,,\n\
                 B9,,road,general,x,patrol,2026-10-01,,,reported,,130.0,10.0\n";
    std::fs::write(tmp.path().join("hidden_dangers.csv"), fixed).unwrap();
    let (code, text) = validate(tmp.path());
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("hidden_dangers.csv:B9: warning: the point lies outside every cell"),
        "{text}"
    );
}

#[test]
fn a_truncated_file_is_an_error() {
    for (name, cut) in [
        ("hidden_dangers.geojson", true),
        ("hidden_dangers.csv", false),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        write_tiny_dataset(tmp.path());
        let path = tmp.path().join(name);
        write_table(&path, &hidden_dangers_table(&records())).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // GeoJSON: cut in the middle; CSV: cut inside the last row.
        let keep = if cut {
            bytes.len() / 2
        } else {
            bytes.len() - 3
        };
        std::fs::write(&path, &bytes[..keep]).unwrap();
        let (code, text) = validate(tmp.path());
        assert_eq!(code, 1, "{name}: {text}");
        assert!(text.contains(&format!("{name}:-:")), "{name}: {text}");
    }
    // FlatGeobuf cut short.
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    let path = tmp.path().join("hidden_dangers.fgb");
    write_table(&path, &hidden_dangers_table(&records())).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 20]).unwrap();
    let (code, text) = validate(tmp.path());
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("hidden_dangers.fgb"), "{text}");
}

#[test]
fn the_config_maps_field_names() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    let csv = "编号X,类X,级X,描述,来源X,发现X,状态X,lon,lat\n\
               M1,road,general,坑,report,2026-11-01,reported,118.595,24.905\n";
    std::fs::write(tmp.path().join("hidden_dangers.csv"), csv).unwrap();
    let mut config = Config::default();
    for (field, column) in [
        ("id", "编号X"),
        ("category", "类X"),
        ("grade", "级X"),
        ("source", "来源X"),
        ("found_at", "发现X"),
        ("status", "状态X"),
    ] {
        config
            .layers
            .hidden_dangers
            .fields
            .insert(field.into(), column.into());
    }
    let loaded = load_dir(tmp.path(), &config.ingest()).unwrap();
    assert_eq!(loaded.dataset.hidden_dangers.len(), 1);
    assert_eq!(loaded.dataset.hidden_dangers[0].id, "M1");
    assert_eq!(loaded.dataset.hidden_dangers[0].description, "坑");
    // Without the mapping the columns are not found.
    let err = load_dir(tmp.path(), &Config::default().ingest()).unwrap_err();
    assert!(
        err.issues
            .iter()
            .any(|i| i.file == "hidden_dangers.csv" && i.field.as_deref() == Some("id")),
        "{:?}",
        err.issues
    );
}

#[test]
fn generate_checks_its_as_of_date() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(
        tmp.path(),
        &["generate", "--out", "x", "--as-of", "2026-02-30"],
    );
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("--as-of") && text.contains("2026-02-30"),
        "{text}"
    );
    assert!(!tmp.path().join("x").exists());
}
